"""Temp URLs over real sockets: ``swift tempurl`` URLs against our gunicorn gateway with curl,
``librgw tempurl`` URLs against it, and this project's ``tempurl`` filter inside a real
OpenStack Swift proxy (``tests/swift/aio.py``), checked with URLs made by both tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.swift import aio

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
KEY = "tempurl-secret"


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
    reason = aio.unavailable()
    if reason:
        pytest.skip(f"no Swift all-in-one here: {reason}")
    server = aio.SwiftAIO(
        Path(tmp_path_factory.mktemp("swift-aio")), filters=(aio.ProxyFilter("tempurl", "egg:librgw#tempurl"),)
    ).start()
    yield server
    server.stop()


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
