"""``bulk``'s extract-archive through a real gunicorn gateway: an archive uploaded with curl (and
streamed chunked with ``requests``) read back with python-swiftclient; a corrupt archive, a format
not served, and a file over a container's quota, each reported as Swift reports them."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.slow


def make_archive(path: Path, files: dict[str, bytes], compression: str) -> Path:
    with tarfile.open(path, f"w:{compression}") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def alice(gateway) -> tuple[str, dict]:
    url, token = gateway.login("alice:swift", "alice-key")
    return url, {"X-Auth-Token": token}


def test_curl_uploads_an_archive_into_the_account(gateway, alice, tmp_path):
    url, auth = alice
    prefix = uuid.uuid4().hex[:8]
    big = os.urandom(3 * 1024 * 1024)  # read from the archive as it arrives (curl sends Expect: 100-continue)
    files = {
        f"{prefix}-a/big.bin": big,
        f"{prefix}-a/x/small.txt": b"small",
        f"{prefix}-b/one": b"1",
        "top": b"skipped",
    }
    tar = make_archive(tmp_path / "up.tar.gz", files, "gz")
    command = ["curl", "-sS", "-T", str(tar), "-H", f"X-Auth-Token: {auth['X-Auth-Token']}"]
    command += ["-H", "Accept: application/json", f"{url}?extract-archive=tar.gz"]
    report = json.loads(subprocess.run(command, capture_output=True, check=True, timeout=120).stdout)
    assert report == {"Response Status": "201 Created", "Response Body": "", "Number Files Created": 3, "Errors": []}
    conn = gateway.connection()
    headers, body = conn.get_object(f"{prefix}-a", "big.bin")
    assert hashlib.md5(body).hexdigest() == hashlib.md5(big).hexdigest() == headers["etag"]
    assert conn.get_object(f"{prefix}-a", "x/small.txt")[1] == b"small"
    assert [item["name"] for item in conn.get_container(f"{prefix}-b")[1]] == ["one"]


def test_a_chunked_bz2_upload_into_a_container_prefix(gateway, alice, tmp_path):
    url, auth = alice
    container = f"box-{uuid.uuid4().hex[:8]}"
    gateway.connection().put_container(container)
    data = make_archive(tmp_path / "up.tar.bz2", {"a.txt": b"alpha", "d/b.txt": b"beta"}, "bz2").read_bytes()
    chunks = iter([data[i : i + 1000] for i in range(0, len(data), 1000)])  # Transfer-Encoding: chunked
    answer = requests.put(f"{url}/{container}/in?extract-archive=tar.bz2", data=chunks, headers=auth, timeout=60)
    assert (answer.status_code, answer.headers["Content-Type"]) == (200, "text/plain")  # as Swift sends it, no charset
    assert answer.content == b"Number Files Created: 2\nResponse Body: \nResponse Status: 201 Created\nErrors:\n"
    names = [item["name"] for item in gateway.connection().get_container(container)[1]]
    assert names == ["in/a.txt", "in/d/b.txt"]


def test_refused_archives_and_a_file_over_a_quota(gateway, alice, tmp_path):
    url, auth = alice
    answer = requests.put(f"{url}?extract-archive=zip", data=b"PK", headers=auth, timeout=30)
    assert (answer.status_code, answer.content) == (400, b"Unsupported archive format")
    answer = requests.put(f"{url}?extract-archive=tar.gz", data=b"\x1f\x8b garbage", headers=auth, timeout=30)
    assert answer.status_code == 200
    assert b"Response Status: 400 Bad Request" in answer.content and b"Invalid Tar File: " in answer.content
    container = f"quota-{uuid.uuid4().hex[:8]}"
    gateway.connection().put_container(container, {"X-Container-Meta-Quota-Bytes": "10"})
    tar = make_archive(tmp_path / "q.tar", {"fits": b"12345", "over": b"x" * 20}, "")
    answer = requests.put(
        f"{url}/{container}?extract-archive=tar", data=tar.read_bytes(), headers={**auth, "Accept": "application/json"}
    )
    report = json.loads(answer.content)
    assert (report["Number Files Created"], report["Response Status"]) == (1, "400 Bad Request")
    assert report["Errors"] == [[f"{container}/over", "413 Request Entity Too Large"]]
    assert [item["name"] for item in gateway.connection().get_container(container)[1]] == ["fits"]
