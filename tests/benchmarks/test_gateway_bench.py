"""Smoke test of benchmarks/gateway.py: a short run against a gateway of its own and the HTTP
stack alone (``--stack``) measures every workload with no error (each cell moved requests, and
the server's CPU and RSS were seen), prints the table and the JSON, and removes its cluster."""

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
        [sys.executable, str(SCRIPT), "--dir", str(tmp_path), *short, "--stream-mib", "4", "--stack", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    table, doc = proc.stdout.rsplit("\n{", 1)
    cells = json.loads("{" + doc)["cells"]
    assert set(cells) >= {
        "4 KiB PUT",
        "4 KiB GET c=64",
        "4 KiB HEAD",
        "LIST 1,000 keys",
        "Swift 4 KiB PUT",
        "Swift 4 KiB GET c=16",
        "stream 4 MiB GET",
    }
    for workload, by_endpoint in cells.items():
        # the HTTP stack alone has no listing and no Swift API: those cells are librgw's only
        expected = {"librgw"} if "LIST" in workload or "Swift" in workload else {"librgw", "HTTP stack"}
        assert set(by_endpoint) == expected, workload
        for name in expected:
            (cell,) = by_endpoint[name]
            assert cell["ops_per_s"] > 0 and cell["errors"] == 0, (workload, name)
            # a connection reset in a 1-second cell of 64 connections on a loaded machine, not a wrong answer
            assert cell["socket_errors"] < 5, (workload, name)
            assert cell["peak_rss_mib"] > 0, (workload, name)
            # /proc counts CPU in 10 ms ticks: one 4 MiB stream may take less than one
            assert cell["cpu_ms_per_op"] > 0 or workload.startswith("stream"), (workload, name)
    assert "| 4 KiB PUT | " in table and "raw disk: " in table
    (list_row,) = [line for line in table.splitlines() if line.startswith("| LIST 1,000 keys | ")]
    assert list_row.endswith(" | - | - |")  # the stack's cell and ratio: none
    assert list(tmp_path.iterdir()) == [], "the temporary work dir must be removed"
