"""A throwaway OpenStack Swift all-in-one: the proxy, account, container and object servers of
PyPI's ``swift``, and the memcached its tempauth keeps tokens in, on 127.0.0.1.

Swift operators adopt this project's filters by adding them to their proxy's pipeline; this is
that proxy, started the way a Swift developer's all-in-one is (one replica, one device per ring,
rings built with ``swift-ring-builder``, ``mount_check`` off), with extra filters placed before
``proxy-server`` as a ``proxy-server.conf`` would list them. ``make test`` installs ``swift``
(a test extra) and memcached (Debian). Run by hand:

    .venv/bin/python -m tests.swift.aio DIR     # starts one, prints its URL, stops on Ctrl-C

Every process started is stopped by its PID (``SwiftAIO.stop``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

SERVERS = ("account", "container", "object")
USER, KEY = "test:tester", "testing"  # tempauth's classic all-in-one user (an account admin)
RESELLER, RESELLER_KEY = "admin:admin", "admin"  # a reseller admin
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class ProxyFilter:
    """A filter in the proxy's pipeline, just before ``proxy-server`` (or, ``before_auth``, just
    before ``tempauth``, where Swift's ``s3api`` goes): its name, Paste ``use`` and its settings."""

    name: str
    use: str
    settings: dict[str, str] = field(default_factory=dict)
    before_auth: bool = False


def unavailable() -> str | None:
    """Why this machine cannot start a Swift all-in-one, or None if it can."""
    if shutil.which("memcached") is None:
        return "memcached not installed (make test installs it, as root or with sudo)"
    if not (Path(sys.executable).parent / "swift-proxy-server").exists():
        return "PyPI swift is not installed in this venv (a test extra: pip install -e '.[test]')"
    return None


# Why the all-in-one could not run, when a test had to skip for it (``tests/conftest.py`` then
# ends the run with a banner saying so, as for the Ceph backend).
SKIPPED: list[str] = []


def running(directory: Path, filters: tuple[ProxyFilter, ...] = ()) -> Iterator[SwiftAIO]:
    """For a fixture to ``yield from``: an all-in-one started in ``directory`` with ``filters``,
    stopped afterwards; the test is skipped, saying why, on a machine that cannot run one."""
    reason = unavailable()
    if reason:
        SKIPPED.append(reason)
        pytest.skip(f"no Swift all-in-one here: {reason}")
    server = SwiftAIO(directory, filters).start()
    try:
        yield server
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# One pass of a Swift daemon (``--once``), after pointing Swift at our swift.conf: only Swift's
# WSGI servers honour ``swift_dir`` for it, the rest read /etc/swift/swift.conf.
RUN_ONCE = (
    "import importlib, sys; from swift.common.utils import set_swift_dir; from swift.common.daemon import run_daemon; "
    "set_swift_dir(sys.argv[1]); module, _, name = sys.argv[2].rpartition('.'); "
    "run_daemon(getattr(importlib.import_module(module), name), sys.argv[3], once=True)"
)


class SwiftAIO:
    """A Swift all-in-one under ``directory`` (configs, rings, the device, logs)."""

    def __init__(self, directory: Path, filters: tuple[ProxyFilter, ...] = ()) -> None:
        self.dir = directory
        self.filters = filters
        self.bin = Path(sys.executable).parent
        self.ports = {name: free_port() for name in (*SERVERS, "proxy", "memcached")}
        self.processes: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['proxy']}"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/auth/v1.0"

    def start(self) -> SwiftAIO:
        for sub in ("etc", "devices/d1", "run", "log"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self._write_configs()
        self._build_rings()
        try:
            memcached = ["memcached", "-l", "127.0.0.1", "-p", str(self.ports["memcached"]), "-U", "0"]
            if os.geteuid() == 0:
                memcached += ["-u", "root"]  # memcached refuses to run as root unless told whom to run as
            self._spawn("memcached", memcached)
            for server in (*SERVERS, "proxy"):
                conf = self.dir / "etc" / f"{server}-server.conf"
                self._spawn(server, [str(self.bin / f"swift-{server}-server"), str(conf), "-v"])
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def logs(self) -> str:
        """The tail of every server's log, for a failing test's message."""
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in sorted((self.dir / "log").glob("*"))
        )

    def token(self, user: str = USER, key: str = KEY) -> tuple[str, str]:
        """A tempauth token and the storage URL for ``user``."""
        answer = requests.get(self.auth_url, headers={"X-Auth-User": user, "X-Auth-Key": key}, timeout=10)
        answer.raise_for_status()
        return answer.headers["X-Auth-Token"], answer.headers["X-Storage-Url"]

    def run_expirer(self) -> None:
        """Reap the objects whose ``X-Delete-At`` has passed as Swift does: one pass of its
        container-updater (which makes the expiry queue's containers, created as the object
        servers queued the objects, known to the hidden ``.expiring_objects`` account), then
        one of ``swift-object-expirer``, which deletes through an internal proxy of its own."""
        common = (
            f"[DEFAULT]\nswift_dir = {self.dir / 'etc'}\ndevices = {self.dir / 'devices'}\nmount_check = false\n"
            f"user = {pwd.getpwuid(os.getuid()).pw_name}\nlog_address = /dev/null\n\n"
        )
        updater = "swift.container.updater.ContainerUpdater"
        self._run_once(updater, "container-updater", common + "[container-updater]\n")
        self._run_once(
            "swift.obj.expirer.ObjectExpirer",
            "object-expirer",
            common
            + "[object-expirer]\n\n[pipeline:main]\npipeline = catch_errors cache proxy-server\n\n"
            + "[app:proxy-server]\nuse = egg:swift#proxy\n\n[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n"
            + f"[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:{self.ports['memcached']}\n",
        )

    def _run_once(self, daemon: str, name: str, conf_text: str) -> None:
        conf = self.dir / "etc" / f"{name}.conf"
        conf.write_text(conf_text)
        done = subprocess.run(
            [sys.executable, "-c", RUN_ONCE, str(self.dir / "etc"), daemon, str(conf)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{name}: {done.stdout}{done.stderr}")

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.dir / "log" / f"{name}.log", "ab")  # noqa: SIM115 (the process keeps it)
        with log:
            self.processes.append(
                subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.dir)
            )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[0]} exited with {process.returncode}\n{self.logs()}")
            try:
                if requests.get(f"{self.url}/info", timeout=2).status_code == 200 and self._servers_answer():
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the Swift all-in-one did not start within {START_TIMEOUT_S} s\n{self.logs()}")

    def _servers_answer(self) -> bool:
        for server in SERVERS:
            try:
                requests.get(f"http://127.0.0.1:{self.ports[server]}/healthcheck", timeout=2)
            except requests.ConnectionError:
                return False
        return True

    def _build_rings(self) -> None:
        builder = str(self.bin / "swift-ring-builder")
        for server in SERVERS:
            ring = str(self.dir / "etc" / f"{server}.builder")
            for args in (
                ["create", "0", "1", "1"],
                ["add", f"r1z1-127.0.0.1:{self.ports[server]}/d1", "1"],
                ["rebalance"],
            ):
                done = subprocess.run([builder, ring, *args], capture_output=True, text=True, timeout=60)
                if done.returncode not in (0, 1):  # 1: a warning, e.g. rebalancing a one-device ring
                    raise RuntimeError(f"swift-ring-builder {' '.join(args)}: {done.stdout}{done.stderr}")

    def _write_configs(self) -> None:
        etc = self.dir / "etc"
        (etc / "swift.conf").write_text(
            "[swift-hash]\nswift_hash_path_suffix = librgw-tests\nswift_hash_path_prefix = librgw\n\n"
            "[storage-policy:0]\nname = default-placement\ndefault = yes\n"  # as RGW names its placement
        )
        common = (
            f"[DEFAULT]\nbind_ip = 127.0.0.1\nswift_dir = {etc}\ndevices = {self.dir / 'devices'}\n"
            "mount_check = false\nworkers = 0\nlog_name = {name}\nlog_address = /dev/null\n"
        )
        for server in SERVERS:
            (etc / f"{server}-server.conf").write_text(
                common.format(name=server)
                + f"bind_port = {self.ports[server]}\n\n"
                + f"[pipeline:main]\npipeline = healthcheck {server}-server\n\n"
                + "[filter:healthcheck]\nuse = egg:swift#healthcheck\n\n"
                + f"[app:{server}-server]\nuse = egg:swift#{server}\n"
            )
        before = " ".join(f.name for f in self.filters if f.before_auth)
        extra = " ".join(f.name for f in self.filters if not f.before_auth)
        sections = "".join(
            f"\n[filter:{f.name}]\nuse = {f.use}\n" + "".join(f"{k} = {v}\n" for k, v in f.settings.items())
            for f in self.filters
        )
        (etc / "proxy-server.conf").write_text(
            common.format(name="proxy")
            + f"bind_port = {self.ports['proxy']}\n\n"
            + "[pipeline:main]\n"
            + f"pipeline = catch_errors healthcheck proxy-logging cache {before} tempauth {extra} proxy-logging"
            + " proxy-server\n\n"
            + "[app:proxy-server]\nuse = egg:swift#proxy\n"
            + "account_autocreate = true\nallow_account_management = true\n\n"
            + "[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n"
            + "[filter:healthcheck]\nuse = egg:swift#healthcheck\n\n"
            + "[filter:proxy-logging]\nuse = egg:swift#proxy_logging\n\n"
            + f"[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:{self.ports['memcached']}\n\n"
            + "[filter:tempauth]\nuse = egg:swift#tempauth\n"
            + f"user_test_tester = {KEY} .admin\nuser_admin_admin = {RESELLER_KEY} .admin .reseller_admin\n"
            + sections
        )


def main() -> None:
    directory = Path(sys.argv[1])
    aio = SwiftAIO(directory).start()
    print(f"Swift all-in-one at {aio.url} (auth {aio.auth_url}, user {USER} key {KEY}); Ctrl-C stops it", flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        aio.stop()
        os.write(1, b"stopped\n")


if __name__ == "__main__":
    main()
