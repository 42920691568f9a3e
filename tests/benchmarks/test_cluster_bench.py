"""Smoke test of benchmarks/cluster_bench.py: it runs, prints its table and a JSON document of positive figures."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "cluster_bench.py"


@pytest.mark.slow
def test_quick_run_prints_table_and_json(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--seconds", "0.5", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for header in ("metric", "librgw", "raw baseline", "ratio", "target"):
        assert header in out
    assert "PASS" in out or "MISS" in out

    doc = json.loads(out[out.index("\n{") + 1 :])
    for section in ("raw", "librgw", "ratios"):
        assert doc[section], section
        for name, value in doc[section].items():
            assert isinstance(value, int | float) and value > 0, (section, name, value)
    assert len(doc["targets"]) == 2
    assert doc["machine"]["cpu_count"] > 0
    assert list(tmp_path.iterdir()) == [], "the temporary work dir must be removed"
