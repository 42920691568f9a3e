"""Applying one transaction to one OSD store, inside its committer's SQLite transaction.

``apply_transaction`` is the whole write side of an OSD store (``osd_store.py`` runs it for
each queued transaction, under a savepoint, and commits a batch at once):

- an object's ops (``store_records.Transaction``) change its row, its blocks (copy-on-write:
  a changed block is written anew, the replaced block file is unlinked after the commit),
  xattrs and omap;
- a client write also adds its entry to the shard's PG log (``pg_log``), in the same SQLite
  transaction, so a copy's log never disagrees with its objects (the committer adds the
  entries of a whole batch in one statement);
- on an erasure-coded shard, a client write keeps what undoes it: the shard it replaces or
  removes is moved aside whole (the *stash*, at ``shard + STASH_SHARD``: a rename of its row,
  no data copied), or the xattrs and version it changes are recorded in its log entry; the
  previous write's stash is dropped first, as that write is known to have counted by then;
- ("activate", ...) applies what peering decided for the shard: divergent entries undone
  with their rollback information, the log cut and extended, the missing set and info
  replaced; ("pg_info", ...) records backfill progress;
- ("restore", record) (recovery, scrub repair) writes an object back exactly, versions
  included, and with ``recovered`` drops it from the shard's missing set.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import sqlite3
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import pg_log
from .checksum import CRC, ChunkCRCs, chunk_crcs
from .errors import StorageError, exists, invalid, no_attr, not_found
from .pg_log import DELETE, MODIFY, ZERO, Activation, Eversion, LogEntry, PGInfo, Stash
from .piece_stream import PieceStream
from .store_records import NO_SHARD, STASH_SHARD, LockOp, ObjectInfo, ObjectKey, ObjectRecord, Transaction

BLOCK_SIZE = 4 * 1024 * 1024
CHECKSUM_CHUNK = 64 * 1024
INLINE_MAX = 128 * 1024
# A streamed block is written this much at a time (an EC shard arrives a stripe at a time).
STREAM_PART = 1024 * 1024
IOV_MAX = os.sysconf("SC_IOV_MAX")
DATA_OPS = frozenset({"write", "write_full", "append", "truncate", "zero", "remove", "reset"})
STANDALONE_OPS = frozenset({"restore", "activate", "pg_info"})
# The log is trimmed this many entries at a time (at the writes whose seq is a multiple of
# it): one DELETE per batch, not one per write.
TRIM_BATCH = 32
ROW_FIELDS = "id, size, logical_size, version, mtime_ns, data_version, epoch"


class BlockStore(Protocol):
    """What applying a transaction needs of its OSD store (``osd_store.OSDStore``): its
    checksum and its block files."""

    @property
    def crc(self) -> CRC: ...

    def block_path(self, name: str) -> Path: ...

    def new_block_file(self, files: FileChanges) -> tuple[int, str]: ...

    def read_block(self, what: ObjectKey, idx: int, row: tuple, lo: int = 0, hi: int | None = None) -> memoryview: ...


def apply_transaction(
    store: BlockStore, conn: sqlite3.Connection, txn: Transaction, files: FileChanges
) -> tuple | None:
    """Apply ``txn``; the row of its PG log entry, for the caller to add once the transaction
    stands (``pg_log.append``: one statement for a whole batch of client writes)."""
    tag = txn.ops[0][0] if txn.ops else None
    if any(op[0] in STANDALONE_OPS for op in txn.ops) and len(txn.ops) != 1:
        raise invalid(f"{txn.key}: {tag} must be the only op of its transaction")
    k = txn.key
    if tag == "activate":
        _activate(store, conn, files, k, txn.ops[0][1])
        return None
    if tag == "pg_info":
        pg_log.write_info(conn, k.pool, k.pg, txn.ops[0][1])
        return None
    obj = ObjectState.load(store, conn, files, k)
    entry = None
    if tag == "restore":
        obj.restore(txn.ops[0][1])
    else:
        entry = _apply_ops(obj, txn)
    if txn.recovered:
        pg_log.recovered(conn, k.pool, k.pg, k.shard, (k.ns, k.name))
    return entry


def _apply_ops(obj: ObjectState, txn: Transaction) -> tuple | None:
    k, log, conn = txn.key, txn.log, obj.conn
    before = obj.info
    info = rollback = None
    stash = False
    if log is not None and log.rollback:  # an EC shard: its info says which stash to drop
        info = pg_log.read_info(conn, k.pool, k.pg, k.shard) or PGInfo(k.shard, log.version.epoch, ZERO, ZERO)
        _drop_stash(obj, info)
        stash = any(op[0] in ("write_full", "remove") for op in txn.ops)
        if stash or before is None:
            rollback = {"stash": True}
        else:
            rollback = {"attrs": obj.xattrs_hex(), "info": _info_fields(before)}
    stashed = False
    for op in txn.ops:
        if stash and not stashed and op[0] in ("write_full", "remove"):
            stashed = True
            obj.stash_away(info, log.version)
            if op[0] == "remove":
                if before is None:
                    raise not_found(str(k))
                continue
        obj.apply(op, txn.mtime_ns)
    if obj.id is not None:
        if log is not None:
            version, epoch = log.version.seq, log.version.epoch
        else:
            version, epoch = max(obj.version + 1, txn.version), 0
        changed = obj.data_changed or before is None or stashed
        data_version = version if changed else before.data_version
        if txn.logical_size is not None:
            logical = txn.logical_size
        elif k.shard == NO_SHARD or before is None or stashed:
            logical = obj.size
        else:
            logical = before.logical_size
        conn.execute(
            "UPDATE objects SET size=?, logical_size=?, version=?, data_version=?, mtime_ns=?, epoch=? WHERE id=?",
            (obj.size, logical, version, data_version, txn.mtime_ns, epoch, obj.id),
        )
    if log is None:
        return None
    if info is None and log.version.seq % TRIM_BATCH == 0 and log.trim_to > 0:
        info = pg_log.read_info(conn, k.pool, k.pg, k.shard)
    if info is not None:
        info.last_update = log.version
        if log.trim_to >= info.log_tail.seq + TRIM_BATCH:
            pg_log.trim(conn, k.pool, k.pg, k.shard, info, log.trim_to)
        pg_log.write_info(conn, k.pool, k.pg, info)
    prior = None if before is None else Eversion(before.epoch, before.version)
    op = MODIFY if obj.id is not None else DELETE
    return pg_log.entry_row(k.pool, k.pg, k.shard, LogEntry(log.version, k.ns, k.name, op, prior, rollback))


def _info_fields(info: ObjectInfo) -> list[int]:
    return [info.size, info.logical_size, info.version, info.mtime_ns, info.data_version, info.epoch]


def _drop_stash(obj: ObjectState, info: PGInfo) -> None:
    """Remove the shard the PG's previous write moved aside: that write counted."""
    if info.stash is None:
        return
    k = obj.key
    stashed = ObjectState.load(
        obj.store, obj.conn, obj.files, ObjectKey(k.pool, k.pg, *info.stash.object, k.shard).stash
    )
    if stashed.id is not None:
        stashed.remove()
    info.stash = None


# -- activation: what peering decided for one shard of a PG -----------------------------


def _activate(store: BlockStore, conn: sqlite3.Connection, files: FileChanges, k: ObjectKey, act: Activation) -> None:
    info = pg_log.read_info(conn, k.pool, k.pg, k.shard)
    missing = dict(act.missing)
    undone: dict[tuple[str, str], bool] = {}
    for entry in act.rollback:  # newest first
        if undone.get(entry.object, True):
            undone[entry.object] = _roll_back(store, conn, files, k, entry)
    for obj, need in act.divergent_need.items():
        if not undone.get(obj, False):
            missing.setdefault(obj, need)
    if info is not None and info.stash is not None:
        stashed = ObjectState.load(store, conn, files, ObjectKey(k.pool, k.pg, *info.stash.object, k.shard).stash)
        if stashed.id is not None:
            stashed.remove()
    if act.keep_through is None:
        pg_log.truncate_log(conn, k.pool, k.pg, k.shard, -1)
    else:
        pg_log.truncate_log(conn, k.pool, k.pg, k.shard, act.keep_through.seq)
    pg_log.append(conn, [pg_log.entry_row(k.pool, k.pg, k.shard, entry) for entry in act.append])
    pg_log.set_missing(conn, k.pool, k.pg, k.shard, missing)
    pg_log.write_info(conn, k.pool, k.pg, act.info)


def _roll_back(store: BlockStore, conn: sqlite3.Connection, files: FileChanges, k: ObjectKey, entry: LogEntry) -> bool:
    """Undo one divergent entry on this shard with its rollback information; False if it has
    none that applies (the object must then be recovered)."""
    rb = entry.rollback
    if rb is None:
        return False
    key = ObjectKey(k.pool, k.pg, entry.ns, entry.name, k.shard)
    current = ObjectState.load(store, conn, files, key)
    if current.info is not None and (current.info.epoch, current.info.version) != (
        entry.version.epoch,
        entry.version.seq,
    ):
        return False  # the object is not as this entry left it
    if "attrs" in rb:
        if current.id is None:
            return False
        current.put_back_attrs(rb["attrs"], rb["info"])
        return True
    stashed = ObjectState.load(store, conn, files, key.stash) if entry.prior is not None else None
    if stashed is not None:
        info = stashed.info
        if info is None or (info.epoch, info.version) != (entry.prior.epoch, entry.prior.seq):
            return False
    if current.id is not None:
        current.remove()
    if stashed is not None:
        conn.execute("UPDATE objects SET shard=? WHERE id=?", (k.shard, stashed.id))
    return True


@dataclass
class FileChanges:
    """Block files a transaction created (open until synced) and the ones it replaced."""

    new: list[Path] = field(default_factory=list)
    unsynced: list[int] = field(default_factory=list)
    old: list[Path] = field(default_factory=list)

    def sync(self) -> None:
        while self.unsynced:
            fd = self.unsynced.pop()
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)

    def discard(self) -> None:
        for fd in self.unsynced:
            os.close(fd)
        self.unsynced.clear()
        unlink_all(self.new)


class ObjectState:
    """One object's row while a transaction applies its ops to it. ``info`` is the object as
    it was before them (None: it did not exist)."""

    def __init__(self, store: BlockStore, conn: sqlite3.Connection, files: FileChanges, key: ObjectKey, row) -> None:
        self.store, self.conn, self.files, self.key = store, conn, files, key
        self.info = None if row is None else ObjectInfo(*row[1:])
        self.id, self.size, self.version = (row[0], row[1], row[3]) if row is not None else (None, 0, 0)
        self.data_changed = False
        self.blockless = row is None  # known to have no block rows: none need looking up

    @classmethod
    def load(cls, store: BlockStore, conn: sqlite3.Connection, files: FileChanges, key: ObjectKey) -> ObjectState:
        row = conn.execute(
            f"SELECT {ROW_FIELDS} FROM objects WHERE pool=? AND pg=? AND ns=? AND name=? AND shard=?",
            (key.pool, key.pg, key.ns, key.name, key.shard),
        ).fetchone()
        return cls(store, conn, files, key, row)

    def xattrs_hex(self) -> dict[str, str]:
        """The object's xattrs as stored, hex-encoded (for a rollback entry's JSON)."""
        rows = self.conn.execute("SELECT key, value FROM xattrs WHERE obj=?", (self.id,))
        return {k: bytes(v).hex() for k, v in rows}

    def put_back_attrs(self, attrs: dict[str, str], fields: list[int]) -> None:
        """Undo an xattr-only write: the xattrs and the version fields it replaced."""
        self.conn.execute("DELETE FROM xattrs WHERE obj=?", (self.id,))
        self.conn.executemany(
            "INSERT INTO xattrs VALUES (?, ?, ?, ?)",
            ((self.id, k, bytes.fromhex(v), self.store.crc(bytes.fromhex(v))) for k, v in attrs.items()),
        )
        size, logical, version, mtime_ns, data_version, epoch = fields
        self.conn.execute(
            "UPDATE objects SET size=?, logical_size=?, version=?, mtime_ns=?, data_version=?, epoch=? WHERE id=?",
            (size, logical, version, mtime_ns, data_version, epoch, self.id),
        )

    def stash_away(self, info: PGInfo, by: Eversion) -> None:
        """Move this shard aside whole (a rename of its row) so the write can be undone; the
        object is then absent until the write's ops make it anew."""
        if self.id is None:
            return
        left = ObjectState.load(self.store, self.conn, self.files, self.key.stash)
        if left.id is not None:
            left.remove()
        self.conn.execute("UPDATE objects SET shard=? WHERE id=?", (self.key.shard + STASH_SHARD, self.id))
        info.stash = Stash(self.key.ns, self.key.name, by)
        self.id, self.size, self.version, self.blockless = None, 0, 0, True

    def _ensure(self, mtime_ns: int) -> int:
        if self.id is None:
            k = self.key
            cur = self.conn.execute(
                "INSERT INTO objects (pool, pg, ns, name, shard, size, logical_size, version, data_version, mtime_ns)"
                " VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, ?)",
                (k.pool, k.pg, k.ns, k.name, k.shard, mtime_ns),
            )
            self.id, self.size, self.version, self.blockless = cur.lastrowid, 0, 0, True
        return self.id

    def _require(self) -> int:
        if self.id is None:
            raise not_found(str(self.key))
        return self.id

    def apply(self, op: tuple, mtime_ns: int) -> None:
        tag = op[0]
        if tag in DATA_OPS:
            self.data_changed = True
        if tag == "write":
            self._ensure(mtime_ns)
            self._write(op[1], memoryview(_as_bytes(op[2])))
        elif tag == "write_full":
            self._ensure(mtime_ns)
            self._truncate(0)
            if isinstance(op[1], PieceStream):
                self._write_stream(op[1])
            else:
                self._write(0, memoryview(_as_bytes(op[1])))
        elif tag == "append":
            self._ensure(mtime_ns)
            self._write(self.size, memoryview(_as_bytes(op[1])))
        elif tag == "truncate":
            self._ensure(mtime_ns)
            self._truncate(op[1])
        elif tag == "zero":
            self._require()
            offset, length = op[1], op[2]
            end = min(self.size, offset + length)
            if end > offset:
                self._write(offset, memoryview(bytes(end - offset)))
        elif tag == "create":
            if self.id is not None and op[1]:
                raise exists(str(self.key))
            self._ensure(mtime_ns)
        elif tag == "remove":
            self.remove()
        elif tag == "reset":
            if self.id is not None:
                self.remove()
        elif tag == "assert_exists":
            self._require()
        elif tag == "assert_version":
            self._require()
            if self.version != op[1]:
                err = errno.ERANGE if op[1] < self.version else errno.EOVERFLOW
                raise StorageError(err, f"{self.key}: version {self.version} is not {op[1]}")
        elif tag == "setxattr":
            oid = self._ensure(mtime_ns)
            value = _as_bytes(op[2])
            self.conn.execute(
                "INSERT OR REPLACE INTO xattrs VALUES (?, ?, ?, ?)", (oid, op[1], value, self.store.crc(value))
            )
        elif tag == "rmxattr":
            oid = self._require()
            if self.conn.execute("DELETE FROM xattrs WHERE obj=? AND key=?", (oid, op[1])).rowcount == 0:
                raise no_attr(f"{self.key} xattr {op[1]!r}")
        elif tag == "omap_set":
            oid = self._ensure(mtime_ns)
            self.conn.executemany(
                "INSERT OR REPLACE INTO omap VALUES (?, ?, ?, ?)",
                ((oid, k, _as_bytes(v), self.store.crc(_as_bytes(v))) for k, v in op[1].items()),
            )
        elif tag == "omap_rm":
            oid = self._require()
            self.conn.executemany("DELETE FROM omap WHERE obj=? AND key=?", ((oid, k) for k in op[1]))
        elif tag == "omap_clear":
            oid = self._require()
            self.conn.execute("DELETE FROM omap WHERE obj=?", (oid,))
        elif tag == "omap_rm_range":
            oid = self._require()
            self.conn.execute("DELETE FROM omap WHERE obj=? AND key>=? AND key<?", (oid, op[1], op[2]))
        elif tag == "omap_set_header":
            oid = self._ensure(mtime_ns)
            self.conn.execute("UPDATE objects SET omap_header=? WHERE id=?", (_as_bytes(op[1]), oid))
        elif tag == "omap_cmp":
            self._omap_cmp(op[1], _as_bytes(op[2]), op[3])
        elif tag == "lock":
            self._lock(mtime_ns, LockOp(*op[1:]))
        elif tag == "unlock":
            self._unlock(op[1], op[2])
        else:
            raise invalid(f"unknown op {tag!r}")

    # -- data ----------------------------------------------------------------

    def _block(self, idx: int):
        if self.blockless:
            return None
        return self.conn.execute(
            "SELECT length, data, file, crcs FROM blocks WHERE obj=? AND idx=?", (self.id, idx)
        ).fetchone()

    def _drop_block(self, idx: int, row) -> None:
        if row[2] is not None:
            self.files.old.append(self.store.block_path(row[2]))
        self.conn.execute("DELETE FROM blocks WHERE obj=? AND idx=?", (self.id, idx))

    def _store_block(self, idx: int, pieces: list[memoryview], old_row) -> None:
        """Make block ``idx`` the concatenation of ``pieces``."""
        if old_row is not None and old_row[2] is not None:
            self.files.old.append(self.store.block_path(old_row[2]))
        length = sum(len(p) for p in pieces)
        if length == 0:
            self.conn.execute("DELETE FROM blocks WHERE obj=? AND idx=?", (self.id, idx))
            return
        crcs = chunk_crcs(pieces, CHECKSUM_CHUNK, self.store.crc)
        if length <= INLINE_MAX:
            self._insert_block(idx, length, b"".join(pieces), None, crcs)
        else:
            fd, file = self.store.new_block_file(self.files)
            _write_block_part(fd, 0, pieces)
            self._insert_block(idx, length, None, file, crcs)

    def _insert_block(self, idx: int, length: int, data: bytes | None, file: str | None, crcs: bytes) -> None:
        self.blockless = False
        self.conn.execute(
            "INSERT OR REPLACE INTO blocks VALUES (?, ?, ?, ?, ?, ?)", (self.id, idx, length, data, file, crcs)
        )

    def _write_stream(self, stream: PieceStream) -> None:
        """Write a whole (emptied) object from a stream. A block file is written as its pieces
        arrive, ``STREAM_PART`` bytes at a time, so that when the stream ends little is left to
        write or to sync."""
        for idx in range((len(stream) + BLOCK_SIZE - 1) // BLOCK_SIZE):
            length = min(BLOCK_SIZE, len(stream) - idx * BLOCK_SIZE)
            if length <= INLINE_MAX:
                self._store_block(idx, stream.take(length), None)
                continue
            fd, file = self.store.new_block_file(self.files)
            crcs = ChunkCRCs(CHECKSUM_CHUNK, self.store.crc)
            for offset in range(0, length, STREAM_PART):
                pieces = stream.take(min(STREAM_PART, length - offset))
                crcs.update(pieces)
                _write_block_part(fd, offset, pieces)
            self._insert_block(idx, length, None, file, crcs.packed())
        self.size = len(stream)

    def _write(self, offset: int, data: memoryview) -> None:
        end = offset + len(data)
        if len(data):
            for idx in range(offset // BLOCK_SIZE, (end - 1) // BLOCK_SIZE + 1):
                base = idx * BLOCK_SIZE
                lo, hi = max(offset, base) - base, min(end, base + BLOCK_SIZE) - base
                piece = data[max(offset, base) - offset : min(end, base + BLOCK_SIZE) - offset]
                row = self._block(idx)
                if row is None or (lo == 0 and hi >= row[0]):
                    content = memoryview(bytes(lo) + bytes(piece)) if lo else piece
                else:
                    old = self.store.read_block(self.key, idx, row)
                    buf = bytearray(old)
                    if len(buf) < lo:
                        buf += bytes(lo - len(buf))
                    buf[lo:hi] = piece
                    content = memoryview(buf)
                self._store_block(idx, [content], row)
        self.size = max(self.size, end)

    def _truncate(self, size: int) -> None:
        if size < self.size:
            keep = (size + BLOCK_SIZE - 1) // BLOCK_SIZE
            for idx, length, data, file, crcs in self.conn.execute(
                "SELECT idx, length, data, file, crcs FROM blocks WHERE obj=? AND idx>=?", (self.id, keep)
            ).fetchall():
                self._drop_block(idx, (length, data, file, crcs))
            cut = size - (keep - 1) * BLOCK_SIZE if keep else 0
            row = self._block(keep - 1) if keep else None
            if row is not None and row[0] > cut:
                self._store_block(keep - 1, [self.store.read_block(self.key, keep - 1, row, 0, cut)], row)
        self.size = size
        self.blockless = self.blockless or size == 0

    def restore(self, record: ObjectRecord) -> None:
        """Replace this object with exactly ``record``: content, metadata and versions."""
        info = record.info
        if len(record.data) != info.size:
            raise invalid(f"{self.key}: restore record holds {len(record.data)} bytes but says {info.size}")
        if self.id is not None:
            self.remove()
        oid = self._ensure(info.mtime_ns)
        self._write(0, memoryview(record.data))
        for table, values in (("xattrs", record.xattrs), ("omap", record.omap)):
            self.conn.executemany(
                f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
                ((oid, k, v, self.store.crc(v)) for k, v in values.items()),
            )
        header = record.omap_header or None
        self.conn.execute(
            "UPDATE objects SET size=?, logical_size=?, version=?, data_version=?, mtime_ns=?, omap_header=?, epoch=?"
            " WHERE id=?",
            (info.size, info.logical_size, info.version, info.data_version, info.mtime_ns, header, info.epoch, oid),
        )

    def remove(self) -> None:
        oid = self._require()
        for idx, length, data, file, crcs in self.conn.execute(
            "SELECT idx, length, data, file, crcs FROM blocks WHERE obj=?", (oid,)
        ).fetchall():
            self._drop_block(idx, (length, data, file, crcs))
        self.conn.execute("DELETE FROM xattrs WHERE obj=?", (oid,))
        self.conn.execute("DELETE FROM omap WHERE obj=?", (oid,))
        self.conn.execute("DELETE FROM objects WHERE id=?", (oid,))
        self.id, self.size, self.version, self.blockless = None, 0, 0, True

    # -- omap compare and cls_lock-style locks ---------------------------------

    def _omap_cmp(self, key: str, value: bytes, cmp_op: int) -> None:
        oid = self._require()
        row = self.conn.execute("SELECT value FROM omap WHERE obj=? AND key=?", (oid, key)).fetchone()
        current = bytes(row[0]) if row else b""
        ok = {
            1: current == value,
            2: current != value,
            3: current > value,
            4: current >= value,
            5: current < value,
            6: current <= value,
        }
        if not ok.get(cmp_op, False):
            raise StorageError(errno.ECANCELED, f"{self.key}: omap_cmp failed on {key!r}")

    def _lock_record(self, name: str) -> dict | None:
        row = self.conn.execute("SELECT value FROM xattrs WHERE obj=? AND key=?", (self.id, f"lock.{name}")).fetchone()
        if row is None:
            return None
        record = json.loads(bytes(row[0]))
        now = time.time()
        record["holders"] = {c: h for c, h in record["holders"].items() if not h["expires"] or h["expires"] > now}
        return record if record["holders"] else None

    def _save_lock(self, name: str, record: dict | None) -> None:
        if record is None:
            self.conn.execute("DELETE FROM xattrs WHERE obj=? AND key=?", (self.id, f"lock.{name}"))
            return
        value = json.dumps(record, sort_keys=True).encode()
        self.conn.execute(
            "INSERT OR REPLACE INTO xattrs VALUES (?, ?, ?, ?)",
            (self.id, f"lock.{name}", value, self.store.crc(value)),
        )

    def _lock(self, mtime_ns: int, op: LockOp) -> None:
        name, cookie, kind, tag = op.name, op.cookie, op.kind, op.tag
        self._ensure(mtime_ns)
        record = self._lock_record(name)
        if record is not None:
            if cookie in record["holders"]:
                raise exists(f"{self.key} lock {name!r} cookie {cookie!r}")
            if record["type"] == "exclusive" or kind == "exclusive" or record["tag"] != tag:
                raise StorageError(errno.EBUSY, f"{self.key}: lock {name!r} is held")
        else:
            record = {"type": kind, "tag": tag, "holders": {}}
        record["holders"][cookie] = {"desc": op.desc, "expires": op.expires}
        self._save_lock(name, record)

    def _unlock(self, name: str, cookie: str) -> None:
        self._require()
        record = self._lock_record(name)
        if record is None or cookie not in record["holders"]:
            raise not_found(f"{self.key} lock {name!r} cookie {cookie!r}")
        del record["holders"][cookie]
        self._save_lock(name, record if record["holders"] else None)


def _write_block_part(fd: int, offset: int, pieces: list[memoryview]) -> None:
    """Write ``pieces`` at the end of a new block file, which is at ``offset``."""
    _write_all(fd, pieces)
    # Start the writeback of these bytes now (DONTNEED begins it without waiting, and keeps
    # dirty pages), so it overlaps the rest of the write instead of all of it waiting in sync().
    os.posix_fadvise(fd, offset, sum(len(p) for p in pieces), os.POSIX_FADV_DONTNEED)


def _write_all(fd: int, pieces: list[memoryview]) -> None:
    queue = deque(pieces)
    while queue:
        written = os.writev(fd, list(itertools.islice(queue, IOV_MAX)))
        while written:
            if written >= len(queue[0]):
                written -= len(queue.popleft())
            else:
                queue[0] = queue[0][written:]
                written = 0


def unlink_all(paths: Iterable[Path]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _as_bytes(value: bytes | bytearray | memoryview | str) -> bytes | bytearray | memoryview:
    """Data as a buffer, without copying one that already is (shards can be tens of MiB)."""
    return value.encode() if isinstance(value, str) else value
