#!/usr/bin/env python3
"""Compare the cluster benchmark of this tree with another revision's, measured in the same run.

Checks ``BASE`` (any git revision) out into a temporary worktree, then runs
``benchmarks/cluster_bench.py --json`` of each tree in turn, ``--rounds`` times (base, this,
base, this, ...), each importing its own ``librgw``, so both see the same machine state.
Prints the median of every librgw figure of both trees and their ratio (this / base).

    python benchmarks/compare_revisions.py d975f47 --rounds 5 --seconds 5

Uses the ``cluster_bench.py`` of each tree, so both must have one printing the same JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
FIGURES = (
    ("write_4k_c1_ops_s", "4 KiB write_full, c=1 (ops/s)"),
    ("write_4k_c16_ops_s", "4 KiB write_full, c=16 (ops/s)"),
    ("read_4k_c1_ops_s", "4 KiB read, c=1 (ops/s)"),
    ("read_4k_c16_ops_s", "4 KiB read, c=16 (ops/s)"),
    ("ec_write_mb_s", "EC k4m2 write (MB/s)"),
    ("ec_read_mb_s", "EC k4m2 read (MB/s)"),
)


def run_bench(tree: Path, work: Path, seconds: float, ec_mib: int) -> dict:
    script = tree / "benchmarks" / "cluster_bench.py"
    args = [sys.executable, str(script), "--seconds", str(seconds), "--ec-mib", str(ec_mib), "--json"]
    proc = subprocess.run(args, cwd=work, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)})
    if proc.returncode != 0:
        raise SystemExit(f"{script} failed:\n{proc.stderr}")
    return json.loads(proc.stdout[proc.stdout.index("\n{") + 1 :])["librgw"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="the revision to compare with (e.g. a commit id)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="per small-op figure")
    parser.add_argument("--ec-mib", type=int, default=16)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(base), args.base], check=True)
        try:
            results: dict[str, list[dict]] = {"base": [], "this": []}
            for n in range(args.rounds):
                for name, tree in (("base", base), ("this", HERE)):
                    print(f"[compare] round {n + 1}/{args.rounds}: {name}", file=sys.stderr, flush=True)
                    results[name].append(run_bench(tree, Path(tmp), args.seconds, args.ec_mib))
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(base)], check=True)
    print(f"{'figure':<32} {'base ' + args.base:>18} {'this tree':>12} {'ratio':>7}   (medians of {args.rounds})")
    for key, label in FIGURES:
        old = statistics.median(r[key] for r in results["base"])
        new = statistics.median(r[key] for r in results["this"])
        print(f"{label:<32} {old:>18.1f} {new:>12.1f} {new / old:>7.2f}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
