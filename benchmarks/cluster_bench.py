#!/usr/bin/env python3
"""Cluster benchmark: librgw's figures beside a raw-disk baseline measured in the same run, on the same disk.

Everything (cluster and baseline files) goes to a new temporary directory under ``--dir``
(default: the current working directory), removed at the end. See ``benchmarks/README.md``.

Raw baseline (plain ``os`` calls, single thread):
  - 4 KiB file write + fsync + rename into place, ops/s, for ``--seconds``;
  - sequential write of an ``--ec-mib`` file + fsync, MB/s (best of N), and sequential read of it,
    in turn with the EC object's write and read, so both are measured in the same machine state.

Cluster (``--osds`` OSDs, one ``Rados``/``Ioctx`` shared by all threads):
  - 4 KiB ``write_full`` and ``read`` ops/s on a size-3 replicated pool, at concurrency 1 and 16;
  - ``--ec-mib`` ``write_full`` and ``read`` MB/s on a k=4 m=2 erasure-coded pool (best of N).

MB = 10**6 bytes. The exit status is 0 whether the targets are met or not; non-zero only on errors.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

try:
    from librgw import rados
    from librgw.storage.cluster import create_cluster
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from librgw import rados
    from librgw.storage.cluster import create_cluster

SMALL = 4096
CHUNK = 4 * 1024 * 1024
MB = 1_000_000
CONCURRENCY = (1, 16)
REPLICATED_POOL = "bench-rep"
EC_POOL = "bench-ec"
EC_PROFILE = "k4m2"
EC_K, EC_M = 4, 2
SMALL_TARGET = 1 / 3  # small durable writes at c16 >= 1/3 of the raw write+fsync+rename rate
EC_TARGET = 0.60 / ((EC_K + EC_M) / EC_K)  # EC writes >= 60% of raw sequential bandwidth / 1.5
SPREAD = 1.5  # repetitions further apart than this get a note under the table


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# -- timing helpers ----------------------------------------------------------------


def run_for(
    seconds: float, threads: int, op: Callable[[int, int], None], warmup: Callable[[int], None] | None = None
) -> dict:
    """Call ``op(tid, n)`` in a loop on ``threads`` threads for ``seconds``; returns ops and ops/s.

    Each thread runs ``warmup(tid)`` (if given) before the clock starts, so per-thread set-up
    (SQLite connections, committer threads) is not timed.
    """
    barrier = threading.Barrier(threads + 1)
    stop = threading.Event()
    counts = [0] * threads
    errors: list[BaseException] = []

    def worker(tid: int) -> None:
        try:
            if warmup is not None:
                warmup(tid)
        except BaseException as e:
            errors.append(e)
            barrier.abort()
            return
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return
        n = 0
        try:
            while not stop.is_set():
                op(tid, n)
                n += 1
        except BaseException as e:
            errors.append(e)
            stop.set()
        counts[tid] = n

    workers = [threading.Thread(target=worker, args=(t,), name=f"bench-{t}") for t in range(threads)]
    for w in workers:
        w.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    t0 = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    ops = sum(counts)
    if ops == 0:
        raise RuntimeError(f"no operation completed in {seconds} s")
    return {"ops": ops, "seconds": elapsed, "ops_per_s": ops / elapsed, "per_thread": counts}


# -- raw baseline -----------------------------------------------------------------


def write_synced(path: Path, data: memoryview) -> None:
    """Write ``data`` to a new ``path`` and fsync it: the durable write every baseline times."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        while data:
            data = data[os.write(fd, data[:CHUNK]) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def raw_small_writes(base: Path, seconds: float) -> dict:
    """4 KiB: write a temporary file, fsync it, rename it into place (a new name each time)."""
    d = base / "raw-small"
    d.mkdir()
    payload = memoryview(os.urandom(SMALL))
    tmp = d / ".tmp"

    def op(_tid: int, n: int) -> None:
        write_synced(tmp, payload)
        os.replace(tmp, d / f"obj-{n}")

    def warmup(_tid: int) -> None:
        for n in range(8):
            op(0, -1 - n)

    result = run_for(seconds, 1, op, warmup)
    shutil.rmtree(d)
    return result


def raw_sequential_round(d: Path, data: memoryview, name: str) -> tuple[float, float]:
    """Write ``data`` to a new file + fsync, read it back and delete it: (write s, read s)."""
    path = d / name
    t0 = time.perf_counter()
    write_synced(path, data)
    t1 = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    try:
        got = 0
        while chunk := os.read(fd, CHUNK):
            got += len(chunk)
    finally:
        os.close(fd)
    t2 = time.perf_counter()
    os.unlink(path)
    if got != len(data):
        raise RuntimeError(f"raw read of {path} returned {got} bytes, not {len(data)}")
    return t1 - t0, t2 - t1


# -- cluster ----------------------------------------------------------------------


def mon(cluster: rados.Rados, **cmd) -> None:
    ret, _out, outs = cluster.mon_command(json.dumps(cmd), b"")
    if ret != 0:
        raise RuntimeError(f"mon_command {cmd}: {ret} {outs}")


def setup_pools(cluster: rados.Rados) -> None:
    cluster.create_pool(REPLICATED_POOL)
    mon(cluster, prefix="osd pool set", pool=REPLICATED_POOL, var="size", val="3")
    mon(cluster, prefix="osd erasure-code-profile set", name=EC_PROFILE, profile=[f"k={EC_K}", f"m={EC_M}"])
    mon(cluster, prefix="osd pool create", pool=EC_POOL, pool_type="erasure", erasure_code_profile=EC_PROFILE)


def cluster_small_ops(ioctx: rados.Ioctx, seconds: float, threads: int) -> tuple[dict, dict]:
    """4 KiB write_full then read ops/s with ``threads`` threads; each thread its own object names."""
    payload = os.urandom(SMALL)
    names: list[list[str]] = [[] for _ in range(threads)]

    def write_warmup(tid: int) -> None:
        for j in range(16):  # opens every OSD's store and starts its committer before the clock
            ioctx.write_full(f"warm-c{threads}-t{tid}-{j}", payload)

    def write(tid: int, n: int) -> None:
        name = f"c{threads}-t{tid}-{n}"
        ioctx.write_full(name, payload)
        names[tid].append(name)

    log(f"4 KiB write_full, concurrency {threads}, {seconds} s")
    w = run_for(seconds, threads, write, write_warmup)

    # readers: each thread reads its own objects, cycling; threads that wrote few borrow from all
    pool_names = [n for per in names for n in per]
    sets = [per if len(per) >= 32 else pool_names for per in names]

    def read_warmup(tid: int) -> None:
        for j in range(min(32, len(pool_names))):  # this thread's SQLite connection to each OSD
            ioctx.read(pool_names[(tid * 7 + j) % len(pool_names)], SMALL)

    def read(tid: int, n: int) -> None:
        mine = sets[tid]
        got = ioctx.read(mine[n % len(mine)], SMALL)
        if len(got) != SMALL:
            raise RuntimeError(f"read {mine[n % len(mine)]}: {len(got)} bytes")

    log(f"4 KiB read, concurrency {threads}, {seconds} s")
    r = run_for(seconds, threads, read, read_warmup)
    if payload != ioctx.read(pool_names[-1], SMALL):
        raise RuntimeError(f"{pool_names[-1]}: read back differs from what was written")
    return w, r


def ec_round(ioctx: rados.Ioctx, data: bytes, name: str) -> tuple[float, float]:
    """write_full ``data`` to the EC pool, read it back (verified outside the timed region) and
    remove it: (write s, read s)."""
    t0 = time.perf_counter()
    ioctx.write_full(name, data)
    t1 = time.perf_counter()
    blob = ioctx.read(name, len(data))
    t2 = time.perf_counter()
    if blob != data:
        raise RuntimeError(f"{name}: read back {len(blob)} bytes that differ from what was written")
    del blob
    ioctx.remove_object(name)
    return t1 - t0, t2 - t1


def sequential_pairs(base: Path, ioctx: rados.Ioctx, size: int, reps: int) -> tuple[dict, dict]:
    """Raw file and EC object of ``size`` bytes, written and read in alternation, ``reps`` times
    each after one untimed round; best of each. (raw figures, EC figures).

    Alternating puts the baseline and librgw in the same machine state. On VMs whose guest
    memory is handed back to the host when freed, how fast a write goes depends on how much
    was written just before; a baseline measured first, on a fresh machine, can be several
    times faster than one measured after the small-op runs. Each file and object is deleted
    before the next round, so no round runs on a fuller disk than another.
    """
    d = base / "raw-seq"
    d.mkdir()
    raw_data, ec_data = memoryview(os.urandom(size)), os.urandom(size)
    log(f"{size // (1024 * 1024)} MiB sequential write+fsync/read, raw file and EC object in turn, best of {reps}")
    raw_times, ec_times = [], []
    for rep in range(-1, reps):
        raw = raw_sequential_round(d, raw_data, f"seq-{rep}")
        ec = ec_round(ioctx, ec_data, f"ec-{rep}")
        if rep >= 0:
            raw_times.append(raw)
            ec_times.append(ec)
    shutil.rmtree(d)
    return _best(raw_times, size), _best(ec_times, size)


def _best(times: list[tuple[float, float]], size: int) -> dict:
    writes, reads = [w for w, _ in times], [r for _, r in times]
    return {
        "write_mb_s": size / min(writes) / MB,
        "read_mb_s": size / min(reads) / MB,
        "write_seconds": writes,
        "read_seconds": reads,
    }


# -- machine info -----------------------------------------------------------------


def filesystem_of(path: Path) -> dict:
    info: dict = {"path": str(path)}
    try:
        out = subprocess.run(["df", "-PT", str(path)], capture_output=True, text=True, check=True).stdout
        fields = out.splitlines()[-1].split()
        info.update(device=fields[0], type=fields[1], mount=fields[-1])
    except (OSError, subprocess.CalledProcessError, IndexError):
        real, best = os.path.realpath(path), ""
        try:
            with open("/proc/mounts") as f:
                for line in f:
                    dev, mnt, fstype = line.split()[:3]
                    if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                        best = mnt
                        info.update(device=dev, type=fstype, mount=mnt)
        except OSError:
            pass
    st = os.statvfs(path)
    info["size_gb"] = round(st.f_blocks * st.f_frsize / 1e9, 1)
    info["free_gb"] = round(st.f_bavail * st.f_frsize / 1e9, 1)
    return info


def machine_info(path: Path) -> dict:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "filesystem": filesystem_of(path),
    }


# -- report -----------------------------------------------------------------------


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if value >= 100 else f"{value:,.1f}" if value >= 10 else f"{value:,.2f}"
    return f"{text} {unit}".rstrip()


def build_report(args, machine: dict, raw_small: dict, raw_seq: dict, small: dict, ec: dict) -> tuple[str, dict]:
    mib = args.ec_mib
    raw_ops = raw_small["ops_per_s"]
    rows = []  # metric, librgw, raw, unit, target
    for c in CONCURRENCY:
        target = SMALL_TARGET if c == 16 else None
        rows.append((f"4 KiB write_full, rep size 3, c={c}", small[c][0]["ops_per_s"], raw_ops, "ops/s", target))
    for c in CONCURRENCY:
        rows.append((f"4 KiB read, rep size 3, c={c}", small[c][1]["ops_per_s"], None, "ops/s", None))
    rows.append((f"{mib} MiB write_full, EC k4m2", ec["write_mb_s"], raw_seq["write_mb_s"], "MB/s", EC_TARGET))
    rows.append((f"{mib} MiB read, EC k4m2", ec["read_mb_s"], raw_seq["read_mb_s"], "MB/s", None))

    header = ("metric", "librgw", "raw baseline", "ratio", "target")
    cells = [header]
    for metric, ours, raw, unit, target in rows:
        ratio = ours / raw if raw else None
        verdict = "" if target is None else f">= {target:.2f}  {'PASS' if ratio >= target else 'MISS'}"
        cells.append((metric, fmt(ours, unit), fmt(raw, unit), "-" if ratio is None else f"{ratio:.2f}", verdict))
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row) -> str:
        parts = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:4], widths[1:4])]
        parts.append(row[4].ljust(widths[4]))
        return ("| " + " | ".join(parts) + " |").rstrip()

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"

    small_ratio = small[16][0]["ops_per_s"] / raw_ops
    ec_ratio = ec["write_mb_s"] / raw_seq["write_mb_s"]
    targets = [
        {
            "name": "small durable writes at concurrency 16 reach at least 1/3 of the raw fsync rate "
            "(4 KiB write+fsync+rename ops/s)",
            "ratio": small_ratio,
            "required": SMALL_TARGET,
            "met": small_ratio >= SMALL_TARGET,
        },
        {
            "name": "EC writes reach at least 60% of raw sequential bandwidth / 1.5",
            "ratio": ec_ratio,
            "required": EC_TARGET,
            "met": ec_ratio >= EC_TARGET,
        },
    ]

    fs = machine["filesystem"]
    out = [
        "librgw cluster benchmark",
        f"machine: {machine['cpu_count']} CPUs ({machine['cpus_usable']} usable), "
        f"{machine['implementation']} {machine['python']}, SQLite {machine['sqlite']}, {machine['platform']}",
        f"disk: {fs['path']} on {fs.get('device', '?')} ({fs.get('type', '?')}, mounted on {fs.get('mount', '?')}), "
        f"{fs['free_gb']} GB free of {fs['size_gb']} GB",
        f"settings: {args.osds} OSDs, {args.seconds} s per small-op measurement, {mib} MiB EC objects, "
        f"best of {args.reps}{' (--quick)' if args.quick else ''}; MB = 10^6 bytes",
        "raw baseline: 4 KiB write+fsync+rename, 1 thread; sequential write+fsync / read of one file "
        "(page cache not dropped)",
        "",
        line(cells[0]),
        sep,
        *(line(row) for row in cells[1:]),
        "",
    ]
    for t in targets:
        verdict = "PASS" if t["met"] else "MISS"
        out.append(f"{verdict}: {t['name']}: ratio {t['ratio']:.2f}, needs >= {t['required']:.2f}")
    for what, times in (("raw sequential write", raw_seq["write_seconds"]), ("EC write", ec["write_seconds"])):
        if len(times) > 1 and max(times) > SPREAD * min(times):
            spread = ", ".join(f"{t:.3f}" for t in times)
            out.append(f"note: {what} repetitions took {spread} s; the best is shown, a rerun may differ")

    doc = {
        "machine": machine,
        "settings": {"osds": args.osds, "seconds": args.seconds, "ec_mib": mib, "reps": args.reps, "quick": args.quick},
        "raw": {
            "small_write_fsync_rename_ops_s": raw_ops,
            "seq_write_mb_s": raw_seq["write_mb_s"],
            "seq_read_mb_s": raw_seq["read_mb_s"],
        },
        "librgw": {
            "write_4k_c1_ops_s": small[1][0]["ops_per_s"],
            "write_4k_c16_ops_s": small[16][0]["ops_per_s"],
            "read_4k_c1_ops_s": small[1][1]["ops_per_s"],
            "read_4k_c16_ops_s": small[16][1]["ops_per_s"],
            "ec_write_mb_s": ec["write_mb_s"],
            "ec_read_mb_s": ec["read_mb_s"],
        },
        "ratios": {
            "write_4k_c1_vs_raw_fsync": small[1][0]["ops_per_s"] / raw_ops,
            "write_4k_c16_vs_raw_fsync": small_ratio,
            "ec_write_vs_raw_seq_write": ec_ratio,
            "ec_read_vs_raw_seq_read": ec["read_mb_s"] / raw_seq["read_mb_s"],
        },
        "targets": targets,
        "details": {
            "raw_small": raw_small,
            "raw_seq_seconds": {"write": raw_seq["write_seconds"], "read": raw_seq["read_seconds"]},
            "small": {f"c{c}": {"write": small[c][0], "read": small[c][1]} for c in CONCURRENCY},
            "ec_seconds": {"write": ec["write_seconds"], "read": ec["read_seconds"]},
        },
    }
    return "\n".join(out), doc


# -- main -------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, default=None, help="parent of the temporary work dir (default: cwd)")
    p.add_argument("--osds", type=int, default=6, help="OSDs in the cluster (default 6)")
    p.add_argument("--seconds", type=float, default=None, help="per small-op measurement (default 5; 1 with --quick)")
    p.add_argument("--ec-mib", type=int, default=None, help="EC object / raw file size in MiB (default 64; 16 --quick)")
    p.add_argument("--quick", action="store_true", help="smoke test: --seconds 1, --ec-mib 16, best of 1")
    p.add_argument("--json", action="store_true", help="also print one JSON document with every figure")
    args = p.parse_args(argv)
    if args.seconds is None:
        args.seconds = 1.0 if args.quick else 5.0
    if args.ec_mib is None:
        args.ec_mib = 16 if args.quick else 64
    args.reps = 1 if args.quick else 3
    if args.seconds <= 0 or args.ec_mib <= 0:
        p.error("--seconds and --ec-mib must be positive")
    if args.osds < EC_K + EC_M:
        p.error(f"--osds must be at least {EC_K + EC_M} for the k={EC_K} m={EC_M} pool")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parent = (args.dir or Path.cwd()).resolve()
    parent.mkdir(parents=True, exist_ok=True)
    size = args.ec_mib * 1024 * 1024
    need = size * (1 + (EC_K + EC_M) / EC_K) + 512 * 1024 * 1024  # one raw file or EC object at a time
    st = os.statvfs(parent)
    if st.f_bavail * st.f_frsize < need:
        print(f"error: {parent} has less than {need / 1e9:.1f} GB free", file=sys.stderr)
        return 2
    machine = machine_info(parent)
    work = Path(tempfile.mkdtemp(prefix="cluster-bench-", dir=parent))
    cluster = None
    try:
        log(f"work dir {work}")
        log(f"raw 4 KiB write+fsync+rename, {args.seconds} s")
        raw_small = raw_small_writes(work, args.seconds)
        log(f"creating a {args.osds}-OSD cluster")
        create_cluster(work / "cluster", args.osds)
        cluster = rados.Rados(conffile=str(work / "cluster" / "cluster.conf"))
        cluster.connect()
        setup_pools(cluster)
        small: dict[int, tuple[dict, dict]] = {}
        with cluster.open_ioctx(REPLICATED_POOL) as ioctx:
            for c in CONCURRENCY:
                small[c] = cluster_small_ops(ioctx, args.seconds, c)
        with cluster.open_ioctx(EC_POOL) as ioctx:
            raw_seq, ec = sequential_pairs(work, ioctx, size, args.reps)
    finally:
        if cluster is not None:
            cluster.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    text, doc = build_report(args, machine, raw_small, raw_seq, small, ec)
    print(text)
    if args.json:
        print()
        print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
