"""Failures and recovery on the real on-disk store: dead and unmounted disks, stale replicas,
backfill, recovery killed halfway, and client writes while recovery runs."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from librgw import rados
from librgw.cli.main import main
from librgw.storage.cluster import Cluster
from librgw.storage.osd_store import ObjectKey
from librgw.storage.osdmap import OSDInfo, OSDMap, PoolInfo, pgid
from librgw.storage.peering import note_map_change
from librgw.storage.placement import pg_of
from librgw.storage.recovery import PROGRESS_FILE, recover
from librgw.storage.scrub import scrub
from tests.conftest import make_ec_pool

KiB = 1024


def payload(name: str, generation: int, size: int) -> bytes:
    seed = f"{name}:{generation}:".encode()
    return (seed * (size // len(seed) + 1))[:size]


def sizes(i: int) -> int:
    return 300 * KiB if i % 50 == 0 else 1 * KiB + i % 700  # a few in block files, most inline


def write_objects(ioctx: rados.Ioctx, count: int, generation: int = 0, prefix: str = "obj") -> dict[str, bytes]:
    written = {}
    for i in range(count):
        name = f"{prefix}-{i}"
        written[name] = payload(name, generation, sizes(i))
        ioctx.write_full(name, written[name])
    return written


def assert_all_read_back(ioctx: rados.Ioctx, expected: dict[str, bytes]) -> None:
    bad = [name for name, data in expected.items() if ioctx.read(name, len(data) + 1) != data]
    assert not bad, f"{len(bad)} objects read back wrong, e.g. {bad[:5]}"


def copies(cluster: Cluster, pool_name: str, name: str) -> list[tuple[int, ObjectKey]]:
    """(osd, key) of every copy the PG's acting set should hold."""
    pool = cluster.pool(pool_name)
    pg = pg_of(pool, "", name)
    return [(osd, ObjectKey(pool.id, pg, "", name, shard)) for shard, osd in cluster.acting(pool, pg)]


def assert_every_copy_current(cluster: Cluster, pool_name: str, expected: dict[str, bytes]) -> None:
    """Replicated: every copy holds the bytes. EC: every shard has the newest version."""
    erasure = cluster.pool(pool_name).type == "erasure"
    for name, data in expected.items():
        held = copies(cluster, pool_name, name)
        infos = [cluster.store(osd).stat(key) for osd, key in held]
        assert len({(i.version, i.data_version) for i in infos}) == 1, f"{name}: copies differ: {infos}"
        assert len(held) == cluster.pool(pool_name).size
        if not erasure:
            for osd, key in held:
                assert cluster.store(osd).read(key, 0, len(data) + 1)[0] == data, f"{name} on osd.{osd}"


def pg_states(librgw_cli) -> dict[str, int]:
    code, out = librgw_cli("status", "--format", "json")
    assert code == 0
    return {s["state_name"]: s["count"] for s in json.loads(out)["pgmap"]["pgs_by_state"]}


@pytest.fixture
def cli(capsys):
    def make(conf: Path):
        def run(*argv: str) -> tuple[int, str]:
            code = main(["-c", str(conf), *argv])
            out = capsys.readouterr().out
            return code, out

        return run

    return make


# -- failure detection -------------------------------------------------------------


def test_missing_osd_directory_is_marked_down_and_io_goes_on(client, cluster_dir, rep):
    written = write_objects(rep, 60)
    cluster = client.cluster
    epoch = cluster.osdmap.epoch
    victim = cluster.acting(cluster.pool("rep"), pg_of(cluster.pool("rep"), "", "obj-0"))[0][1]
    shutil.rmtree(cluster_dir / f"osd.{victim}")
    assert_all_read_back(rep, written)  # the primary is gone: reads fail over
    osd = cluster.osdmap.osds[victim]
    assert not osd.up and osd.in_ and osd.down_reason and osd.down_reason != "admin"
    assert cluster.osdmap.epoch > epoch
    rep.write_full("obj-0", b"after")  # degraded: 2 of 3 copies, min_size 2
    assert rep.read("obj-0") == b"after"


def test_renamed_away_osd_is_marked_up_again_when_it_returns(client, cluster_dir, rep):
    write_objects(rep, 20)
    cluster = client.cluster
    path = cluster_dir / "osd.2"
    path.rename(cluster_dir / "osd.2.away")
    cluster.heartbeat(force=True)
    assert not cluster.osdmap.osds[2].up
    (cluster_dir / "osd.2.away").rename(path)
    cluster.heartbeat(force=True)
    assert cluster.osdmap.osds[2].up


def test_an_osd_marked_down_by_hand_stays_down(client, conf, rep):
    cluster = client.cluster
    cluster.set_osd_state([1], up=False)
    cluster.heartbeat(force=True)
    assert not cluster.osdmap.osds[1].up


def test_osd_down_longer_than_the_interval_is_marked_out(client, cluster_dir, conf, rep):
    text = Path(conf).read_text().replace("mon osd down out interval = 600", "mon osd down out interval = 0")
    Path(conf).write_text(text)
    cluster = client.cluster
    shutil.rmtree(cluster_dir / "osd.4")
    cluster.heartbeat(force=True)  # marks it down
    cluster.heartbeat(force=True)  # down for >= 0 s: out
    osd = cluster.osdmap.osds[4]
    assert not osd.up and not osd.in_


def test_writes_below_min_size_fail_fast_and_lose_nothing(client, rep):
    written = write_objects(rep, 40)
    cluster = client.cluster
    pool = cluster.pool("rep")
    name = "obj-7"
    holders = [osd for _, osd in cluster.acting(pool, pg_of(pool, "", name))]
    cluster.set_osd_state(holders[:2], up=False)
    started = time.monotonic()
    with pytest.raises(rados.Error) as e:
        rep.write_full(name, b"x")
    assert e.value.errno == errno.EAGAIN and time.monotonic() - started < 5
    assert rep.read(name, len(written[name]) + 1) == written[name]  # reads still work from 1 copy
    cluster.set_osd_state(holders[:2], up=True)
    assert_all_read_back(rep, written)


# -- peering ---------------------------------------------------------------------


def _map(osds: int) -> OSDMap:
    osdmap = OSDMap(fsid="f", osds={i: OSDInfo(id=i) for i in range(osds)})
    osdmap.pools[1] = PoolInfo(id=1, name="p", type="replicated", size=3, min_size=2, pg_num=32)
    return osdmap


def test_peering_makes_returning_and_new_osds_targets_and_leavers_strays():
    before = _map(6)
    after = OSDMap.from_json(before.to_json())
    after.osds[0].up = False
    note_map_change(before, after)
    assert all(not rec.targets for rec in after.pg_recovery.values())  # down: degraded, nothing to fill yet
    back = OSDMap.from_json(after.to_json())
    back.osds[0].up = True
    note_map_change(after, back)
    assert back.pg_recovery and all(rec.targets == [(-1, 0)] for rec in back.pg_recovery.values())
    grown = OSDMap.from_json(before.to_json())
    grown.osds[6] = OSDInfo(id=6)
    note_map_change(before, grown)
    for rec in grown.pg_recovery.values():
        assert rec.targets and all(osd == 6 for _, osd in rec.targets)
        assert rec.strays and all(osd != 6 for _, osd in rec.strays)


def _changed(osdmap: OSDMap, **states: bool) -> OSDMap:
    """A copy of ``osdmap`` with OSDs ``o<N>=True|False`` marked up or down, peered."""
    after = OSDMap.from_json(osdmap.to_json())
    for name, up in states.items():
        after.osds[int(name[1:])].up = up
    note_map_change(osdmap, after)
    return after


def test_peering_keeps_copies_that_went_down_last_complete():
    start = _map(3)  # every PG on OSDs 0, 1, 2; size 3, min_size 2
    first_down = _changed(start, o0=False)  # 1 and 2 may take writes without 0: 0 goes stale
    all_down = _changed(_changed(first_down, o1=False), o2=False)  # no write possible since 1 left
    assert all(rec.current == [(-1, 1), (-1, 2)] for rec in all_down.pg_recovery.values())
    stale_back = _changed(all_down, o0=True)
    assert all(rec.targets == [(-1, 0)] for rec in stale_back.pg_recovery.values())
    current_back = _changed(stale_back, o2=True)  # 0 (a target) and 2 may now write without 1
    for rec in current_back.pg_recovery.values():
        assert rec.targets == [(-1, 0)] and not rec.current  # 2 complete; 1 may miss writes from now
    everyone_back = _changed(current_back, o1=True)
    assert all(rec.targets == [(-1, 0), (-1, 1)] for rec in everyone_back.pg_recovery.values())


def test_every_copy_down_then_up_serves_again_with_nothing_to_recover(client, rep, cli, conf):
    written = write_objects(rep, 40)
    every = sorted(client.cluster.osdmap.osds)
    for state in ("down", "up"):
        ret, _, outs = client.mon_command(json.dumps({"prefix": f"osd {state}", "ids": [str(i) for i in every]}), b"")
        assert ret == 0, outs
    assert not client.cluster.osdmap.pg_recovery
    assert_all_read_back(rep, written)
    code, out = cli(Path(conf))("status")
    assert code == 0 and "HEALTH_OK" in out
    rep.write_full("obj-1", b"after")
    assert rep.read("obj-1") == b"after"


@pytest.mark.parametrize("kind", ["replicated", "erasure"])
def test_writes_while_every_copy_moves_are_read_back_and_kept(client, kind):
    """All copies of a PG move at once (upmap): the old ones serve it and take its writes until
    recovery fills the new ones; neither reads nor recovery may bring back an older version."""
    if kind == "erasure":
        make_ec_pool(client, "p", 2, 1)
    else:
        client.create_pool("p")
    cluster = client.cluster
    pool = cluster.pool("p")
    with client.open_ioctx("p") as ioctx:
        written = write_objects(ioctx, 60)
        name = "obj-3"
        pg = pg_of(pool, "", name)
        old = [osd for _, osd in cluster.acting(pool, pg)]
        cluster.set_pg_upmap_items(pgid(pool.id, pg), list(zip(old, [o for o in range(6) if o not in old])))
        assert not set(old) & {osd for _, osd in cluster.acting(pool, pg)}
        ioctx.write_full(name, b"moved")
        written[name] = b"moved"
        gone = next(n for n in written if n != name and pg_of(pool, "", n) == pg)
        ioctx.remove_object(gone)
        del written[gone]
        assert ioctx.read(name) == b"moved"
        with pytest.raises(rados.ObjectNotFound):
            ioctx.stat(gone)
        assert name in {o.key for o in ioctx.list_objects()} and gone not in {o.key for o in ioctx.list_objects()}
        summary = recover(cluster)
        assert not summary.incomplete and not cluster.osdmap.pg_recovery
        assert_all_read_back(ioctx, written)
        with pytest.raises(rados.ObjectNotFound):
            ioctx.stat(gone)
        assert not any(cluster.store(o).pg_objects(pool.id, pg) for o in old)  # strays emptied


# -- recovery ------------------------------------------------------------------------


@pytest.mark.slow
def test_acceptance_dead_disk_recovery_then_a_second_dead_disk(tmp_path, cli):
    """Issue 3, acceptance 1: 8 OSDs on their own paths, size 3 and k=2 m=2 pools, 2,000 objects."""
    disks = [tmp_path / f"disk{i}" / "osd" for i in range(8)]
    argv = ["cluster", "init", str(tmp_path / "c"), "--osds", "8"]
    for disk in disks:
        argv += ["--osd-path", str(disk)]
    assert main(argv) == 0
    conf = tmp_path / "c" / "cluster.conf"
    run = cli(conf)
    assert run("pool", "create", "rep", "--pg-num", "32")[0] == 0
    assert run("pool", "create", "ec", "--pg-num", "32", "--erasure", "--k", "2", "--m", "2")[0] == 0
    with rados.Rados(conffile=str(conf)) as client, client.open_ioctx("rep") as rep, client.open_ioctx("ec") as ec:
        expected = {"rep": write_objects(rep, 1000), "ec": write_objects(ec, 1000)}
        shutil.rmtree(disks[3].parent)  # a dead disk
        for ioctx, pool in ((rep, "rep"), (ec, "ec")):
            assert_all_read_back(ioctx, expected[pool])
        assert run("osd", "out", "3")[0] == 0
        code, out = run("recover")
        assert code == 0, out
        assert pg_states(run) == {"active+clean": 64}
        for pool in ("rep", "ec"):
            assert_every_copy_current(client.cluster, pool, expected[pool])
        shutil.rmtree(disks[5].parent)  # and a second one
        for ioctx, pool in ((rep, "rep"), (ec, "ec")):
            assert_all_read_back(ioctx, expected[pool])


def test_acceptance_osd_unmounted_during_overwrites_catches_up(client, cluster_dir, rep):
    """Issue 3, acceptance 3: an OSD away while objects are overwritten; back, then recovered."""
    make_ec_pool(client, "ec", 2, 2)
    ec = client.open_ioctx("ec")
    cluster = client.cluster
    old = {"rep": write_objects(rep, 250), "ec": write_objects(ec, 250)}
    away = cluster_dir / "osd.1.unmounted"
    (cluster_dir / "osd.1").rename(away)
    new = {"rep": write_objects(rep, 250, generation=1), "ec": write_objects(ec, 250, generation=1)}
    rep.remove_object("obj-3")  # deleted while the OSD was away: must not come back
    del new["rep"]["obj-3"]
    away.rename(cluster_dir / "osd.1")
    cluster.heartbeat(force=True)
    assert cluster.osdmap.osds[1].up
    assert cluster.osdmap.pg_recovery, "the returning OSD's PGs await recovery"
    assert_all_read_back(rep, new["rep"])  # the stale copies are not read
    assert_all_read_back(ec, new["ec"])
    summary = recover(cluster)
    assert not summary.incomplete and summary.objects_copied > 0
    assert not cluster.osdmap.pg_recovery
    for pool in ("rep", "ec"):
        assert_every_copy_current(cluster, pool, new[pool])
    deep = scrub(cluster, deep=True)
    assert not deep.inconsistent and not deep.skipped and deep.objects == 249 + 250
    with pytest.raises(rados.ObjectNotFound):
        rep.stat("obj-3")
    assert old["rep"]["obj-5"] != new["rep"]["obj-5"]
    ec.close()


def test_new_osd_is_backfilled_and_strays_emptied(client, rep):
    make_ec_pool(client, "ec", 2, 2)
    ec = client.open_ioctx("ec")
    cluster = client.cluster
    written = {"rep": write_objects(rep, 150), "ec": write_objects(ec, 150)}
    new_osd = cluster.add_osd()
    assert any(osd == new_osd for r in cluster.osdmap.pg_recovery.values() for _, osd in r.targets)
    for ioctx, pool in ((rep, "rep"), (ec, "ec")):
        assert_all_read_back(ioctx, written[pool])  # served by the old copies meanwhile
    recover(cluster)
    assert not cluster.osdmap.pg_recovery
    for pool in ("rep", "ec"):
        assert_every_copy_current(cluster, pool, written[pool])
    for ioctx, pool in ((rep, "rep"), (ec, "ec")):
        assert_all_read_back(ioctx, written[pool])
    per_osd = {o: cluster.store(o).pg_stats(cluster.pool("rep").id) for o in cluster.osdmap.osds}
    total = sum(n for stats in per_osd.values() for n, _ in stats.values())
    assert total == 150 * 3  # strays removed: exactly size copies of each object
    assert sum(n for n, _ in per_osd[new_osd].values()) > 0
    ec.close()


@pytest.mark.slow
def test_acceptance_recovery_killed_halfway_resumes(client, conf, cluster_dir, rep):
    """Issue 3, acceptance 4: kill -9 of ``librgw recover`` halfway; the next run finishes."""
    written = write_objects(rep, 400)
    text = Path(conf).read_text().replace("[global]\n", "[global]\nosd recovery sleep = 0.01\n", 1)
    Path(conf).write_text(text)
    cluster = client.cluster
    cluster.set_osd_state([0], in_=False)
    total = sum(1 for _ in cluster.osdmap.pg_recovery)
    assert total
    proc = subprocess.Popen([sys.executable, "-m", "librgw.cli.main", "-c", conf, "recover"], cwd=Path.cwd())
    progress_file = cluster_dir / PROGRESS_FILE
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            doc = json.loads(progress_file.read_text())
        except (OSError, ValueError):
            doc = {}
        if doc.get("objects_done", 0) >= 60:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("recovery made no progress")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert cluster.osdmap.pg_recovery, "killed before it finished"
    summary = recover(cluster)
    assert not summary.incomplete and not cluster.osdmap.pg_recovery
    assert_every_copy_current(cluster, "rep", written)
    assert_all_read_back(rep, written)


def test_acceptance_writes_during_recovery_are_kept(client, rep):
    """Issue 3, acceptance 5: a writer in a loop while recovery runs; all its writes read back."""
    cluster = client.cluster
    written = write_objects(rep, 200)
    cluster.set_osd_state([2], in_=False)  # its PGs move: backfill to other OSDs
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        generation = 1
        try:
            while not stop.is_set():
                for i in range(0, 200, 7):
                    name = f"obj-{i}"
                    written[name] = payload(name, generation, sizes(i))
                    rep.write_full(name, written[name])
                    rep.append(name, b"+tail")
                    written[name] += b"+tail"
                generation += 1
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        summary = recover(cluster)
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert not summary.incomplete and not cluster.osdmap.pg_recovery
    assert_all_read_back(rep, written)
    assert_every_copy_current(cluster, "rep", written)


def test_status_shows_recovering_pgs_then_clean(client, conf, rep, cli):
    run = cli(Path(conf))
    write_objects(rep, 50)
    client.cluster.set_osd_state([1], in_=False)
    states = pg_states(run)
    assert any("backfill" in s or "recover" in s for s in states), states
    assert run("recover")[0] == 0
    assert pg_states(run) == {"active+clean": 16}


def test_pgid_is_ceph_style():
    assert pgid(2, 31) == "2.1f"


def test_an_ec_write_goes_on_when_a_shard_osd_dies_under_it(client, cluster_dir, ec):
    """k=4 m=2: a dead shard OSD fails its stream, is marked down, and five shards take the write."""
    cluster = client.cluster
    pool = cluster.pool("ec")
    ec.write_full("obj", b"old" * 1000)
    victim = cluster.acting(pool, pg_of(pool, "", "obj"))[0][1]
    shutil.rmtree(cluster_dir / f"osd.{victim}")
    data = os.urandom(3 * 1024 * 1024)
    ec.write_full("obj", data)
    assert not cluster.osdmap.osds[victim].up
    assert ec.read("obj", len(data) + 1) == data
