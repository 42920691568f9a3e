"""Object expiry over real sockets: ``X-Delete-At`` / ``X-Delete-After`` with python-swiftclient
against our gunicorn gateway (the ``expiration`` filter and the gateway), ``librgw expirer``
reaping, and this project's ``expiration`` filter inside a real OpenStack Swift proxy
(``tests/swift/aio.py``), where Swift's own machinery keeps and enforces the time."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from swiftclient.exceptions import ClientException

from tests.swift import aio

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def alice(gateway):
    conn = gateway.connection()
    conn.put_container("tmp")
    return conn


def expirer(gateway) -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "librgw.cli.main", "-c", gateway.conf, "-f", "json", "expirer", "--once"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(run.stdout)


def test_a_past_or_malformed_x_delete_at_is_400_and_stores_nothing(alice):
    for headers, message in (
        ({"X-Delete-At": str(int(time.time()) - 10)}, b"X-Delete-At in past"),
        ({"X-Delete-At": "tomorrow"}, b"Non-integer X-Delete-At"),
        ({"X-Delete-After": "-1"}, b"X-Delete-After in past"),
        ({"X-Delete-After": "1.5"}, b"Non-integer X-Delete-After"),
    ):
        with pytest.raises(ClientException) as caught:
            alice.put_object("tmp", "refused", b"x", headers=headers)
        assert (caught.value.http_status, caught.value.http_response_content) == (400, message)
    with pytest.raises(ClientException) as caught:
        alice.head_object("tmp", "refused")
    assert caught.value.http_status == 404


def test_x_delete_after_expires_the_object_at_once_and_the_expirer_reaps_it(gateway, alice):
    # 8 s: long enough for the reads below on a loaded machine, which wait out the rest of it
    alice.put_object("tmp", "brief", b"soon gone", headers={"X-Delete-After": "8"})
    head = alice.head_object("tmp", "brief")
    delete_at = int(head["x-delete-at"])
    assert delete_at - time.time() <= 8
    assert alice.get_object("tmp", "brief")[1] == b"soon gone"
    alice.put_object("tmp", "lasting", b"stays", headers={"X-Delete-After": "3600"})
    time.sleep(max(0.0, delete_at + 1 - time.time()))
    for read in (alice.get_object, alice.head_object):
        with pytest.raises(ClientException) as caught:
            read("tmp", "brief")
        assert caught.value.http_status == 404
    # listed until reaped, as in Swift and RGW, whose listings only the expirer changes
    assert [o["name"] for o in alice.get_container("tmp")[1]] == ["brief", "lasting"]
    report = expirer(gateway)
    assert report["deleted"] >= 1 and report["failed"] == 0
    assert [o["name"] for o in alice.get_container("tmp")[1]] == ["lasting"]
    assert alice.head_container("tmp")["x-container-object-count"] == "1"


def test_post_and_copy_set_their_own_time(alice):
    at = int(time.time()) + 3600
    alice.put_object("tmp", "src", b"data")
    alice.post_object("tmp", "src", headers={"X-Delete-At": str(at)})
    assert alice.head_object("tmp", "src")["x-delete-at"] == str(at)
    alice.copy_object("tmp", "src", "/tmp/copy", headers={"X-Delete-After": "7200"})
    assert int(alice.head_object("tmp", "copy")["x-delete-at"]) > at
    with pytest.raises(ClientException) as caught:
        alice.post_object("tmp", "src", headers={"X-Delete-At": "1"})
    assert caught.value.http_status == 400
    alice.post_object("tmp", "src", headers={"X-Object-Meta-Color": "red"})
    assert "x-delete-at" not in alice.head_object("tmp", "src")  # a POST without it removes it, as Swift's


@pytest.fixture(scope="module")
def swift_proxy(tmp_path_factory):
    """A real Swift all-in-one whose proxy runs this project's expiration filter."""
    yield from aio.running(
        Path(tmp_path_factory.mktemp("swift-aio")), filters=(aio.ProxyFilter("expiration", "egg:librgw#expiration"),)
    )


def test_our_filter_in_a_swift_proxy_checks_and_swift_keeps_the_time(swift_proxy):
    token, url = swift_proxy.token()
    headers = {"X-Auth-Token": token}
    assert requests.put(f"{url}/tmp", headers=headers, timeout=10).status_code == 201
    past = requests.put(
        f"{url}/tmp/o", data=b"x", headers={**headers, "X-Delete-At": str(int(time.time()) - 5)}, timeout=10
    )
    assert (past.status_code, past.content) == (400, b"X-Delete-At in past")
    bad = requests.put(f"{url}/tmp/o", data=b"x", headers={**headers, "X-Delete-After": "soon"}, timeout=10)
    assert (bad.status_code, bad.content) == (400, b"Non-integer X-Delete-After")
    put = requests.put(f"{url}/tmp/o", data=b"x", headers={**headers, "X-Delete-After": "2"}, timeout=10)
    assert put.status_code == 201
    at = int(requests.head(f"{url}/tmp/o", headers=headers, timeout=10).headers["X-Delete-At"])
    assert 0 < at - time.time() <= 2
    time.sleep(3)
    assert requests.get(f"{url}/tmp/o", headers=headers, timeout=10).status_code == 404  # Swift's object server
    assert requests.get(f"{url}/tmp", headers=headers, timeout=10).text == "o\n"  # listed until reaped
    swift_proxy.run_expirer()  # Swift's own object-expirer reaps it, from the queue Swift keeps
    assert requests.get(f"{url}/tmp", headers=headers, timeout=10).status_code == 204
