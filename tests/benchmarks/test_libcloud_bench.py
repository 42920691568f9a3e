"""Smoke test of benchmarks/libcloud_bench.py: a short run against a gateway of its own prints
its table and a JSON document with a figure for every transport, and removes its cluster."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "libcloud_bench.py"


@pytest.mark.slow
def test_a_short_run_prints_table_and_json(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--dir", str(tmp_path), "--seconds", "0.5", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "| transport | upload obj/s | upload ms/obj |" in out
    doc = json.loads(out[out.index("\n{") + 1 :])
    http = doc["transports"]["http"]
    assert http["uploads"] > 0 and http["downloads"] > 0 and http["upload_speedup"] == 1.0
    in_process = doc["transports"]["in-process"]
    assert in_process["uploads"] > 0 and in_process["downloads"] > 0 and in_process["upload_speedup"] > 0
    assert "| in-process |" in out
    assert list(tmp_path.iterdir()) == [], "the temporary work dir must be removed"
