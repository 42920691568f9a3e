#!/usr/bin/env python3
"""Slowloris benchmark: does the gateway keep serving while many clients send their requests slowly?

``--clients`` connections (default 100) each send a request slowly and never finish it, or
never let go of the connection:

- ``headers``: ``GET / HTTP/1.1`` and then one header line every 2-3 s;
- ``body``: a Swift PUT whose headers are complete (``Content-Length: 1048576``, a valid token),
  then 1 KiB of body every 2-3 s;
- ``anonymous-body``: the same PUT without a valid token;
- ``unclosed``: a request refused at once (a bare LF ends its lines), after which the client
  neither reads the answer nor closes the connection.

A connection the server closes is opened again 2-3 s later, so the attack keeps its size.
Meanwhile one client GETs a small object over a new connection each time for ``--seconds``
(default 30, so that the gateway's 20 s deadline for a request head shows). The script
prints how many of those GETs succeeded and their latency (median, p99, max), first without
the attack (the baseline) and then under each attack in turn, with what the server did to
the slow connections (closed how many, after how long, with which status line).

The gateway runs on a temporary cluster started the way an operator starts it: ``librgw
serve`` (``--entry serve``, the default) or ``gunicorn --paste paste.ini`` from the
repository root (``--entry gunicorn``). ``tests/integration/test_slowloris.py`` uses the
same clients.
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import json
import os
import random
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

try:
    import librgw
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import librgw
from librgw.storage.cluster import create_cluster

ROOT = Path(__file__).resolve().parent.parent

INTERVAL = (2.0, 3.0)  # seconds between two pieces a slow client sends
BODY_SIZE = 1 << 20
BODY_PIECE = 1024
GET_TIMEOUT = 30.0
GET_PAUSE = 0.05  # between two of the measuring client's GETs
USER, SUBUSER, KEY = "loris", "swift", "loris-key"
MODES = ("headers", "body", "anonymous-body", "unclosed")
CONTAINER, OBJECT, PAYLOAD = "c", "small", b"x" * 4096


@dataclass
class AttackReport:
    """How the server treated the slow connections."""

    opened: int = 0
    closed_by_server: int = 0
    held_seconds: list[float] = field(default_factory=list)  # how long each closed one was held
    status_lines: Counter = field(default_factory=Counter)  # what the server said before closing

    def summary(self) -> dict:
        held = sorted(self.held_seconds)
        return {
            "opened": self.opened,
            "closed_by_server": self.closed_by_server,
            "held_median_s": round(statistics.median(held), 1) if held else None,
            "held_max_s": round(held[-1], 1) if held else None,
            "status_lines": dict(self.status_lines),
        }


class SlowClients(threading.Thread):
    """``count`` connections, each sending ``opening`` at once and then ``piece(n)`` every 2-3 s,
    until ``stop()``, whatever the server answers; one thread drives them all. A connection the
    server closes is opened again
    2-3 s later, when its next piece was due: the attack keeps its size without becoming a flood
    of new connections."""

    def __init__(self, port: int, count: int, opening: bytes, piece: Callable[[int], bytes]) -> None:
        super().__init__(daemon=True)
        self.port, self.count, self.opening, self.piece = port, count, opening, piece
        self.report = AttackReport()
        self._stopping = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._due: dict[socket.socket, float] = {}
        self._opened: dict[socket.socket, float] = {}
        self._sent: dict[socket.socket, int] = {}
        self._said: dict[socket.socket, bytes] = {}  # the first bytes the server sent
        self._reopen: list[float] = []  # a heap of when to open a connection again
        self.ready = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.join(30)

    def run(self) -> None:
        try:
            for _ in range(self.count):
                self._open()
            self.ready.set()
            while not self._stopping.is_set():
                now = time.monotonic()
                while self._reopen and self._reopen[0] <= now:
                    heapq.heappop(self._reopen)
                    self._open()
                for sock, due in list(self._due.items()):
                    if due <= now:
                        self._send_piece(sock)
                for key, _ in self._selector.select(timeout=0.1):
                    self._server_spoke(key.fileobj)
        finally:
            self.ready.set()
            for sock in list(self._due):
                self._forget(sock)
            self._selector.close()

    def _open(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.sendall(self.opening)
        sock.setblocking(False)
        self.report.opened += 1
        self._opened[sock] = time.monotonic()
        self._due[sock] = time.monotonic() + random.uniform(*INTERVAL)
        self._sent[sock] = 0
        self._selector.register(sock, selectors.EVENT_READ)

    def _send_piece(self, sock: socket.socket) -> None:
        try:
            sock.send(self.piece(self._sent[sock]))
        except OSError:
            self._closed(sock)
            return
        self._sent[sock] += 1
        self._due[sock] = time.monotonic() + random.uniform(*INTERVAL)

    def _server_spoke(self, sock: socket.socket) -> None:
        try:
            said = sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            said = b""
        if not said:
            self._closed(sock)
        elif sock not in self._said:
            self._said[sock] = said

    def _closed(self, sock: socket.socket) -> None:
        self.report.closed_by_server += 1
        self.report.held_seconds.append(time.monotonic() - self._opened[sock])
        said = self._said.get(sock, b"")
        self.report.status_lines[said.split(b"\r\n", 1)[0].decode("latin-1") or "(closed, nothing said)"] += 1
        self._forget(sock)
        heapq.heappush(self._reopen, time.monotonic() + random.uniform(*INTERVAL))

    def _forget(self, sock: socket.socket) -> None:
        self._selector.unregister(sock)
        for table in (self._due, self._opened, self._sent, self._said):
            table.pop(sock, None)
        sock.close()


def slow_headers(port: int, count: int) -> SlowClients:
    """Clients that send a request line and then one header line every 2-3 s, forever."""
    return SlowClients(port, count, b"GET / HTTP/1.1\r\n", lambda n: b"X-Slow-%d: loris\r\n" % n)


def slow_bodies(port: int, count: int, path: str, token: str) -> SlowClients:
    """Clients that send a whole PUT head (1 MiB announced) and then 1 KiB of body every 2-3 s."""
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Auth-Token: {token}\r\nContent-Length: {BODY_SIZE}\r\n\r\n"
    ).encode()
    return SlowClients(port, count, head, lambda n: b"b" * BODY_PIECE)


class UnclosedClients:
    """``count`` connections that each send a request the gateway refuses at once (its lines
    end in a bare LF: 400 and ``Connection: close``), then neither read the answer nor close,
    until ``stop()``. (The same ``start``/``ready``/``stop``/``report`` as ``SlowClients``.)"""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count
        self.report = AttackReport()
        self.ready = threading.Event()
        self._socks: list[socket.socket] = []

    def start(self) -> None:
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            sock.sendall(b"GET / HTTP/1.1\nHost: 127.0.0.1\n\n")
            self._socks.append(sock)
            self.report.opened += 1
        self.ready.set()

    def stop(self) -> None:
        """Read, only now, what the server said and whether it closed; then close."""
        for sock in self._socks:
            sock.setblocking(False)
            said, closed = b"", False
            try:
                while chunk := sock.recv(65536):
                    said += chunk
                closed = True
            except OSError:  # BlockingIOError: still open
                pass
            self.report.closed_by_server += closed
            self.report.status_lines[said.split(b"\r\n", 1)[0].decode("latin-1") or "(nothing said)"] += 1
            sock.close()


@dataclass
class GetReport:
    """What the measuring client saw."""

    latencies: list[float] = field(default_factory=list)  # of the successful GETs
    failures: Counter = field(default_factory=Counter)

    @property
    def attempts(self) -> int:
        return len(self.latencies) + sum(self.failures.values())

    def percentile(self, p: float) -> float | None:
        """Seconds; None when no GET succeeded."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else None

    def summary(self) -> dict:
        def ms(seconds: float | None) -> float | None:
            return None if seconds is None else round(1000 * seconds, 1)

        return {
            "gets": self.attempts,
            "succeeded": len(self.latencies),
            "success_rate": round(len(self.latencies) / self.attempts, 4) if self.attempts else 0.0,
            "median_ms": ms(self.percentile(0.5)),
            "p99_ms": ms(self.percentile(0.99)),
            "max_ms": ms(self.percentile(1.0)),
            "failures": dict(self.failures),
        }


def measure_gets(
    port: int, path: str, token: str, seconds: float, expected: bytes, timeout: float = GET_TIMEOUT
) -> GetReport:
    """GET ``path`` over a new connection each time for ``seconds``; a success is a 200 with
    ``expected`` as its body within ``timeout``."""
    report = GetReport()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"X-Auth-Token": token})
            response = conn.getresponse()
            body = response.read()
            if response.status == 200 and body == expected:
                report.latencies.append(time.monotonic() - start)
            else:
                report.failures[f"status {response.status}"] += 1
        except OSError as error:  # socket.timeout is one too
            report.failures[type(error).__name__] += 1
        finally:
            conn.close()
        time.sleep(GET_PAUSE)
    return report


def swift_login(port: int, user: str, key: str) -> tuple[str, str]:
    """(storage path, token) from the gateway's ``/auth/v1.0``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/auth/v1.0", headers={"X-Auth-User": user, "X-Auth-Key": key})
        response = conn.getresponse()
        response.read()
        if response.status // 100 != 2:
            raise RuntimeError(f"login as {user}: {response.status}")
        url = response.getheader("X-Storage-Url")
        return url[url.index("/v1/") :], response.getheader("X-Auth-Token")
    finally:
        conn.close()


def swift_put(port: int, path: str, token: str, body: bytes) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("PUT", path, body=body, headers={"X-Auth-Token": token})
        response = conn.getresponse()
        response.read()
        if response.status // 100 != 2:
            raise RuntimeError(f"PUT {path}: {response.status}")
    finally:
        conn.close()


# -- the benchmark: a cluster and a gateway of its own -----------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(entry: str, conf: Path, port: int, log: Path, root: Path = ROOT) -> subprocess.Popen:
    """The gateway as an operator starts it, from the repository root (where paste.ini is); a
    ``root`` other than this checkout's serves that checkout's code and pipeline."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "LIBRGW_CLUSTER": str(conf)}
    if root != ROOT:
        env["PYTHONPATH"] = str(root)
    if entry == "serve":
        command = [str(bin_dir / "librgw"), "-c", str(conf), "serve", "--bind", f"127.0.0.1:{port}"]
    else:
        command = [str(bin_dir / "gunicorn"), "--paste", "paste.ini", "--bind", f"127.0.0.1:{port}", "--threads", "8"]
    return serve(command, root, env, port, log)


def serve(command: list[str], cwd: Path, env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """Start the server ``command`` (its output into ``log``) and wait until it listens on ``port``."""
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError("the server did not come up:\n" + log.read_text())


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(args: argparse.Namespace, work: Path) -> dict:
    conf = create_cluster(work / "cluster", 3).path
    with librgw.connect(str(conf)) as rgw:
        rgw.users.create(USER, "Slowloris benchmark")
        rgw.users.create_subuser(USER, SUBUSER, "full-control", KEY)
    port = free_port()
    gateway = start_gateway(args.entry, conf, port, work / "gateway.log")
    results: dict = {"entry": args.entry, "clients": args.clients, "seconds": args.seconds}
    try:
        account, token = swift_login(port, f"{USER}:{SUBUSER}", KEY)
        swift_put(port, f"{account}/{CONTAINER}", token, b"")
        path = f"{account}/{CONTAINER}/{OBJECT}"
        swift_put(port, path, token, PAYLOAD)
        print("baseline (no attack) ...", file=sys.stderr)
        results["baseline"] = {"gets": measure_gets(port, path, token, args.seconds, PAYLOAD).summary()}
        for mode in args.modes:
            print(f"{args.clients} slow {mode} clients ...", file=sys.stderr)
            if mode == "headers":
                attack = slow_headers(port, args.clients)
            elif mode == "unclosed":
                attack = UnclosedClients(port, args.clients)
            else:
                slow_token = token if mode == "body" else "not-a-token"
                attack = slow_bodies(port, args.clients, f"{account}/{CONTAINER}/loris", slow_token)
            attack.start()
            attack.ready.wait(60)
            gets = measure_gets(port, path, token, args.seconds, PAYLOAD)
            attack.stop()
            results[mode] = {"gets": gets.summary(), "slow_clients": attack.report.summary()}
    finally:
        stop(gateway)
    return results


def print_table(results: dict) -> None:
    print(f"gateway: {results['entry']}; {results['clients']} slow clients; GETs for {results['seconds']} s each")
    print("| run | GETs ok | median | p99 | max | failures | slow connections closed by the server |")
    print("|---|---|---|---|---|---|---|")
    for name in ("baseline", *MODES):
        if name not in results:
            continue
        gets, slow = results[name]["gets"], results[name].get("slow_clients")
        closed = "-"
        if slow:
            closed = f"{slow['closed_by_server']} of {slow['opened']}"
            if slow["held_median_s"] is not None:
                closed += f", after {slow['held_median_s']} s (median)"
            if slow["status_lines"]:
                closed += f", {slow['status_lines']}"
        times = " | ".join("-" if gets[k] is None else f"{gets[k]} ms" for k in ("median_ms", "p99_ms", "max_ms"))
        print(f"| {name} | {gets['succeeded']}/{gets['gets']} | {times} | {gets['failures'] or '-'} | {closed} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100, help="slow connections (default 100)")
    parser.add_argument("--seconds", type=float, default=30.0, help="GETs for this long in each run (default 30)")
    parser.add_argument("--entry", choices=("serve", "gunicorn"), default="serve", help="how to start the gateway")
    parser.add_argument(
        "--mode", dest="modes", action="append", choices=MODES, help="attack(s) to run (default: all, in turn)"
    )
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="where the temporary cluster goes")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON document")
    args = parser.parse_args()
    args.modes = args.modes or list(MODES)
    work = Path(tempfile.mkdtemp(prefix="slowloris-bench-", dir=args.dir))
    try:
        results = run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(results)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
