"""``ratelimit`` through a real gunicorn gateway of two workers, sharing one counters file:
container writes over the account's rate refused ``498`` (with ``Retry-After``) whichever worker
takes them, object writes waiting their turn at the container-size rate, a blacklisted account's
``497``, and ``/info``."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT, Gateway, make_cluster, start_gateway, stop_gateway

pytestmark = pytest.mark.slow

LIMITS = {
    "account_ratelimit": "0.05",  # one container PUT or DELETE per 20 s
    "max_sleep_time_seconds": "2",
    "container_ratelimit_2": "5",  # object writes in a container of 2+ objects: 5 a second
    "container_size_cache_seconds": "0",
    "account_blacklist": "AUTH_bob",
}


@pytest.fixture(scope="module")
def limited_gateway(request, backend: str, tmp_path_factory) -> Gateway:
    """The gateway of ``paste.ini`` with ``LIMITS`` set in its ``[filter:ratelimit]``."""
    base = Path(tmp_path_factory.mktemp("ratelimit"))
    limits = {**LIMITS, "counters": str(base / "counters.sqlite")}
    settings = "".join(f"{key} = {value}\n" for key, value in limits.items())
    section = "[filter:ratelimit]\nuse = egg:librgw#ratelimit\n"
    text = (ROOT / "paste.ini").read_text()
    assert section in text
    (base / "paste.ini").write_text(text.replace(section, section + settings))
    command = ["gunicorn", "--paste", str(base / "paste.ini"), "--workers", "2", "--threads", "4"]
    gateway = start_gateway(make_cluster(request, backend, base), base / "gunicorn.log", command=command)
    yield gateway
    stop_gateway(gateway)
    assert "Traceback" not in gateway.log.read_text(), gateway.log.read_text()[-5000:]
    assert (base / "counters.sqlite").exists()


@pytest.fixture(scope="module")
def alice(limited_gateway) -> tuple[str, dict]:
    url, token = limited_gateway.login("alice:swift", "alice-key")
    return url[len(limited_gateway.url) :], {"X-Auth-Token": token}


def test_container_puts_over_the_account_rate_are_498_with_retry_after_in_both_workers(limited_gateway, alice):
    path, auth = alice
    names = [f"burst-{uuid.uuid4().hex[:8]}" for _ in range(8)]
    with ThreadPoolExecutor(len(names)) as pool:  # separate connections, taken by both workers
        answers = list(pool.map(lambda name: limited_gateway.raw("PUT", f"{path}/{name}", auth), names))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [201] + [498] * 7, answers
    refused = [answer for answer in answers if answer[0] == 498]
    assert {body for _, _, body in refused} == {b"Slow down"}
    assert all(1 <= int(headers["Retry-After"]) <= 18 for _, headers, _ in refused)


def test_object_writes_wait_their_turn_once_the_container_holds_two_objects(limited_gateway):
    url, token = limited_gateway.login("root:swift", "root-key")  # an account of its own: its own turns
    container, auth = f"{url[len(limited_gateway.url) :]}/objects", {"X-Auth-Token": token}
    assert limited_gateway.raw("PUT", container, auth)[0] == 201
    for name in ("a", "b"):  # 0 and 1 objects: not limited
        assert limited_gateway.raw("PUT", f"{container}/{name}", auth, b"x")[0] == 201
    started = time.monotonic()
    for name in ("c", "d", "e", "f"):  # each waits 0.2 s after the one before, in either worker
        assert limited_gateway.raw("PUT", f"{container}/{name}", auth, b"x")[0] == 201
    assert time.monotonic() - started >= 0.55


def test_a_blacklisted_account_is_497(limited_gateway):
    url, token = limited_gateway.login("bob:swift", "bob-key")
    status, _, body = limited_gateway.raw("GET", url[len(limited_gateway.url) :], {"X-Auth-Token": token})
    assert (status, body) == (497, b"Your account has been blacklisted")


def test_info_lists_the_limits(limited_gateway):
    status, _, body = limited_gateway.raw("GET", "/info")
    assert status == 200
    assert json.loads(body)["ratelimit"] == {
        "account_ratelimit": 0.05,
        "max_sleep_time_seconds": 2.0,
        "container_ratelimits": [[2, 5.0]],
        "container_listing_ratelimits": [],
    }
