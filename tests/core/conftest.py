"""Fixtures for the core: the gateway library on a fresh embedded cluster."""

import pytest

import librgw


@pytest.fixture
def rgw(conf: str):
    with librgw.connect(conf) as handle:
        yield handle
