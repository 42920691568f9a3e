"""``librgw.rados`` on the ``ceph:`` backend, against the session's Ceph cluster: the spec's client
name and keyring, a wrong key refused with ``librgw.rados``'s error, and python-rados's
errors coming back as ``librgw.rados``'s classes with their errno."""

import base64
import errno
import os
from pathlib import Path

import pytest

from librgw import rados
from tests.ceph import backend as ceph_backend


@pytest.fixture
def ceph(ceph_conf):
    ceph_backend.wipe(ceph_conf)
    return ceph_conf


def fsid_of(conf: str) -> str:
    line = next(line for line in Path(conf).read_text().splitlines() if line.startswith("fsid"))
    return line.split("=")[1].strip()


def test_the_specs_client_name_and_keyring_are_used(ceph):
    keyring = Path(ceph).with_name("client.admin.keyring")
    spec = f"{rados.CEPH_PREFIX}{ceph}?name=client.admin&keyring={keyring}"
    with rados.Rados(conffile=spec) as cluster:
        assert cluster.get_fsid() == fsid_of(ceph)
    with rados.Rados(conffile=rados.CEPH_PREFIX + ceph, rados_id="admin") as cluster:
        assert cluster.get_fsid() == fsid_of(ceph)


def test_a_wrong_key_is_refused_with_librgws_error(ceph, tmp_path):
    bogus = tmp_path / "bogus.keyring"
    key = base64.b64encode(b"\x01\x00" + os.urandom(10) + b"\x10\x00" + os.urandom(16)).decode()
    bogus.write_text(f"[client.admin]\n\tkey = {key}\n")
    cluster = rados.Rados(conffile=f"{rados.CEPH_PREFIX}{ceph}?keyring={bogus}")
    with pytest.raises(rados.Error) as refused:
        cluster.connect(timeout=20)
    assert type(refused.value).__module__ == "librgw.rados"
    assert refused.value.errno in (errno.EIO, errno.EACCES, errno.EPERM)  # Pacific says EIO
    assert "connecting" in str(refused.value)


def test_python_rados_errors_come_back_as_librgw_rados_classes(ceph):
    with rados.Rados(conffile=rados.CEPH_PREFIX + ceph) as cluster:
        cluster.create_pool("errs")
        with cluster.open_ioctx("errs") as ioctx:
            with pytest.raises(rados.ObjectNotFound):
                ioctx.read("missing")
            ioctx.write_full("there", b"x")
            with pytest.raises(rados.NoData):
                ioctx.get_xattr("there", "nope")
            with rados.WriteOpCtx() as op:
                op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
                with pytest.raises(rados.ObjectExists):
                    ioctx.operate_write_op(op, "there")
            with rados.WriteOpCtx() as op:
                ioctx.set_omap(op, ("", "k"), (b'{"ver": 1}', b"v"))
                ioctx.operate_write_op(op, "there")
            with rados.WriteOpCtx() as op:
                op.omap_cmp("", '{"ver": 2}', rados.LIBRADOS_CMPXATTR_OP_EQ)
                ioctx.set_omap(op, ("k",), (b"changed",))
                with pytest.raises(rados.OSError) as cancelled:
                    ioctx.operate_write_op(op, "there")
            assert cancelled.value.errno == errno.ECANCELED
            with rados.ReadOpCtx() as op:
                entries, _ = ioctx.get_omap_vals_by_keys(op, ("", "k"))
                ioctx.operate_read_op(op, "there")
            assert dict(entries) == {"": b'{"ver": 1}', "k": b"v"}  # the failed compare changed nothing
            ioctx.remove_object("there")
            with pytest.raises(rados.ObjectNotFound):
                ioctx.remove_object("there")
