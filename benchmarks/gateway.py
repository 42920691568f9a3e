#!/usr/bin/env python3
"""Gateway benchmark: what users feel through HTTP, measured with ``wrk`` (issue 19).

``wrk`` (Debian's) replays presigned S3 URLs (or Swift paths with a token) so the client costs
little CPU: a Python client tops out near 300 requests/s per core here and would measure itself.
By default a temporary 3-OSD embedded cluster (pools of size 3, every write fsync'd) is made
under ``--dir`` and served by ``librgw serve``. ``--endpoint`` measures a running S3 endpoint
instead, ``--vs`` a second one, ``--vs-tree DIR`` the librgw of another checkout (a revision
before a change: ``git worktree add DIR REV``), and ``--peer radosgw``/``--peer swift`` start
the peers of ``peers.py`` and measure them too. ``--stack`` adds the gateway's HTTP stack
alone (``stack_app.py``: files from the page cache, served by gunicorn with the gateway's
settings, nothing else done), the ceiling of what the gateway can reach on this machine and
the baseline of the 1 GiB GET target. Each round visits every endpoint in turn (A B
A B, one busy at a time), and the table gives the first endpoint's figure over each other's.

Workloads (``--only`` picks some): 4 KiB PUT (new keys, c=16), 4 KiB GET (c=16 and c=64),
4 KiB HEAD, an 80/20 GET/PUT mix, 1 MiB PUT and GET (c=4), a 1,000-key LIST page from a bucket
of ``--list-keys`` keys, 4 KiB PUT and GET (c=16) through the Swift API with a token from its
``/auth/v1.0`` (librgw's, radosgw's and Swift's; a subuser ``bench:swift`` on the first two),
and one ``--stream-mib`` PUT and GET stream with curl. Each cell
prints ops/s, MB/s, p50/p99 latency, errors, the server's CPU seconds per operation and its
processes' peak RSS (the gateway's workers, or the processes ``--processes`` names). The same
run measures the raw disk (fsync'd 4 KiB writes/s, sequential write MB/s, page-cache read MB/s)
and prints the limit each implies for a pool of size 3.

``--profile DIR`` also records a flame graph of the server processes of each librgw gateway it
started (this checkout's, ``--vs-tree``'s) during each of their cells, with ``py-spy``
(``DIR/<endpoint>-<cell>.svg``; ``make profile-gateway`` installs it).
Sampling slows the server down: compare figures from runs without it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import requests
from botocore.config import Config
from cluster_bench import raw_sequential_round, raw_small_writes
from peers import STARTERS, SWIFT_KEY, SWIFT_USER
from slowloris_bench import free_port, serve, start_gateway, stop

import librgw
from librgw.storage.cluster import create_cluster

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REPLAY = HERE / "replay.lua"
USER, ACCESS_KEY, SECRET_KEY = "bench", "GATEWAYBENCHKEY00000", "gateway-bench-secret"
REPLICAS = 3  # the embedded cluster's pool size, and the divisor of the raw limits printed
KIB, MIB = 1024, 1024 * 1024
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Workload:
    """One cell: ``kind`` is put, get, head (one object, over and over), mixed or list; ``api``
    is s3 (presigned URLs) or swift (paths and a token)."""

    name: str
    kind: str
    size: int
    connections: int
    api: str = "s3"


WORKLOADS = [
    Workload("4 KiB PUT", "put", 4 * KIB, 16),
    Workload("4 KiB GET c=16", "get", 4 * KIB, 16),
    Workload("4 KiB GET c=64", "get", 4 * KIB, 64),
    Workload("4 KiB HEAD", "head", 4 * KIB, 16),
    Workload("80/20 GET/PUT 4 KiB", "mixed", 4 * KIB, 16),
    Workload("1 MiB PUT", "put", MIB, 4),
    Workload("1 MiB GET", "get", MIB, 4),
    Workload("LIST 1,000 keys", "list", 0, 4),
    Workload("Swift 4 KiB PUT", "put", 4 * KIB, 16, api="swift"),
    Workload("Swift 4 KiB GET c=16", "get", 4 * KIB, 16, api="swift"),
]


@dataclass
class Endpoint:
    """An S3 endpoint under test, and how to find the processes that serve it."""

    name: str
    url: str
    access_key: str
    secret_key: str
    processes: Callable[[], list[int]]
    bucket: str = "gateway-bench"
    ours: bool = False  # a librgw gateway this run started (``--profile`` samples those)
    lists: bool = True  # answers ListObjectsV2 (the HTTP-stack baseline does not)
    swift_user: tuple[str, str] | None = None  # (user, key) of the Swift API's /auth/v1.0, if it has one
    client: object = field(init=False, repr=False)
    token: str = field(default="", init=False, repr=False)
    storage_path: str = field(default="", init=False, repr=False)  # /v1/AUTH_...

    def __post_init__(self) -> None:
        config = Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1})
        self.client = boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=config,
        )

    def presigned(self, method: str, key: str = "", **params) -> str:
        """The path and query of a presigned URL for ``method`` (an S3 operation name)."""
        if key:
            params["Key"] = key
        url = self.client.generate_presigned_url(method, Params={"Bucket": self.bucket, **params}, ExpiresIn=7200)
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"

    def serves(self, workload: Workload) -> bool:
        return (workload.kind != "list" or self.lists) and (workload.api != "swift" or self.swift_user is not None)

    def swift_login(self) -> None:
        """Ask ``/auth/v1.0`` for a token and the account's storage path."""
        user, key = self.swift_user
        answer = requests.get(
            self.url.rstrip("/") + "/auth/v1.0", headers={"X-Auth-User": user, "X-Auth-Key": key}, timeout=30
        )
        answer.raise_for_status()
        self.token = answer.headers["X-Auth-Token"]
        self.storage_path = urlsplit(answer.headers["X-Storage-Url"]).path.rstrip("/")

    def swift_path(self, key: str) -> str:
        return f"{self.storage_path}/{self.bucket}/{key}"


@dataclass
class Cell:
    """One wrk run's figures."""

    ops_per_s: float
    mb_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int  # answers of 4xx/5xx
    socket_errors: int  # connections wrk saw fail (refused, reset, timed out)
    cpu_ms_per_op: float
    peak_rss_mib: float


def log(message: str) -> None:
    print(f"[gateway-bench] {message}", file=sys.stderr, flush=True)


# -- the server's processes ------------------------------------------------------------------


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def matching(pattern: str) -> Callable[[], list[int]]:
    """The processes whose command line matches ``pattern`` (as ``pgrep -f``)."""

    def find() -> list[int]:
        out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split() if int(pid) != os.getpid()]

    return find


def parent_of(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


@contextmanager
def profiled(pids: list[int], seconds: float, svg: Path | None, idle: bool = False) -> Iterator[None]:
    """Record a py-spy flame graph of ``pids`` (and their children) for ``seconds`` into ``svg``;
    ``idle`` counts threads that wait too (on locks, fsyncs, sockets), not only those running."""
    if svg is None:
        yield
        return
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    roots = [pid for pid in pids if parent_of(pid) not in pids]  # --subprocesses samples the rest
    recorders = []
    for pid in roots:
        output = svg.with_suffix(f".{pid}.svg") if len(roots) > 1 else svg
        command = [py_spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--rate", "200"]
        command += ["--duration", str(round(seconds)), "--format", "flamegraph", "--output", str(output)]
        command += ["--idle"] if idle else []
        recorders.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        yield
    finally:
        for recorder in recorders:
            recorder.wait()
        for output in svg.parent.glob(svg.stem + "*.svg"):
            without_machine_paths(output)


# A directory part of an absolute path (not of a URL's): py-spy writes the command lines of the
# processes it sampled, and of itself, into the graph, with this machine's paths in them.
ABSOLUTE_DIRS = re.compile(r"(?<![\w.:/])/(?:[\w.+-]+/)+")


def without_machine_paths(svg: Path) -> None:
    """Rewrite a flame graph with every absolute path cut to its last part (``python3``, ``paste.ini``)."""
    svg.write_text(ABSOLUTE_DIRS.sub("", svg.read_text()))


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICK


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakRss(threading.Thread):
    """Samples the processes' RSS every 200 ms; ``peak`` is the largest one process reached."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak, self.done = pids, 0.0, threading.Event()

    def run(self) -> None:
        while True:
            self.peak = max([self.peak, *(rss_mib(pid) for pid in self.pids)])
            if self.done.wait(0.2):
                return

    def stop(self) -> float:
        self.done.set()
        self.join()
        return self.peak


# -- requests --------------------------------------------------------------------------------


def fill(endpoint: Endpoint, keys: list[str], size: int) -> None:
    """PUT ``keys`` of ``size`` bytes (16 at a time) so the GET, HEAD and LIST cells find them."""
    body = b"x" * size
    base = endpoint.url.rstrip("/")

    def put(key: str) -> None:
        answer = requests.put(base + endpoint.presigned("put_object", key), data=body, timeout=120)
        answer.raise_for_status()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, keys))


def plan_of(endpoint: Endpoint, workload: Workload, args: argparse.Namespace, round_no: int) -> list[str]:
    """The "METHOD PATH" lines wrk replays for ``workload``."""
    reads = [f"obj/{workload.size}/{n}" for n in range(objects_for(workload.size, args))]
    if workload.api == "swift":
        if workload.kind == "get":
            return [f"GET {endpoint.swift_path(key)}" for key in reads]
        return [f"PUT {endpoint.swift_path(f'swift-put/{round_no}/{n}')}" for n in range(args.plan_length)]
    if workload.kind == "list":
        return [f"GET {endpoint.presigned('list_objects_v2', Prefix='list/', MaxKeys=1000)}"]
    if workload.kind == "get":
        return [f"GET {endpoint.presigned('get_object', key)}" for key in reads]
    writes = [f"PUT {endpoint.presigned('put_object', f'put/{round_no}/{n}')}" for n in range(args.plan_length)]
    if workload.kind == "put":
        return writes
    mixed = []
    for n, write in enumerate(writes[: args.plan_length // 5]):
        mixed += [f"GET {endpoint.presigned('get_object', reads[(4 * n + i) % len(reads)])}" for i in range(4)]
        mixed.append(write)
    return mixed


def objects_for(size: int, args: argparse.Namespace) -> int:
    return args.objects if size <= 64 * KIB else max(1, args.objects // 10)


def run_wrk(endpoint: Endpoint, workload: Workload, plan: list[str], seconds: float, work: Path) -> Cell:
    plan_file = work / "plan.txt"
    plan_file.write_text("\n".join(plan) + "\n")
    threads = min(workload.connections, 2)
    pids = endpoint.processes()
    sampler = PeakRss(pids)
    cpu_before = cpu_seconds(pids)
    sampler.start()
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(workload.connections),
        "-d",
        f"{round(seconds)}s",
        "--timeout",
        "30s",
    ]
    command += ["-s", str(REPLAY), endpoint.url, "--", str(plan_file), str(workload.size), str(threads)]
    command += [endpoint.token] if workload.api == "swift" else []
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    peak = sampler.stop()
    cpu = cpu_seconds(pids) - cpu_before
    figures = json.loads(out.strip().splitlines()[-1])
    ops = max(figures["requests"], 1)
    elapsed = figures["duration_us"] / 1e6
    moved = workload.size * ops if workload.kind in ("put", "get", "mixed") else figures["bytes"]
    return Cell(
        ops_per_s=ops / elapsed,
        mb_per_s=moved / elapsed / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=figures["status_errors"],
        socket_errors=figures["errors"],
        cpu_ms_per_op=cpu / ops * 1000,
        peak_rss_mib=peak,
    )


def run_ab(endpoint: Endpoint, workload: Workload, path: str, seconds: float) -> Cell:
    """HEAD cells run ``ab -i``: wrk waits for a body after a HEAD answer's Content-Length."""
    pids = endpoint.processes()
    sampler, cpu_before = PeakRss(pids), cpu_seconds(pids)
    sampler.start()
    command = ["ab", "-q", "-k", "-i", "-c", str(workload.connections), "-t", str(round(seconds)), "-n", "100000000"]
    out = subprocess.run([*command, endpoint.url.rstrip("/") + path], capture_output=True, text=True, check=True).stdout
    peak, cpu = sampler.stop(), cpu_seconds(pids) - cpu_before
    figure = {
        name.strip(): value.split()[0]
        for name, _, value in (line.partition(":") for line in out.splitlines())
        if value.strip()
    }
    percentile = {
        line.split()[0]: float(line.split()[1]) for line in out.splitlines() if line.strip()[:3] in ("50%", "99%")
    }
    ops = max(int(figure["Complete requests"]), 1)
    errors = int(figure["Failed requests"]) + int(figure.get("Non-2xx responses", 0))
    rate = float(figure["Requests per second"])
    return Cell(rate, 0.0, percentile["50%"], percentile["99%"], errors, 0, cpu / ops * 1000, peak)


def stream(endpoint: Endpoint, source: Path, round_no: int) -> tuple[Cell, Cell]:
    """One PUT and one GET of ``source`` with curl: (PUT cell, GET cell)."""
    size = source.stat().st_size
    key = f"stream/{round_no}"
    cells = []
    for method, upload in (("put_object", ["-T", str(source)]), ("get_object", [])):
        url = endpoint.url.rstrip("/") + endpoint.presigned(method, key)
        pids = endpoint.processes()
        sampler, before = PeakRss(pids), cpu_seconds(pids)
        sampler.start()
        command = ["curl", "-sS", "-f", "-H", "Expect:", *upload, "-o", "/dev/null", "-w", "%{time_total}", url]
        seconds = float(subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip())
        peak, cpu = sampler.stop(), cpu_seconds(pids) - before
        cells.append(Cell(1 / seconds, size / seconds / 1e6, seconds * 1000, seconds * 1000, 0, 0, cpu * 1000, peak))
    return cells[0], cells[1]


# -- endpoints -------------------------------------------------------------------------------


def own_gateway(work: Path, name: str = "librgw", root: Path = ROOT) -> tuple[Endpoint, Callable[[], None]]:
    """A 3-OSD embedded cluster served by ``librgw serve`` of the checkout at ``root``: the
    endpoint, and how to stop it."""
    work.mkdir(parents=True, exist_ok=True)
    conf = create_cluster(work / "cluster", REPLICAS).path
    with librgw.connect(str(conf)) as rgw:
        rgw.users.create(USER, "gateway benchmark", generate_key=False)
        rgw.users.create_key(USER, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        rgw.users.create_subuser(USER, SWIFT_USER.split(":")[1], secret_key=SWIFT_KEY)
    port = free_port()
    process = start_gateway("serve", conf, port, work / "gateway.log", root)
    url = f"http://127.0.0.1:{port}"
    swift_user = (SWIFT_USER, SWIFT_KEY)
    endpoint = Endpoint(name, url, ACCESS_KEY, SECRET_KEY, family(process), ours=True, swift_user=swift_user)
    return endpoint, lambda: stop(process)


def family(process: subprocess.Popen) -> Callable[[], list[int]]:
    """The processes of a server this run started: it and its children (gunicorn's workers)."""
    return lambda: [process.pid, *children_of(process.pid)]


def http_stack(work: Path) -> tuple[Endpoint, Callable[[], None]]:
    """The gateway's HTTP stack alone: ``stack_app.py`` served by gunicorn with the gateway's
    settings, files under ``work`` for objects."""
    files = work / "files"
    files.mkdir(parents=True)
    port = free_port()
    env = {**os.environ, "STACK_ROOT": str(files), "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}
    command = [sys.executable, "-m", "gunicorn", "--config", "python:librgw.server.gunicorn_conf"]
    process = serve([*command, "--bind", f"127.0.0.1:{port}", "stack_app:app"], HERE, env, port, work / "stack.log")
    endpoint = Endpoint("HTTP stack", f"http://127.0.0.1:{port}", ACCESS_KEY, SECRET_KEY, family(process), lists=False)
    return endpoint, lambda: stop(process)


def prepare(endpoint: Endpoint, args: argparse.Namespace) -> None:
    log(f"{endpoint.name}: bucket and objects")
    try:
        endpoint.client.create_bucket(Bucket=endpoint.bucket)
    except endpoint.client.exceptions.BucketAlreadyOwnedByYou:
        pass
    if endpoint.swift_user is not None and any(w.api == "swift" for w in selected(args)):
        endpoint.swift_login()
    sizes = {w.size for w in selected(args) if w.kind in ("get", "head", "mixed")}
    for size in sorted(sizes):
        fill(endpoint, [f"obj/{size}/{n}" for n in range(objects_for(size, args))], size)
    if endpoint.lists and any(w.kind == "list" for w in selected(args)):
        fill(endpoint, [f"list/{n:08d}" for n in range(args.list_keys)], 0)


def selected(args: argparse.Namespace) -> list[Workload]:
    return [w for w in WORKLOADS if not args.only or any(o.lower() in w.name.lower() for o in args.only)]


# -- raw disk ----------------------------------------------------------------------------------


def raw_disk(work: Path, mib: int) -> dict:
    small = raw_small_writes(work, 3.0)
    data = memoryview(os.urandom(mib * MIB))
    write_s, read_s = min(raw_sequential_round(work, data, f"seq-{i}") for i in range(2))
    return {
        "small_fsync_writes_per_s": small["ops_per_s"],
        "sequential_write_mb_per_s": mib * MIB / write_s / 1e6,
        "page_cache_read_mb_per_s": mib * MIB / read_s / 1e6,
    }


# -- report ------------------------------------------------------------------------------------


def spread(values: list[float], digits: int = 0) -> str:
    low, high = min(values), max(values)
    text = (
        f"{low:,.{digits}f}" if round(low, digits) == round(high, digits) else f"{low:,.{digits}f}-{high:,.{digits}f}"
    )
    return text


def describe(cells: list[Cell], kind: str) -> str:
    rate = (
        spread([c.mb_per_s for c in cells], 1) + " MB/s" if kind == "stream" else spread([c.ops_per_s for c in cells])
    )
    return (
        f"{rate} (p50 {spread([c.p50_ms for c in cells], 1)}, p99 {spread([c.p99_ms for c in cells], 1)} ms; "
        f"CPU {spread([c.cpu_ms_per_op for c in cells], 2)} ms/op; RSS {spread([c.peak_rss_mib for c in cells])} MiB"
        + (f"; {sum(c.errors for c in cells)} error answers" if any(c.errors for c in cells) else "")
        + (f"; {sum(c.socket_errors for c in cells)} socket errors" if any(c.socket_errors for c in cells) else "")
        + ")"
    )


def report(results: dict[str, dict[str, list[Cell]]], names: list[str], disk: dict) -> str:
    lines = [
        "raw disk: {:,.0f} fsync'd 4 KiB writes/s, sequential write {:,.0f} MB/s, page-cache read {:,.0f} MB/s".format(
            disk["small_fsync_writes_per_s"], disk["sequential_write_mb_per_s"], disk["page_cache_read_mb_per_s"]
        ),
        f"limits for {REPLICAS} replicas on this one disk: a large PUT <= "
        f"{disk['sequential_write_mb_per_s'] / REPLICAS:,.0f} MB/s; small PUTs <= "
        f"{disk['small_fsync_writes_per_s'] / REPLICAS:,.0f}/s unless fsyncs are shared",
        "",
        "| workload | " + " | ".join([*names, *(f"{names[0]} / {peer}" for peer in names[1:])]) + " |",
        "|---|" + "---|" * (2 * len(names) - 1),
    ]
    for workload, by_endpoint in results.items():
        kind = "stream" if workload.startswith("stream") else "ops"
        row = [describe(by_endpoint[name], kind) if name in by_endpoint else "-" for name in names]
        pick = (lambda c: c.mb_per_s) if kind == "stream" else (lambda c: c.ops_per_s)
        first = statistics.mean([pick(c) for c in by_endpoint.get(names[0], [])] or [0])
        for peer in names[1:]:
            theirs = statistics.mean([pick(c) for c in by_endpoint.get(peer, [])] or [0])
            row.append(f"{first / theirs:.2f}x" if theirs and first else "-")
        lines.append(f"| {workload} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def flame_graph(args: argparse.Namespace, endpoint: Endpoint, cell: str) -> Path | None:
    """Where ``--profile`` puts the cell's flame graph: the librgw gateways this run started only."""
    if args.profile is None or not endpoint.ours:
        return None
    args.profile.mkdir(parents=True, exist_ok=True)
    return args.profile / (re.sub(r"[^a-z0-9]+", "-", f"{endpoint.name} {cell}".lower()).strip("-") + ".svg")


def measure(endpoints: list[Endpoint], args: argparse.Namespace, work: Path) -> dict[str, dict[str, list[Cell]]]:
    results: dict[str, dict[str, list[Cell]]] = {}
    for workload in selected(args):
        for round_no in range(args.rounds):
            for endpoint in endpoints:
                if not endpoint.serves(workload):
                    continue
                log(f"{workload.name}, round {round_no + 1}: {endpoint.name}")
                svg = flame_graph(args, endpoint, f"{workload.name} round {round_no + 1}")
                if workload.kind == "head":
                    path = endpoint.presigned("head_object", "obj/4096/0")
                    with profiled(endpoint.processes(), args.seconds, svg, args.profile_idle):
                        cell = run_ab(endpoint, workload, path, args.seconds)
                else:
                    plan = plan_of(endpoint, workload, args, round_no)
                    with profiled(endpoint.processes(), args.seconds, svg, args.profile_idle):
                        cell = run_wrk(endpoint, workload, plan, args.seconds, work)
                results.setdefault(workload.name, {}).setdefault(endpoint.name, []).append(cell)
    if args.stream_mib:
        source = work / "stream.bin"
        with open(source, "wb") as out:
            for _ in range(args.stream_mib):
                out.write(os.urandom(MIB))
        for round_no in range(args.rounds):
            for endpoint in endpoints:
                log(f"{args.stream_mib} MiB stream, round {round_no + 1}: {endpoint.name}")
                put, get = stream(endpoint, source, round_no)
                results.setdefault(f"stream {args.stream_mib} MiB PUT", {}).setdefault(endpoint.name, []).append(put)
                results.setdefault(f"stream {args.stream_mib} MiB GET", {}).setdefault(endpoint.name, []).append(get)
        source.unlink()
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="where the temporary cluster and files go")
    parser.add_argument("--endpoint", help="an S3 endpoint to measure instead of a fresh librgw")
    parser.add_argument("--access-key", default=ACCESS_KEY)
    parser.add_argument("--secret-key", default=SECRET_KEY)
    parser.add_argument("--processes", help="pgrep -f pattern of --endpoint's server processes")
    parser.add_argument("--vs", help="a second S3 endpoint, measured in alternation")
    parser.add_argument("--vs-name", default="peer")
    parser.add_argument("--vs-access-key", default=ACCESS_KEY)
    parser.add_argument("--vs-secret-key", default=SECRET_KEY)
    parser.add_argument("--vs-processes", default="", help="pgrep -f pattern of the peer's server processes")
    parser.add_argument(
        "--vs-tree", type=Path, help="another librgw checkout, served on a cluster of its own and measured too"
    )
    parser.add_argument(
        "--stack", action="store_true", help="measure the gateway's HTTP stack alone too (stack_app.py)"
    )
    parser.add_argument(
        "--peer", action="append", default=[], choices=sorted(STARTERS), help="start this peer and measure it too"
    )
    parser.add_argument("--seconds", type=int, default=20, help="per cell (default 20)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--objects", type=int, default=1000, help="4 KiB objects the GET cells read (1 MiB: a tenth)")
    parser.add_argument("--list-keys", type=int, default=10_000, help="keys in the LIST cell's bucket")
    parser.add_argument("--plan-length", type=int, default=50_000, help="distinct PUT keys per cell")
    parser.add_argument("--stream-mib", type=int, default=1024, help="the stream cell's object size; 0: no stream")
    parser.add_argument("--only", nargs="*", help="workloads whose name contains one of these words")
    parser.add_argument("--json", action="store_true", help="also print every figure as JSON")
    parser.add_argument("--profile", type=Path, help="write py-spy flame graphs of the librgw gateways' cells here")
    parser.add_argument("--profile-idle", action="store_true", help="profiles count waiting threads too")
    return parser.parse_args(argv)


def endpoints_of(args: argparse.Namespace, work: Path) -> Iterator[tuple[Endpoint, Callable[[], None]]]:
    if args.endpoint:
        yield (
            Endpoint("A", args.endpoint, args.access_key, args.secret_key, matching(args.processes or "gunicorn")),
            (lambda: None),
        )
    else:
        yield own_gateway(work)
    if args.vs:
        peer = Endpoint(args.vs_name, args.vs, args.vs_access_key, args.vs_secret_key, matching(args.vs_processes))
        yield peer, lambda: None
    if args.vs_tree:
        yield own_gateway(work / "base", f"librgw {args.vs_tree.name}", args.vs_tree.resolve())
    if args.stack:
        yield http_stack(work / "stack")
    for name in args.peer:
        log(f"starting {name}")
        started = STARTERS[name](work / name)
        keys = (started.access_key, started.secret_key)
        peer = Endpoint(started.name, started.url, *keys, matching(started.processes), swift_user=started.swift)
        yield peer, started.stop


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("gateway.py needs wrk (Debian: apt-get install wrk; `make bench-gateway` installs it)", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="gateway-bench-", dir=args.dir))
    stops = []
    try:
        log("raw disk")
        disk = raw_disk(work, min(args.stream_mib or 256, 1024))
        endpoints = []
        for endpoint, stop_it in endpoints_of(args, work):
            stops.append(stop_it)
            prepare(endpoint, args)
            endpoints.append(endpoint)
        results = measure(endpoints, args, work)
    finally:
        for stop_it in stops:
            stop_it()
        shutil.rmtree(work, ignore_errors=True)
    names = [e.name for e in endpoints]
    print(report(results, names, disk))
    if args.json:
        print(
            json.dumps(
                {
                    "disk": disk,
                    "cells": {w: {n: [c.__dict__ for c in cs] for n, cs in r.items()} for w, r in results.items()},
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
