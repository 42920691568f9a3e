"""The python-rados API: names, return values and errors as Ceph's ``rados`` module has them."""

import os
import time

import pytest

from librgw import rados
from tests.conftest import mon


def test_design_example_runs_unchanged(conf):
    with rados.Rados(conffile=conf) as cluster:
        cluster.create_pool("assets")
        with cluster.open_ioctx("assets") as ioctx:
            ioctx.write_full("1.jpg", b"...")
            ioctx.set_xattr("1.jpg", "content-type", b"image/jpeg")
            assert ioctx.read("1.jpg") == b"..."
            assert ioctx.get_xattr("1.jpg", "content-type") == b"image/jpeg"


def test_reference_examples_run_unchanged(conf, cluster_dir, monkeypatch):
    # "Using RADOS": Rados('webapp'), conf_read_file() from the default search path, str data
    monkeypatch.setenv("CEPH_CONF", conf)
    r = rados.Rados("webapp")
    r.conf_read_file()
    r.connect()
    r.create_pool("assets")
    ioctx = r.open_ioctx("assets")
    ioctx.write_full("1.jpg", "jpeg-content-goes-here")
    ioctx.set_xattr("1.jpg", "content-type", "image/jpeg")
    assert ioctx.read("1.jpg") == b"jpeg-content-goes-here"
    # "Ceph APIs": conffile and conf=dict(keyring=...), stats, pools, write/read/remove
    cluster = rados.Rados(conffile=conf, conf=dict(keyring="/path/to/keyring"))
    cluster.connect()
    assert set(cluster.get_cluster_stats()) == {"kb", "kb_used", "kb_avail", "num_objects"}
    cluster.create_pool("test")
    assert "test" in cluster.list_pools()
    cluster.delete_pool("test")
    assert not cluster.pool_exists("test")
    io2 = cluster.open_ioctx("assets")
    io2.write_full("hw", "Hello World!")
    assert io2.read("hw") == b"Hello World!"
    io2.remove_object("hw")
    cluster.shutdown()
    r.shutdown()


def test_missing_things_raise_python_rados_exceptions(client, rep):
    with pytest.raises(rados.ObjectNotFound) as e:
        rep.read("nope")
    assert e.value.errno == 2 and str(e.value).startswith("[errno 2] RADOS object not found (")
    with pytest.raises(rados.ObjectNotFound):
        rep.stat("nope")
    with pytest.raises(rados.ObjectNotFound):
        rep.remove_object("nope")
    with pytest.raises(rados.ObjectNotFound):
        rep.trunc("nope", 0)
    with pytest.raises(rados.ObjectNotFound):
        client.open_ioctx("no-such-pool")
    with pytest.raises(rados.ObjectExists):
        client.create_pool("rep")
    rep.write_full("o", b"x")
    with pytest.raises(rados.NoData):
        rep.get_xattr("o", "missing")
    with pytest.raises(rados.NoData):
        rep.rm_xattr("o", "missing")
    assert issubclass(rados.ObjectNotFound, rados.OSError) and issubclass(rados.OSError, rados.Error)


def test_state_errors():
    r = rados.Rados()
    with pytest.raises(rados.RadosStateError):
        r.list_pools()
    with pytest.raises(rados.ObjectNotFound):
        r.conf_read_file("/nonexistent/cluster.conf")


def test_data_ops_and_stat(rep):
    assert rep.write_full("o", b"hello world") == 0
    rep.write("o", b"HELLO", 0)
    rep.append("o", b"!")
    assert rep.read("o") == b"HELLO world!"
    assert rep.read("o", 5, 6) == b"world"
    assert rep.read("o", 10, 100) == b""
    size, mtime = rep.stat("o")
    assert size == 12 and isinstance(mtime, time.struct_time)
    rep.trunc("o", 5)
    assert rep.read("o") == b"HELLO"
    rep.write("o", b"Z", 8)  # past the end: a hole of zeros
    assert rep.read("o") == b"HELLO\0\0\0Z"
    assert rep.remove_object("o") is True
    with pytest.raises(rados.ObjectNotFound):
        rep.read("o")


def test_large_object_spanning_blocks_round_trips(rep):
    data = os.urandom(9 * 1024 * 1024 + 123)
    rep.write_full("big", data)
    assert rep.read("big", len(data)) == data
    patch = os.urandom(5000)
    rep.write("big", patch, 4 * 1024 * 1024 - 2000)  # straddles the first block boundary
    expected = bytearray(data)
    expected[4 * 1024 * 1024 - 2000 : 4 * 1024 * 1024 + 3000] = patch
    assert rep.read("big", len(data)) == bytes(expected)
    rep.trunc("big", 4 * 1024 * 1024 + 10)
    assert rep.read("big", len(data)) == bytes(expected[: 4 * 1024 * 1024 + 10])


def test_xattrs(rep):
    rep.set_xattr("o", "a", b"1")  # creates the object, as in Ceph
    rep.set_xattr("o", "b", b"\x00\xff")
    assert dict(rep.get_xattrs("o")) == {"a": b"1", "b": b"\x00\xff"}
    assert rep.rm_xattr("o", "a") is True
    assert dict(rep.get_xattrs("o")) == {"b": b"\x00\xff"}


def test_omap_reads_and_writes(rep):
    with rados.WriteOpCtx() as op:
        rep.set_omap(op, ("a1", "a2", "b1", "c1"), (b"1", b"2", b"3", b""))
        rep.operate_write_op(op, "idx")
    with rados.ReadOpCtx() as op:
        vals, ret = rep.get_omap_vals(op, "", "", 100)
        keys, _ = rep.get_omap_keys(op, "a1", 2)
        pref, _ = rep.get_omap_vals(op, "", "a", 100)
        some, _ = rep.get_omap_vals_by_keys(op, ("b1", "zz"))
        rep.operate_read_op(op, "idx")
    assert ret == 0
    assert list(vals) == [("a1", b"1"), ("a2", b"2"), ("b1", b"3"), ("c1", b"")]
    assert list(keys) == [("a2", None), ("b1", None)]
    assert list(pref) == [("a1", b"1"), ("a2", b"2")]
    assert list(some) == [("b1", b"3")]
    with rados.WriteOpCtx() as op:
        rep.remove_omap_keys(op, ("a1",))
        rep.remove_omap_range2(op, "b", "c")
        rep.operate_write_op(op, "idx")
    with rados.ReadOpCtx() as op:
        vals, _ = rep.get_omap_vals(op, "", "", 100)
        rep.operate_read_op(op, "idx")
    assert [k for k, _ in vals] == ["a2", "c1"]
    with rados.WriteOpCtx() as op:
        rep.clear_omap(op)
        rep.operate_write_op(op, "idx")
    with rados.ReadOpCtx() as op:
        vals, _ = rep.get_omap_vals(op, "", "", 100)
        rep.operate_read_op(op, "idx")
    assert list(vals) == []
    with rados.ReadOpCtx() as op:
        rep.get_omap_vals(op, "", "", 10)
        with pytest.raises(rados.ObjectNotFound):
            rep.operate_read_op(op, "missing")


def test_write_op_is_all_or_nothing(rep):
    rep.write_full("o", b"old")
    with rados.WriteOpCtx() as op:
        op.write_full(b"new")
        op.set_xattr("x", b"1")
        op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
        with pytest.raises(rados.ObjectExists):
            rep.operate_write_op(op, "o")
    assert rep.read("o") == b"old"
    assert dict(rep.get_xattrs("o")) == {}


def test_omap_cmp_guards_a_write(rep):
    with rados.WriteOpCtx() as op:
        rep.set_omap(op, ("state",), (b"open",))
        rep.operate_write_op(op, "o")
    with rados.WriteOpCtx() as op:
        op.omap_cmp("state", b"closed")
        rep.set_omap(op, ("state",), (b"reopened",))
        with pytest.raises(rados.OSError) as e:
            rep.operate_write_op(op, "o")
    assert e.value.errno == 125


def test_namespaces_and_listing(rep):
    rep.write_full("a", b"1")
    rep.set_namespace("ns1")
    rep.write_full("a", b"2")
    rep.write_full("b", b"3")
    assert sorted(o.key for o in rep.list_objects()) == ["a", "b"]
    assert rep.read("a") == b"2"
    rep.set_namespace(rados.LIBRADOS_ALL_NSPACES)
    assert sorted((o.nspace, o.key) for o in rep.list_objects()) == [("", "a"), ("ns1", "a"), ("ns1", "b")]
    rep.set_namespace("")
    objs = list(rep.list_objects())
    assert [o.key for o in objs] == ["a"] and objs[0].read() == b"1"


def test_locks(rep):
    rep.lock_exclusive("o", "lk", "c1", desc="mine", duration=60)
    with pytest.raises(rados.ObjectBusy):
        rep.lock_exclusive("o", "lk", "c2")
    with pytest.raises(rados.ObjectExists):
        rep.lock_exclusive("o", "lk", "c1")
    rep.unlock("o", "lk", "c1")
    with pytest.raises(rados.ObjectNotFound):
        rep.unlock("o", "lk", "c1")
    rep.lock_shared("o", "sh", "c1", "tag")
    rep.lock_shared("o", "sh", "c2", "tag")
    with pytest.raises(rados.ObjectBusy):
        rep.lock_exclusive("o", "sh", "c3")


def test_expired_lock_can_be_taken(rep):
    rep.lock_exclusive("o", "lk", "c1", duration=1)
    time.sleep(1.1)
    rep.lock_exclusive("o", "lk", "c2")


def test_pool_stats_and_cluster_stats_agree_with_listing(client, rep):
    for i in range(30):
        rep.write_full(f"o{i}", b"x" * 100)
    stats = rep.get_stats()
    assert stats["num_objects"] == 30 and stats["num_bytes"] == 3000 and stats["num_object_copies"] == 90
    assert client.get_cluster_stats()["num_objects"] == len(list(rep.list_objects())) == 30


def test_closed_ioctx_refuses_io(rep):
    rep.close()
    with pytest.raises(rados.IoctxStateError):
        rep.read("o")


def test_mon_command_returns_errors_instead_of_raising(client):
    ret, outbuf, outs = mon(client, "osd pool create", pool="p", pool_type="erasure", erasure_code_profile="none")
    assert ret == -2 and outbuf == b"" and "none" in outs
    assert client.mon_command("not json", b"")[0] == -22
    assert mon(client, "no such command")[0] == -22
