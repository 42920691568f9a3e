"""Each PG's durable history: which copies took part in its last activation, and its unfound
objects. What Ceph's monitors keep for it (past intervals, ``up_thru``) so that peering
never trusts a copy that may have missed acknowledged writes.

``participants`` are the copies that hold every write acknowledged since the PG's last
activation (epoch ``les``): a new pool's PGs get theirs when it is made (the copies it was
made on), peering writes them here before the PG takes a write, a write
that leaves one of them behind removes it here before it is acknowledged, and a copy that
recovery makes whole is added. After any crash, peering therefore takes the PG's
authoritative history only from participants; if none is up (or fewer than k shards of an
erasure-coded pool), the PG is ``incomplete`` and waits for them, rather than serving an
older copy as if it were current.

**Unfound** objects are those whose authoritative version no up copy can give (every copy
holding it lost, or fewer than k of its shards readable). Recovery records them here per
PG, goes on with the rest, and ``mark_unfound_lost`` is the operator's way out.

SQLite (``pg_history.db`` in the cluster directory, WAL, ``synchronous=FULL``): written once
per activation, not per write.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from .osdmap import Copy
from .pg_log import Eversion, ObjectName

HISTORY_DB = "pg_history.db"
TIMEOUT_S = 60.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS history (
    pool INTEGER NOT NULL, pg INTEGER NOT NULL, les INTEGER NOT NULL, participants TEXT NOT NULL,
    PRIMARY KEY (pool, pg));
CREATE TABLE IF NOT EXISTS unfound (
    pool INTEGER NOT NULL, pg INTEGER NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
    need_epoch INTEGER NOT NULL, need_seq INTEGER NOT NULL, PRIMARY KEY (pool, pg, ns, name));
"""


@dataclass
class PGHistory:
    les: int  # the epoch of the last activation
    participants: list[Copy]


class HistoryStore:
    """The history database of one cluster directory; one connection per thread."""

    def __init__(self, cluster_dir: Path) -> None:
        self.path = cluster_dir / HISTORY_DB
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=TIMEOUT_S, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(SCHEMA)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def get(self, pool: int, pg: int) -> PGHistory | None:
        row = self._conn().execute("SELECT les, participants FROM history WHERE pool=? AND pg=?", (pool, pg)).fetchone()
        if row is None:
            return None
        return PGHistory(row[0], [tuple(c) for c in json.loads(row[1])])

    def put(self, pool: int, pg: int, history: PGHistory) -> None:
        self.put_many(pool, {pg: history})

    def put_many(self, pool: int, histories: dict[int, PGHistory]) -> None:
        """Several PGs' histories, in one transaction."""
        rows = [(pool, pg, h.les, json.dumps(sorted([list(c) for c in h.participants]))) for pg, h in histories.items()]
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def unfound(self, pool: int, pg: int) -> dict[ObjectName, Eversion]:
        rows = self._conn().execute(
            "SELECT ns, name, need_epoch, need_seq FROM unfound WHERE pool=? AND pg=? ORDER BY ns, name", (pool, pg)
        )
        return {(ns, name): Eversion(e, s) for ns, name, e, s in rows}

    def all_unfound(self) -> dict[tuple[int, int], int]:
        """(pool, pg) -> how many unfound objects, for the PGs that have any."""
        rows = self._conn().execute("SELECT pool, pg, count(*) FROM unfound GROUP BY pool, pg")
        return {(pool, pg): n for pool, pg, n in rows}

    def set_unfound(self, pool: int, pg: int, objects: dict[ObjectName, Eversion]) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM unfound WHERE pool=? AND pg=?", (pool, pg))
            conn.executemany(
                "INSERT INTO unfound VALUES (?, ?, ?, ?, ?, ?)",
                ((pool, pg, ns, name, v.epoch, v.seq) for (ns, name), v in objects.items()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def drop_pool(self, pool: int) -> None:
        conn = self._conn()
        for table in ("history", "unfound"):
            conn.execute(f"DELETE FROM {table} WHERE pool=?", (pool,))

    def close(self) -> None:
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
