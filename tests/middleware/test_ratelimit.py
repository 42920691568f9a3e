"""``ratelimit`` through its real factory, over an app that answers as the gateway does (a
container's HEAD with its object count, every write 201)."""

from __future__ import annotations

import sqlite3
import time

from webob import Request, Response

from librgw.middleware import ratelimit, registry
from librgw.middleware.ratelimit import SizeRate, rate_for_size


def storage(environ, start_response):
    """Every container holds 150 objects; every write succeeds."""
    request = Request(environ)
    if request.method == "HEAD":
        return Response(status=204, headers={"X-Container-Object-Count": "150"})(environ, start_response)
    return Response(status=201)(environ, start_response)


def limited(tmp_path, **settings):
    return ratelimit.filter_factory({}, counters=str(tmp_path / "counters.sqlite"), **settings)(storage)


def status(app, method: str, path: str) -> Response:
    return Request.blank(path, method=method).get_response(app)


def test_rate_for_size_follows_the_line_between_the_sizes_set():
    rates = [SizeRate(100, 100.0), SizeRate(200, 50.0)]
    assert [rate_for_size(rates, size) for size in (0, 99, 100, 150, 200, 10**6)] == [
        None,
        None,
        100.0,
        75.0,
        50.0,
        50.0,
    ]


def turns(tmp_path) -> dict[str, int]:
    """Each key's next free moment, in the counters file."""
    with sqlite3.connect(tmp_path / "counters.sqlite") as db:
        return dict(db.execute("SELECT key, value FROM counters"))


def test_a_request_that_would_wait_too_long_is_498_with_retry_after_in_every_worker(tmp_path):
    settings = {"account_ratelimit": "0.05", "max_sleep_time_seconds": "2", "account_whitelist": "AUTH_ops"}
    first, second = limited(tmp_path, **settings), limited(tmp_path, **settings)  # two workers, one file
    assert status(first, "PUT", "/v1/AUTH_a/c1").status_int == 201
    taken = turns(tmp_path)
    answer = status(second, "PUT", "/v1/AUTH_a/c2")
    assert (answer.status, answer.body) == ("498 Rate Limited", b"Slow down")
    assert 10 <= int(answer.headers["Retry-After"]) <= 18  # the next turn is 20 s on; 2 s of it may be slept
    assert status(first, "DELETE", "/v1/AUTH_a/c1").status_int == 498
    assert turns(tmp_path) == taken  # a refused request takes no turn
    # other accounts, object writes and listings are not under account_ratelimit; whitelisted accounts never are
    assert status(second, "PUT", "/v1/AUTH_b/c1").status_int == 201
    assert status(second, "PUT", "/v1/AUTH_a/c1/object").status_int == 201
    assert [status(first, "PUT", "/v1/AUTH_ops/c").status_int for _ in range(3)] == [201] * 3


def test_object_writes_wait_their_turn_at_the_container_size_rate(tmp_path):
    app = limited(tmp_path, container_ratelimit_100="20", container_ratelimit_1000="1", max_sleep_time_seconds="5")
    started = time.monotonic()
    assert [status(app, "PUT", f"/v1/AUTH_a/c/{n}").status_int for n in range(4)] == [201] * 4
    # 150 objects: 20 - 50 * 19/900 requests a second, so three waits of about 0.053 s
    assert 0.14 < time.monotonic() - started < 3
    assert [status(app, "GET", "/v1/AUTH_a/c").status_int for _ in range(4)] == [201] * 4  # no listing limit set
    assert list(turns(tmp_path)) == ["ratelimit/AUTH_a/c"]


def test_info_lists_swifts_ratelimit_settings(tmp_path):
    limited(tmp_path, account_ratelimit="5", container_listing_ratelimit_10="2")
    assert registry.swift_info()["ratelimit"] == {
        "account_ratelimit": 5.0,
        "max_sleep_time_seconds": 60.0,
        "container_ratelimits": [],
        "container_listing_ratelimits": [[10, 2.0]],
    }
