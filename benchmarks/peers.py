#!/usr/bin/env python3
"""The systems ``gateway.py`` compares librgw with, each started on this machine by one recipe
and stopped by the PIDs it started.

- **radosgw**: Debian's ``radosgw`` (Ceph 16.2) on the tests' throwaway Ceph cluster
  (``tests/ceph/cluster.sh``) with 3 bluestore OSDs, each on a sparse file under the directory,
  pools of size 3: durable, as librgw's writes are. ``--memstore`` keeps the OSDs' data in RAM
  instead (not durable: an upper bound of what Ceph's code costs). One ``radosgw`` with its
  ``beast`` frontend, and a user with the benchmark's S3 keys.
- **swift**: an OpenStack Swift all-in-one from PyPI ``swift`` (``tests/swift/aio.py``: one
  replica, proxy, account, container and object servers), with Swift's own ``s3api`` before
  ``tempauth`` so the same presigned S3 URLs reach it; its S3 keys are tempauth's user and key.

Run one by hand (it prints the ``gateway.py --vs`` line to measure it, and stops on Ctrl-C)::

    .venv/bin/python benchmarks/peers.py radosgw /tmp/peer-rgw
    .venv/bin/python benchmarks/peers.py swift /tmp/peer-swift

``gateway.py --peer radosgw --peer swift`` starts and stops them itself (``make bench-gateway``).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.swift import aio  # noqa: E402 (the repository root is on the path just above)

ACCESS_KEY, SECRET_KEY = "GATEWAYBENCHKEY00000", "gateway-bench-secret"
SWIFT_USER, SWIFT_KEY = "bench:swift", "gateway-bench-swift-key"
START_TIMEOUT_S = 120


@dataclass
class Peer:
    """A running peer: its S3 endpoint and keys, the ``pgrep -f`` pattern of its processes (their
    command lines all name its directory), and how to stop it."""

    name: str
    url: str
    access_key: str
    secret_key: str
    processes: str
    stop: Callable[[], None]
    swift: tuple[str, str] | None = None  # (user, key) of its Swift API's /auth/v1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.5)
    raise RuntimeError(f"nothing answered at {url} within {START_TIMEOUT_S} s")


def radosgw(directory: Path, memstore: bool = False) -> Peer:
    """A 3-OSD Ceph cluster in ``directory``/ceph with one radosgw on it."""
    ceph = directory / "ceph"
    script = str(ROOT / "tests" / "ceph" / "cluster.sh")
    env = {**os.environ, "OSD_OBJECTSTORE": "memstore" if memstore else "bluestore"}
    conf = subprocess.run([script, "up", str(ceph)], env=env, capture_output=True, text=True, check=True)
    conf_path = conf.stdout.strip().splitlines()[-1]

    def stop() -> None:
        subprocess.run([script, "down", str(ceph)], check=False)

    try:
        name = "client.rgw.bench"
        subprocess.run(
            ["ceph", "-c", conf_path, "auth", "get-or-create", name, "mon", "allow rw", "osd", "allow rwx"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["ceph", "-c", conf_path, "auth", "get", name, "-o", str(ceph / f"{name}.keyring")],
            check=True,
            capture_output=True,
        )
        port = free_port()
        (ceph / "rgw").mkdir()
        # pid file in run/: cluster.sh down stops it with the cluster's daemons, by that PID
        daemon = ["radosgw", "-c", conf_path, "-n", name, "--rgw-frontends", f"beast endpoint=127.0.0.1:{port}"]
        daemon += ["--rgw-data", str(ceph / "rgw"), "--pid-file", str(ceph / "run" / f"{name}.pid")]
        subprocess.run(daemon, check=True, capture_output=True)
        wait_for(f"http://127.0.0.1:{port}/")
        subprocess.run(
            ["radosgw-admin", "-c", conf_path, "user", "create", "--uid", "bench", "--display-name", "bench"]
            + ["--access-key", ACCESS_KEY, "--secret", SECRET_KEY],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["radosgw-admin", "-c", conf_path, "subuser", "create", "--uid", "bench", "--subuser", SWIFT_USER]
            + ["--key-type", "swift", "--secret", SWIFT_KEY, "--access", "full"],
            check=True,
            capture_output=True,
        )
    except BaseException:
        stop()
        raise
    label = "radosgw (memstore)" if memstore else "radosgw"
    return Peer(label, f"http://127.0.0.1:{port}", ACCESS_KEY, SECRET_KEY, str(ceph), stop, (SWIFT_USER, SWIFT_KEY))


def swift(directory: Path) -> Peer:
    """A Swift all-in-one in ``directory`` with ``s3api``."""
    s3api = aio.ProxyFilter("s3api", "egg:swift#s3api", before_auth=True)
    server = aio.SwiftAIO(directory, filters=(s3api,)).start()
    return Peer("swift", server.url, aio.USER, aio.KEY, str(directory), server.stop, (aio.USER, aio.KEY))


STARTERS: dict[str, Callable[[Path], Peer]] = {
    "radosgw": radosgw,
    "radosgw-memstore": lambda directory: radosgw(directory, memstore=True),
    "swift": swift,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("peer", choices=sorted(STARTERS))
    parser.add_argument("dir", type=Path, help="a new directory for the peer's data, configs and logs")
    args = parser.parse_args()
    peer = STARTERS[args.peer](args.dir.resolve())
    print(
        f"{peer.name} at {peer.url}; measure it with\n  .venv/bin/python benchmarks/gateway.py --vs {peer.url} "
        f"--vs-name {peer.name.split()[0]} --vs-access-key {peer.access_key} --vs-secret-key {peer.secret_key} "
        f"--vs-processes {peer.processes}\nCtrl-C stops it",
        flush=True,
    )
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        peer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
