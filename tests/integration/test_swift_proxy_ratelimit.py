"""This project's ``ratelimit`` inside a real OpenStack Swift proxy (``tests/swift/aio.py``),
its counters in the proxy's memcache: a container PUT over the account's rate refused ``498``
with ``Retry-After``, object writes waiting their turn; and all four of this project's
Swift-protocol filters (tempurl, formpost, container and account quotas, ratelimit) working
together in one proxy pipeline."""

from __future__ import annotations

import hashlib
import hmac
import socket
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
LIMITED = "AUTH_admin"  # the reseller's account is limited; the tester's (AUTH_test) whitelisted
LIMITS = {
    "account_ratelimit": "0.05",  # one container PUT or DELETE per 20 s
    "max_sleep_time_seconds": "2",
    "container_ratelimit_2": "5",  # object writes in a container of 2+ objects: 5 a second
    "container_size_cache_seconds": "0",
    "account_whitelist": "AUTH_test",
}


@pytest.fixture(scope="module")
def swift_proxy(tmp_path_factory):
    """A Swift all-in-one whose proxy runs tempurl, formpost, both quota filters and ratelimit
    (after Swift's ``cache`` and ``tempauth``)."""
    yield from aio.running(
        Path(tmp_path_factory.mktemp("swift-aio")),
        filters=(
            aio.ProxyFilter("tempurl", "egg:librgw#tempurl"),
            aio.ProxyFilter("formpost", "egg:librgw#formpost"),
            aio.ProxyFilter("container_quotas", "egg:librgw#container_quotas"),
            aio.ProxyFilter("account_quotas", "egg:librgw#account_quotas"),
            aio.ProxyFilter("ratelimit", "egg:librgw#ratelimit", LIMITS),
        ),
    )


@pytest.fixture(scope="module")
def limited(swift_proxy) -> tuple[str, dict]:
    """The reseller's account, with one container PUT (the account's one turn) made."""
    token, url = swift_proxy.token(aio.RESELLER, aio.RESELLER_KEY)
    auth = {"X-Auth-Token": token}
    assert requests.put(f"{url}/first", headers=auth, timeout=10).status_code == 201
    return url, auth


def memcached_get(port: int, key: str) -> bytes | None:
    """The value memcached holds for Swift's ``MemcacheRing`` key ``key`` (it stores md5(key))."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(f"get {hashlib.md5(key.encode()).hexdigest()}\r\n".encode())
        answer = b""
        while not answer.endswith(b"END\r\n"):
            answer += conn.recv(4096)
    lines = answer.split(b"\r\n")
    return lines[1] if lines[0].startswith(b"VALUE") else None


def test_a_container_put_over_the_account_rate_is_498_through_memcache(swift_proxy, limited):
    url, auth = limited
    answer = requests.put(f"{url}/second", headers=auth, timeout=10)
    assert (answer.status_code, answer.reason, answer.content) == (498, "Rate Limited", b"Slow down")
    assert 1 <= int(answer.headers["Retry-After"]) <= 18
    assert requests.head(f"{url}/second", headers=auth, timeout=10).status_code == 404
    turn = memcached_get(swift_proxy.ports["memcached"], f"ratelimit/{LIMITED}")
    assert turn is not None and int(turn) > time.time() * 1000  # the next free moment, in ms


def test_object_writes_wait_their_turn_in_a_swift_proxy(limited):
    url, auth = limited
    for name in ("a", "b"):  # 0 and 1 objects: not limited
        assert requests.put(f"{url}/first/{name}", data=b"x", headers=auth, timeout=10).status_code == 201
    started = time.monotonic()
    for name in ("c", "d", "e", "f"):
        assert requests.put(f"{url}/first/{name}", data=b"x", headers=auth, timeout=10).status_code == 201
    assert time.monotonic() - started >= 0.55  # three waits of 0.2 s


def librgw_tempurl(method: str, path: str) -> str:
    command = [str(BIN / "librgw"), "tempurl", method, "60", path, KEY]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout.strip()


def form_fields(path: str) -> dict[str, str]:
    expires = int(time.time()) + 60
    signature = hmac.new(KEY.encode(), f"{path}\n\n1024\n1\n{expires}".encode(), hashlib.sha1).hexdigest()
    return {"max_file_size": "1024", "max_file_count": "1", "expires": str(expires), "signature": signature}


def test_all_four_filters_in_one_swift_proxy_pipeline(swift_proxy):
    token, url = swift_proxy.token()
    auth = {"X-Auth-Token": token}
    account_path = url.split(str(swift_proxy.ports["proxy"]), 1)[1]
    assert requests.post(url, headers={**auth, "X-Account-Meta-Temp-URL-Key": KEY}, timeout=10).status_code == 204
    quota = {"X-Container-Meta-Quota-Count": "2"}
    assert requests.put(f"{url}/shared", headers={**auth, **quota}, timeout=10).status_code == 201
    assert requests.put(f"{url}/other", headers=auth, timeout=10).status_code == 201  # whitelisted: no wait
    # tempurl
    assert requests.put(f"{url}/shared/cat.jpg", data=b"purr", headers=auth, timeout=10).status_code == 201
    signed = librgw_tempurl("GET", f"{account_path}/shared/cat.jpg")
    assert requests.get(swift_proxy.url + signed, timeout=10).content == b"purr"
    # formpost
    path = f"{account_path}/shared/"
    files = {"file": ("form.txt", b"posted", "text/plain")}
    answer = requests.post(swift_proxy.url + path, data=form_fields(path), files=files, timeout=10)
    assert answer.status_code == 201, answer.text
    # container_quotas: a third object is over the count
    over = requests.put(f"{url}/shared/third", data=b"x", headers=auth, timeout=10)
    assert (over.status_code, over.content) == (413, b"Upload exceeds quota.")
    # account_quotas: set by the reseller, then an upload over it refused
    reseller = {"X-Auth-Token": swift_proxy.token(aio.RESELLER, aio.RESELLER_KEY)[0]}
    bytes_quota = {"X-Account-Meta-Quota-Bytes": "12"}
    assert requests.post(url, headers={**reseller, **bytes_quota}, timeout=10).status_code == 204
    assert requests.put(f"{url}/other/big", data=b"x" * 20, headers=auth, timeout=10).status_code == 413
    assert requests.put(f"{url}/other/small", data=b"x", headers=auth, timeout=10).status_code == 201
