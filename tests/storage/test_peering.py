"""Peering on a real 6-OSD cluster: writes whose writer died after some copies took them are
rolled forward or back on every copy, never left half visible; EC writes on fewer than k
shards are undone with the shard's stash; unfound objects are reported and given up only by
the operator."""

import os
import shutil
import sqlite3

import pytest

from librgw import rados
from librgw.storage.peering import active_state
from librgw.storage.pg_log import Eversion, LogUpdate
from librgw.storage.pg_state import COMPLETE, ActiveState, CopyState, PGStates
from librgw.storage.placement import pg_of
from librgw.storage.recovery import list_unfound, mark_unfound_lost, recover
from librgw.storage.scrub import scrub
from librgw.storage.store_records import NO_SHARD, ObjectKey, Transaction
from tests.conftest import flip_stored_byte, stored_copies

KiB = 1024


def died_after(cluster, pool_name: str, name: str, copies: list[int], shard_ops) -> None:
    """A write whose writer was killed once the copies at positions ``copies`` of the PG's I/O
    set had committed it (with its PG log entry), and no others; ``shard_ops(shard)`` gives a
    copy's ops, and its logical size for an EC shard."""
    pool = cluster.pool(pool_name)
    pg = pg_of(pool, "", name)
    with cluster.pg_locks.hold(pool.id, pg):
        state = active_state(cluster, pool, pg, locked=True)
        version = Eversion(state.epoch, state.seq + 1)
        state.seq, state.dirty = version.seq, True
        cluster.pg_states.write(pool.id, pg, state)
        log = LogUpdate(version, rollback=pool.type == "erasure")
        txns = []
        for position in copies:
            shard, osd = state.copies[position].copy
            ops, logical = shard_ops(shard)
            key = ObjectKey(pool.id, pg, "", name, shard)
            txns.append(((shard, osd), Transaction(key, ops, version.seq, 1, logical, log=log)))
        outcome = cluster.apply_transactions(txns)
        assert len(outcome.applied) == len(copies)


def writing(cluster, pool_name: str, data: bytes):
    """``shard_ops`` of a write_full of ``data``: the whole of it, or each EC shard's part."""
    pool = cluster.pool(pool_name)
    if pool.type != "erasure":
        return lambda _shard: ([("write_full", data)], None)
    shards = cluster.codec(pool).encode(data)
    return lambda shard: ([("write_full", bytes(shards[shard]))], len(data))


def neighbour(cluster, pool_name: str, name: str) -> str:
    """Another object name in the same PG as ``name``: an op on it peers that PG."""
    pool = cluster.pool(pool_name)
    return next(f"n{i}" for i in range(10_000) if pg_of(pool, "", f"n{i}") == pg_of(pool, "", name))


def every_copy(cluster, client, pool_name: str, name: str) -> list[bytes]:
    """What each replica holds, or the object decoded from each EC shard's own bytes."""
    held = [cluster.store(osd).read(key, 0, 1 << 24)[0] for osd, key in stored_copies(client, pool_name, name)]
    pool = cluster.pool(pool_name)
    if pool.type != "erasure":
        return held
    info = cluster.store(stored_copies(client, pool_name, name)[0][0]).stat(
        stored_copies(client, pool_name, name)[0][1]
    )
    codec = cluster.codec(pool)
    return [codec.decode({s: held[s] for s in subset}, 0, info.logical_size) for subset in ([0, 1, 2, 3], [2, 3, 4, 5])]


def test_a_replicated_write_one_copy_took_is_rolled_forward_to_all(client, rep):
    cluster = client.cluster
    rep.write_full("o", b"old")
    died_after(cluster, "rep", "o", [2], writing(cluster, "rep", b"new"))
    rep.write_full(neighbour(cluster, "rep", "o"), b"x")  # any op on the PG peers it first
    assert every_copy(cluster, client, "rep", "o") == [b"new"] * 3
    assert rep.read("o") == b"new"
    pool = cluster.pool("rep")
    pg = pg_of(pool, "", "o")
    logs = [cluster.store(osd).pg_log(pool.id, pg, -1) for osd, _ in stored_copies(client, "rep", "o")]
    assert logs[0] == logs[1] == logs[2]
    assert scrub(cluster, "rep", deep=True).inconsistent == []


def test_an_ec_write_on_fewer_than_k_shards_is_rolled_back_with_their_stash(client, ec):
    cluster = client.cluster
    old = os.urandom(300 * KiB)
    ec.write_full("o", old)
    ec.set_xattr("o", "owner", b"alice")
    died_after(cluster, "ec", "o", [0, 1, 2], writing(cluster, "ec", os.urandom(300 * KiB)))  # k = 4
    assert ec.read("o", len(old) + 1) == old  # the old version: the three stashes and three shards
    ec.write_full(neighbour(cluster, "ec", "o"), b"x")  # peers the PG: the three shards are rolled back
    assert every_copy(cluster, client, "ec", "o") == [old, old]
    assert ec.get_xattr("o", "owner") == b"alice"
    for osd, key in stored_copies(client, "ec", "o"):
        assert cluster.store(osd).stat_with_stash(key)[1] is None
    assert scrub(cluster, "ec", deep=True).inconsistent == []


def test_an_ec_write_on_k_shards_is_rolled_forward(client, ec):
    cluster = client.cluster
    ec.write_full("o", os.urandom(300 * KiB))
    new = os.urandom(200 * KiB)
    died_after(cluster, "ec", "o", [1, 2, 4, 5], writing(cluster, "ec", new))
    assert ec.read("o", len(new) + 1) == new  # k shards hold it: readable, and it will stay
    ec.write_full(neighbour(cluster, "ec", "o"), b"x")
    assert every_copy(cluster, client, "ec", "o") == [new, new]
    assert scrub(cluster, "ec", deep=True).inconsistent == []


def test_an_ec_remove_on_k_shards_reads_as_removed(client, ec):
    cluster = client.cluster
    ec.write_full("o", b"doomed" * 1000)
    died_after(cluster, "ec", "o", [0, 1, 2, 3], lambda _shard: ([("remove",)], None))
    with pytest.raises(rados.ObjectNotFound):
        ec.stat("o")
    ec.write_full(neighbour(cluster, "ec", "o"), b"x")
    with pytest.raises(rados.ObjectNotFound):
        ec.stat("o")
    assert all(
        not cluster.store(osd).pg_objects(key.pool, key.pg).get(key) for osd, key in stored_copies(client, "ec", "o")
    )


def test_a_copy_with_data_the_others_lack_is_never_a_backfill_target(client, rep, cluster_dir):
    """Two of a PG's three OSDs removed and marked out: the survivor holds its only copy and
    stays complete; the new copies are backfilled from it."""
    cluster = client.cluster
    pool = cluster.pool("rep")
    written = {f"o{i}": os.urandom(2 * KiB) for i in range(60)}
    for name, data in written.items():
        rep.write_full(name, data)
    pg = pg_of(pool, "", "o0")
    survivor, *lost = (osd for _, osd in cluster.up_copies(pool, pg))
    for osd in lost:
        shutil.rmtree(cluster_dir / f"osd.{osd}")
    cluster.heartbeat(force=True)
    cluster.set_osd_state(lost, in_=False)
    state = active_state(cluster, pool, pg, locked=False)
    assert {c.osd: c.role for c in state.copies}[survivor] == COMPLETE
    assert rep.read("o0", 4 * KiB) == written["o0"]
    summary = recover(cluster)
    assert not summary.incomplete and not summary.unfound
    for name, data in written.items():
        assert rep.read(name, 4 * KiB) == data
        for osd, key in stored_copies(client, "rep", name):
            assert cluster.store(osd).read(key, 0, 4 * KiB)[0] == data
    assert scrub(cluster, deep=True).inconsistent == []


def test_unfound_objects_are_reported_without_stopping_recovery_and_given_up_by_the_operator(client, cluster_dir):
    """The only complete copy of an object fails its checksum when recovery needs it: the
    object is unfound, every other object is recovered, and mark_unfound_lost settles it."""
    cluster = client.cluster
    cluster.create_pool("one", pg_num=1)
    pool = cluster.pool("one")
    with client.open_ioctx("one") as ioctx:
        for i in range(40):
            ioctx.write_full(f"o{i}", b"v1-%d" % i)
        a, b, c = (osd for _, osd in cluster.up_copies(pool, 0))
        cluster.set_osd_state([b, c], up=False)
        cluster.set_pool("one", "min_size", 1)
        for i in range(30):
            ioctx.write_full(f"o{i}", b"v2-%d" % i)  # only a has these
        flip_stored_byte(cluster.store(a), ObjectKey(pool.id, 0, "", "o7"))
        cluster.set_osd_state([b, c], up=True)
        summary = recover(cluster)
        assert summary.unfound == {f"{pool.id}.0": 1}
        assert list(list_unfound(cluster, pool, 0)) == [("", "o7")]
        for i in range(40):
            if i != 7:
                for osd, key in stored_copies(client, "one", f"o{i}"):
                    expected = b"v2-%d" % i if i < 30 else b"v1-%d" % i
                    assert cluster.store(osd).read(key, 0, 100)[0] == expected
        assert mark_unfound_lost(cluster, pool, 0, "revert") == 1
        assert ioctx.read("o7") == b"v1-7"  # the older version b and c still held
        assert list_unfound(cluster, pool, 0) == {}
        assert scrub(cluster, "one", deep=True).inconsistent == []


def test_a_disk_replaced_while_no_op_touched_its_pgs_is_backfilled_not_trusted(client, rep, cluster_dir):
    """The OSD goes down and comes back with an empty store (a new disk, same id) without a
    single op on its PGs meanwhile: their active states predate its return, so they peer again
    and fill it rather than read from it."""
    cluster = client.cluster
    written = {f"o{i}": os.urandom(KiB) for i in range(40)}
    for name, data in written.items():
        rep.write_full(name, data)
    pool = cluster.pool("rep")
    victim = cluster.up_copies(pool, pg_of(pool, "", "o0"))[0][1]  # the primary of o0's PG
    shutil.rmtree(cluster_dir / f"osd.{victim}")
    cluster.heartbeat(force=True)
    assert not cluster.osdmap.osds[victim].up
    from librgw.storage.osd_store import OSDStore

    OSDStore.mkfs(cluster_dir / f"osd.{victim}", victim, cluster.conf.fsid)
    cluster.heartbeat(force=True)
    assert cluster.osdmap.osds[victim].up
    for name, data in written.items():
        assert rep.read(name, 2 * KiB) == data
    recover(cluster)
    for name, data in written.items():
        for osd, key in stored_copies(client, "rep", name):
            assert cluster.store(osd).read(key, 0, 2 * KiB)[0] == data
    assert scrub(cluster, "rep", deep=True).inconsistent == []


def test_a_cluster_from_before_pg_logs_serves_its_objects_and_takes_writes(client, rep):
    """Objects stored as librgw wrote them before PG logs (versions from the clock, no PG
    state): the copies are trusted as they are, read, written and recovered."""
    cluster = client.cluster
    pool = cluster.pool("rep")
    cluster.history.drop_pool(pool.id)  # as librgw made pools then: no history, no PG state
    for osd in cluster.osdmap.osds:
        with sqlite3.connect(cluster.store(osd).db_path) as conn:
            conn.execute("DELETE FROM pg_info WHERE pool=?", (pool.id,))
    old = {f"legacy{i}": os.urandom(KiB) for i in range(30)}
    for name, data in old.items():
        pg = pg_of(pool, "", name)
        version = 1_700_000_000_000_000_000 + len(name)
        for shard, osd in cluster.up_copies(pool, pg):
            key = ObjectKey(pool.id, pg, "", name, shard)
            cluster.store(osd).apply(Transaction(key, [("write_full", data)], version, version))
    for name, data in old.items():
        assert rep.read(name, 2 * KiB) == data
    rep.write_full("legacy3", b"new")
    assert rep.read("legacy3") == b"new"
    info = cluster.store(stored_copies(client, "rep", "legacy3")[0][0]).stat(
        stored_copies(client, "rep", "legacy3")[0][1]
    )
    assert info.version > 1_700_000_000_000_000_000  # versions go on from the clock's
    cluster.set_osd_state([stored_copies(client, "rep", "legacy5")[0][0]], in_=False)
    recover(cluster)
    for name, data in old.items():
        if name != "legacy3":
            for osd, key in stored_copies(client, "rep", name):
                assert cluster.store(osd).read(key, 0, 2 * KiB)[0] == data
    assert scrub(cluster, "rep", deep=True).inconsistent == []


def test_pg_state_records_are_shared_however_far_apart_their_pools(cluster_dir):
    """Each process maps the records of the pools it reads; a pool made later, with an id far
    past the others, grows the shared file without cutting off what another already mapped."""
    lock_dir = cluster_dir / "locks"
    one, other = PGStates(lock_dir), PGStates(lock_dir)
    try:
        state = ActiveState(epoch=7, seq=3, up=(0, 1, 2), copies=[CopyState(NO_SHARD, o, COMPLETE) for o in (0, 1, 2)])
        one.write(1, 5, state)
        assert other.read(1, 5) == state and other.read(1, 6) is None
        far = ActiveState(epoch=9, seq=1, up=(3, 4, 5), copies=[CopyState(NO_SHARD, o, COMPLETE) for o in (3, 4, 5)])
        other.write(300, 2, far)  # the file grows to hold pool 300's records
        assert one.read(300, 2) == far
        state.seq = 4
        one.write(1, 5, state)
        assert other.read(1, 5).seq == 4  # the mapping made before the growth still sees writes
        other.forget(1, 5)
        assert one.read(1, 5) is None
    finally:
        one.close()
        other.close()
