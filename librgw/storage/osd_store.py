"""One OSD's object store: data, xattrs, omap and a version per object, on one directory,
and the PG log of every PG copy it holds.

On-disk format (``<osd data>/``):

- ``store.db``: SQLite in WAL mode with ``synchronous=FULL``. Tables ``objects`` (one row
  per object or EC shard: pool, pg, namespace, name, shard, size, version and its epoch,
  mtime), ``blocks`` (the data, cut into 4 MiB blocks), ``xattrs`` and ``omap`` (key ->
  value, each value with its CRC), and the PG state of each PG copy (``pg_log``: its info,
  log and missing set). SQLite gives atomic multi-table transactions, a B-tree for ordered
  omap scans, and concurrent readers (WAL snapshots) next to one writer across processes,
  all from the standard library.
- ``blocks/<xx>/<id>``: a data block larger than ``INLINE_MAX`` lives in its own file,
  written once, ``fdatasync``-ed and never modified; a block of an object that changes
  is written anew (copy-on-write) and the row is pointed at it in the same transaction
  that changes the rest of the object. Small blocks stay inline in the database, so a
  4 KiB object costs no extra file or fsync. Big blocks go to files so their bytes are
  written once, not twice as WAL + checkpoint would.
- Every block carries a CRC per 64 KiB chunk; reads verify the chunks they touch and
  fail with EIO on a mismatch. xattr and omap values carry their own CRC. Which CRC is the
  store's format, kept in SQLite's ``user_version`` (``checksum``: CRC-32C since format 1).
  The PG log tables and the objects' ``epoch`` column are added to a store made before
  them when it is first opened (its objects then have epoch 0 and no history).

Atomicity and durability: all of one transaction's changes (data, xattrs, omap, version,
PG log entry) commit in one SQLite transaction (``store_txn.py``); new block files and their
directories are fsynced before it, old block files are unlinked only after it. ``kill -9``
at any point leaves the old object or the new one; at worst an unreferenced block file,
which a deep scrub removes once it is an hour old.

Scrub and recovery see a copy whole: ``pg_objects`` lists a PG with each object's info,
``check_object`` says which parts of a copy fail their checksums (without raising),
``export_object`` returns an ``ObjectRecord`` (data, xattrs, omap, versions) with every
checksum verified, and the ("restore", record) op writes one back exactly, versions included,
through the same group commit as every other write. Peering reads a PG copy's state with
``pg_infos``, ``pg_log`` and ``pg_missing``.

Group commit: a process has one committer thread per OSD. Callers queue transactions;
the committer applies everything queued in one SQLite transaction (a savepoint each, so
one failing transaction does not fail the others) and one WAL fsync, then wakes the
callers. Small durable writes from many threads thus share fsyncs. Across processes the
committers take turns on ``store.lock`` (an ``flock``) around their write transactions, rather
than SQLite's busy handler, which polls; per-object ordering is the caller's job (the cluster
holds a PG lock across all replicas of an op).
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import threading
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from . import pg_log
from .atomic_file import fsync_dir
from .checksum import CRC, FORMAT_CRCS, NEWEST_FORMAT, digest
from .errors import OSDFailure, StorageError, exists, io_error, no_attr, not_found
from .pg_log import Eversion, LogEntry, ObjectName, PGInfo
from .store_records import (
    PENDING_SHARD,
    STASH_SHARD,
    CopyCheck,
    ObjectInfo,
    ObjectKey,
    ObjectRecord,
    Transaction,
)
from .store_txn import BLOCK_SIZE, CHECKSUM_CHUNK, FileChanges, apply_transaction, unlink_all

BUSY_TIMEOUT_S = 60.0
WRITE_LOCK = "store.lock"  # held by a process's committer across its SQLite write transaction
READ_RETRIES = 5
# Reads and listings see objects (and EC shards) only: not the rows at shard + PENDING_SHARD
# (EC writes of stores made before PG logs) or shard + STASH_SHARD (kept to undo a write).
VISIBLE_SHARDS = PENDING_SHARD

# One index on objects serves both lookups by key and scans of a PG (the PG is a function of
# the key), so a small write dirties one index page, not two. Stores made before it keep
# their UNIQUE (pool, ns, name, shard) constraint and objects_by_pg index instead.
SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS objects (
    id INTEGER PRIMARY KEY,
    pool INTEGER NOT NULL, pg INTEGER NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
    shard INTEGER NOT NULL, size INTEGER NOT NULL, logical_size INTEGER NOT NULL,
    version INTEGER NOT NULL, data_version INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, omap_header BLOB,
    epoch INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS objects_key ON objects (pool, pg, ns, name, shard);
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
    + pg_log.SCHEMA
)
INFO_FIELDS = "size, logical_size, version, mtime_ns, data_version, epoch"
INFO_COUNT = len(INFO_FIELDS.split(", "))
# One object's row (``o``) joined with what a read wants of it, in one statement (``_read_txn``)
THE_OBJECT = "o.pool=? AND o.pg=? AND o.ns=? AND o.name=? AND o.shard=?"
READ_SQL = (
    f"SELECT {', '.join('o.' + f for f in INFO_FIELDS.split(', '))}, b.idx, b.length, b.data, b.file, b.crcs"
    f" FROM objects o LEFT JOIN blocks b ON b.obj = o.id AND b.idx BETWEEN ? AND ? WHERE {THE_OBJECT}"
)
XATTRS_SQL = (
    f"SELECT x.key, x.value, x.crc FROM objects o LEFT JOIN xattrs x ON x.obj = o.id WHERE {THE_OBJECT} ORDER BY x.key"
)

# Largest code point: a key range [prefix, prefix + OMAP_KEY_MAX) holds every key with that prefix.
OMAP_KEY_MAX = "\U0010ffff"


_ZEROS = bytes(CHECKSUM_CHUNK)


def _crc_zeros(crc: int, count: int) -> int:
    """``crc`` continued over ``count`` zero bytes (a hole), without allocating them all."""
    while count > 0:
        crc = digest(_ZEROS[: min(count, len(_ZEROS))], crc)
        count -= len(_ZEROS)
    return crc


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
        self._schema_current = False

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
            with self._conns_lock:
                if not self._schema_current:
                    _upgrade_schema(conn)
                    self._schema_current = True
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
        conn = writers = None
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if not self._queue:
                    if writers is not None:
                        os.close(writers)
                    return
                batch, self._queue = self._queue, []
            try:
                if conn is None:
                    conn = self._connect()
                if writers is None:
                    writers = os.open(self.path / WRITE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
                self.verify_alive()
                # SQLite makes a committer that finds another process's write transaction poll,
                # sleeping up to 100 ms a time, and one process can then win the lock over and
                # over: seconds-long waits under load. Waiting on a lock wakes at its release.
                fcntl.flock(writers, fcntl.LOCK_EX)
                try:
                    self._commit(conn, batch)
                finally:
                    fcntl.flock(writers, fcntl.LOCK_UN)
            except BaseException as e:  # the store itself failed: fail the whole batch
                err = e if isinstance(e, StorageError) else _failure(self.osd_id, e)
                for p in batch:
                    if not p.done.is_set():
                        p.error = err
                        p.done.set()

    def _commit(self, conn: sqlite3.Connection, batch: list[PendingTxn]) -> None:
        if len(batch) == 1:
            self._commit_one(conn, batch[0])
            return
        committed: list[tuple[PendingTxn, FileChanges]] = []
        log_rows: list[tuple] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for pending in batch:
                files = FileChanges()
                conn.execute("SAVEPOINT txn")
                try:
                    row = apply_transaction(self, conn, pending.txn, files)
                    conn.execute("RELEASE txn")
                    committed.append((pending, files))
                    if row is not None:
                        log_rows.append(row)
                except BaseException as e:
                    conn.execute("ROLLBACK TO txn")
                    conn.execute("RELEASE txn")
                    files.discard()
                    pending.error = _storage_error(self.osd_id, e)
            pg_log.append(conn, log_rows)
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
            unlink_all(files.old)

    def _commit_one(self, conn: sqlite3.Connection, pending: PendingTxn) -> None:
        """A batch of one: no savepoint (two statements fewer), as there is nothing else to keep
        if the transaction fails."""
        files = FileChanges()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = apply_transaction(self, conn, pending.txn, files)
            if row is not None:
                pg_log.append(conn, [row])
        except BaseException as e:
            conn.execute("ROLLBACK")
            files.discard()
            pending.error = _storage_error(self.osd_id, e)
            pending.done.set()
            return
        try:
            files.sync()
            for d in {f.parent for f in files.new}:
                fsync_dir(d)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            files.discard()
            raise
        pending.done.set()
        unlink_all(files.old)

    # -- applying one transaction (inside the committer's SQLite transaction) ---

    def new_block_file(self, files: FileChanges) -> tuple[int, str]:
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

    def _read_txn(self, fn, *args, one_statement: bool = False):
        """``fn(conn, *args)`` in one snapshot of the store. A ``fn`` that runs ``one_statement``
        has that statement's own (SQLite reads each statement from one snapshot): no BEGIN and
        COMMIT around it, two calls fewer that each let go of the interpreter lock."""
        self.verify_alive()
        conn = self._reader()
        for attempt in range(READ_RETRIES):
            if not one_statement:
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
            f"SELECT id, {INFO_FIELDS} FROM objects WHERE pool=? AND pg=? AND ns=? AND name=? AND shard=?",
            (key.pool, key.pg, key.ns, key.name, key.shard),
        ).fetchone()
        if row is None:
            raise not_found(str(key))
        return row

    def stat(self, key: ObjectKey) -> ObjectInfo:
        def go(conn):
            return ObjectInfo(*self._row(conn, key)[1:])

        return self._read_txn(go, one_statement=True)

    def read(self, key: ObjectKey, offset: int, length: int) -> tuple[bytes, ObjectInfo]:
        """Bytes [offset, offset+length) of the object, clipped to its size, with its info: the
        object's row and its blocks in the range in one statement."""
        first, last = offset // BLOCK_SIZE, (offset + max(length, 1) - 1) // BLOCK_SIZE

        def go(conn):
            found = conn.execute(READ_SQL, (first, last, key.pool, key.pg, key.ns, key.name, key.shard)).fetchall()
            if not found:
                raise not_found(str(key))
            info = ObjectInfo(*found[0][:INFO_COUNT])
            rows = {r[INFO_COUNT]: r[INFO_COUNT + 1 :] for r in found if r[INFO_COUNT] is not None}
            return self._assemble(key, rows, info.size, offset, length), info

        return self._read_txn(go, one_statement=True)

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
        return self._assemble(key, rows, size, offset, length)

    def _assemble(self, key: ObjectKey, rows: dict[int, tuple], size: int, offset: int, length: int) -> bytes:
        """Bytes [offset, offset+length) clipped to ``size``, from the object's block ``rows`` (by index)."""
        end = min(size, offset + length)
        if offset >= end:
            return b""
        first, last = offset // BLOCK_SIZE, (end - 1) // BLOCK_SIZE
        parts: list[bytes | memoryview] = []
        for idx in range(first, last + 1):
            base = idx * BLOCK_SIZE
            lo, hi = max(offset, base) - base, min(end, base + BLOCK_SIZE) - base
            piece = self.read_block(key, idx, rows[idx], lo, hi) if idx in rows else b""
            parts += [piece, bytes(hi - lo - len(piece))]  # holes read as zeros
        return b"".join(parts)

    def stat_with_stash(self, key: ObjectKey) -> tuple[ObjectInfo | None, ObjectInfo | None, Eversion | None]:
        """From one snapshot: the shard's info, that of its stash (the version the PG's last
        write replaced or removed, kept until the next write to the PG) and the version of that
        write; None where absent."""

        def go(conn):
            found = []
            for k in (key, key.stash):
                row = conn.execute(
                    f"SELECT {INFO_FIELDS} FROM objects WHERE pool=? AND pg=? AND ns=? AND name=? AND shard=?",
                    (k.pool, k.pg, k.ns, k.name, k.shard),
                ).fetchone()
                found.append(None if row is None else ObjectInfo(*row))
            by = None
            if found[1] is not None:
                info = pg_log.read_info(conn, key.pool, key.pg, key.shard)
                if info is not None and info.stash is not None and info.stash.object == (key.ns, key.name):
                    by = info.stash.by
            return found[0], found[1], by

        return self._read_txn(go)

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
            found = conn.execute(XATTRS_SQL, (key.pool, key.pg, key.ns, key.name, key.shard)).fetchall()
            if not found:
                raise not_found(str(key))
            return {k: self._verified(key, k, v, c) for k, v, c in found if k is not None}

        return self._read_txn(go, one_statement=True)

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
                return conn.execute(sql + " ORDER BY ns, name", (pool, pg, VISIBLE_SHARDS)).fetchall()
            return conn.execute(sql + " AND ns=? ORDER BY name", (pool, pg, VISIBLE_SHARDS, ns)).fetchall()

        return self._read_txn(go)

    def pg_stats(self, pool: int) -> dict[int, tuple[int, int]]:
        """pg -> (objects, logical bytes) for the pool's objects held here."""

        def go(conn):
            rows = conn.execute(
                "SELECT pg, count(DISTINCT ns || char(31) || name), sum(logical_size)"
                " FROM objects WHERE pool=? AND shard<? GROUP BY pg",
                (pool, VISIBLE_SHARDS),
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

    def pg_objects(self, pool: int, pg: int, shard: int | None = None) -> dict[ObjectKey, ObjectInfo]:
        """Every object (EC: every shard, or only ``shard``) of the PG held here, with its info."""

        def go(conn):
            sql = f"SELECT ns, name, shard, {INFO_FIELDS} FROM objects WHERE pool=? AND pg=? AND shard<?"
            args: list = [pool, pg, VISIBLE_SHARDS]
            if shard is not None:
                sql, args = sql + " AND shard=?", args + [shard]
            rows = conn.execute(sql + " ORDER BY ns, name, shard", args)
            return {ObjectKey(pool, pg, ns, name, s): ObjectInfo(*info) for ns, name, s, *info in rows}

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
        unlink_all(orphans)
        return len(orphans)

    def purge_pool(self, pool: int) -> None:
        """Delete every object of a deleted pool from this OSD, and its PG state."""
        self._purge("pool=?", (pool,), (pool,))

    def purge_pg(self, pool: int, pg: int, shard: int) -> None:
        """Delete one shard (``NO_SHARD`` in a replicated pool) of a PG from this OSD, with its PG
        state: a stray copy recovery no longer needs. Another shard of the PG here stays."""
        shards = (shard, shard + PENDING_SHARD, shard + STASH_SHARD)
        self._purge("pool=? AND pg=? AND shard IN (?, ?, ?)", (pool, pg, *shards), (pool, pg, shard))

    def _purge(self, where: str, args: tuple, pg_state: tuple) -> None:
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
            pg_log.purge(conn, *pg_state)
            conn.execute("COMMIT")
            unlink_all(files)
        finally:
            with self._conns_lock:
                self._all_conns.remove(conn)
            conn.close()

    # -- PG state, for peering and recovery --------------------------------------------

    def pg_infos(self, pool: int, pg: int) -> dict[int, PGInfo]:
        """The info of every shard of the PG this store holds, by shard. A shard with objects
        but no PG state (stored before PG logs) has a ``legacy`` info whose last update is
        its newest object's version, at epoch 0."""

        def go(conn):
            infos = pg_log.read_infos(conn, pool, pg)
            rows = conn.execute(
                "SELECT shard, max(version) FROM objects WHERE pool=? AND pg=? AND shard<? GROUP BY shard",
                (pool, pg, VISIBLE_SHARDS),
            )
            for shard, newest in rows:
                if shard not in infos:
                    lu = Eversion(0, newest)
                    infos[shard] = PGInfo(shard, 0, lu, lu, legacy=True)
            return infos

        return self._read_txn(go)

    def pg_log(self, pool: int, pg: int, shard: int, after_seq: int = -1) -> list[LogEntry]:
        return self._read_txn(lambda conn: pg_log.read_log(conn, pool, pg, shard, after_seq))

    def pg_missing(self, pool: int, pg: int, shard: int) -> dict[ObjectName, Eversion]:
        return self._read_txn(lambda conn: pg_log.read_missing(conn, pool, pg, shard))

    def is_missing(self, pool: int, pg: int, shard: int, obj: ObjectName) -> bool:
        return self._read_txn(lambda conn: pg_log.is_missing(conn, pool, pg, shard, obj))


def _upgrade_schema(conn: sqlite3.Connection) -> None:
    """Give a store made before PG logs their tables and the objects' ``epoch`` column
    (idempotent, and safe for two processes at once)."""
    if "epoch" not in {row[1] for row in conn.execute("PRAGMA table_info(objects)")}:
        try:
            conn.execute("ALTER TABLE objects ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0")
        except sqlite3.OperationalError as e:
            if "duplicate column" not in str(e):  # another process added it first
                raise
    conn.executescript(pg_log.SCHEMA)


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
