"""The embedded cluster end to end: replicated and EC pools, degraded I/O, corruption, crashes, concurrency."""

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from librgw import rados
from librgw.storage.osd_store import OSDStore
from librgw.storage.store_records import ObjectKey
from tests.conftest import mon

MiB = 1024 * 1024


def _osd_map(client, pool: str, obj: str) -> dict:
    ret, out, outs = mon(client, "osd map", pool=pool, object=obj)
    assert ret == 0, outs
    return json.loads(out)


@pytest.mark.slow
def test_replicated_and_ec_pools_hold_many_objects(client, rep, ec):
    """Acceptance 2: 1,000 small objects with xattrs and omap (size 3), 20 of 1-20 MiB (k=4 m=2)."""
    small = {f"small-{i}": os.urandom(64 + i) for i in range(1000)}
    for key, data in small.items():
        with rados.WriteOpCtx() as op:
            op.write_full(data)
            op.set_xattr("owner", key.encode())
            rep.set_omap(op, ("k",), (data[:8],))
            rep.operate_write_op(op, key)
    big = {f"big-{i}": os.urandom((i + 1) * MiB) for i in range(20)}
    for key, data in big.items():
        ec.write_full(key, data)
    for key, data in small.items():
        assert rep.read(key, len(data)) == data
        assert rep.get_xattr(key, "owner") == key.encode()
        with rados.ReadOpCtx() as op:
            vals, _ = rep.get_omap_vals(op, "", "", 10)
            rep.operate_read_op(op, key)
            assert dict(vals) == {"k": data[:8]}
    for key, data in big.items():
        assert ec.read(key, len(data)) == data
    assert sorted(o.key for o in rep.list_objects()) == sorted(small)
    assert sorted(o.key for o in ec.list_objects()) == sorted(big)
    assert client.get_cluster_stats()["num_objects"] == 1020
    assert ec.get_stats()["num_bytes"] == sum(map(len, big.values()))
    rep_map, ec_map = _osd_map(client, "rep", "small-1"), _osd_map(client, "ec", "big-1")
    assert len(set(rep_map["acting"])) == 3 and len(set(ec_map["acting"])) == 6


def test_ec_ranges_appends_and_truncates(ec):
    data = os.urandom(3 * MiB + 777)
    ec.write_full("o", data)
    for offset, length in ((0, 10), (12345, 70000), (len(data) - 5, 100), (MiB, 2 * MiB)):
        assert ec.read("o", length, offset) == data[offset : offset + length]
    ec.append("o", b"tail")
    ec.write("o", b"MID", 1000)
    expected = bytearray(data + b"tail")
    expected[1000:1003] = b"MID"
    assert ec.read("o", len(expected)) == bytes(expected)
    ec.trunc("o", 5000)
    assert ec.read("o", 10**7) == bytes(expected[:5000]) and ec.stat("o")[0] == 5000


def test_ec_refuses_omap(ec):
    ec.write_full("o", b"x")
    with rados.WriteOpCtx() as op:
        ec.set_omap(op, ("k",), (b"v",))
        with pytest.raises(rados.OSError) as e:
            ec.operate_write_op(op, "o")
    assert e.value.errno == 95  # EOPNOTSUPP, as Ceph answers


def test_ec_reads_rebuild_from_any_k_shards_and_writes_need_k_plus_one(client, ec):
    """k=4 m=2: reads decode from any 4 shards; writes need min_size = k + 1 = 5 (as Ceph), so an
    acknowledged write always has a shard to spare, and fail at once below it."""
    data = os.urandom(MiB + 1)
    ec.write_full("o", data)
    acting = _osd_map(client, "ec", "o")["acting"]
    assert mon(client, "osd down", ids=[str(acting[0])])[0] == 0
    ec.write_full("o", b"written degraded")
    assert ec.read("o") == b"written degraded"
    assert mon(client, "osd down", ids=[str(acting[2])])[0] == 0
    assert ec.read("o") == b"written degraded"
    started = time.monotonic()
    with pytest.raises(rados.OSError) as e:
        ec.write_full("o", data)
    assert e.value.errno == errno.EAGAIN and "min_size 5" in str(e.value) and time.monotonic() - started < 1
    assert ec.read("o") == b"written degraded"


def test_a_disk_error_mid_ec_shard_stands_degraded_and_leaves_no_block_file(client, ec, cluster_dir, monkeypatch):
    """One OSD's disk fails while its shard is being streamed to it (EIO on the second MiB):
    the write stands on the other five shards, that OSD is marked down, and its half-written
    block file is removed."""
    from librgw.storage import store_txn

    victim = _osd_map(client, "ec", "o")["acting"][0]
    write_part = store_txn._write_block_part

    def failing_disk(fd, offset, pieces):
        if f"/osd.{victim}/" in os.readlink(f"/proc/self/fd/{fd}") and offset > 0:
            raise OSError(5, "Input/output error")
        write_part(fd, offset, pieces)

    monkeypatch.setattr(store_txn, "_write_block_part", failing_disk)
    data = os.urandom(9 * MiB)
    ec.write_full("o", data)
    assert _osd_map(client, "ec", "o")["acting"][0] == 2147483647  # marked down
    assert ec.read("o", len(data)) == data
    assert [p for p in (cluster_dir / f"osd.{victim}" / "blocks").rglob("*") if p.is_file()] == []


def test_replicated_io_continues_down_to_min_size_then_fails_fast(client, rep):
    rep.write_full("o", b"v1")
    acting = _osd_map(client, "rep", "o")["acting"]
    mon(client, "osd down", ids=[acting[0]])
    rep.write_full("o", b"v2")
    assert rep.read("o") == b"v2"
    mon(client, "osd down", ids=[acting[1]])
    started = time.monotonic()
    with pytest.raises(rados.OSError) as e:
        rep.write_full("o", b"v3")
    assert e.value.errno == 11 and "min_size" in str(e.value) and time.monotonic() - started < 1
    assert rep.read("o") == b"v2"
    status = json.loads(mon(client, "status")[1])
    assert status["health"]["status"] == "HEALTH_WARN"  # as Ceph: inactive PGs are a warning
    assert "pgs inactive" in status["health"]["checks"]["PG_AVAILABILITY"]["summary"]["message"]


def test_flipped_byte_is_detected_and_read_fails_over(client, cluster_dir, rep):
    data = os.urandom(512 * 1024)  # big enough to live in a block file
    rep.write_full("o", data)
    primary = _osd_map(client, "rep", "o")["acting"][0]
    blocks = [p for p in (cluster_dir / f"osd.{primary}" / "blocks").rglob("*") if p.is_file()]
    assert len(blocks) == 1
    raw = bytearray(blocks[0].read_bytes())
    raw[1000] ^= 0xFF
    blocks[0].write_bytes(bytes(raw))
    store = OSDStore(primary, cluster_dir / f"osd.{primary}")
    pool_id = client.pool_lookup("rep")
    pg = int(_osd_map(client, "rep", "o")["pgid"].split(".")[1], 16)
    with pytest.raises(Exception) as e:
        store.read(ObjectKey(pool_id, pg, "", "o"), 0, 10)
    assert getattr(e.value, "errno", None) == 5
    store.close()
    assert rep.read("o", len(data)) == data  # served by another replica


def test_osd_map_lists_distinct_osds_and_down_ec_shard_as_none(client, ec):
    acting = _osd_map(client, "ec", "x")["acting"]
    assert len(set(acting)) == 6
    mon(client, "osd down", ids=[acting[3]])
    assert _osd_map(client, "ec", "x")["acting"][3] == 2147483647


WRITER = textwrap.dedent(
    """
    import sys
    from librgw import rados
    conf, pool, fill = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with rados.Rados(conffile=conf) as c, c.open_ioctx(pool) as io:
        data = bytes([fill]) * (64 * 1024 * 1024)
        print("writing", flush=True)
        io.write_full("victim", data)
        print("done", flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("pool", ["rep", "ec"])
def test_kill_9_mid_write_leaves_old_or_new_object(client, conf, rep, ec, pool, tmp_path):
    """Acceptance 3: kill -9 while writing a 64 MiB object; the object is entirely old or entirely new."""
    ioctx = rep if pool == "rep" else ec
    ioctx.write_full("victim", bytes([1]) * (64 * MiB))
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    old = 1
    for attempt, delay in enumerate((0.05, 0.2, 0.4, 0.8)):
        fill = 2 + attempt
        child = subprocess.Popen(
            [sys.executable, str(script), conf, pool, str(fill)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline().strip() == "writing"
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        data = ioctx.read("victim", 64 * MiB + 1)
        assert len(data) == 64 * MiB
        first = data[0]
        assert first in (old, fill), f"neither old ({old}) nor new ({fill}) content"
        assert data.count(first) == len(data), "torn object: a mix of old and new bytes"
        if first != fill:
            ioctx.write_full("victim", bytes([fill]) * (64 * MiB))  # the next round's "old"
        old = fill


OMAP_WRITER = textwrap.dedent(
    """
    import sys
    from librgw import rados
    conf, tag = sys.argv[1], sys.argv[2]
    with rados.Rados(conffile=conf) as c, c.open_ioctx("rep") as io:
        for i in range(200):
            with rados.WriteOpCtx() as op:
                io.set_omap(op, (f"{tag}-{i:04d}",), (tag.encode(),))
                io.operate_write_op(op, "shared")
    """
)


def test_two_processes_appending_omap_keys_lose_none(client, conf, cluster_dir, rep, tmp_path):
    """Acceptance 4: concurrent omap writers on one object; every key lands on every replica."""
    script = tmp_path / "omap_writer.py"
    script.write_text(OMAP_WRITER)
    children = [subprocess.Popen([sys.executable, str(script), conf, tag]) for tag in ("a", "b")]
    assert [c.wait(timeout=120) for c in children] == [0, 0]
    with rados.ReadOpCtx() as op:
        vals, _ = rep.get_omap_vals(op, "", "", 1000)
        rep.operate_read_op(op, "shared")
    keys = [k for k, _ in vals]
    assert len(keys) == 400 and set(keys) == {f"{t}-{i:04d}" for t in "ab" for i in range(200)}
    info = _osd_map(client, "rep", "shared")
    pg = int(info["pgid"].split(".")[1], 16)
    for osd in info["acting"]:
        store = OSDStore(osd, cluster_dir / f"osd.{osd}")
        entries, _ = store.omap_get(ObjectKey(info["pool_id"], pg, "", "shared"))
        store.close()
        assert len(entries) == 400


def test_pool_delete_purges_objects_from_osds(client, cluster_dir):
    client.create_pool("tmp")
    with client.open_ioctx("tmp") as io:
        io.write_full("o", os.urandom(300 * 1024))
    client.delete_pool("tmp")
    assert not client.pool_exists("tmp")
    assert not [p for p in cluster_dir.glob("osd.*/blocks/*/*")]


def test_threads_share_group_commit_without_losing_writes(rep):
    from concurrent.futures import ThreadPoolExecutor

    def work(t: int) -> None:
        for i in range(50):
            rep.write_full(f"t{t}-{i}", f"{t}:{i}".encode())

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(work, range(16)))
    assert len(list(rep.list_objects())) == 800
    assert rep.read("t7-42") == b"7:42"


def test_conf_and_map_are_readable_files(cluster_dir: Path):
    conf = (cluster_dir / "cluster.conf").read_text()
    assert "fsid" in conf and "[osd.5]" in conf and "osd pool default size = 3" in conf
    osdmap = json.loads((cluster_dir / "osdmap.json").read_text())
    assert len(osdmap["osds"]) == 6 and osdmap["epoch"] >= 1
