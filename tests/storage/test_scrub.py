"""Scrub, deep scrub and repair on a real 6-OSD cluster: bit rot in block files and in store.db,
stale replicas, bad xattrs, missing copies and shards, and objects with no good copy left."""

import json
import os
from pathlib import Path

import pytest

from librgw import rados
from librgw.storage.cluster import create_cluster
from librgw.storage.scrub import scrub
from librgw.storage.store_records import ObjectKey, Transaction
from tests.conftest import flip_stored_byte, mon, stored_copies, stored_in_file

INLINE = 50_000  # stays in store.db, also as an EC shard
BIG = 600_000  # replicas and k=4 shards both go to block files


def _write(ioctx: rados.Ioctx, name: str, data: bytes) -> None:
    ioctx.write_full(name, data)
    ioctx.set_xattr(name, "owner", name.encode())


def _health(client: rados.Rados) -> dict:
    ret, out, outs = mon(client, "status")
    assert ret == 0, outs
    return json.loads(out)


def _found(result) -> dict[str, list[str]]:
    return {o.name: o.errors for o in result.inconsistent}


def _assert_every_copy_holds(client: rados.Rados, pool: str, name: str, data: bytes) -> None:
    """Each replica, or each EC shard, is exactly what a fresh write of ``data`` stores."""
    cluster = client.cluster
    pool_info = cluster.pool(pool)
    copies = stored_copies(client, pool, name)
    if pool_info.type == "erasure":
        expected = [bytes(s) for s in cluster.codec(pool_info).encode(data)]
    else:
        expected = [data] * len(copies)
    for (osd, key), want in zip(copies, expected, strict=True):
        assert cluster.store(osd).read(key, 0, len(want) + 1)[0] == want, f"{name} on osd.{osd}"


def test_deep_scrub_finds_flipped_bytes_in_ten_objects_and_repair_restores_them(client, rep, ec):
    """Acceptance: one byte flipped in one stored copy of 10 objects, replicated and EC, inline
    and in block files; deep scrub reports exactly those 10, repair fixes them, and a second
    deep scrub is clean, with every copy holding its original bytes."""
    objects = {}
    for i in range(10):
        for pool, ioctx in (("rep", rep), ("ec", ec)):
            name = f"{pool}-{i}"
            objects[name] = (pool, os.urandom(BIG if i % 2 else INLINE))
            _write(ioctx, name, objects[name][1])
    rotten = [f"rep-{i}" for i in range(5)] + [f"ec-{i}" for i in range(5)]
    placements = set()
    for n, name in enumerate(rotten):
        pool, data = objects[name]
        copies = stored_copies(client, pool, name)
        osd, key = copies[n % len(copies)]  # the primary, other replicas, data and coding shards
        store = client.cluster.store(osd)
        placements.add((pool, stored_in_file(store, key)))
        flip_stored_byte(store, key, 1234)
    assert placements == {("rep", True), ("rep", False), ("ec", True), ("ec", False)}

    assert scrub(client.cluster).inconsistent == []  # a shallow scrub does not read the data

    found = scrub(client.cluster, deep=True)
    assert sorted(_found(found)) == sorted(rotten)
    assert all("read_error" in errors for errors in _found(found).values())
    assert all(len(o.osds) == 1 and not o.repaired for o in found.inconsistent)
    assert found.objects == 20 and found.bytes == sum(len(d) for _, d in objects.values())
    status = _health(client)
    assert status["health"]["status"] == "HEALTH_ERR"
    assert status["health"]["checks"]["OSD_SCRUB_ERRORS"]["summary"]["message"] == "10 scrub errors"
    inconsistent_pgs = {o.pgid for o in found.inconsistent}
    damaged = status["health"]["checks"]["PG_DAMAGED"]["summary"]["message"]
    assert damaged == f"Possible data damage: {len(inconsistent_pgs)} pgs inconsistent"
    states = {s["state_name"]: s["count"] for s in status["pgmap"]["pgs_by_state"]}
    assert states["active+clean+inconsistent"] == len(inconsistent_pgs)
    rep_pgs = client.get_inconsistent_pgs(client.pool_lookup("rep"))
    assert rep_pgs == sorted({o.pgid for o in found.inconsistent if o.pool == "rep"})

    repaired = scrub(client.cluster, deep=True, repair=True)
    assert sorted(_found(repaired)) == sorted(rotten)
    assert all(o.repaired for o in repaired.inconsistent) and repaired.remaining == []

    assert scrub(client.cluster, deep=True).inconsistent == []
    assert _health(client)["health"]["status"] == "HEALTH_OK"
    for name, (pool, data) in objects.items():
        _assert_every_copy_holds(client, pool, name, data)


@pytest.mark.parametrize("pool", ["rep", "ec"])
def test_a_copy_that_missed_writes_is_caught_up_by_peering_and_a_stale_copy_it_cannot_see_by_repair(
    client, rep, ec, pool
):
    ioctx = rep if pool == "rep" else ec
    for i in range(3):
        _write(ioctx, f"o{i}", b"old" * 1000)
    copies = stored_copies(client, pool, "o0")
    down = copies[-1][0]
    key = next(key for osd, key in copies if osd == down)
    old = client.cluster.store(down).export_object(key)
    client.cluster.set_osd_state([down], up=False)
    new = {f"o{i}": os.urandom(BIG) for i in range(3)}
    for name, data in new.items():
        ioctx.write_full(name, data)
        ioctx.set_xattr(name, "owner", b"new")
    client.cluster.set_osd_state([down], up=True)
    # its PG log says what it missed, few enough to be recovered by peering itself
    assert scrub(client.cluster, pool, deep=True).inconsistent == []
    for name, data in new.items():
        _assert_every_copy_holds(client, pool, name, data)

    # A stale copy no PG log knows of (say, a disk image restored from a backup): only scrub can tell.
    client.cluster.store(down).apply(Transaction(key, [("restore", old)], 0, 0))
    shallow = scrub(client.cluster, pool)
    assert set(_found(shallow)) == {"o0"}
    (obj,) = shallow.inconsistent
    assert {"object_info_inconsistency", "size_mismatch", "attr_value_mismatch"} <= set(obj.errors)
    assert obj.osds == [down]

    repaired = scrub(client.cluster, pool, deep=True, repair=True)
    assert set(_found(repaired)) == {"o0"} and all(o.repaired for o in repaired.inconsistent)
    assert scrub(client.cluster, pool, deep=True).inconsistent == []
    for name, data in new.items():
        _assert_every_copy_holds(client, pool, name, data)
        infos = [client.cluster.store(osd).stat(key) for osd, key in stored_copies(client, pool, name)]
        assert len({(i.epoch, i.version) for i in infos}) == 1
        assert all(
            client.cluster.store(osd).get_xattr(key, "owner") == b"new"
            for osd, key in stored_copies(client, pool, name)
        )


def _rot_xattr(client: rados.Rados, osd: int, key: ObjectKey) -> None:
    import sqlite3

    store = client.cluster.store(osd)
    with sqlite3.connect(store.db_path) as conn:
        conn.execute(
            "UPDATE xattrs SET value=? WHERE key='owner' AND obj=(SELECT id FROM objects WHERE name=? AND shard=?)",
            (b"0wner", key.name, key.shard),
        )


@pytest.mark.parametrize("pool", ["rep", "ec"])
def test_corrupted_xattr_value_is_found_by_a_shallow_scrub_and_repaired(client, rep, ec, pool):
    ioctx = rep if pool == "rep" else ec
    _write(ioctx, "o", os.urandom(INLINE))
    osd, key = stored_copies(client, pool, "o")[1]
    _rot_xattr(client, osd, key)
    found = scrub(client.cluster, pool)
    assert _found(found) == {"o": ["attr_value_mismatch", "read_error"]}
    assert found.inconsistent[0].osds == [osd]
    assert scrub(client.cluster, pool, repair=True).inconsistent[0].repaired
    assert client.cluster.store(osd).get_xattr(key, "owner") == b"o"
    assert scrub(client.cluster, pool, deep=True).inconsistent == []


def _remove_copy(client: rados.Rados, osd: int, key: ObjectKey) -> None:
    client.cluster.store(osd).apply(Transaction(key, [("remove",)], 0, 0))


@pytest.mark.parametrize("pool", ["rep", "ec"])
def test_missing_copy_is_reported_and_restored(client, rep, ec, pool):
    ioctx = rep if pool == "rep" else ec
    data = os.urandom(BIG)
    _write(ioctx, "o", data)
    osd, key = stored_copies(client, pool, "o")[0]
    _remove_copy(client, osd, key)
    found = scrub(client.cluster, pool)
    assert _found(found) == {"o": ["missing"]} and found.inconsistent[0].osds == [osd]
    assert scrub(client.cluster, pool, repair=True).inconsistent[0].repaired
    _assert_every_copy_holds(client, pool, "o", data)
    assert client.cluster.store(osd).get_xattr(key, "owner") == b"o"


def test_object_lost_on_most_copies_is_restored_from_the_one_left(client, rep):
    """The PG's log says the object was written and never removed, so the copies lacking it
    lost it (their PG is clean: peering made every copy's log agree): repair restores them."""
    data = os.urandom(INLINE)
    _write(rep, "o", data)
    copies = stored_copies(client, "rep", "o")
    for osd, key in copies[:2]:
        _remove_copy(client, osd, key)
    result = scrub(client.cluster, "rep", deep=True, repair=True)
    (obj,) = result.inconsistent
    assert obj.errors == ["missing"] and obj.repaired and obj.osds == sorted(osd for osd, _ in copies[:2])
    _assert_every_copy_holds(client, "rep", "o", data)


def _stored_bytes(cluster_dir: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in cluster_dir.glob("osd.*/blocks/*/*")}


@pytest.mark.parametrize("pool", ["rep", "ec"])
def test_object_with_no_good_copy_is_unrepairable_and_left_untouched(client, cluster_dir, rep, ec, pool):
    ioctx = rep if pool == "rep" else ec
    _write(ioctx, "o", os.urandom(BIG))
    copies = stored_copies(client, pool, "o")
    rotten = copies if pool == "rep" else copies[:3]  # k=4 m=2: three bad shards leave too few
    for osd, key in rotten:
        flip_stored_byte(client.cluster.store(osd), key, 99)
    before = _stored_bytes(cluster_dir)
    result = scrub(client.cluster, pool, deep=True, repair=True)
    (obj,) = result.inconsistent
    assert "read_error" in obj.errors and not obj.repaired and obj.unrepairable
    assert obj.osds == sorted(osd for osd, _ in rotten)
    assert _stored_bytes(cluster_dir) == before
    assert _health(client)["health"]["status"] == "HEALTH_ERR"


def test_ec_shard_with_good_checksums_but_wrong_bytes_is_an_ec_hash_error(client, ec):
    data = os.urandom(BIG)
    _write(ec, "o", data)
    osd, key = stored_copies(client, "ec", "o")[4]  # a coding shard
    store = client.cluster.store(osd)
    record = store.export_object(key)
    record.data = bytes(len(record.data))  # zeros, with fresh checksums and the same versions
    store.apply(Transaction(key, [("restore", record)], 0, 0))
    assert scrub(client.cluster, "ec").inconsistent == []
    found = scrub(client.cluster, "ec", deep=True)
    assert _found(found) == {"o": ["ec_hash_error"]} and found.inconsistent[0].osds == [osd]
    assert scrub(client.cluster, "ec", deep=True, repair=True).inconsistent[0].repaired
    _assert_every_copy_holds(client, "ec", "o", data)


def test_deep_findings_stay_reported_after_a_shallow_scrub(client, rep):
    _write(rep, "o", os.urandom(INLINE))
    osd, key = stored_copies(client, "rep", "o")[2]
    flip_stored_byte(client.cluster.store(osd), key)
    assert _found(scrub(client.cluster, "rep", deep=True)) == {"o": ["data_digest_mismatch", "read_error"]}
    assert scrub(client.cluster, "rep").inconsistent == []
    assert _health(client)["health"]["checks"]["OSD_SCRUB_ERRORS"]["summary"]["message"] == "1 scrub errors"
    scrub(client.cluster, "rep", deep=True, repair=True)
    assert _health(client)["health"]["status"] == "HEALTH_OK"


@pytest.fixture
def auto_repair_client(tmp_path: Path):
    options = {"osd pool default pg num": "1", "osd scrub auto repair": "true", "osd scrub auto repair num errors": "2"}
    create_cluster(tmp_path / "auto", 6, **options)
    with rados.Rados(conffile=str(tmp_path / "auto" / "cluster.conf")) as client:
        client.create_pool("rep")
        yield client


def test_auto_repair_fixes_a_deep_scrubs_findings_up_to_the_error_limit(auto_repair_client):
    client = auto_repair_client
    with client.open_ioctx("rep") as ioctx:
        for name in ("a", "b", "c"):
            _write(ioctx, name, os.urandom(INLINE))
    osd, key = stored_copies(client, "rep", "a")[1]
    flip_stored_byte(client.cluster.store(osd), key)
    assert scrub(client.cluster).inconsistent == []  # a shallow scrub neither sees it nor repairs
    assert [o.repaired for o in scrub(client.cluster, deep=True).inconsistent] == [True]
    assert scrub(client.cluster, deep=True).inconsistent == []
    for name in ("a", "b", "c"):  # one PG, three errors: over the limit of two
        osd, key = stored_copies(client, "rep", name)[0]
        flip_stored_byte(client.cluster.store(osd), key)
    result = scrub(client.cluster, deep=True)
    assert len(result.inconsistent) == 3 and not any(o.repaired for o in result.inconsistent)


@pytest.mark.parametrize("size", [3, 2])
def test_clean_copies_that_differ_are_settled_by_majority_and_a_tie_is_left_alone(client, size):
    """Copies with good checksums and equal versions but different bytes: two against one
    repairs the one; one against one can not say which is right."""
    client.cluster.create_pool("p", pg_num=4, size=size)
    data = os.urandom(INLINE)
    with client.open_ioctx("p") as ioctx:
        _write(ioctx, "o", data)
    osd, key = stored_copies(client, "p", "o")[0]
    store = client.cluster.store(osd)
    record = store.export_object(key)
    record.data = os.urandom(INLINE)
    store.apply(Transaction(key, [("restore", record)], 0, 0))
    result = scrub(client.cluster, "p", deep=True, repair=True)
    (obj,) = result.inconsistent
    assert obj.errors == ["data_digest_mismatch"]
    if size == 3:
        assert obj.repaired and obj.osds == [osd]
        _assert_every_copy_holds(client, "p", "o", data)
    else:
        assert not obj.repaired and "majority" in obj.unrepairable
        assert store.read(key, 0, INLINE)[0] == record.data


def test_pgs_below_min_size_are_skipped_and_the_rest_scrubbed_with_their_up_copies(client, rep):
    for i in range(20):
        _write(rep, f"o{i}", b"x" * 100)
    client.cluster.set_osd_state([0, 1], up=False)
    pool = client.cluster.pool("rep")
    inactive = {
        f"{pool.id}.{pg:x}"
        for pg in range(pool.pg_num)
        if sum(o is not None for o in client.cluster.up_osds(pool, pg)) < pool.min_size
    }
    assert inactive
    result = scrub(client.cluster, "rep", deep=True)
    assert set(result.skipped) == inactive and len(result.pgs) == pool.pg_num - len(inactive)
    assert result.inconsistent == []
