"""Slow clients do not stop the gateway: 100 connections sending their request heads a line every
2-3 s (slowloris), or not letting go of the connection after their answer, while another client
GETs a small object, under real gunicorn with the gateway's settings (``gunicorn.conf.py``:
``librgw/server/worker.py``), 2 workers x 4 threads.

The bound on the measuring client's GETs: all succeed, and p99 < 1 s. Unattacked, such a GET
takes 3-4 ms here (p99 under 10 ms, ``benchmarks/README.md``); a gateway whose threads are
held by slow clients answers it only when a thread is let go, after the 20 s head deadline
at best, or never (before the worker: every GET timed out). 1 s is far from both, so that a
busy 2-core machine does not make the test flaky.
"""

import http.client
import socket
import time

import pytest

from benchmarks.slowloris_bench import GetReport, UnclosedClients, measure_gets, slow_bodies, slow_headers
from librgw.server.gunicorn_conf import keepalive
from librgw.server.worker import HEAD_TIMEOUT

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 100
P99_BOUND = 1.0
PAYLOAD = b"small object " * 300
GET_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def backend() -> str:
    return "embedded"  # the server's behaviour: the storage backend plays no part


@pytest.fixture(scope="module")
def small_object(gateway) -> tuple[str, str]:
    """(path, token) of a small object to GET."""
    conn = gateway.connection()
    conn.put_container("c")
    conn.put_object("c", "small", PAYLOAD)
    url, token = gateway.login("alice:swift", "alice-key")
    return url[url.index("/v1/") :] + "/c/small", token


def assert_served(gets: GetReport) -> None:
    summary = gets.summary()
    assert gets.attempts > 20 and not gets.failures, summary
    assert gets.percentile(0.99) < P99_BOUND, summary


def exchange(sock: socket.socket, pieces: list[bytes], pause: float = 0) -> tuple[int, bytes]:
    """Send ``pieces`` ``pause`` seconds apart; (status, body) of the response."""
    for n, piece in enumerate(pieces):
        if n:
            time.sleep(pause)
        sock.sendall(piece)
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.read()


def test_slow_request_heads_neither_stop_service_nor_stay_open_past_the_deadline(gateway, small_object):
    path, token = small_object
    attack = slow_headers(gateway.port, SLOW_CLIENTS)
    attack.start()
    try:
        assert attack.ready.wait(60)
        started = time.monotonic()
        gets = measure_gets(gateway.port, path, token, HEAD_TIMEOUT + 6, PAYLOAD, GET_TIMEOUT)
    finally:
        attack.stop()
    assert_served(gets)
    report = attack.report
    # every first connection's head ran out of time: a 408, then the connection closed
    assert report.closed_by_server >= SLOW_CLIENTS, report.summary()
    assert set(report.status_lines) == {"HTTP/1.1 408 Request Timeout"}, report.summary()
    assert HEAD_TIMEOUT - 1 <= min(report.held_seconds), report.summary()
    assert time.monotonic() - started > HEAD_TIMEOUT


def test_a_head_sent_in_pieces_within_the_deadline_is_served_and_so_is_the_next_one(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        for _ in range(2):  # the second head arrives on the kept-alive connection
            pieces = [b"GET /healthcheck HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"]
            assert exchange(sock, pieces, 1.5) == (200, b"OK")


def test_a_head_that_stops_arriving_is_dropped_after_the_keepalive_time(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=keepalive + 5) as sock:
        sock.sendall(b"GET /healthcheck HTTP/1.1\r\n")
        start = time.monotonic()
        assert sock.recv(1024) == b""  # closed, nothing said
        assert keepalive - 1 <= time.monotonic() - start <= keepalive + 3


@pytest.mark.parametrize(
    "head, expected",
    [
        (b"GET /healthcheck HTTP/1.1\nHost: 127.0.0.1\n\n", 400),  # bare LF line ends
        (b"GET /healthcheck HTTP/1.1\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),  # > limit_request_field_size
    ],
    ids=["bare-lf", "oversized-field"],
)
def test_a_malformed_head_is_refused_at_once_not_at_the_deadline(gateway, head, expected):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        start = time.monotonic()
        status, body = exchange(sock, [head])
        assert status == expected, body
        assert time.monotonic() - start < 2


def test_clients_that_neither_read_their_answer_nor_close_do_not_stop_service(gateway, small_object):
    path, token = small_object
    attack = UnclosedClients(gateway.port, SLOW_CLIENTS)
    attack.start()
    try:
        gets = measure_gets(gateway.port, path, token, 10, PAYLOAD, GET_TIMEOUT)
    finally:
        attack.stop()
    assert_served(gets)
    assert attack.report.closed_by_server == SLOW_CLIENTS  # after the 400 they were given
    assert set(attack.report.status_lines) == {"HTTP/1.1 400 Bad Request"}


def test_slow_bodies_without_credentials_are_refused_at_once(gateway, small_object):
    path, token = small_object
    attack = slow_bodies(gateway.port, SLOW_CLIENTS, path.replace("/small", "/loris"), "not-a-token")
    attack.start()
    try:
        assert attack.ready.wait(60)
        gets = measure_gets(gateway.port, path, token, 10, PAYLOAD, GET_TIMEOUT)
    finally:
        attack.stop()
    assert_served(gets)
    assert set(attack.report.status_lines) == {"HTTP/1.1 401 Unauthorized"}, attack.report.summary()
    assert max(attack.report.held_seconds) < 2, attack.report.summary()


@pytest.mark.xfail(
    strict=True,
    reason="known: the thread serving a PUT reads its body, so 100 clients with a valid token that trickle"
    " bodies hold every thread (benchmarks/README.md, 'Slow clients')",
)
def test_slow_bodies_with_credentials_do_not_stop_service(gateway, small_object):
    path, token = small_object
    attack = slow_bodies(gateway.port, SLOW_CLIENTS, path.replace("/small", "/loris"), token)
    attack.start()
    try:
        assert attack.ready.wait(60)
        gets = measure_gets(gateway.port, path, token, 10, PAYLOAD, GET_TIMEOUT)
    finally:
        attack.stop()
    assert_served(gets)
