"""Smoke test of benchmarks/slowloris_bench.py: it runs a short attack of each kind against a gateway of
its own and prints its table and a JSON document, and removes its temporary cluster."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "slowloris_bench.py"


@pytest.mark.slow
def test_a_short_run_prints_table_and_json(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--dir", str(tmp_path), "--seconds", "2", "--clients", "5", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "| run | GETs ok | median | p99 | max |" in out
    doc = json.loads(out[out.index("\n{") + 1 :])
    assert doc["baseline"]["gets"]["success_rate"] == 1.0
    for mode in ("headers", "body", "anonymous-body", "unclosed"):
        assert doc[mode]["slow_clients"]["opened"] >= 5, mode
        assert doc[mode]["gets"]["success_rate"] == 1.0, mode  # 5 slow clients leave threads free
    assert list(tmp_path.iterdir()) == [], "the temporary work dir must be removed"
