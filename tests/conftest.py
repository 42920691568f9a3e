"""Shared fixtures: a temporary embedded cluster and connected python-rados handles."""

import json
from pathlib import Path

import pytest

from librgw import rados
from librgw.storage.cluster import create_cluster


def mon(cluster: rados.Rados, prefix: str, **args) -> tuple[int, bytes, str]:
    return cluster.mon_command(json.dumps({"prefix": prefix, **args}), b"")


def make_ec_pool(cluster: rados.Rados, name: str, k: int, m: int, pg_num: int = 16) -> None:
    ret, _, outs = mon(cluster, "osd erasure-code-profile set", name=f"k{k}m{m}", profile=[f"k={k}", f"m={m}"])
    assert ret == 0, outs
    ret, _, outs = mon(
        cluster, "osd pool create", pool=name, pg_num=pg_num, pool_type="erasure", erasure_code_profile=f"k{k}m{m}"
    )
    assert ret == 0, outs


@pytest.fixture
def cluster_dir(tmp_path: Path) -> Path:
    create_cluster(tmp_path / "cluster", 6, **{"osd pool default pg num": "16"})
    return tmp_path / "cluster"


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
