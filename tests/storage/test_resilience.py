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
from librgw.storage.health import pg_state
from librgw.storage.osdmap import pgid
from librgw.storage.peering import active_state
from librgw.storage.pg_state import BACKFILL, COMPLETE, RECOVERING
from librgw.storage.placement import pg_of
from librgw.storage.recovery import PROGRESS_FILE, recover
from librgw.storage.scrub import scrub
from librgw.storage.store_records import NO_SHARD, ObjectKey
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
    return [(osd, ObjectKey(pool.id, pg, "", name, shard)) for shard, osd in cluster.up_copies(pool, pg)]


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
    victim = cluster.up_copies(cluster.pool("rep"), pg_of(cluster.pool("rep"), "", "obj-0"))[0][1]
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
    holders = [osd for _, osd in cluster.up_copies(pool, pg_of(pool, "", name))]
    cluster.set_osd_state(holders[:2], up=False)
    started = time.monotonic()
    with pytest.raises(rados.Error) as e:
        rep.write_full(name, b"x")
    assert e.value.errno == errno.EAGAIN and time.monotonic() - started < 5
    assert rep.read(name, len(written[name]) + 1) == written[name]  # reads still work from 1 copy
    cluster.set_osd_state(holders[:2], up=True)
    assert_all_read_back(rep, written)


# -- peering ---------------------------------------------------------------------


def unclean(cluster: Cluster) -> dict[str, str]:
    """pgid -> state of every PG that is not active+clean."""
    states = {}
    for pool in cluster.osdmap.pools.values():
        for pg in range(pool.pg_num):
            state = pg_state(cluster, pool, pg, recovering=False)
            if state != "active+clean":
                states[pgid(pool.id, pg)] = state
    return states


def test_a_returning_osd_catches_up_from_its_log_and_a_new_one_is_backfilled(client, rep):
    """One PG, so that more objects change while the OSD is away than peering recovers at once."""
    cluster = client.cluster
    cluster.create_pool("one", pg_num=1)
    pool = cluster.pool("one")
    with client.open_ioctx("one") as ioctx:
        written = write_objects(ioctx, 40)
        away = cluster.up_copies(pool, 0)[2][1]
        cluster.set_osd_state([away], up=False)
        changed = write_objects(ioctx, 30, generation=1)
        ioctx.remove_object("obj-35")
        written.update(changed)
        del written["obj-35"]
        cluster.set_osd_state([away], up=True)
        assert unclean(cluster) == {f"{pool.id}.0": "active+recovery_wait+degraded"}
        state = active_state(cluster, pool, 0, locked=False)
        assert {c.osd: c.role for c in state.copies}[away] == RECOVERING
        missing = cluster.store(away).pg_missing(pool.id, 0, NO_SHARD)
        assert set(missing) == {("", f"obj-{i}") for i in range(30)} | {("", "obj-35")}  # from the log alone
        assert_all_read_back(ioctx, written)  # served by the complete copies
        summary = recover(cluster)
        assert summary.objects_copied == 30 and not summary.incomplete
        assert f"{pool.id}.0" not in unclean(cluster)
        assert_every_copy_current(cluster, "one", written)
        for i in range(300):  # the PG log now keeps only its last 250 entries or so: a new copy can't catch up from it
            ioctx.write_full("filler", b"%d" % i)
        written["filler"] = b"299"
        held = [osd for _, osd in cluster.up_copies(pool, 0)]
        moved, new_osd = held[1], next(o for o in sorted(cluster.osdmap.osds) if o not in held)
        cluster.set_pg_upmap_items(f"{pool.id}.0", [(moved, new_osd)])
        state = active_state(cluster, pool, 0, locked=False)
        roles = {c.osd: c.role for c in state.copies}
        assert roles[new_osd] == BACKFILL and roles[moved] == COMPLETE  # it serves until the new copy is full
        assert unclean(cluster) == {f"{pool.id}.0": "active+degraded+remapped+backfill_wait"}
        ioctx.write_full("obj-1", b"while backfilling")
        written["obj-1"] = b"while backfilling"
        recover(cluster)
        assert not cluster.store(moved).pg_objects(pool.id, 0)  # the stray emptied
        assert unclean(cluster) == {}
        assert_every_copy_current(cluster, "one", written)
        assert_all_read_back(ioctx, written)


def test_a_pg_whose_latest_copies_are_down_is_incomplete_until_one_returns(client, rep):
    """Writes while osd A is away land on B and C only; with B and C down too, A alone must not
    serve its older copy as current: the PG is incomplete, and I/O fails at once."""
    cluster = client.cluster
    pool = cluster.pool("rep")
    rep.write_full("o", b"v1")
    pg = pg_of(pool, "", "o")
    a, b, c = (osd for _, osd in cluster.up_copies(pool, pg))
    cluster.set_osd_state([a], up=False)
    rep.write_full("o", b"v2")  # acknowledged by b and c
    cluster.set_osd_state([b, c], up=False)
    cluster.set_osd_state([a], up=True)
    started = time.monotonic()
    for call in (lambda: rep.read("o"), lambda: rep.write_full("o", b"v3")):
        with pytest.raises(rados.Error) as e:
            call()
        assert e.value.errno == errno.EAGAIN and "incomplete" in str(e.value)
        assert f"osd.{b}" in str(e.value) and f"osd.{c}" in str(e.value)
    assert time.monotonic() - started < 5
    assert unclean(cluster)[pgid(pool.id, pg)] == "incomplete"
    cluster.set_osd_state([c], up=True)
    assert rep.read("o") == b"v2"  # c holds the latest history; a catches up from it
    rep.write_full("o", b"v3")
    cluster.set_osd_state([b], up=True)
    recover(cluster)
    assert rep.read("o") == b"v3" and unclean(cluster) == {}
    for osd, key in copies(cluster, "rep", "o"):
        assert cluster.store(osd).read(key, 0, 10)[0] == b"v3"


def test_every_copy_down_then_up_serves_again_with_nothing_to_recover(client, rep, cli, conf):
    written = write_objects(rep, 40)
    every = sorted(client.cluster.osdmap.osds)
    for state in ("down", "up"):
        ret, _, outs = client.mon_command(json.dumps({"prefix": f"osd {state}", "ids": [str(i) for i in every]}), b"")
        assert ret == 0, outs
    assert_all_read_back(rep, written)
    code, out = cli(Path(conf))("status")
    assert code == 0 and "HEALTH_OK" in out
    assert unclean(client.cluster) == {}
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
        old = [osd for _, osd in cluster.up_copies(pool, pg)]
        cluster.set_pg_upmap_items(pgid(pool.id, pg), list(zip(old, [o for o in range(6) if o not in old])))
        assert not set(old) & {osd for _, osd in cluster.up_copies(pool, pg)}
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
        assert not summary.incomplete and unclean(cluster) == {}
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
    assert_all_read_back(rep, new["rep"])  # the stale copies are not read
    assert_all_read_back(ec, new["ec"])
    summary = recover(cluster)
    assert not summary.incomplete
    assert unclean(cluster) == {}
    for pool in ("rep", "ec"):
        assert_every_copy_current(cluster, pool, new[pool])
    deep = scrub(cluster, deep=True)
    assert not deep.inconsistent and not deep.skipped and deep.objects == 249 + 250
    with pytest.raises(rados.ObjectNotFound):
        rep.stat("obj-3")
    assert old["rep"]["obj-5"] != new["rep"]["obj-5"]
    ec.close()


def test_new_osd_is_filled_and_strays_emptied(client, rep):
    """The PGs are young, so their logs reach back to their start: the new copies catch up from
    the logs (the few missing objects of each at once, while peering), the old ones serve meanwhile."""
    make_ec_pool(client, "ec", 2, 2)
    ec = client.open_ioctx("ec")
    cluster = client.cluster
    written = {"rep": write_objects(rep, 150), "ec": write_objects(ec, 150)}
    new_osd = cluster.add_osd()
    assert any("remapped" in state for state in unclean(cluster).values())
    for ioctx, pool in ((rep, "rep"), (ec, "ec")):
        assert_all_read_back(ioctx, written[pool])  # served by the old copies meanwhile
    recover(cluster)
    assert unclean(cluster) == {}
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
    assert unclean(cluster)
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
    assert unclean(cluster), "killed before it finished"
    summary = recover(cluster)
    assert not summary.incomplete and unclean(cluster) == {}
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
    assert not summary.incomplete and unclean(cluster) == {}
    assert_all_read_back(rep, written)
    assert_every_copy_current(cluster, "rep", written)


def test_status_shows_recovering_pgs_then_clean(client, conf, rep, cli):
    run = cli(Path(conf))
    write_objects(rep, 400)  # 25 per PG: more than peering recovers at once
    client.cluster.set_osd_state([1], in_=False)
    states = pg_states(run)
    assert any("recovery_wait" in s and "remapped" in s for s in states), states
    assert run("recover")[0] == 0
    assert pg_states(run) == {"active+clean": 16}


def test_pgid_is_ceph_style():
    assert pgid(2, 31) == "2.1f"


def test_an_ec_write_goes_on_when_a_shard_osd_dies_under_it(client, cluster_dir, ec):
    """k=4 m=2: a dead shard OSD fails its stream, is marked down, and five shards take the write."""
    cluster = client.cluster
    pool = cluster.pool("ec")
    ec.write_full("obj", b"old" * 1000)
    victim = cluster.up_copies(pool, pg_of(pool, "", "obj"))[0][1]
    shutil.rmtree(cluster_dir / f"osd.{victim}")
    data = os.urandom(3 * 1024 * 1024)
    ec.write_full("obj", data)
    assert not cluster.osdmap.osds[victim].up
    assert ec.read("obj", len(data) + 1) == data
