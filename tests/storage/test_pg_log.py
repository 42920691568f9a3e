"""The PG log on one OSD store: entries written with the change they log, trimming, the
rollback an EC shard keeps (stash and old xattrs) and what activation does with it, and
stores from before PG logs."""

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from librgw.storage.errors import StorageError
from librgw.storage.osd_store import OSDStore
from librgw.storage.pg_log import DELETE, MODIFY, Activation, Eversion, LogUpdate, PGInfo
from librgw.storage.store_records import ObjectKey, Transaction

FSID = "00000000-0000-0000-0000-000000000000"
POOL, PG, SHARD = 3, 5, 1
KEY = ObjectKey(POOL, PG, "", "obj", SHARD)


@pytest.fixture
def store(tmp_path: Path):
    OSDStore.mkfs(tmp_path / "osd.0", 0, FSID)
    store = OSDStore(0, tmp_path / "osd.0")
    yield store
    store.close()


def _logged(store: OSDStore, ops: list[tuple], seq: int, key: ObjectKey = KEY, rollback: bool = True, trim_to: int = 0):
    version = Eversion(7, seq)
    store.apply(Transaction(key, ops, seq, 1000 + seq, log=LogUpdate(version, rollback=rollback, trim_to=trim_to)))


def _activate(store: OSDStore, activation: Activation, shard: int = SHARD) -> None:
    store.apply(Transaction.activate(ObjectKey(POOL, PG, "", "", shard), activation))


def test_a_logged_write_records_its_entry_and_versions_in_the_same_transaction(store):
    _logged(store, [("write_full", b"one")], 1, rollback=False)
    _logged(store, [("setxattr", "a", b"1")], 2, rollback=False)
    _logged(store, [("remove",)], 3, rollback=False)
    log = store.pg_log(POOL, PG, SHARD)
    assert [(e.version, e.op, e.prior) for e in log] == [
        (Eversion(7, 1), MODIFY, None),
        (Eversion(7, 2), MODIFY, Eversion(7, 1)),
        (Eversion(7, 3), DELETE, Eversion(7, 2)),
    ]
    assert store.pg_infos(POOL, PG)[SHARD].last_update == Eversion(7, 3)


def test_an_op_that_fails_logs_nothing(store):
    _logged(store, [("write_full", b"one")], 1)
    with pytest.raises(StorageError) as e:
        _logged(store, [("create", True)], 2)  # exclusive create of an existing object
    assert e.value.errno == errno.EEXIST
    assert [e.version.seq for e in store.pg_log(POOL, PG, SHARD)] == [1]
    assert store.pg_infos(POOL, PG)[SHARD].last_update == Eversion(7, 1)
    info = store.stat(KEY)
    assert (info.epoch, info.version) == (7, 1)


def test_the_log_is_trimmed_in_batches_and_the_tail_follows(store):
    for seq in range(1, 101):
        _logged(store, [("write_full", str(seq).encode())], seq, rollback=False, trim_to=seq - 10)
    log = store.pg_log(POOL, PG, SHARD)
    info = store.pg_infos(POOL, PG)[SHARD]
    assert log[-1].version.seq == 100 and 10 <= len(log) < 10 + 32
    assert info.log_tail == Eversion(7, log[0].version.seq - 1)


def test_an_ec_shard_keeps_the_shard_a_write_replaced_until_the_next_write(store):
    _logged(store, [("write_full", b"v1"), ("setxattr", "a", b"1")], 1)
    _logged(store, [("write_full", b"v2"), ("setxattr", "a", b"2")], 2)
    current, stashed, by = store.stat_with_stash(KEY)
    assert (current.version, stashed.version, by) == (2, 1, Eversion(7, 2))
    assert store.read(KEY.stash, 0, 10)[0] == b"v1"
    assert store.pg_objects(POOL, PG) == {KEY: current}  # a stash is not an object
    _logged(store, [("write_full", b"other")], 3, key=ObjectKey(POOL, PG, "", "other", SHARD))
    assert store.stat_with_stash(KEY)[1:] == (None, None)


@pytest.mark.parametrize(
    "ops, before",
    [
        ([("write_full", b"v2 is longer"), ("setxattr", "a", b"2")], b"v1"),
        ([("setxattr", "a", b"2"), ("rmxattr", "b")], b"v1"),
        ([("remove",)], b"v1"),
        ([("write_full", b"new object")], None),
    ],
    ids=["write_full", "xattrs-only", "remove", "create"],
)
def test_activation_rolls_a_divergent_ec_write_back_exactly(store, ops, before):
    if before is not None:
        _logged(store, [("write_full", before), ("setxattr", "a", b"1"), ("setxattr", "b", b"x")], 1)
        record = store.export_object(KEY)
    _logged(store, ops, 2)
    divergent = store.pg_log(POOL, PG, SHARD)[-1]
    info = PGInfo(SHARD, 8, Eversion(7, 1), Eversion(0, 0))
    need = {divergent.object: divergent.prior or Eversion(0, 0)}
    _activate(store, Activation(info, Eversion(7, 1), [], {}, [divergent], need))
    assert store.pg_missing(POOL, PG, SHARD) == {}  # undone: nothing to recover
    assert [e.version.seq for e in store.pg_log(POOL, PG, SHARD)] == ([1] if before else [])
    assert store.pg_infos(POOL, PG)[SHARD].last_update == Eversion(7, 1)
    if before is None:
        assert store.pg_objects(POOL, PG) == {}
    else:
        assert store.export_object(KEY) == record
    assert store.stat_with_stash(KEY)[1] is None


def test_activation_keeps_a_write_it_cannot_undo_missing(store):
    """A replicated copy keeps no rollback: its divergent object must be recovered."""
    key = ObjectKey(POOL, PG, "", "obj")
    _logged(store, [("write_full", b"v1")], 1, key=key, rollback=False)
    _logged(store, [("write_full", b"v2")], 2, key=key, rollback=False)
    divergent = store.pg_log(POOL, PG, -1)[-1]
    info = PGInfo(-1, 8, Eversion(8, 5), Eversion(0, 0))
    newer = [divergent.__class__(Eversion(8, 5), "", "other", MODIFY)]
    _activate(
        store,
        Activation(
            info, Eversion(7, 1), newer, {("", "other"): Eversion(8, 5)}, [divergent], {("", "obj"): Eversion(7, 1)}
        ),
        shard=-1,
    )
    assert store.pg_missing(POOL, PG, -1) == {("", "other"): Eversion(8, 5), ("", "obj"): Eversion(7, 1)}
    assert [e.version for e in store.pg_log(POOL, PG, -1)] == [Eversion(7, 1), Eversion(8, 5)]
    assert store.read(key, 0, 10)[0] == b"v2"  # left for recovery to replace


def test_a_store_from_before_pg_logs_gets_its_tables_and_reports_its_pgs_as_legacy(tmp_path):
    path = tmp_path / "osd.0"
    OSDStore.mkfs(path, 0, FSID)
    with sqlite3.connect(path / "store.db") as conn:  # as mkfs made stores before PG logs
        for table in ("pg_info", "pg_log", "pg_missing"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("ALTER TABLE objects DROP COLUMN epoch")
        conn.execute(
            "INSERT INTO objects (pool, pg, ns, name, shard, size, logical_size, version, data_version, mtime_ns)"
            " VALUES (3, 5, '', 'old', -1, 0, 0, 1700000000000000000, 1700000000000000000, 1)"
        )
    store = OSDStore(0, path)
    try:
        info = store.pg_infos(3, 5)[-1]
        assert info.legacy and info.last_update == Eversion(0, 1700000000000000000)
        assert store.stat(ObjectKey(3, 5, "", "old")).epoch == 0
        store.apply(Transaction(ObjectKey(3, 5, "", "new"), [("write_full", os.urandom(10))], 1, 1))
    finally:
        store.close()
