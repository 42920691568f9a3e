"""A running gateway for the integration tests: real gunicorn serving the real paste.ini over a
real socket, with a few known users, on a fresh cluster of each backend (a temporary embedded
cluster, and the session's Ceph cluster wiped: ``tests/conftest.py``)."""

import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from swiftclient import client as swift

import librgw
from tests.conftest import fresh_cluster

ROOT = Path(__file__).resolve().parents[2]
# uid, Swift subuser, permission, key
USERS = {
    "alice": [("swift", "full-control", "alice-key"), ("reader", "read", "reader-key"), ("rw", "readwrite", "rw-key")],
    "bob": [("swift", "full-control", "bob-key")],
    "root": [("swift", "full-control", "root-key")],
}
# request_log.py's access line: addr - - [time] "METHOD path PROTOCOL" status bytes seconds trans-id [aborted]
ACCESS_LINE = re.compile(r'^\S+ - - \[[^\]]*\] "(\S+) (.*) (\S+)" (\d{3}) \d+ [\d.]+ tx\S+( aborted)?$')

S3_KEYS = {"alice": ("ALICEACCESSKEY000000", "alice-secret"), "bob": ("BOBACCESSKEY00000000", "bob-secret")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Gateway:
    url: str
    port: int
    conf: str
    log: Path
    process: subprocess.Popen
    certificate: str | None = None  # served over https with this self-signed certificate

    def ssl_context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=self.certificate) if self.certificate else None

    @property
    def auth_url(self) -> str:
        return self.url + "/auth/v1.0"

    def login(self, user: str, key: str) -> tuple[str, str]:
        """(storage url, token) for a Swift user."""
        return swift.get_auth(self.auth_url, user, key)

    def connection(self, user: str = "alice:swift", key: str = "alice-key") -> swift.Connection:
        return swift.Connection(self.auth_url, user, key, retries=0)

    def s3(self, uid: str = "alice", **config):
        """A boto3 S3 client signed with ``uid``'s key (path-style addressing)."""
        import boto3
        from botocore.config import Config

        access, secret = S3_KEYS[uid]
        s3_config = {"addressing_style": "path", **config.pop("s3", {})}
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            verify=self.certificate,
            config=Config(s3=s3_config, retries={"max_attempts": 1}, **config),
        )

    def access_log(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every access-log line so far."""
        matches = [ACCESS_LINE.match(line) for line in self.log.read_text(errors="replace").splitlines()]
        return [(m[1], m[2], int(m[4])) for m in matches if m]

    def raw(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
        """(status, headers, body) of one request sent as given, path bytes and all."""
        if self.certificate:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=60, context=self.ssl_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if body is not None and "Content-Length" not in (headers or {}):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


def status_of(call, *args, **kwargs) -> int:
    """The HTTP status of a python-swiftclient call: its error's, or 200."""
    try:
        call(*args, **kwargs)
    except swift.ClientException as error:
        return error.http_status
    return 200


def self_signed_certificate(directory: Path) -> tuple[str, str]:
    """(certificate, key) files of a certificate for 127.0.0.1, made with the openssl CLI."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def start_gateway(
    conf: str,
    log: Path,
    workers: int = 2,
    threads: int = 4,
    command: list[str] | None = None,
    tls: tuple[str, str] | None = None,
) -> Gateway:
    """gunicorn with the gateway's settings (``gunicorn.conf.py``, read from the repository root:
    the worker class of ``librgw/server/worker.py``); or ``command`` as an operator types it
    (``["gunicorn", "--paste", "paste.ini", "-w", "4"]``), run from the repository root with
    ``--bind`` added; over https with ``tls`` (certificate and key files)."""
    port = free_port()
    out = open(log, "w")
    if command is None:
        command = [sys.executable, "-m", "gunicorn", "--paste", str(ROOT / "paste.ini"), "--workers", str(workers)]
        command += ["--threads", str(threads), "--graceful-timeout", "5"]
    else:
        command = [str(Path(sys.executable).with_name(command[0])), *command[1:]]
    tls_args = ["--certfile", tls[0], "--keyfile", tls[1]] if tls else []
    process = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", *tls_args],
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "LIBRGW_CLUSTER": conf, "PYTHONPATH": str(ROOT)},
    )
    scheme = "https" if tls else "http"
    gateway = Gateway(f"{scheme}://127.0.0.1:{port}", port, conf, log, process, tls[0] if tls else None)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if gateway.raw("GET", "/healthcheck")[0] == 200:
                return gateway
        except OSError:  # ssl.SSLError is one too
            time.sleep(0.1)
    stop_gateway(gateway)
    raise RuntimeError("the gateway did not come up:\n" + log.read_text())


def stop_gateway(gateway: Gateway) -> None:
    stop_process(gateway.process)


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, as an operator stops a server; SIGKILL if it has not gone within 15 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def make_users(conf: str) -> None:
    with librgw.connect(conf) as rgw:
        for uid, subusers in USERS.items():
            rgw.users.create(uid, uid.title(), generate_key=False)
            for sub, access, key in subusers:
                rgw.users.create_subuser(uid, sub, access, key)
        rgw.users.modify("root", admin=True)
        for uid, (access, secret) in S3_KEYS.items():
            rgw.users.create_key(uid, access_key=access, secret_key=secret)


def make_cluster(request, backend: str, base: Path) -> str:
    """A fresh cluster on ``backend`` (in ``base`` if embedded) with ``USERS``; its spec."""
    conf = fresh_cluster(request, backend, base)
    make_users(conf)
    return conf


@pytest.fixture
def conf(cluster_spec: str) -> str:
    return cluster_spec


@pytest.fixture
def own_gateway(request, backend: str, tmp_path_factory) -> Iterator[Callable[..., Gateway]]:
    """Start gateways of the test's own, each on a fresh cluster: ``own_gateway(**start_gateway's
    keyword arguments)``. They stop when the test ends. (On Ceph each one wipes the session's
    cluster, so a module uses either these or ``gateway``.)"""
    started: list[Gateway] = []

    def start(**kwargs) -> Gateway:
        base = tmp_path_factory.mktemp("own-gateway")
        started.append(start_gateway(make_cluster(request, backend, base), base / "gunicorn.log", **kwargs))
        return started[-1]

    yield start
    for gateway in started:
        stop_gateway(gateway)


@pytest.fixture(scope="module")
def gateway(request, backend: str, tmp_path_factory) -> Gateway:
    base = tmp_path_factory.mktemp("gateway")
    gateway = start_gateway(make_cluster(request, backend, base), base / "gunicorn.log")
    yield gateway
    stop_gateway(gateway)
    errors = [line for line in gateway.log.read_text().splitlines() if "Traceback" in line]
    assert not errors, "the gateway logged tracebacks:\n" + gateway.log.read_text()[-5000:]
