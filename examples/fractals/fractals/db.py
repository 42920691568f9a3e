"""The fractals database: one SQLite table of every fractal made, its parameters and the md5
and size of its image. The image itself lives in an image store (``storage.py``)."""

from __future__ import annotations

import datetime
import json
import sqlite3
from dataclasses import dataclass

from .render import Parameters

SCHEMA = """
CREATE TABLE IF NOT EXISTS fractal (
    uuid TEXT PRIMARY KEY,
    parameters TEXT NOT NULL,
    checksum TEXT NOT NULL,
    size INTEGER NOT NULL,
    duration REAL NOT NULL,
    generated_by TEXT NOT NULL,
    created_at TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Fractal:
    uuid: str
    parameters: Parameters
    checksum: str  # md5 of the PNG
    size: int
    duration: float  # seconds it took to render
    generated_by: str
    created_at: str

    def as_json(self) -> dict:
        """The API's view: faafo's fields, the parameters flattened in."""
        return {
            "uuid": self.uuid,
            **self.parameters.as_dict(),
            "checksum": self.checksum,
            "size": self.size,
            "duration": self.duration,
            "generated_by": self.generated_by,
            "created_at": self.created_at,
        }


class Database:
    def __init__(self, path: str) -> None:
        self.path = path
        with self._connect() as conn:
            conn.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def add(self, fractal: Fractal) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO fractal VALUES (?, ?, ?, ?, ?, ?, ?)",
                (fractal.uuid, json.dumps(fractal.parameters.as_dict()), fractal.checksum, fractal.size,
                 fractal.duration, fractal.generated_by, fractal.created_at),
            )  # fmt: skip

    def all(self) -> list[Fractal]:
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM fractal ORDER BY created_at, uuid").fetchall()
        return [row_to_fractal(row) for row in rows]

    def get(self, uuid: str) -> Fractal | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM fractal WHERE uuid = ?", (uuid,)).fetchone()
        return row_to_fractal(row) if row else None


def row_to_fractal(row: tuple) -> Fractal:
    uuid, parameters, checksum, size, duration, generated_by, created_at = row
    return Fractal(uuid, Parameters(**json.loads(parameters)), checksum, size, duration, generated_by, created_at)


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
