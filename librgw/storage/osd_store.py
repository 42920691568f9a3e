"""One OSD's object store: data, xattrs, omap and a version per object, on one directory.

On-disk format (``<osd data>/``):

- ``store.db``: SQLite in WAL mode with ``synchronous=FULL``. Tables ``objects`` (one row
  per object or EC shard: pool, pg, namespace, name, shard, size, version, mtime),
  ``blocks`` (the data, cut into 4 MiB blocks), ``xattrs`` and ``omap`` (key -> value,
  each value with its CRC). SQLite gives atomic multi-table transactions, a B-tree
  for ordered omap scans, and concurrent readers (WAL snapshots) next to one writer
  across processes, all from the standard library.
- ``blocks/<xx>/<id>``: a data block larger than ``INLINE_MAX`` lives in its own file,
  written once, ``fdatasync``-ed and never modified; a block of an object that changes
  is written anew (copy-on-write) and the row is pointed at it in the same transaction
  that changes the rest of the object. Small blocks stay inline in the database, so a
  4 KiB object costs no extra file or fsync. Big blocks go to files so their bytes are
  written once, not twice as WAL + checkpoint would.
- Every block carries a CRC per 64 KiB chunk; reads verify the chunks they touch and
  fail with EIO on a mismatch. xattr and omap values carry their own CRC. Which CRC is the
  store's format, kept in SQLite's ``user_version`` (``checksum``: CRC-32C since format 1).

Atomicity and durability: all of one transaction's changes (data, xattrs, omap, version)
commit in one SQLite transaction; new block files and their directories are fsynced
before it, old block files are unlinked only after it. ``kill -9`` at any point leaves
the old object or the new one; at worst an unreferenced block file, which a deep scrub removes once it is an hour old.

Scrub and recovery see a copy whole: ``pg_objects`` lists a PG with each object's info,
``check_object`` says which parts of a copy fail their checksums (without raising),
``export_object`` returns an ``ObjectRecord`` (data, xattrs, omap, versions) with every
checksum verified, and the ("restore", record) op writes one back exactly, versions included,
through the same group commit as every other write.

Group commit: a process has one committer thread per OSD. Callers queue transactions;
the committer applies everything queued in one SQLite transaction (a savepoint each, so
one failing transaction does not fail the others) and one WAL fsync, then wakes the
callers. Small durable writes from many threads thus share fsyncs. Across processes
SQLite's write lock serializes committers; per-object ordering is the caller's job (the
cluster holds a PG lock across all replicas of an op).
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import sqlite3
import threading
import time
from array import array
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .atomic_file import fsync_dir
from .checksum import CRC, FORMAT_CRCS, NEWEST_FORMAT, ChunkCRCs, chunk_crcs, digest
from .errors import OSDFailure, StorageError, exists, invalid, io_error, no_attr, not_found
from .piece_stream import PieceStream

BLOCK_SIZE = 4 * 1024 * 1024
CHECKSUM_CHUNK = 64 * 1024
INLINE_MAX = 128 * 1024
# A streamed block is written this much at a time (an EC shard arrives a stripe at a time).
STREAM_PART = 1024 * 1024
BUSY_TIMEOUT_S = 60.0
READ_RETRIES = 5
IOV_MAX = os.sysconf("SC_IOV_MAX")
NO_SHARD = -1
# An EC shard written but not yet committed lives at shard + PENDING_SHARD until "promote".
PENDING_SHARD = 1 << 16

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id INTEGER PRIMARY KEY,
    pool INTEGER NOT NULL, pg INTEGER NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
    shard INTEGER NOT NULL, size INTEGER NOT NULL, logical_size INTEGER NOT NULL,
    version INTEGER NOT NULL, data_version INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, omap_header BLOB,
    UNIQUE (pool, ns, name, shard));
CREATE INDEX IF NOT EXISTS objects_by_pg ON objects (pool, pg, ns, name);
CREATE TABLE IF NOT EXISTS blocks (
    obj INTEGER NOT NULL, idx INTEGER NOT NULL, length INTEGER NOT NULL,
    data BLOB, file TEXT, crcs BLOB NOT NULL, PRIMARY KEY (obj, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS xattrs (
    obj INTEGER NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, crc INTEGER NOT NULL,
    PRIMARY KEY (obj, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS omap (
    obj INTEGER NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, crc INTEGER NOT NULL,
    PRIMARY KEY (obj, key)) WITHOUT ROWID;
"""

# Largest code point: a key range [prefix, prefix + OMAP_KEY_MAX) holds every key with that prefix.
OMAP_KEY_MAX = "\U0010ffff"


@dataclass(frozen=True)
class ObjectKey:
    pool: int
    pg: int
    ns: str
    name: str
    shard: int = NO_SHARD

    def __str__(self) -> str:
        shard = f"(shard {self.shard})" if self.shard != NO_SHARD else ""
        ns = f"{self.ns}/" if self.ns else ""
        return f"{self.pool}.{self.pg:x} {ns}{self.name}{shard}"


@dataclass
class Transaction:
    """Changes to one object, applied atomically in order.

    ``ops`` are tuples: ("create", exclusive), ("remove",), ("write", offset, data),
    ("write_full", data), ("append", data), ("truncate", size), ("zero", offset, length),
    ("setxattr", name, value), ("rmxattr", name), ("omap_set", {key: value}),
    ("omap_rm", keys), ("omap_clear",), ("omap_rm_range", start, end),
    ("omap_set_header", value), ("omap_cmp", key, value, cmp_op), ("assert_exists",),
    ("assert_version", version), ("lock", name, cookie, type, tag, desc, expires, flags),
    ("unlock", name, cookie), ("reset",) (remove if present); and two that stand alone:
    ("promote",), which replaces the object with its pending copy at ``shard + PENDING_SHARD``,
    versions and all, and ("restore", ObjectRecord), which replaces it with exactly the record's
    content and metadata (scrub repair and recovery; ``version`` and ``mtime_ns`` are ignored).
    ``version`` is proposed by the client (the same for every replica); the stored version
    becomes ``max(old + 1, version)``. ``logical_size`` (erasure-coded shards) records the
    object's size as opposed to the shard's.
    """

    key: ObjectKey
    ops: list[tuple]
    version: int
    mtime_ns: int
    logical_size: int | None = None


@dataclass
class ObjectInfo:
    size: int
    logical_size: int
    version: int
    mtime_ns: int
    data_version: int  # the version of the last op that changed the data


@dataclass
class ObjectRecord:
    """All that one OSD holds of one object (or EC shard): what ``export_object`` returns and
    the ("restore", record) op writes back, byte for byte and version for version."""

    info: ObjectInfo
    data: bytes
    xattrs: dict[str, bytes]
    omap_header: bytes = b""
    omap: dict[str, bytes] = field(default_factory=dict)


@dataclass
class CopyCheck:
    """One copy as scrub sees it (``check_object``). xattr checksums are always verified; a deep
    check also reads every data byte and omap value, verifies their checksums and digests them
    (``checksum.digest`` of the bytes as stored, bad ones included, so copies can be compared)."""

    info: ObjectInfo
    xattrs: dict[str, bytes]  # as stored, bad values included
    omap_keys: int
    data_digest: int | None = None
    omap_digest: int | None = None
    bad_chunks: list[int] = field(default_factory=list)  # data offsets of 64 KiB chunks failing their CRC
    bad_xattrs: list[str] = field(default_factory=list)
    bad_omap: list[str] = field(default_factory=list)

    @property
    def read_error(self) -> bool:
        return bool(self.bad_chunks or self.bad_xattrs or self.bad_omap)


_ZEROS = bytes(CHECKSUM_CHUNK)


def _crc_zeros(crc: int, count: int) -> int:
    """``crc`` continued over ``count`` zero bytes (a hole), without allocating them all."""
    while count > 0:
        crc = digest(_ZEROS[: min(count, len(_ZEROS))], crc)
        count -= len(_ZEROS)
    return crc


def _as_bytes(value: bytes | bytearray | memoryview | str) -> bytes | bytearray | memoryview:
    """Data as a buffer, without copying one that already is (shards can be tens of MiB)."""
    return value.encode() if isinstance(value, str) else value


@dataclass
class PendingTxn:
    """A submitted transaction; ``wait()`` returns once it is durable or raises its error."""

    txn: Transaction
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def wait(self) -> None:
        self.done.wait()
        if self.error is not None:
            raise self.error


@dataclass
class _FileChanges:
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
        _unlink_all(self.new)


class OSDStore:
    """The store of one OSD directory, opened by one process."""

    def __init__(self, osd_id: int, path: Path) -> None:
        self.osd_id = osd_id
        self.path = path
        self.db_path = path / "store.db"
        self.blocks_dir = path / "blocks"
        self._local = threading.local()
        self._queue: list[PendingTxn] = []
        self._cv = threading.Condition()
        self._committer: threading.Thread | None = None
        self._closed = False
        self._all_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._db_inode: int | None = None

    # -- creation and opening -------------------------------------------------

    @staticmethod
    def mkfs(path: Path, osd_id: int, fsid: str) -> None:
        """Make ``path`` an empty OSD of cluster ``fsid``."""
        path.mkdir(parents=True, exist_ok=True)
        if (path / "whoami").exists():
            raise exists(f"{path}: already an OSD")
        (path / "blocks").mkdir(exist_ok=True)
        for i in range(256):
            (path / "blocks" / f"{i:02x}").mkdir(exist_ok=True)
        conn = sqlite3.connect(path / "store.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
        conn.execute(f"PRAGMA user_version={NEWEST_FORMAT}")
        conn.close()
        (path / "ceph_fsid").write_text(fsid + "\n")
        (path / "whoami").write_text(f"{osd_id}\n")
        fsync_dir(path)

    @staticmethod
    def probe(path: Path, osd_id: int, fsid: str) -> str | None:
        """What is wrong with ``path`` as OSD ``osd_id`` of cluster ``fsid``; None if nothing."""
        try:
            whoami = int((path / "whoami").read_text())
            their_fsid = (path / "ceph_fsid").read_text().strip()
            os.stat(path / "store.db")
        except (OSError, ValueError) as e:
            return f"{path} is not a usable OSD directory: {e}"
        if whoami != osd_id or their_fsid != fsid:
            return f"{path} belongs to osd.{whoami} of cluster {their_fsid}"
        return None

    def check(self, fsid: str) -> None:
        """Fail with OSDFailure unless the directory is this cluster's OSD ``osd_id``."""
        problem = self.probe(self.path, self.osd_id, fsid)
        if problem is not None:
            raise OSDFailure(self.osd_id, problem)

    def verify_alive(self) -> None:
        """Raise OSDFailure unless the store our connections use is still at its path.

        A deleted or unmounted OSD directory is otherwise invisible: SQLite carries on
        writing to the open, unlinked database, and those writes would be lost.
        """
        try:
            inode = os.stat(self.db_path).st_ino
        except OSError as e:
            raise OSDFailure(self.osd_id, f"{self.db_path}: {e.strerror}") from None
        if self._db_inode is None:
            self._db_inode = inode
        elif inode != self._db_inode:
            raise OSDFailure(self.osd_id, f"{self.db_path} was replaced")

    def _connect(self) -> sqlite3.Connection:
        self.verify_alive()
        try:
            conn = sqlite3.connect(self.db_path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as e:
            raise _failure(self.osd_id, e) from None
        with self._conns_lock:
            self._all_conns.append(conn)
        return conn

    @cached_property
    def crc(self) -> CRC:
        """The CRC of this store's format (see ``checksum``)."""
        version = self._reader().execute("PRAGMA user_version").fetchone()[0]
        if version not in FORMAT_CRCS:
            raise OSDFailure(
                self.osd_id, f"{self.db_path}: store format {version}, newer than this librgw's {NEWEST_FORMAT}"
            )
        return FORMAT_CRCS[version]

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if self._committer is not None:
            self._committer.join()
        with self._conns_lock:
            for conn in self._all_conns:
                conn.close()
            self._all_conns.clear()

    # -- writes: group commit ---------------------------------------------------

    def submit(self, txn: Transaction) -> PendingTxn:
        """Queue a transaction; ``.wait()`` on the result returns once it is durable."""
        pending = PendingTxn(txn)
        with self._cv:
            if self._closed:
                raise OSDFailure(self.osd_id, "store is closed")
            if self._committer is None:
                self._committer = threading.Thread(
                    target=self._commit_loop, name=f"osd.{self.osd_id}-commit", daemon=True
                )
                self._committer.start()
            self._queue.append(pending)
            self._cv.notify()
        return pending

    def apply(self, txn: Transaction) -> None:
        self.submit(txn).wait()

    def _commit_loop(self) -> None:
        conn = None
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if not self._queue:
                    return
                batch, self._queue = self._queue, []
            try:
                if conn is None:
                    conn = self._connect()
                self.verify_alive()
                self._commit(conn, batch)
            except BaseException as e:  # the store itself failed: fail the whole batch
                err = e if isinstance(e, StorageError) else _failure(self.osd_id, e)
                for p in batch:
                    if not p.done.is_set():
                        p.error = err
                        p.done.set()

    def _commit(self, conn: sqlite3.Connection, batch: list[PendingTxn]) -> None:
        committed: list[tuple[PendingTxn, _FileChanges]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for pending in batch:
                files = _FileChanges()
                conn.execute("SAVEPOINT txn")
                try:
                    self._apply(conn, pending.txn, files)
                    conn.execute("RELEASE txn")
                    committed.append((pending, files))
                except BaseException as e:
                    conn.execute("ROLLBACK TO txn")
                    conn.execute("RELEASE txn")
                    files.discard()
                    pending.error = _storage_error(self.osd_id, e)
            # Block files are all written before any is synced, so their writeback overlaps.
            for _, files in committed:
                files.sync()
            for d in {f.parent for _, files in committed for f in files.new}:
                fsync_dir(d)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for _, files in committed:
                files.discard()
            raise
        for pending in batch:
            pending.done.set()
        for _, files in committed:  # garbage now; callers need not wait for it
            _unlink_all(files.old)

    # -- applying one transaction (inside the committer's SQLite transaction) ---

    def _apply(self, conn: sqlite3.Connection, txn: Transaction, files: _FileChanges) -> None:
        k = txn.key
        row = conn.execute(
            "SELECT id, size, version, logical_size, data_version FROM objects"
            " WHERE pool=? AND ns=? AND name=? AND shard=?",
            (k.pool, k.ns, k.name, k.shard),
        ).fetchone()
        obj = _ObjectState(self, conn, files, k, row[:3] if row else None)
        if txn.ops == [("promote",)]:
            obj.promote()
            return
        if len(txn.ops) == 1 and txn.ops[0][0] == "restore":
            obj.restore(txn.ops[0][1])
            return
        for op in txn.ops:
            obj.apply(op, txn.mtime_ns)
        if obj.id is not None:
            version = max(obj.version + 1, txn.version)
            data_version = version if obj.data_changed or row is None else row[4]
            if txn.logical_size is not None:
                logical = txn.logical_size
            elif k.shard == NO_SHARD or row is None:
                logical = obj.size
            else:
                logical = row[3]
            conn.execute(
                "UPDATE objects SET size=?, logical_size=?, version=?, data_version=?, mtime_ns=? WHERE id=?",
                (obj.size, logical, version, data_version, txn.mtime_ns, obj.id),
            )

    def _new_block_file(self, files: _FileChanges) -> tuple[int, str]:
        """A new empty block file (fd, name); ``files`` syncs and closes it with the transaction."""
        # one directory for all of a transaction's blocks: one directory fsync, not one per block
        name = (files.new[0].name[:2] if files.new else os.urandom(1).hex()) + os.urandom(11).hex()
        path = self.blocks_dir / name[:2] / name
        files.new.append(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        files.unsynced.append(fd)
        return fd, name

    def block_path(self, name: str) -> Path:
        return self.blocks_dir / name[:2] / name

    def read_block(self, what: ObjectKey, idx: int, row: tuple, lo: int = 0, hi: int | None = None) -> memoryview:
        """Bytes [lo, hi) of a block row (length, data, file, crcs), checksums verified: a view of
        what was read, not a copy."""
        length = row[0]
        hi = length if hi is None else min(hi, length)
        if lo >= hi:
            return memoryview(b"")
        first, last = lo // CHECKSUM_CHUNK, (hi - 1) // CHECKSUM_CHUNK
        raw, bad = self._block_chunks(row, first, last)
        if bad:
            raise io_error(f"osd.{self.osd_id}: checksum mismatch in {what} block {idx} chunk {bad[0]}")
        start = first * CHECKSUM_CHUNK
        return raw[lo - start : hi - start]

    def _block_chunks(self, row: tuple, first: int, last: int) -> tuple[memoryview, list[int]]:
        """The raw bytes of a block row's chunks [first, last] and which of them fail their CRC."""
        length, data, file, crcs = row
        start, end = first * CHECKSUM_CHUNK, min(length, (last + 1) * CHECKSUM_CHUNK)
        if data is not None:
            raw = memoryview(data)[start:end]
        else:
            with open(self.block_path(file), "rb") as f:
                f.seek(start)
                raw = memoryview(f.read(end - start))
        expected = array("I")
        expected.frombytes(crcs)
        bad = []
        for n, chunk in enumerate(range(first, last + 1)):
            piece = raw[n * CHECKSUM_CHUNK : (n + 1) * CHECKSUM_CHUNK]
            if len(piece) != min(CHECKSUM_CHUNK, length - chunk * CHECKSUM_CHUNK) or self.crc(piece) != expected[chunk]:
                bad.append(chunk)
        return raw, bad

    # -- reads (thread-local connection, one WAL snapshot per call) -------------

    def _read_txn(self, fn, *args):
        self.verify_alive()
        conn = self._reader()
        for attempt in range(READ_RETRIES):
            conn.execute("BEGIN")
            try:
                return fn(conn, *args)
            except FileNotFoundError:
                # a writer replaced the block after our snapshot was taken: read again
                if attempt == READ_RETRIES - 1:
                    raise io_error(f"osd.{self.osd_id}: block file vanished under a read") from None
            except (sqlite3.Error, OSError) as e:
                raise _failure(self.osd_id, e) from None
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        raise AssertionError("unreachable")

    @staticmethod
    def _row(conn: sqlite3.Connection, key: ObjectKey) -> tuple:
        row = conn.execute(
            "SELECT id, size, logical_size, version, mtime_ns, data_version FROM objects"
            " WHERE pool=? AND ns=? AND name=? AND shard=?",
            (key.pool, key.ns, key.name, key.shard),
        ).fetchone()
        if row is None:
            raise not_found(str(key))
        return row

    def stat(self, key: ObjectKey) -> ObjectInfo:
        def go(conn):
            return ObjectInfo(*self._row(conn, key)[1:])

        return self._read_txn(go)

    def read(self, key: ObjectKey, offset: int, length: int) -> tuple[bytes, ObjectInfo]:
        """Bytes [offset, offset+length) of the object, clipped to its size, with its info."""

        def go(conn):
            oid, *fields = self._row(conn, key)
            info = ObjectInfo(*fields)
            return self._read_data(conn, key, oid, info.size, offset, length), info

        return self._read_txn(go)

    def _read_data(
        self, conn: sqlite3.Connection, key: ObjectKey, oid: int, size: int, offset: int, length: int
    ) -> bytes:
        end = min(size, offset + length)
        if offset >= end:
            return b""
        first, last = offset // BLOCK_SIZE, (end - 1) // BLOCK_SIZE
        rows = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT idx, length, data, file, crcs FROM blocks WHERE obj=? AND idx BETWEEN ? AND ?",
                (oid, first, last),
            )
        }
        parts: list[bytes | memoryview] = []
        for idx in range(first, last + 1):
            base = idx * BLOCK_SIZE
            lo, hi = max(offset, base) - base, min(end, base + BLOCK_SIZE) - base
            piece = self.read_block(key, idx, rows[idx], lo, hi) if idx in rows else b""
            parts += [piece, bytes(hi - lo - len(piece))]  # holes read as zeros
        return b"".join(parts)

    def stat_with_pending(self, key: ObjectKey) -> tuple[ObjectInfo | None, ObjectInfo | None]:
        """The shard's committed and pending (uncommitted EC write) infos; None where absent."""
        found: list[ObjectInfo | None] = []
        for shard in (key.shard, key.shard + PENDING_SHARD):
            try:
                found.append(self.stat(ObjectKey(key.pool, key.pg, key.ns, key.name, shard)))
            except StorageError as e:
                if e.errno != errno.ENOENT:
                    raise
                found.append(None)
        return found[0], found[1]

    def get_xattr(self, key: ObjectKey, name: str) -> bytes:
        def go(conn):
            oid = self._row(conn, key)[0]
            row = conn.execute("SELECT value, crc FROM xattrs WHERE obj=? AND key=?", (oid, name)).fetchone()
            if row is None:
                raise no_attr(f"{key} xattr {name!r}")
            return self._verified(key, name, *row)

        return self._read_txn(go)

    def get_xattrs(self, key: ObjectKey) -> dict[str, bytes]:
        def go(conn):
            return self._verified_values(conn, key, "xattrs", self._row(conn, key)[0])

        return self._read_txn(go)

    def _verified_values(self, conn: sqlite3.Connection, key: ObjectKey, table: str, oid: int) -> dict[str, bytes]:
        """Every entry of an object's ``xattrs`` or ``omap``, in key order, checksums verified."""
        rows = conn.execute(f"SELECT key, value, crc FROM {table} WHERE obj=? ORDER BY key", (oid,))
        return {k: self._verified(key, k, v, c) for k, v, c in rows}

    def omap_get(
        self,
        key: ObjectKey,
        start_after: str = "",
        prefix: str = "",
        max_return: int = -1,
        keys: Iterable[str] | None = None,
    ) -> tuple[list[tuple[str, bytes]], bool]:
        """Omap entries in key order after ``start_after`` (or exactly ``keys``); and whether more remain."""

        def go(conn):
            oid = self._row(conn, key)[0]
            if keys is not None:
                found = []
                for k in sorted(set(keys)):
                    row = conn.execute("SELECT value, crc FROM omap WHERE obj=? AND key=?", (oid, k)).fetchone()
                    if row is not None:
                        found.append((k, self._verified(key, k, *row)))
                return found, False
            low = max(start_after, prefix) if prefix else start_after
            sql = "SELECT key, value, crc FROM omap WHERE obj=? AND key > ?"
            args: list = [oid, low]
            if prefix:
                if low == prefix:  # ">" would skip a key equal to the prefix
                    sql = "SELECT key, value, crc FROM omap WHERE obj=? AND key >= ?"
                sql += " AND key < ?"
                args.append(prefix + OMAP_KEY_MAX)
            sql += " ORDER BY key LIMIT ?"
            args.append(max_return + 1 if max_return >= 0 else -1)
            rows = conn.execute(sql, args).fetchall()
            more = max_return >= 0 and len(rows) > max_return
            rows = rows[:max_return] if more else rows
            return [(k, self._verified(key, k, v, c)) for k, v, c in rows], more

        return self._read_txn(go)

    def omap_get_header(self, key: ObjectKey) -> bytes:
        def go(conn):
            return self._omap_header(conn, self._row(conn, key)[0])

        return self._read_txn(go)

    @staticmethod
    def _omap_header(conn: sqlite3.Connection, oid: int) -> bytes:
        (header,) = conn.execute("SELECT omap_header FROM objects WHERE id=?", (oid,)).fetchone()
        return bytes(header or b"")

    def _verified(self, key: ObjectKey, name: str, value: bytes, crc: int) -> bytes:
        if self.crc(value) != crc:
            raise io_error(f"osd.{self.osd_id}: checksum mismatch in {key} value {name!r}")
        return bytes(value)

    def list_objects(self, pool: int, pg: int, ns: str | None = None) -> list[tuple[str, str]]:
        """(namespace, name) of the PG's objects held here, sorted; ``ns=None`` for every namespace."""

        def go(conn):
            sql = "SELECT DISTINCT ns, name FROM objects WHERE pool=? AND pg=? AND shard<?"
            if ns is None:
                return conn.execute(sql + " ORDER BY ns, name", (pool, pg, PENDING_SHARD)).fetchall()
            return conn.execute(sql + " AND ns=? ORDER BY name", (pool, pg, PENDING_SHARD, ns)).fetchall()

        return self._read_txn(go)

    def pg_stats(self, pool: int) -> dict[int, tuple[int, int]]:
        """pg -> (objects, logical bytes) for the pool's objects held here."""

        def go(conn):
            rows = conn.execute(
                "SELECT pg, count(DISTINCT ns || char(31) || name), sum(logical_size)"
                " FROM objects WHERE pool=? AND shard<? GROUP BY pg",
                (pool, PENDING_SHARD),
            )
            return {pg: (n, b or 0) for pg, n, b in rows}

        return self._read_txn(go)

    def used_bytes(self) -> int:
        """Bytes this OSD holds on disk: object data plus its database."""

        def go(conn):
            (data,) = conn.execute("SELECT coalesce(sum(size), 0) FROM objects").fetchone()
            return data

        total = self._read_txn(go)
        for suffix in ("", "-wal"):
            try:
                total += os.stat(f"{self.db_path}{suffix}").st_size
            except FileNotFoundError:
                pass
        return total

    # -- scrub and recovery: a PG's objects, whole objects out and in, per-copy checks --------

    def pg_objects(self, pool: int, pg: int, pending: bool = False) -> dict[ObjectKey, ObjectInfo]:
        """Every object (EC: every shard) of the PG held here, with its info; pending EC shards
        (at ``shard + PENDING_SHARD``) only if ``pending``."""

        def go(conn):
            sql = (
                "SELECT ns, name, shard, size, logical_size, version, mtime_ns, data_version FROM objects"
                " WHERE pool=? AND pg=? AND shard<? ORDER BY ns, name, shard"
            )
            below = 2 * PENDING_SHARD if pending else PENDING_SHARD  # pending shards are shard + PENDING_SHARD
            rows = conn.execute(sql, (pool, pg, below))
            return {ObjectKey(pool, pg, ns, name, shard): ObjectInfo(*info) for ns, name, shard, *info in rows}

        return self._read_txn(go)

    def export_object(self, key: ObjectKey) -> ObjectRecord:
        """The whole object from one snapshot, every checksum verified (EIO on a mismatch)."""

        def go(conn):
            oid, *fields = self._row(conn, key)
            info = ObjectInfo(*fields)
            return ObjectRecord(
                info,
                self._read_data(conn, key, oid, info.size, 0, info.size),
                self._verified_values(conn, key, "xattrs", oid),
                self._omap_header(conn, oid),
                self._verified_values(conn, key, "omap", oid),
            )

        return self._read_txn(go)

    def check_object(self, key: ObjectKey, deep: bool = False) -> CopyCheck:
        """This copy's info and xattrs, and which parts fail their checksums, without raising on
        them (ENOENT if absent). ``deep`` also reads and digests every data byte and omap value.
        For a caller holding the PG lock (scrub, recovery): a block file missing then is damage,
        not one a writer just replaced."""

        def go(conn):
            oid, *fields = self._row(conn, key)
            check = CopyCheck(ObjectInfo(*fields), {}, 0)
            for name, value, crc in conn.execute("SELECT key, value, crc FROM xattrs WHERE obj=? ORDER BY key", (oid,)):
                check.xattrs[name] = bytes(value)
                if self.crc(value) != crc:
                    check.bad_xattrs.append(name)
            (check.omap_keys,) = conn.execute("SELECT count(*) FROM omap WHERE obj=?", (oid,)).fetchone()
            if deep:
                self._check_data(conn, oid, check)
                self._check_omap(conn, oid, check)
            return check

        return self._read_txn(go)

    def _check_data(self, conn: sqlite3.Connection, oid: int, check: CopyCheck) -> None:
        data_digest = at = 0
        for idx, *row in conn.execute(
            "SELECT idx, length, data, file, crcs FROM blocks WHERE obj=? ORDER BY idx", (oid,)
        ).fetchall():
            base, chunks = idx * BLOCK_SIZE, (row[0] + CHECKSUM_CHUNK - 1) // CHECKSUM_CHUNK
            try:
                raw, bad = self._block_chunks(tuple(row), 0, chunks - 1)
            except OSError:  # block file gone or unreadable
                raw, bad = memoryview(b""), list(range(chunks))
            check.bad_chunks += [base + chunk * CHECKSUM_CHUNK for chunk in bad]
            data_digest = digest(raw, _crc_zeros(data_digest, base - at))
            at = base + len(raw)
        check.data_digest = _crc_zeros(data_digest, check.info.size - at)

    def _check_omap(self, conn: sqlite3.Connection, oid: int, check: CopyCheck) -> None:
        omap_digest = digest(self._omap_header(conn, oid))
        for key, value, crc in conn.execute("SELECT key, value, crc FROM omap WHERE obj=? ORDER BY key", (oid,)):
            omap_digest = digest(value, digest(f"{key}\0{len(value)}\0".encode(), omap_digest))
            if self.crc(value) != crc:
                check.bad_omap.append(key)
        check.omap_digest = omap_digest

    def remove_orphan_blocks(self, older_than_s: float) -> int:
        """Unlink block files no object refers to (left by a crash between writing a block and
        committing it), if older than ``older_than_s``: a younger one may belong to a
        transaction still being written. Returns how many were removed."""

        def referenced(conn):
            return {f for (f,) in conn.execute("SELECT file FROM blocks WHERE file IS NOT NULL")}

        cutoff = time.time() - older_than_s
        candidates = [p for p in self.blocks_dir.glob("*/*") if p.stat().st_mtime < cutoff]
        if not candidates:
            return 0
        keep = self._read_txn(referenced)
        orphans = [p for p in candidates if p.name not in keep]
        _unlink_all(orphans)
        return len(orphans)

    def purge_pool(self, pool: int) -> None:
        """Delete every object of a deleted pool from this OSD."""
        self._purge("pool=?", (pool,))

    def purge_pg(self, pool: int, pg: int, shard: int) -> None:
        """Delete one shard (``NO_SHARD`` in a replicated pool) of a PG from this OSD: a stray copy
        recovery no longer needs. The OSD may hold another shard of the PG, which stays."""
        self._purge("pool=? AND pg=? AND shard IN (?, ?)", (pool, pg, shard, shard + PENDING_SHARD))

    def _purge(self, where: str, args: tuple) -> None:
        self.verify_alive()
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            objects = f"SELECT id FROM objects WHERE {where}"
            files = [
                self.block_path(f)
                for (f,) in conn.execute(f"SELECT file FROM blocks WHERE file IS NOT NULL AND obj IN ({objects})", args)
            ]
            for table in ("blocks", "xattrs", "omap"):
                conn.execute(f"DELETE FROM {table} WHERE obj IN ({objects})", args)
            conn.execute(f"DELETE FROM objects WHERE {where}", args)
            conn.execute("COMMIT")
            _unlink_all(files)
        finally:
            with self._conns_lock:
                self._all_conns.remove(conn)
            conn.close()


class _ObjectState:
    """One object's row while a transaction applies its ops to it."""

    def __init__(self, store: OSDStore, conn: sqlite3.Connection, files: _FileChanges, key: ObjectKey, row) -> None:
        self.store, self.conn, self.files, self.key = store, conn, files, key
        self.id, self.size, self.version = row if row is not None else (None, 0, 0)
        self.data_changed = False

    def _ensure(self, mtime_ns: int) -> int:
        if self.id is None:
            k = self.key
            cur = self.conn.execute(
                "INSERT INTO objects (pool, pg, ns, name, shard, size, logical_size, version, data_version, mtime_ns)"
                " VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, ?)",
                (k.pool, k.pg, k.ns, k.name, k.shard, mtime_ns),
            )
            self.id, self.size, self.version = cur.lastrowid, 0, 0
        return self.id

    def _require(self) -> int:
        if self.id is None:
            raise not_found(str(self.key))
        return self.id

    def apply(self, op: tuple, mtime_ns: int) -> None:
        tag = op[0]
        if tag in ("promote", "restore"):
            raise invalid(f"{self.key}: {tag} must be the only op of its transaction")
        if tag in ("write", "write_full", "append", "truncate", "zero", "remove", "reset"):
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
            self._remove()
        elif tag == "reset":
            if self.id is not None:
                self._remove()
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
            self._lock(mtime_ns, *op[1:])
        elif tag == "unlock":
            self._unlock(op[1], op[2])
        else:
            raise invalid(f"unknown op {tag!r}")

    # -- data ----------------------------------------------------------------

    def _block(self, idx: int):
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
            fd, file = self.store._new_block_file(self.files)
            _write_block_part(fd, 0, pieces)
            self._insert_block(idx, length, None, file, crcs)

    def _insert_block(self, idx: int, length: int, data: bytes | None, file: str | None, crcs: bytes) -> None:
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
            fd, file = self.store._new_block_file(self.files)
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

    def promote(self) -> None:
        """Replace this object with its pending copy (shard + PENDING_SHARD)."""
        k = self.key
        row = self.conn.execute(
            "SELECT id FROM objects WHERE pool=? AND ns=? AND name=? AND shard=?",
            (k.pool, k.ns, k.name, k.shard + PENDING_SHARD),
        ).fetchone()
        if row is None:
            raise not_found(f"{k} (pending)")
        if self.id is not None:
            self._remove()
        self.conn.execute("UPDATE objects SET shard=? WHERE id=?", (k.shard, row[0]))

    def restore(self, record: ObjectRecord) -> None:
        """Replace this object with exactly ``record``: content, metadata and versions."""
        info = record.info
        if len(record.data) != info.size:
            raise invalid(f"{self.key}: restore record holds {len(record.data)} bytes but says {info.size}")
        if self.id is not None:
            self._remove()
        oid = self._ensure(info.mtime_ns)
        self._write(0, memoryview(record.data))
        for table, values in (("xattrs", record.xattrs), ("omap", record.omap)):
            self.conn.executemany(
                f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
                ((oid, k, v, self.store.crc(v)) for k, v in values.items()),
            )
        header = record.omap_header or None
        self.conn.execute(
            "UPDATE objects SET size=?, logical_size=?, version=?, data_version=?, mtime_ns=?, omap_header=?"
            " WHERE id=?",
            (info.size, info.logical_size, info.version, info.data_version, info.mtime_ns, header, oid),
        )

    def _remove(self) -> None:
        oid = self._require()
        for idx, length, data, file, crcs in self.conn.execute(
            "SELECT idx, length, data, file, crcs FROM blocks WHERE obj=?", (oid,)
        ).fetchall():
            self._drop_block(idx, (length, data, file, crcs))
        self.conn.execute("DELETE FROM xattrs WHERE obj=?", (oid,))
        self.conn.execute("DELETE FROM omap WHERE obj=?", (oid,))
        self.conn.execute("DELETE FROM objects WHERE id=?", (oid,))
        self.id, self.size, self.version = None, 0, 0

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

    def _lock(
        self, mtime_ns: int, name: str, cookie: str, kind: str, tag: str, desc: str, expires: float, flags: int
    ) -> None:
        self._ensure(mtime_ns)
        record = self._lock_record(name)
        if record is not None:
            if cookie in record["holders"]:
                raise exists(f"{self.key} lock {name!r} cookie {cookie!r}")
            if record["type"] == "exclusive" or kind == "exclusive" or record["tag"] != tag:
                raise StorageError(errno.EBUSY, f"{self.key}: lock {name!r} is held")
        else:
            record = {"type": kind, "tag": tag, "holders": {}}
        record["holders"][cookie] = {"desc": desc, "expires": expires}
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


def _unlink_all(paths: Iterable[Path]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _storage_error(osd_id: int, e: BaseException) -> BaseException:
    if isinstance(e, StorageError):
        return e
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(e.errno, f"osd.{osd_id}: {e}")
    if isinstance(e, (OSError, sqlite3.Error)):
        return _failure(osd_id, e)
    return e


def _failure(osd_id: int, e: BaseException) -> StorageError:
    """What an exception from the OSD's files means: the OSD failed, unless SQLite only
    stayed locked by another process past the busy timeout (a busy OSD is not a dead one)."""
    if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
        return StorageError(errno.EBUSY, f"osd.{osd_id}: {e}")
    return OSDFailure(osd_id, str(e))
