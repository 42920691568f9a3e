"""Shared fixtures: a temporary embedded cluster and connected python-rados handles; the
backend the core and gateway suites run on (embedded, and a real Ceph cluster); and the
helpers that find an object's stored copies and rot them on disk.

The core and gateway suites take their cluster from ``cluster_spec``, which is parametrized
over ``backend``: every such test runs on a new embedded cluster and on the session's Ceph
cluster, wiped first (``tests/ceph/backend.py``); tests of the embedded engine itself
(``tests/storage``, ``tests/test_rados.py``) take ``conf``/``client`` below instead. Where
Ceph cannot run here, the Ceph variants are skipped and the run ends with a banner saying so.
"""

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest

from librgw import rados
from librgw.storage.cluster import create_cluster
from librgw.storage.osd_store import OSDStore
from librgw.storage.store_records import NO_SHARD, ObjectKey
from librgw.storage.store_txn import BLOCK_SIZE
from tests.ceph import backend as ceph_backend
from tests.swift import aio as swift_aio


def mon(cluster: rados.Rados, prefix: str, **args) -> tuple[int, bytes, str]:
    return cluster.mon_command(json.dumps({"prefix": prefix, **args}), b"")


def make_ec_pool(cluster: rados.Rados, name: str, k: int, m: int, pg_num: int = 16) -> None:
    ret, _, outs = mon(cluster, "osd erasure-code-profile set", name=f"k{k}m{m}", profile=[f"k={k}", f"m={m}"])
    assert ret == 0, outs
    ret, _, outs = mon(
        cluster, "osd pool create", pool=name, pg_num=pg_num, pool_type="erasure", erasure_code_profile=f"k{k}m{m}"
    )
    assert ret == 0, outs


def stored_copies(client: rados.Rados, pool: str, name: str, ns: str = "") -> list[tuple[int, ObjectKey]]:
    """(osd, key) of each stored copy of an object: its replicas, or its EC shards in shard order."""
    ret, out, outs = mon(client, "osd map", pool=pool, object=name, nspace=ns)
    assert ret == 0, outs
    where = json.loads(out)
    pg = int(where["pgid"].split(".")[1], 16)
    ec = client.cluster.pool(pool).type == "erasure"
    return [
        (osd, ObjectKey(where["pool_id"], pg, ns, name, shard if ec else NO_SHARD))
        for shard, osd in enumerate(where["acting"])
    ]


def _store_db(store: OSDStore) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(store.db_path, isolation_level=None))


def _block(conn: sqlite3.Connection, key: ObjectKey, idx: int) -> tuple:
    """(object id, inline data, file name) of one block of a stored copy."""
    (oid,) = conn.execute(
        "SELECT id FROM objects WHERE pool=? AND pg=? AND ns=? AND name=? AND shard=?",
        (key.pool, key.pg, key.ns, key.name, key.shard),
    ).fetchone()
    return (oid, *conn.execute("SELECT data, file FROM blocks WHERE obj=? AND idx=?", (oid, idx)).fetchone())


def flip_stored_byte(store: OSDStore, key: ObjectKey, offset: int = 0) -> None:
    """Bit rot: flip one byte of a stored copy where it lies, in its block file or its inline
    block in store.db, and leave its checksum as it was."""
    idx, at = divmod(offset, BLOCK_SIZE)
    with _store_db(store) as conn:
        oid, data, file = _block(conn, key, idx)
        if file is None:
            rotten = bytearray(data)
            rotten[at] ^= 0xFF
            conn.execute("UPDATE blocks SET data=? WHERE obj=? AND idx=?", (bytes(rotten), oid, idx))
            return
    with open(store.block_path(file), "r+b") as f:
        f.seek(at)
        byte = f.read(1)[0]
        f.seek(at)
        f.write(bytes([byte ^ 0xFF]))


def stored_in_file(store: OSDStore, key: ObjectKey) -> bool:
    """Whether the copy's first block lives in a block file (else inline in store.db)."""
    with _store_db(store) as conn:
        return _block(conn, key, 0)[2] is not None


def new_embedded_cluster(where: Path) -> Path:
    """A new 6-OSD embedded cluster in ``where``; its directory is ``where``."""
    create_cluster(where, 6, **{"osd pool default pg num": "16"})
    return where


@pytest.fixture
def cluster_dir(tmp_path: Path) -> Path:
    return new_embedded_cluster(tmp_path / "cluster")


@pytest.fixture
def conf(cluster_dir: Path) -> str:
    return str(cluster_dir / "cluster.conf")


@pytest.fixture
def client(conf: str):
    with rados.Rados(conffile=conf) as cluster:
        yield cluster


@pytest.fixture
def rep(client: rados.Rados):
    client.create_pool("rep")
    with client.open_ioctx("rep") as ioctx:
        yield ioctx


@pytest.fixture
def ec(client: rados.Rados):
    make_ec_pool(client, "ec", 4, 2)
    with client.open_ioctx("ec") as ioctx:
        yield ioctx


# -- the backends the core and gateway suites run on -----------------------------------------

BACKENDS = ("embedded", "ceph")
_ceph_skipped: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:
    if _ceph_skipped:
        terminalreporter.write_sep("!", "THE CEPH BACKEND WAS NOT TESTED", red=True, bold=True)
        terminalreporter.write_line(f"{_ceph_skipped[0]}: every ceph-backend variant was skipped.")
    if swift_aio.SKIPPED:
        terminalreporter.write_sep("!", "NOTHING WAS COMPARED WITH OR RUN IN OPENSTACK SWIFT", red=True, bold=True)
        terminalreporter.write_line(f"{swift_aio.SKIPPED[0]}: every test with the Swift all-in-one was skipped.")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


def skip_unless_ceph_can_run() -> None:
    """Skip the test (and end the run with the banner) when this machine cannot run Ceph."""
    reason = ceph_backend.unavailable()
    if reason:
        _ceph_skipped.append(reason)
        pytest.skip(f"THE CEPH BACKEND CANNOT RUN HERE: {reason}")


@pytest.fixture(scope="session")
def ceph_conf(tmp_path_factory):
    """The ceph.conf of the session's Ceph cluster, brought up on first use and torn down at the end."""
    skip_unless_ceph_can_run()
    where = tmp_path_factory.mktemp("ceph") / "cluster"
    try:
        yield ceph_backend.bring_up(where)
    finally:
        ceph_backend.tear_down(where)


def fresh_cluster(request, backend: str, base: Path) -> str:
    """What ``librgw.connect``, ``rados.Rados(conffile=...)`` and ``paste.ini`` take: the conf of
    a new embedded cluster in ``base``, or ``ceph:<conf>`` of the session's Ceph cluster, wiped."""
    if backend == "embedded":
        return str(new_embedded_cluster(base / "cluster") / "cluster.conf")
    conf = request.getfixturevalue("ceph_conf")
    ceph_backend.wipe(conf)
    return rados.CEPH_PREFIX + conf


@pytest.fixture
def cluster_spec(backend: str, request, tmp_path: Path) -> str:
    """A fresh cluster on each backend (``fresh_cluster``) for one test."""
    if backend == "embedded":
        return str(request.getfixturevalue("cluster_dir") / "cluster.conf")
    return fresh_cluster(request, backend, tmp_path)
