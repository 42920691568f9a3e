"""One OSD store on its own: the scrub and recovery API (pg_objects, export_object, the restore
op, check_object) on real on-disk stores."""

import errno
import os
import sqlite3
import threading
import time
import zlib
from pathlib import Path

import pytest

from librgw.storage.checksum import crc32c, digest
from librgw.storage.errors import OSDFailure, StorageError
from librgw.storage.osd_store import OSDStore
from librgw.storage.piece_stream import PieceStream
from librgw.storage.store_records import PENDING_SHARD, ObjectInfo, ObjectKey, ObjectRecord, Transaction
from librgw.storage.store_txn import CHECKSUM_CHUNK
from tests.conftest import flip_stored_byte

MiB = 1024 * 1024
FSID = "00000000-0000-0000-0000-000000000000"


def _open_store(path: Path, osd_id: int) -> OSDStore:
    OSDStore.mkfs(path, osd_id, FSID)
    return OSDStore(osd_id, path)


@pytest.fixture
def store(tmp_path: Path):
    store = _open_store(tmp_path / "osd.0", 0)
    yield store
    store.close()


@pytest.fixture
def other(tmp_path: Path):
    store = _open_store(tmp_path / "osd.1", 1)
    yield store
    store.close()


def _write(store: OSDStore, key: ObjectKey, ops: list[tuple], version: int = 1) -> None:
    store.apply(Transaction(key, ops, version, 1_000 + version))


def _restore(store: OSDStore, key: ObjectKey, record: ObjectRecord) -> None:
    store.apply(Transaction(key, [("restore", record)], 0, 0))


def _block_files(store: OSDStore) -> list[Path]:
    return [p for p in store.blocks_dir.rglob("*") if p.is_file()]


KEY = ObjectKey(1, 3, "ns", "obj")


def test_export_and_restore_recreate_an_object_exactly(store, other):
    data = os.urandom(5 * MiB + 123)  # a 4 MiB block file, a 1 MiB one
    _write(
        store,
        KEY,
        [
            ("write_full", data),
            ("setxattr", "owner", b"alice"),
            ("omap_set", {"a": b"1", "b": b"2"}),
            ("omap_set_header", b"hdr"),
        ],
        version=7,
    )
    _write(other, KEY, [("write_full", os.urandom(3 * MiB)), ("setxattr", "stale", b"x"), ("omap_set", {"z": b"9"})])
    record = store.export_object(KEY)
    assert record.data == data and record.xattrs == {"owner": b"alice"}
    assert record.omap == {"a": b"1", "b": b"2"} and record.omap_header == b"hdr"
    _restore(other, KEY, record)
    assert other.export_object(KEY) == record
    assert other.stat(KEY) == store.stat(KEY) == record.info
    assert len(_block_files(other)) == 2  # the replaced object's block file is gone


def test_restore_creates_a_missing_object_with_its_versions(store, other):
    _write(store, KEY, [("write_full", b"small"), ("setxattr", "a", b"1")], version=42)
    _write(store, KEY, [("setxattr", "b", b"2")], version=43)
    record = store.export_object(KEY)
    assert (record.info.version, record.info.data_version) == (43, 42)
    _restore(other, KEY, record)
    assert other.stat(KEY) == record.info
    assert other.read(KEY, 0, 100)[0] == b"small"


def test_restore_must_be_alone_and_match_its_size(store):
    record = ObjectRecord(ObjectInfo(3, 3, 1, 1, 1), b"abc", {})
    with pytest.raises(StorageError) as e:
        store.apply(Transaction(KEY, [("restore", record), ("setxattr", "a", b"1")], 1, 1))
    assert e.value.errno == errno.EINVAL
    with pytest.raises(StorageError) as e:
        _restore(store, KEY, ObjectRecord(ObjectInfo(4, 4, 1, 1, 1), b"abc", {}))
    assert e.value.errno == errno.EINVAL
    with pytest.raises(StorageError):
        store.stat(KEY)


@pytest.mark.parametrize("size", [100_000, 300_000], ids=["inline", "block-file"])
def test_export_fails_with_eio_where_a_data_checksum_fails(store, size):
    _write(store, KEY, [("write_full", os.urandom(size))])
    flip_stored_byte(store, KEY, size - 1)
    with pytest.raises(StorageError) as e:
        store.export_object(KEY)
    assert e.value.errno == errno.EIO


def test_check_object_names_the_bad_chunk_xattr_and_omap_value(store):
    _write(store, KEY, [("write_full", os.urandom(300_000)), ("setxattr", "a", b"1"), ("omap_set", {"k": b"v"})])
    assert not store.check_object(KEY, deep=True).read_error
    flip_stored_byte(store, KEY, 200_000)
    with sqlite3.connect(store.db_path) as conn:
        conn.execute("UPDATE xattrs SET value=? WHERE key='a'", (b"2",))
        conn.execute("UPDATE omap SET value=? WHERE key='k'", (b"w",))
    deep = store.check_object(KEY, deep=True)
    assert deep.bad_chunks == [200_000 // CHECKSUM_CHUNK * CHECKSUM_CHUNK]
    assert deep.bad_xattrs == ["a"] and deep.bad_omap == ["k"] and deep.read_error
    assert deep.xattrs == {"a": b"2"}  # as stored, so copies can be compared
    shallow = store.check_object(KEY)
    assert shallow.bad_chunks == [] and shallow.bad_xattrs == ["a"] and shallow.data_digest is None
    assert shallow.omap_keys == 1


def test_check_object_reports_a_missing_block_file(store):
    _write(store, KEY, [("write_full", os.urandom(5 * MiB))])
    os.unlink(max(_block_files(store), key=lambda p: p.stat().st_size))  # the 4 MiB block 0
    check = store.check_object(KEY, deep=True)
    assert check.bad_chunks == [i * CHECKSUM_CHUNK for i in range(4 * MiB // CHECKSUM_CHUNK)]


def test_deep_check_digest_is_the_crc_of_the_data_with_holes_as_zeros(store):
    _write(store, KEY, [("write", 5 * MiB, b"tail"), ("write", 10, b"head")])
    size = store.stat(KEY).size
    assert size == 5 * MiB + 4
    check = store.check_object(KEY, deep=True)
    assert check.data_digest == digest(store.read(KEY, 0, size)[0], 0)
    assert not check.read_error


def test_pg_objects_lists_one_pg_with_infos_and_no_stashed_or_pending_shards(store):
    shard = ObjectKey(1, 3, "", "ec-obj", 2)
    pending = ObjectKey(1, 3, "", "ec-obj", 2 + PENDING_SHARD)  # as stores made before PG logs have them
    _write(store, KEY, [("write_full", b"abc")], version=5)
    _write(store, shard, [("write_full", b"s")])
    _write(store, pending, [("write_full", b"new")], version=9)
    _write(store, shard.stash, [("write_full", b"old")], version=1)
    _write(store, ObjectKey(1, 4, "", "elsewhere"), [("write_full", b"x")])
    listed = store.pg_objects(1, 3)
    assert listed == {KEY: store.stat(KEY), shard: store.stat(shard)}
    assert listed[KEY].size == 3 and listed[KEY].version == 5
    assert store.pg_objects(1, 3, shard=2) == {shard: store.stat(shard)}
    assert store.list_objects(1, 3) == [("", "ec-obj"), ("ns", "obj")]


def test_orphan_block_files_are_removed_only_when_old(tmp_path):
    OSDStore.mkfs(tmp_path / "osd", 0, "fsid")
    store = OSDStore(0, tmp_path / "osd")
    store.apply(Transaction(ObjectKey(1, 0, "", "big"), [("write_full", os.urandom(300 * 1024))], 1, 1))
    orphan = store.block_path("ab" + "00" * 11)
    orphan.write_bytes(b"left by a crash")
    assert store.remove_orphan_blocks(3600) == 0 and orphan.exists()  # young: may be a commit in flight
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    for path in store.blocks_dir.glob("*/*"):
        os.utime(path, (old, old))
    assert store.remove_orphan_blocks(3600) == 1 and not orphan.exists()
    assert store.read(ObjectKey(1, 0, "", "big"), 0, 10)[1].size == 300 * 1024  # referenced blocks stay
    store.close()


def test_a_store_locked_past_the_busy_timeout_is_busy_not_failed(tmp_path, monkeypatch):
    from librgw.storage import osd_store
    from librgw.storage.errors import OSDFailure

    monkeypatch.setattr(osd_store, "BUSY_TIMEOUT_S", 0.1)
    OSDStore.mkfs(tmp_path / "osd", 0, "fsid")
    store = OSDStore(0, tmp_path / "osd")
    other = sqlite3.connect(tmp_path / "osd" / "store.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StorageError) as e:
        store.apply(Transaction(ObjectKey(1, 0, "", "o"), [("write_full", b"x")], 1, 1))
    assert e.value.errno == errno.EBUSY and not isinstance(e.value, OSDFailure)
    other.execute("ROLLBACK")
    store.apply(Transaction(ObjectKey(1, 0, "", "o"), [("write_full", b"x")], 1, 1))
    assert store.read(ObjectKey(1, 0, "", "o"), 0, 1)[0] == b"x"
    other.close()
    store.close()


def _stored_crcs(store: OSDStore, key: ObjectKey) -> tuple[list[int], int]:
    """The chunk CRCs of block 0 and the CRC of xattr "a", as the store keeps them."""
    with sqlite3.connect(store.db_path) as conn:
        crcs = conn.execute("SELECT crcs FROM blocks WHERE idx=0").fetchone()[0]
        xattr_crc = conn.execute("SELECT crc FROM xattrs WHERE key='a'").fetchone()[0]
    return [int.from_bytes(crcs[i : i + 4], "little") for i in range(0, len(crcs), 4)], xattr_crc


def _chunks(data: bytes) -> list[bytes]:
    return [data[i : i + CHECKSUM_CHUNK] for i in range(0, len(data), CHECKSUM_CHUNK)]


def _set_format(store: OSDStore, version: int) -> None:
    with sqlite3.connect(store.db_path) as conn:
        conn.execute(f"PRAGMA user_version={version}")


def test_a_new_store_checksums_with_crc32c(store):
    data = os.urandom(300_000)
    _write(store, KEY, [("write_full", data), ("setxattr", "a", b"1")])
    assert _stored_crcs(store, KEY) == ([crc32c(c) for c in _chunks(data)], crc32c(b"1"))


def test_a_format_0_store_keeps_zlib_crc32_and_recovers_onto_a_new_store(tmp_path, other):
    """Stores made before CRC-32C (format 0) are read and written as they were; scrub digests
    and recovery work across the two formats."""
    old = _open_store(tmp_path / "old", 2)
    _set_format(old, 0)
    data = os.urandom(300_000)
    _write(old, KEY, [("write_full", data), ("setxattr", "a", b"1"), ("omap_set", {"k": b"v"})])
    assert _stored_crcs(old, KEY) == ([zlib.crc32(c) for c in _chunks(data)], zlib.crc32(b"1"))
    assert old.read(KEY, 0, len(data))[0] == data
    _restore(other, KEY, old.export_object(KEY))
    assert _stored_crcs(other, KEY) == ([crc32c(c) for c in _chunks(data)], crc32c(b"1"))
    old_check, new_check = old.check_object(KEY, deep=True), other.check_object(KEY, deep=True)
    assert (old_check.data_digest, old_check.omap_digest) == (new_check.data_digest, new_check.omap_digest)
    flip_stored_byte(old, KEY, 1000)
    assert old.check_object(KEY, deep=True).bad_chunks == [0]
    old.close()


def test_a_store_of_a_newer_format_is_refused(tmp_path):
    store = _open_store(tmp_path / "new", 0)
    _set_format(store, 99)
    with pytest.raises(OSDFailure, match="store format 99"):
        _write(store, KEY, [("write_full", b"x")])
    store.close()


@pytest.mark.parametrize(
    "size", [100_000, 4 * MiB, 4 * MiB + 100_000, 9 * MiB + 3], ids=["inline", "one-block", "inline-tail", "files"]
)
def test_a_streamed_write_stores_every_byte_with_its_checksums(store, size):
    """An EC shard arrives as a stream of fragments from another thread; the store writes its
    block files part by part as they come."""
    data = os.urandom(size)
    stream = PieceStream(size)
    producer = threading.Thread(target=lambda: [stream.put(data[i : i + 65616]) for i in range(0, size, 65616)])
    pending = store.submit(Transaction(KEY, [("write_full", stream)], 1, 1))
    producer.start()
    producer.join(30)
    stream.close()
    pending.wait()
    assert store.read(KEY, 0, size)[0] == data
    check = store.check_object(KEY, deep=True)
    assert check.data_digest == digest(data, 0) and not check.read_error
    files = sorted(p.stat().st_size for p in _block_files(store))
    assert files == sorted(n for n in [min(4 * MiB, size - b) for b in range(0, size, 4 * MiB)] if n > 128 * 1024)


def test_reads_racing_a_rewrite_see_one_version_whole(store):
    """A read (data with the object's info) and an xattr read each run as one statement, from one
    snapshot: readers racing a writer that rewrites a 3-block object never get blocks of two
    versions, data of one with the size of another, or the attributes of two."""
    sizes = {n: (2 + n % 2) * 4 * MiB + n for n in range(1, 13)}  # every version its own size
    _write(store, KEY, [("write_full", bytes([0]) * 8 * MiB), ("setxattr", "a", b"0"), ("setxattr", "b", b"0")])
    stop, seen, problems = threading.Event(), set(), []

    def reader() -> None:
        while not stop.is_set():
            data, info = store.read(KEY, 0, 16 * MiB)
            attrs = store.get_xattrs(KEY)
            fill = data[0]
            if data.count(fill) != len(data) or len(data) != info.size or info.size != sizes.get(fill, 8 * MiB):
                problems.append(f"torn read: fill {fill}, {len(data)} bytes, info says {info.size}")
            if attrs["a"] != attrs["b"]:
                problems.append(f"attributes of two versions: {attrs}")
            seen.add(fill)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for thread in readers:
        thread.start()
    for n, size in sizes.items():
        value = str(n).encode()
        _write(
            store, KEY, [("write_full", bytes([n]) * size), ("setxattr", "a", value), ("setxattr", "b", value)], n + 1
        )
    stop.set()
    for thread in readers:
        thread.join()
    assert problems == []
    assert len(seen) > 2, "the readers must have raced the writer"
