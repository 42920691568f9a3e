"""Middleware tests that need a cluster get a fresh one on each backend (``cluster_spec``)."""

import pytest


@pytest.fixture
def conf(cluster_spec: str) -> str:
    return cluster_spec
