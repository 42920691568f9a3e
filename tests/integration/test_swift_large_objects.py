"""Large objects through a real gunicorn gateway (``paste.ini``'s pipeline, with ``slo`` and
``dlo``): ``swift upload --segment-size 1M`` of a 25 MiB file, with and without ``--use-slo``,
downloads whole through the swift CLI and through boto3's GetObject (the ``s3`` filter's native
GET goes down through ``slo`` and ``dlo``), and the failure paths a client can meet: a wrong
segment ETag (400, nothing stored), a missing segment, ranges, a segment deleted after its
manifest was written (the body stops short: the server aborts the connection, and logs why).

Each test has a gateway of its own (``own_gateway``), whose log may show that abort.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
SWIFT = [sys.executable, "-m", "swiftclient.shell"]


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    path.write_bytes(os.urandom(25 * MiB))
    return path


def swift_cli(gateway, *args: str, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ST_", "OS_"))}
    env.update(ST_AUTH=gateway.auth_url, ST_USER="alice:swift", ST_KEY="alice-key")
    done = subprocess.run([*SWIFT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


# Without a flag, python-swiftclient makes an SLO when /info lists ``slo`` (as ours does), so
# a DLO needs --use-dlo.
@pytest.mark.parametrize(
    ("flag", "use_slo"), [("--use-slo", True), (None, True), ("--use-dlo", False)], ids=["slo", "default", "dlo"]
)
def test_segmented_upload_downloads_whole_with_swift_and_s3(own_gateway, big_file, tmp_path, flag, use_slo):
    gateway = own_gateway()
    container = (flag or "--default").lstrip("-").replace("use-", "")
    flags = ["--segment-size", "1M", *([flag] if flag else [])]
    swift_cli(gateway, "upload", container, big_file.name, *flags, cwd=big_file.parent)
    expected = md5_hex(big_file.read_bytes())
    conn = gateway.connection()
    head = conn.head_object(container, big_file.name)
    assert int(head["content-length"]) == 25 * MiB
    assert (head.get("x-static-large-object") == "True") == use_slo, head
    assert ("x-object-manifest" in head) != use_slo, head
    _, segments = conn.get_container(f"{container}_segments")
    assert len(segments) == 25
    swift_cli(gateway, "download", container, big_file.name, "-o", str(tmp_path / "out"))
    assert md5_hex((tmp_path / "out").read_bytes()) == expected
    got = gateway.s3().get_object(Bucket=container, Key=big_file.name)
    assert md5_hex(got["Body"].read()) == expected and got["ContentLength"] == 25 * MiB
    ranged = gateway.s3().get_object(Bucket=container, Key=big_file.name, Range=f"bytes={MiB - 10}-{MiB + 9}")
    assert ranged["Body"].read() == big_file.read_bytes()[MiB - 10 : MiB + 10]


def test_failure_paths(own_gateway):
    gateway = own_gateway()  # its log may hold the aborted GET's traceback, which `gateway` refuses
    conn = gateway.connection()
    conn.put_container("fails")
    conn.put_container("fails_segments")
    parts = [b"a" * 100, b"b" * 100]
    for index, data in enumerate(parts):
        conn.put_object("fails_segments", f"p{index}", data)
    wrong = [{"path": f"/fails_segments/p{i}", "etag": md5_hex(d)} for i, d in enumerate(parts)]
    wrong[1]["etag"] = "0" * 32
    url, token = conn.get_auth()
    path = url[len(gateway.url) :] + "/fails/obj"
    status, _, body = gateway.raw(
        "PUT", path + "?multipart-manifest=put", {"X-Auth-Token": token}, json.dumps(wrong).encode()
    )
    assert status == 400 and body == b"Errors:\n/fails_segments/p1, Etag Mismatch\n"
    assert gateway.raw("HEAD", path, {"X-Auth-Token": token})[0] == 404
    missing = [{"path": "/fails_segments/p0"}, {"path": "/fails_segments/nope"}]
    status, _, body = gateway.raw(
        "PUT", path + "?multipart-manifest=put", {"X-Auth-Token": token}, json.dumps(missing).encode()
    )
    assert status == 400 and body == b"Errors:\n/fails_segments/nope, 404 Not Found\n"
    good = [{"path": f"/fails_segments/p{i}"} for i in range(2)]
    status, headers, _ = gateway.raw(
        "PUT", path + "?multipart-manifest=put", {"X-Auth-Token": token}, json.dumps(good).encode()
    )
    assert status == 201
    status, headers, body = gateway.raw("GET", path, {"X-Auth-Token": token, "Range": "bytes=95-104"})
    assert status == 206 and body == b"a" * 5 + b"b" * 5 and headers["Content-Range"] == "bytes 95-104/200"
    assert gateway.raw("GET", path, {"X-Auth-Token": token, "Range": "bytes=300-"})[0] == 416
    conn.delete_object("fails_segments", "p1")
    status, _, body = gateway.raw("GET", path, {"X-Auth-Token": token, "Range": "bytes=150-"})
    assert status == 409  # the first segment it needs is gone, as Swift answers
    with pytest.raises(http.client.IncompleteRead):  # the body starts, then stops at the missing segment
        gateway.raw("GET", path, {"X-Auth-Token": token})
