"""The cluster map: the single source of truth for placement.

``osdmap.json`` in the cluster directory holds the epoch, the OSDs (weight, up/down, in/out,
host), the erasure-code profiles, the pools and the ``pg_upmap_items``: per PG, keyed by
Ceph's pgid text (``"1.1f"``), ``[from, to]`` OSD pairs that override the CRUSH choice
(``placement.apply_upmap``), set by the balancer or by hand. Every change takes the map
lock (an ``flock`` on ``locks/map.lock``, so CLI, agents and gunicorn workers can all change
it), re-reads the file, bumps the epoch and replaces the file atomically. Readers re-read it
whenever its inode or mtime changes, which costs one ``stat`` per lookup.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .atomic_file import atomic_write
from .errors import StorageError, invalid

MAP_FILE = "osdmap.json"
LOCK_DIR = "locks"
PGID_RE = re.compile(r"([0-9]+)\.([0-9a-f]+)", re.ASCII | re.IGNORECASE)


def pgid(pool_id: int, pg: int) -> str:
    """Ceph's text form of a PG id: ``"1.1f"`` for PG 31 of pool 1."""
    return f"{pool_id}.{pg:x}"


def parse_pgid(text: str) -> tuple[int, int]:
    """(pool id, pg) of ``"1.1f"``; raises EINVAL on anything else."""
    match = PGID_RE.fullmatch(text)
    if match is None:
        raise invalid(f"invalid pgid '{text}': expected <pool>.<pg in hex>, as 1.1f")
    return int(match[1]), int(match[2], 16)


@dataclass
class OSDInfo:
    id: int
    weight: float = 1.0
    up: bool = True
    in_: bool = True
    host: str = "localhost"
    down_since: float | None = None
    down_reason: str | None = None  # why it was marked down: "admin", or the failure seen
    up_from: int = 0  # the epoch it last came up in: a PG activated before must peer again


@dataclass
class PoolInfo:
    id: int
    name: str
    type: str  # "replicated" or "erasure"
    size: int
    min_size: int
    pg_num: int
    failure_domain: str = "osd"
    erasure_code_profile: str | None = None
    applications: list[str] = field(default_factory=list)  # as Ceph's application_enable tags pools


Copy = tuple[int, int]  # (shard, osd) of one copy of a PG; shard is -1 in a replicated pool


@dataclass
class OSDMap:
    fsid: str
    epoch: int = 1
    osds: dict[int, OSDInfo] = field(default_factory=dict)
    pools: dict[int, PoolInfo] = field(default_factory=dict)
    pool_max: int = 0
    erasure_code_profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    # Per pgid, the copies that a map from before PG logs still had to backfill: peering
    # does not count them as complete the first time it sees the PG (``peering.py``).
    legacy_targets: dict[str, list[Copy]] = field(default_factory=dict)
    pg_upmap_items: dict[str, list[list[int]]] = field(default_factory=dict)

    def pool_by_name(self, name: str) -> PoolInfo | None:
        for pool in self.pools.values():
            if pool.name == name:
                return pool
        return None

    def mark_up(self, osd_id: int) -> None:
        """Mark an OSD up, as of the epoch this change of the map will get (``MapStore.update``)."""
        osd = self.osds[osd_id]
        osd.up, osd.down_since, osd.down_reason, osd.up_from = True, None, None, self.epoch + 1

    def drop_pool_upmaps(self, pool_id: int) -> None:
        prefix = f"{pool_id}."
        self.pg_upmap_items = {k: v for k, v in self.pg_upmap_items.items() if not k.startswith(prefix)}

    def to_json(self) -> bytes:
        doc = {
            "fsid": self.fsid,
            "epoch": self.epoch,
            "pool_max": self.pool_max,
            "osds": [{**asdict(o), "in": o.in_} for o in self.osds.values()],
            "pools": [asdict(p) for p in self.pools.values()],
            "erasure_code_profiles": self.erasure_code_profiles,
            "pg_upmap_items": self.pg_upmap_items,
        }
        if self.legacy_targets:
            doc["pg_recovery"] = {
                pid: {"targets": [list(c) for c in t]} for pid, t in sorted(self.legacy_targets.items())
            }
        for osd in doc["osds"]:
            del osd["in_"]
        return json.dumps(doc, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> OSDMap:
        doc = json.loads(raw)
        osds = {}
        for o in doc["osds"]:
            o = dict(o)
            o["in_"] = o.pop("in")
            osds[o["id"]] = OSDInfo(**o)
        pools = {p["id"]: PoolInfo(**p) for p in doc["pools"]}
        return cls(
            fsid=doc["fsid"],
            epoch=doc["epoch"],
            osds=osds,
            pools=pools,
            pool_max=doc["pool_max"],
            erasure_code_profiles=doc["erasure_code_profiles"],
            legacy_targets={
                pid: [tuple(c) for c in rec.get("targets", [])]
                for pid, rec in doc.get("pg_recovery", {}).items()
                if rec.get("targets")
            },
            pg_upmap_items=doc.get("pg_upmap_items", {}),
        )


class MapStore:
    """The map file of one cluster directory, cached per process and changed under a lock."""

    def __init__(self, cluster_dir: Path) -> None:
        self.path = cluster_dir / MAP_FILE
        self.lock_path = cluster_dir / LOCK_DIR / "map.lock"
        self._cached: OSDMap | None = None
        self._cached_stat: tuple[int, int, int] | None = None
        self._mutex = threading.Lock()

    def current(self) -> OSDMap:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise StorageError(2, f"{self.path}: no cluster map; run 'librgw cluster init'") from None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._mutex:
            if self._cached is None or key != self._cached_stat:
                self._cached = OSDMap.from_json(self.path.read_bytes())
                self._cached_stat = key
            return self._cached

    def create(self, osdmap: OSDMap) -> None:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            raise invalid(f"{self.path} already exists")
        atomic_write(self.path, osdmap.to_json())

    @contextmanager
    def update(self) -> Iterator[OSDMap]:
        """Yield a fresh copy of the map to change; on clean exit, if changed, it is saved with epoch + 1."""
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            raw = self.path.read_bytes()
            osdmap = OSDMap.from_json(raw)
            yield osdmap
            if osdmap.to_json() == OSDMap.from_json(raw).to_json():
                return  # nothing changed: no new epoch
            osdmap.epoch += 1
            atomic_write(self.path, osdmap.to_json())
