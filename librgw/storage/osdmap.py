"""The cluster map: the single source of truth for placement.

``osdmap.json`` in the cluster directory holds the epoch, the OSDs (weight, up/down, in/out,
host), the erasure-code profiles, the pools and the ``pg_upmap_items``: per PG, keyed by
Ceph's pgid text (``"1.1f"``), ``[from, to]`` OSD pairs that override the CRUSH choice
(``placement.apply_upmap``), set by the balancer or by hand. Every change takes the map
lock (an ``flock`` on ``locks/map.lock``, so CLI, agents and gunicorn workers can all change
it), re-reads the file, bumps the epoch and replaces the file atomically. Readers re-read it
whenever its inode or mtime changes. A ``stat`` on every lookup cost a sixth of a small GET (a
request makes some twenty lookups), so writers also count their changes in ``osdmap.seq``, a
counter every process maps into memory (``ChangeCounter``): a reader whose cached map was read
under the counter's current value trusts it without a system call.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import mmap
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .atomic_file import atomic_write
from .errors import StorageError, invalid

MAP_FILE = "osdmap.json"
SEQ_FILE = "osdmap.seq"
# However the counter reads, a reader stats the map at least this often: it bounds how long a
# reader can miss a change the counter did not show (a cluster directory made anew in its place).
RECHECK_S = 1.0
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


class ChangeCounter:
    """A seqlock over the map file, shared by every process through a memory-mapped file.

    A writer, holding the map lock, makes the count odd before it replaces the map and even
    (one more) after: an even count a reader saw before reading the map, seen again, means no
    change began since. A writer killed in between leaves it odd, and readers then ``stat``
    the map on every lookup, as they would without the counter, until the next change.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._count: ctypes.c_uint64 | None = None
        self._lock = threading.Lock()

    def _mapped(self) -> ctypes.c_uint64 | None:
        if self._count is None:
            with self._lock:
                if self._count is None:
                    try:
                        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                    except OSError:
                        return None  # a read-only cluster directory: readers stat every time
                    try:
                        if os.fstat(fd).st_size < 8:
                            os.ftruncate(fd, 8)
                        self._count = ctypes.c_uint64.from_buffer(mmap.mmap(fd, 8))
                    finally:
                        os.close(fd)
        return self._count

    def read(self) -> int | None:
        """The count now: None if it cannot be read, odd while a change is being made."""
        count = self._mapped()
        return None if count is None else count.value

    def begin(self) -> None:
        count = self._mapped()
        if count is not None:
            count.value |= 1

    def end(self) -> None:
        count = self._mapped()
        if count is not None:
            count.value = (count.value | 1) + 1


class MapStore:
    """The map file of one cluster directory, cached per process and changed under a lock."""

    def __init__(self, cluster_dir: Path) -> None:
        self.path = cluster_dir / MAP_FILE
        self.lock_path = cluster_dir / LOCK_DIR / "map.lock"
        self.changes = ChangeCounter(cluster_dir / SEQ_FILE)
        self._cached: OSDMap | None = None
        self._cached_stat: tuple[int, int, int] | None = None
        self._cached_count: int | None = None  # the change count read before the cached map was
        self._checked = -float("inf")  # monotonic time of the last stat
        self._mutex = threading.Lock()

    def current(self) -> OSDMap:
        count = self.changes.read()
        now = time.monotonic()
        with self._mutex:
            if (
                self._cached is not None
                and count is not None
                and count % 2 == 0
                and count == self._cached_count
                and now - self._checked < RECHECK_S
            ):
                return self._cached
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise StorageError(2, f"{self.path}: no cluster map; run 'librgw cluster init'") from None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._mutex:
            if self._cached is None or key != self._cached_stat:
                self._cached = OSDMap.from_json(self.path.read_bytes())
                self._cached_stat = key
            self._cached_count, self._checked = count, now
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
            self.changes.begin()
            try:
                atomic_write(self.path, osdmap.to_json())
            finally:
                self.changes.end()
