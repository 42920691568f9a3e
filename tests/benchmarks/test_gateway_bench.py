"""Smoke test of benchmarks/gateway.py: a short run against a gateway of its own measures every
workload with no error (each cell moved requests, and the server's CPU and RSS were seen),
prints the table and the JSON, and removes its cluster."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gateway.py"


@pytest.mark.slow
def test_a_short_run_measures_every_workload(tmp_path):
    missing = [tool for tool in ("wrk", "ab", "curl") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: `make test` installs them (wrk, apache2-utils, curl)")
    short = ["--seconds", "1", "--rounds", "1", "--objects", "20", "--list-keys", "20", "--plan-length", "300"]
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--dir", str(tmp_path), *short, "--stream-mib", "4", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    table, doc = proc.stdout.rsplit("\n{", 1)
    cells = json.loads("{" + doc)["cells"]
    assert set(cells) >= {"4 KiB PUT", "4 KiB GET c=64", "4 KiB HEAD", "LIST 1,000 keys", "stream 4 MiB GET"}
    for workload, by_endpoint in cells.items():
        (cell,) = by_endpoint["librgw"]
        assert cell["ops_per_s"] > 0 and cell["errors"] == 0, workload
        # a connection reset in a 1-second cell of 64 connections on a loaded machine, not a wrong answer
        assert cell["socket_errors"] < 5, workload
        assert cell["peak_rss_mib"] > 0, workload
        # /proc counts CPU in 10 ms ticks: one 4 MiB stream may take less than one
        assert cell["cpu_ms_per_op"] > 0 or workload.startswith("stream"), workload
    assert "| 4 KiB PUT | " in table and "raw disk: " in table
    assert list(tmp_path.iterdir()) == [], "the temporary work dir must be removed"
