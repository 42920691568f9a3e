"""Fixtures for the core: the gateway library on each backend (``cluster_spec``), fresh per test."""

import errno

import pytest

import librgw
from librgw import rados
from librgw.objects import ObjectStore
from librgw.zone import DATA_POOL


@pytest.fixture
def conf(cluster_spec: str) -> str:
    return cluster_spec


@pytest.fixture
def rgw(conf: str):
    with librgw.connect(conf) as handle:
        yield handle


def data_objects(client) -> set[str]:
    """The names of every rados object in the data pool."""
    with client.open_ioctx(DATA_POOL) as ioctx:
        return {o.key for o in ioctx.list_objects()}


def small_ec_profile(client) -> str:
    """An erasure-code profile both backends can place (k=2, m=1 over OSDs: the test Ceph cluster
    has 3 OSDs on one host); returns its name. Any data pool goes, so that the next
    ``librgw.connect(..., data_pool_profile=...)`` makes one with it."""
    from tests.conftest import mon

    profile = ["k=2", "m=1", "crush-failure-domain=osd"]
    ret, _, outs = mon(client, "osd erasure-code-profile set", name="k2m1", profile=profile)
    assert ret == 0, outs
    if client.pool_exists(DATA_POOL):
        client.delete_pool(DATA_POOL)
    return "k2m1"


def failing_head_write(landed: bool):
    """An ``ObjectStore.write_head`` that fails as a cluster can: before the head changed, or
    after (the write took effect, and still answered an error), for monkeypatching."""
    real = ObjectStore.write_head

    def write_head(self, bucket, info, head, condition=None):
        if landed:
            real(self, bucket, info, head, condition)
        raise rados.IOError("the disk hiccupped", errno=errno.EIO)

    return write_head
