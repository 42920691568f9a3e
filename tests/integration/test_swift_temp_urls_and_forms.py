"""Temp URLs and form posts over real sockets: ``swift tempurl`` URLs against our gunicorn
gateway with curl, ``librgw tempurl`` URLs against it, browser-style form uploads with
``requests``, and this project's ``tempurl`` and ``formpost`` filters inside a real OpenStack
Swift proxy (``tests/swift/aio.py``), checked with URLs made by both tools."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.swift import aio

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
KEY = "tempurl-secret"


def form_post(url: str, path: str, files: dict[str, bytes], max_file_size: int = 1024, redirect: str = ""):
    """A browser's form upload of ``files`` to ``url`` (whose path is ``path``), signed with KEY."""
    expires = int(time.time()) + 60
    message = f"{path}\n{redirect}\n{max_file_size}\n{len(files)}\n{expires}".encode()
    fields = {"max_file_size": str(max_file_size), "max_file_count": str(len(files)), "expires": str(expires)}
    fields["signature"] = hmac.new(KEY.encode(), message, hashlib.sha256).hexdigest()
    if redirect:
        fields["redirect"] = redirect
    uploads = {f"file{i}": (name, data, "text/plain") for i, (name, data) in enumerate(files.items())}
    return requests.post(url, data=fields, files=uploads, allow_redirects=False, timeout=30)


def curl(method: str, url: str, data: bytes | None = None) -> tuple[int, bytes]:
    """(status, body) of ``curl`` sending ``method`` to ``url`` (with ``data`` as the body)."""
    command = ["curl", "-sS", "-g", "-X", method, "-o", "-", "-w", "\n%{http_code}", url]
    if method == "HEAD":
        command[command.index("-X") : command.index("-X") + 2] = ["-I"]
    if data is not None:
        command += ["--data-binary", "@-", "-H", "Content-Type: application/octet-stream"]
    done = subprocess.run(command, input=data, capture_output=True, timeout=60, check=True)
    body, _, status = done.stdout.rpartition(b"\n")
    return int(status), body


def swift_tempurl(method: str, seconds: str, path: str, key: str, *options: str) -> str:
    done = subprocess.run(
        [str(BIN / "swift"), "tempurl", *options, method, seconds, path, key],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def librgw_tempurl(method: str, seconds: str, path: str, key: str, *options: str) -> str:
    done = subprocess.run(
        [str(BIN / "librgw"), "tempurl", method, seconds, path, key, *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def photos(gateway):
    """AUTH_alice/photos/cat.jpg on the gateway, with the account's temp URL key set."""
    conn = gateway.connection()
    conn.post_account({"X-Account-Meta-Temp-URL-Key": KEY})
    conn.put_container("photos")
    conn.put_object("photos", "cat.jpg", b"meow" * 100)
    return gateway


def test_swift_tempurl_urls_work_against_the_gateway_with_curl(photos):
    for digest in ("sha1", "sha256", "sha512"):
        path = swift_tempurl("GET", "60", "/v1/AUTH_alice/photos/cat.jpg", KEY, "--digest", digest)
        assert curl("GET", photos.url + path) == (200, b"meow" * 100), digest
    iso = swift_tempurl("GET", "60", "/v1/AUTH_alice/photos/cat.jpg", KEY, "--iso8601")
    assert curl("GET", photos.url + iso)[0] == 200
    put = swift_tempurl("PUT", "60", "/v1/AUTH_alice/photos/new.bin", KEY)
    assert curl("PUT", photos.url + put, b"fresh")[0] == 201
    assert photos.connection().get_object("photos", "new.bin")[1] == b"fresh"
    prefix = swift_tempurl("GET", "60", "/v1/AUTH_alice/photos/", KEY, "--prefix-based")
    assert curl("GET", photos.url + prefix.replace("/photos/?", "/photos/cat.jpg?"))[0] == 200


def test_refused_urls_over_the_wire(photos):
    good = librgw_tempurl("GET", "60", "/v1/AUTH_alice/photos/cat.jpg", KEY)
    assert curl("GET", photos.url + good)[0] == 200
    expired = librgw_tempurl("GET", "1", "/v1/AUTH_alice/photos/cat.jpg", KEY, "--absolute")
    assert curl("GET", photos.url + expired) == (401, b"401 Unauthorized: Temp URL invalid\n")
    tampered = good[:-1] + ("1" if not good.endswith("1") else "2")  # another expiry than the one signed
    assert curl("GET", photos.url + tampered)[0] == 401
    assert curl("DELETE", photos.url + good)[0] == 401  # a GET URL does not delete
    assert photos.connection().head_object("photos", "cat.jpg")["content-length"] == "400"


@pytest.fixture(scope="module")
def swift_proxy(tmp_path_factory):
    """A real Swift all-in-one whose proxy runs this project's tempurl filter before tempauth."""
    yield from aio.running(
        Path(tmp_path_factory.mktemp("swift-aio")),
        filters=(aio.ProxyFilter("tempurl", "egg:librgw#tempurl"), aio.ProxyFilter("formpost", "egg:librgw#formpost")),
    )


def test_our_filter_in_a_swift_proxy_takes_urls_from_both_tools(swift_proxy):
    token, url = swift_proxy.token()
    headers = {"X-Auth-Token": token}
    account_path = url.split(str(swift_proxy.ports["proxy"]), 1)[1]
    assert requests.post(url, headers={**headers, "X-Account-Meta-Temp-URL-Key": KEY}, timeout=10).status_code == 204
    assert requests.put(f"{url}/photos", headers=headers, timeout=10).status_code == 201
    assert requests.put(f"{url}/photos/cat.jpg", data=b"purr", headers=headers, timeout=10).status_code == 201
    ours = librgw_tempurl("GET", "60", f"{account_path}/photos/cat.jpg", KEY)
    assert curl("GET", swift_proxy.url + ours) == (200, b"purr")
    theirs = swift_tempurl("GET", "60", f"{account_path}/photos/cat.jpg", KEY, "--digest", "sha512")
    assert curl("GET", swift_proxy.url + theirs) == (200, b"purr")
    put = librgw_tempurl("PUT", "60", f"{account_path}/photos/up.bin", KEY)
    assert curl("PUT", swift_proxy.url + put, b"uploaded")[0] == 201
    assert requests.get(f"{url}/photos/up.bin", headers=headers, timeout=10).content == b"uploaded"
    assert curl("DELETE", swift_proxy.url + ours)[0] == 401
    expired = librgw_tempurl("GET", "1", f"{account_path}/photos/cat.jpg", KEY, "--absolute")
    assert curl("GET", swift_proxy.url + expired) == (401, b"401 Unauthorized: Temp URL invalid\n")
    assert curl("GET", f"{swift_proxy.url}{account_path}/photos/cat.jpg")[0] == 401  # and no token, no URL: no access


def test_form_posts_upload_through_the_gateway(photos):
    path = "/v1/AUTH_alice/photos/forms/"
    answer = form_post(photos.url + path, path, {"a.txt": b"alpha", "b.txt": b"beta"}, redirect="http://app/done")
    assert answer.status_code == 303 and answer.headers["Location"] == "http://app/done?status=201&message="
    conn = photos.connection()
    assert conn.get_object("photos", "forms/a.txt")[1] == b"alpha"
    assert conn.get_object("photos", "forms/b.txt")[1] == b"beta"
    too_big = form_post(photos.url + path, path, {"c.txt": b"c" * 2000})
    assert (too_big.status_code, too_big.content) == (400, b"FormPost: max_file_size exceeded")
    forged = form_post(photos.url + path, "/v1/AUTH_alice/other/", {"d.txt": b"d"})
    assert (forged.status_code, forged.content) == (401, b"FormPost: Invalid Signature")


def test_our_form_posts_in_a_swift_proxy(swift_proxy):
    token, url = swift_proxy.token()
    account_path = url.split(str(swift_proxy.ports["proxy"]), 1)[1]
    headers = {"X-Auth-Token": token}
    requests.post(url, headers={**headers, "X-Account-Meta-Temp-URL-Key": KEY}, timeout=10).raise_for_status()
    requests.put(f"{url}/forms", headers=headers, timeout=10).raise_for_status()
    path = f"{account_path}/forms"
    answer = form_post(swift_proxy.url + path, path, {"hello.txt": b"hello swift"})
    assert (answer.status_code, answer.content) == (201, b"201 Created")
    assert requests.get(f"{url}/forms/hello.txt", headers=headers, timeout=10).content == b"hello swift"
    forged = form_post(swift_proxy.url + path, f"{account_path}/elsewhere", {"x.txt": b"x"})
    assert forged.status_code == 401
