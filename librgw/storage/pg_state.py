"""Each PG's active state, shared by every process using the cluster: what a Ceph primary
keeps in memory.

Peering (``peering.py``) decides a PG's state once per interval: the map epoch it was
activated in, the up set it was activated for, the copies it does I/O on and what each of
them is (``complete``, ``recovering`` its missing set, ``backfill``), and the last write's
seq. Ops then read that here instead of asking the OSD stores, and writes take their
versions from it. It is a cache of what the stores' PG logs prove, never the source of
truth: a record that is missing, unreadable, from before a reboot, or for another up set is
simply peered again.

A write sets ``dirty`` before it sends anything and clears it once it has counted (or was
refused by every copy). A record left dirty means its writer died or failed between the
two: the next op on the PG (which holds the PG lock, ``pg_lock.py``) peers again, so the
copies that took the write and those that did not are made to agree.

On disk: ``locks/pg.state`` in the cluster directory, one fixed-size record per PG at
``(pool * PGS_PER_POOL + pg) * RECORD_SIZE`` (a sparse file), read and written with
``pwrite``, and read through a shared memory map of each pool's part of the file: a read then
makes no system call, which under load also means no wait to take the interpreter's lock back
(a read of every op). No fsync, since it does not need to survive a reboot (records carry
the boot id and are ignored after one). Each record carries a CRC, so a read racing a write
is seen as unreadable and retried rather than misread.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

from .checksum import crc32c
from .errors import invalid
from .osdmap import Copy
from .store_records import NO_SHARD

COMPLETE, RECOVERING, BACKFILL = "complete", "recovering", "backfill"
ROLES = (COMPLETE, RECOVERING, BACKFILL)
PGS_PER_POOL = 1 << 16
RECORD_SIZE = 256
MAX_COPIES = 32
READ_RETRIES = 5
STATE_FILE = "pg.state"
_MAGIC = b"PGS1"
# magic, crc, boot, epoch, flags, seq, up count, copies count
_HEADER = struct.Struct("<4sI8sIIQBB2x")
_UP = struct.Struct(f"<{MAX_COPIES}H")
_COPY = struct.Struct("<BHB")
_DIRTY, _INCOMPLETE = 1, 2


@dataclass(frozen=True)
class CopyState:
    """One copy the PG does I/O on, and what it is (``ROLES``)."""

    shard: int
    osd: int
    role: str

    @property
    def copy(self) -> Copy:
        return (self.shard, self.osd)


@dataclass
class ActiveState:
    """A PG as its last peering left it. ``up`` is the up set it was activated for (EC: one
    entry per shard, None where down); ``copies`` the I/O set, up set first (primary first),
    then strays still needed; ``incomplete`` when too few up copies hold the PG's latest
    history to serve it (ops then fail at once until the map changes)."""

    epoch: int
    seq: int
    up: tuple[int | None, ...]
    copies: list[CopyState] = field(default_factory=list)
    dirty: bool = False
    incomplete: bool = False

    def with_role(self, *roles: str) -> list[CopyState]:
        return [c for c in self.copies if c.role in roles]

    @property
    def participants(self) -> list[CopyState]:
        """The copies holding every write acknowledged since the activation: complete ones, and
        recovering ones (they have the whole log; their missing objects are pulled first)."""
        return self.with_role(COMPLETE, RECOVERING)


class PGStates:
    """The records of one cluster directory, opened by one process."""

    def __init__(self, lock_dir: Path) -> None:
        lock_dir.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(lock_dir / STATE_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        self._boot = boot_id()
        self._decoded: dict[int, tuple[bytes, tuple]] = {}  # offset -> (record, its fields) last seen here
        self._regions: dict[int, mmap.mmap] = {}  # pool -> its records, mapped

    @staticmethod
    def _offset(pool: int, pg: int) -> int:
        if pg >= PGS_PER_POOL:
            raise invalid(f"pg {pg} of pool {pool}: at most {PGS_PER_POOL} PGs per pool")
        return (pool * PGS_PER_POOL + pg) * RECORD_SIZE

    def read(self, pool: int, pg: int) -> ActiveState | None:
        """The PG's record, None if it has none from this boot (then it must be peered)."""
        offset = self._offset(pool, pg)
        region, at = self._region(pool), pg * RECORD_SIZE
        for _ in range(READ_RETRIES):
            raw = region[at : at + RECORD_SIZE]
            seen = self._decoded.get(offset)
            if seen is not None and seen[0] == raw:  # as this process last read or wrote it
                return _state(seen[1])
            if len(raw) < RECORD_SIZE or raw[:4] != _MAGIC:
                return None
            fields = self._decode(raw)
            if fields is not _TORN:
                if fields is None:
                    return None
                self._decoded[offset] = (raw, fields)
                return _state(fields)
        return None

    def write(self, pool: int, pg: int, state: ActiveState) -> None:
        offset = self._offset(pool, pg)
        raw = self._encode(state, self._decoded.get(offset))
        os.pwrite(self._fd, raw, offset)
        self._decoded[offset] = (raw, _fields(state))

    def forget(self, pool: int, pg: int) -> None:
        """Drop the record (the PG is peered again by its next op)."""
        os.pwrite(self._fd, bytes(RECORD_SIZE), self._offset(pool, pg))

    def close(self) -> None:
        for region in self._regions.values():
            region.close()
        os.close(self._fd)

    def _region(self, pool: int) -> mmap.mmap:
        """The pool's records, mapped; the file is grown (sparse) to hold them all first, as a read
        of a mapping past the end of its file would kill the process."""
        region = self._regions.get(pool)
        if region is None:
            size = PGS_PER_POOL * RECORD_SIZE
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # so that no process shrinks what another grew
            try:
                if os.fstat(self._fd).st_size < (pool + 1) * size:
                    os.ftruncate(self._fd, (pool + 1) * size)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            region = self._regions[pool] = mmap.mmap(self._fd, size, offset=pool * size)
        return region

    def _encode(self, state: ActiveState, previous: tuple[bytes, tuple] | None) -> bytes:
        copies = tuple(state.copies)
        if previous is not None and previous[1][2] == state.up and previous[1][3] == copies:
            body = previous[0][_HEADER.size : _HEADER.size + _UP.size + len(copies) * _COPY.size]  # a write's seq only
        else:
            if len(state.up) > MAX_COPIES or len(copies) > MAX_COPIES:
                raise invalid(f"a PG of more than {MAX_COPIES} copies")
            up = [0 if osd is None else osd + 1 for osd in state.up]
            body = _UP.pack(*up, *([0] * (MAX_COPIES - len(up)))) + b"".join(
                _COPY.pack(255 if c.shard == NO_SHARD else c.shard, c.osd, ROLES.index(c.role)) for c in copies
            )
        flags = (_DIRTY if state.dirty else 0) | (_INCOMPLETE if state.incomplete else 0)
        covered = _HEADER.pack(_MAGIC, 0, self._boot, state.epoch, flags, state.seq, len(state.up), len(copies))[8:]
        covered += body
        return (_MAGIC + struct.pack("<I", crc32c(covered)) + covered).ljust(RECORD_SIZE, b"\0")

    def _decode(self, raw: bytes) -> tuple | None | object:
        """The record's fields (``_fields``); None if it is from before a reboot, ``_TORN`` if
        its CRC fails (a read racing a write)."""
        magic, crc, boot, epoch, flags, seq, n_up, n_copies = _HEADER.unpack_from(raw)
        end = _HEADER.size + _UP.size + n_copies * _COPY.size
        if n_up > MAX_COPIES or n_copies > MAX_COPIES or crc32c(raw[8:end]) != crc:
            return _TORN
        if boot != self._boot:
            return None
        up = tuple(None if o == 0 else o - 1 for o in _UP.unpack_from(raw, _HEADER.size)[:n_up])
        copies = []
        for i in range(n_copies):
            shard, osd, role = _COPY.unpack_from(raw, _HEADER.size + _UP.size + i * _COPY.size)
            copies.append(CopyState(NO_SHARD if shard == 255 else shard, osd, ROLES[role]))
        return (epoch, seq, up, tuple(copies), bool(flags & _DIRTY), bool(flags & _INCOMPLETE))


_TORN = object()


def _fields(state: ActiveState) -> tuple:
    return (state.epoch, state.seq, state.up, tuple(state.copies), state.dirty, state.incomplete)


def _state(fields: tuple) -> ActiveState:
    """A new ActiveState of cached fields (callers change the one they get)."""
    epoch, seq, up, copies, dirty, incomplete = fields
    return ActiveState(epoch, seq, up, list(copies), dirty, incomplete)


def boot_id() -> bytes:
    """8 bytes naming this boot of the machine: records from before a reboot are not trusted."""
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as f:
            text = f.read().strip()
    except OSError:  # not Linux: no reboot detection, records last as long as the file
        text = b"unknown"
    return crc32c(text).to_bytes(4, "little") + crc32c(text[::-1]).to_bytes(4, "little")
