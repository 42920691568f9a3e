"""Fixtures for the core: the gateway library on a fresh embedded cluster."""

import pytest

import librgw
from librgw.zone import DATA_POOL


@pytest.fixture
def rgw(conf: str):
    with librgw.connect(conf) as handle:
        yield handle


def data_objects(client) -> set[str]:
    """The names of every rados object in the data pool."""
    with client.open_ioctx(DATA_POOL) as ioctx:
        return {o.key for o in ioctx.list_objects()}
