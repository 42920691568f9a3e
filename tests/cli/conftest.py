"""Fixtures for the CLI tests: a fresh 4-OSD cluster made by ``librgw cluster init``, and a runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from librgw.cli.main import main

OSDS = 4
PG_NUM = "8"


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cluster_conf(tmp_path: Path, capsys: pytest.CaptureFixture) -> Path:
    assert main(["cluster", "init", str(tmp_path / "c"), "--osds", str(OSDS)]) == 0
    capsys.readouterr()
    return tmp_path / "c" / "cluster.conf"


@pytest.fixture
def librgw(cluster_conf: Path, capsys: pytest.CaptureFixture):
    """Run ``librgw -c CONF ARGS...`` in-process; returns its exit code and output."""

    def run(*argv: str) -> Result:
        code = main(["-c", str(cluster_conf), *argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def pools(librgw) -> tuple[str, str]:
    """A replicated pool ``rep`` and an erasure-coded (k=2, m=1) pool ``ec``."""
    assert librgw("pool", "create", "rep", "--pg-num", PG_NUM).code == 0
    assert librgw("pool", "create", "ec", "--pg-num", PG_NUM, "--erasure", "--k", "2", "--m", "1").code == 0
    return "rep", "ec"
