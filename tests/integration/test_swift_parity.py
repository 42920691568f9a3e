"""The Swift API side by side with OpenStack Swift itself: each scenario sends the same requests,
byte for byte, to our gateway and to a real Swift all-in-one (``tests/swift/aio.py``), and the
answers must agree: status, the set of headers, their values, and the body.

Only what cannot agree is normalized, and each normalization keeps the format: dates, transaction
ids and timestamps are compared as "a value of Swift's format", the account name (``AUTH_alice``
here, ``AUTH_test`` there) as ``AUTH_<account>``, the storage policy's name as ``<policy>``, and
an account's totals as numbers (Swift's all-in-one updates them asynchronously). Headers a
client cannot rely on, and that differ by server (``Date``'s value, ``Connection``), are left
out. Everything else that differs is a bug, or is listed in ``KNOWN`` with the reason it is
allowed to.

Swift parity is a property of the wire protocol, so it runs on the embedded backend only.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.conftest import Gateway
from tests.swift import aio

pytestmark = pytest.mark.slow

VOLATILE_FORMATS = {
    "date": re.compile(r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$"),
    "last-modified": re.compile(r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$"),
    "x-trans-id": re.compile(r"^tx[0-9a-f]{21}-[0-9a-f]{10}$"),
    "x-openstack-request-id": re.compile(r"^tx[0-9a-f]{21}-[0-9a-f]{10}$"),
    "x-timestamp": re.compile(r"^\d{10}\.\d{5}$"),
    "x-put-timestamp": re.compile(r"^\d{10}\.\d{5}$"),
    "x-backend-timestamp": re.compile(r"^\d{10}\.\d{5}$"),
}
IGNORED_HEADERS = {"connection", "keep-alive"}
# Differences allowed, each with its reason: (header, the statuses it applies to or None for all).
KNOWN = {
    ("server", None): "gunicorn names itself in every answer (eventlet, under Swift, sends none)",
    ("content-length", 204): "gunicorn leaves Content-Length out of a 204, as RFC 9110 section 8.6 has a server do",
    ("content-length", 304): "and out of a 304 (RFC 9110 section 8.6 lets it say the length a 200 would have)",
    ("x-librgw-error", None): "names the core's error where Swift's statuses are shared (swift/errors.py)",
    ("last-modified", 422): "Swift's object server dates its refusal of a body whose MD5 is not the ETag given",
}
LISTING_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}")
ACCOUNT = re.compile(r"AUTH_(alice|test)\b")
# The storage policy's name is each cluster's own (RGW calls its placement default-placement).
POLICY = re.compile(r"default-placement|policy-0", re.IGNORECASE)
# Swift updates an account's totals asynchronously (its container-updater), so right after a
# write the all-in-one still reports the old ones; ours are exact at once. Compared as numbers.
ACCOUNT_TOTALS = re.compile(r"^x-account-(storage-policy-<policy>-)?(bytes-used|object-count)$")
ACCOUNT_LISTING_TOTALS = re.compile(r'("count": |"bytes": |<count>|<bytes>)\d+')
# A multi-range answer's boundary is random on both sides: compared as "<boundary>" wherever it is.
BOUNDARY = re.compile(r"boundary=([0-9a-f]+)$")


@dataclass(frozen=True)
class Step:
    """One request: ``path`` below the account's storage path ("" is the account itself), or
    ``raw_path`` as sent, bytes and all."""

    method: str
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    raw_path: bytes | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str


class Server:
    """One side: where its account is, and a token for it."""

    def __init__(self, host: str, port: int, account_path: str, token: str) -> None:
        self.host, self.port, self.account_path, self.token = host, port, account_path, token

    def send(self, step: Step) -> Answer:
        path = step.raw_path or (self.account_path + step.path).encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.putrequest(step.method, path.decode("latin-1"), skip_accept_encoding=True)
            headers = {"X-Auth-Token": self.token, **step.headers}
            for name, value in headers.items():
                conn.putheader(name, value)
            if step.body is not None and "Transfer-Encoding" not in step.headers:
                conn.putheader("Content-Length", str(len(step.body)))
            conn.endheaders(step.body)
            response = conn.getresponse()
            return normalized(response.status, response.getheaders(), response.read())
        finally:
            conn.close()


def normalized(status: int, headers: list[tuple[str, str]], body: bytes) -> Answer:
    for name, value in headers:
        boundary = BOUNDARY.search(value) if name.lower() == "content-type" else None
        if boundary:
            body = body.replace(boundary[1].encode(), b"<boundary>")
            headers = [(n, v.replace(boundary[1], "<boundary>")) for n, v in headers]
    seen: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        if name in IGNORED_HEADERS:
            continue
        form = VOLATILE_FORMATS.get(name)
        if form is not None:
            value = f"<{name}>" if form.match(value) else f"<{name} not in Swift's format: {value!r}>"
        name = POLICY.sub("<policy>", name)
        if ACCOUNT_TOTALS.match(name) and value.isdigit():
            value = "<number>"
        seen[name] = POLICY.sub("<policy>", ACCOUNT.sub("AUTH_<account>", value))
    text = ACCOUNT.sub("AUTH_<account>", body.decode("utf-8", errors="backslashreplace"))
    text = POLICY.sub("<policy>", LISTING_DATE.sub("<listing-date>", text))
    if "<account " in text or '"count": ' in text:  # an account listing, its length with its totals
        text = ACCOUNT_LISTING_TOTALS.sub(r"\1<number>", text)
        seen["content-length"] = "<number>"
    return Answer(status, seen, text)


def differences(step: Step, ours: Answer, swift: Answer) -> list[str]:
    what = f"{step.method} {step.raw_path or step.path or '<account>'} {step.headers or ''}"
    found = []
    if ours.status != swift.status:
        found.append(f"{what}: status {ours.status}, Swift {swift.status}")
    for name in sorted(ours.headers.keys() | swift.headers.keys()):
        if (name, None) in KNOWN or (name, swift.status) in KNOWN:
            continue
        mine, theirs = ours.headers.get(name), swift.headers.get(name)
        if mine != theirs:
            found.append(f"{what}: header {name}: {mine!r}, Swift {theirs!r}")
    if ours.body != swift.body:
        found.append(f"{what}: body\n    ours:  {ours.body[:600]!r}\n    Swift: {swift.body[:600]!r}")
    return found


@pytest.fixture(scope="module")
def backend() -> str:
    return "embedded"


@pytest.fixture(scope="module")
def swift_aio(tmp_path_factory) -> Iterator[aio.SwiftAIO]:
    yield from aio.running(Path(tmp_path_factory.mktemp("swift-aio")))


@pytest.fixture(scope="module")
def sides(gateway: Gateway, swift_aio: aio.SwiftAIO) -> tuple[Server, Server]:
    url, token = gateway.login("alice:swift", "alice-key")
    ours = Server("127.0.0.1", gateway.port, url.split(str(gateway.port), 1)[1], token)
    token, url = swift_aio.token()
    theirs = Server("127.0.0.1", swift_aio.ports["proxy"], url.split(str(swift_aio.ports["proxy"]), 1)[1], token)
    return ours, theirs


def differences_from_swift(
    sides: tuple[Server, Server],
    steps: list[Step],
    ignore: re.Pattern | None = None,
    normalize: Callable[[Answer, Server], Answer] | None = None,
) -> str:
    """Send each step to both sides: every difference, one per line ("" when they agree), but
    those lines ``ignore`` matches; ``normalize`` first makes a side's answer comparable where a
    scenario needs it."""
    found = []
    for step in steps:
        answers = [(normalize or (lambda answer, _: answer))(server.send(step), server) for server in sides]
        found += [line for line in differences(step, *answers) if not (ignore and ignore.search(line))]
    return "\n".join(found)


def test_containers(sides):
    assert not differences_from_swift(
        sides,
        [
            Step("PUT", "/parity-c"),
            Step("PUT", "/parity-c"),
            Step("HEAD", "/parity-c"),
            Step("GET", "/parity-c"),
            Step("GET", "/parity-c?format=json"),
            Step("GET", "/parity-c?format=xml"),
            Step("POST", "/parity-c", {"X-Container-Meta-Color": "blue"}),
            Step("HEAD", "/parity-c"),
            Step("PUT", "/parity-c/o", body=b"x"),
            Step("DELETE", "/parity-c"),
            Step("DELETE", "/parity-c/o"),
            Step("DELETE", "/parity-c"),
            Step("HEAD", "/parity-c"),
            Step("GET", "/parity-c"),
            Step("DELETE", "/parity-c"),
        ],
    )


def test_objects(sides):
    etag = "5d41402abc4b2a76b9719d911017c592"  # md5 of b"hello"
    assert not differences_from_swift(
        sides,
        [
            Step("PUT", "/parity-o"),
            Step("PUT", "/parity-o/hello", {"Content-Type": "text/plain", "X-Object-Meta-Mood": "good"}, b"hello"),
            Step("HEAD", "/parity-o/hello"),
            Step("GET", "/parity-o/hello"),
            Step("GET", "/parity-o/hello", {"Range": "bytes=1-2"}),
            Step("GET", "/parity-o/hello", {"Range": "bytes=9-"}),
            Step("GET", "/parity-o/hello", {"Range": "bytes=0-0,-2"}),
            Step("GET", "/parity-o/hello", {"If-None-Match": etag}),
            Step("GET", "/parity-o/hello", {"If-Match": "nope"}),
            Step("POST", "/parity-o/hello", {"X-Object-Meta-Mood": "better"}),
            Step("HEAD", "/parity-o/hello"),
            Step("PUT", "/parity-o/bad-etag", {"ETag": "0" * 32}, b"hello"),
            Step("COPY", "/parity-o/hello", {"Destination": "parity-o/copy"}),
            Step("PUT", "/parity-o/copy2", {"X-Copy-From": "parity-o/hello"}, b""),
            Step("GET", "/parity-o/copy2"),
            Step("GET", "/parity-o?format=json"),
            Step("DELETE", "/parity-o/hello"),
            Step("DELETE", "/parity-o/hello"),
            Step("HEAD", "/parity-o/hello"),
            Step("GET", "/parity-o/missing"),
        ],
    )


def test_listings(sides):
    names = ["a", "b/c", "b/d", "b-e", "ж"]
    steps = [Step("PUT", "/parity-l")]
    for name in names:
        quoted = "".join(c if c.isascii() else "".join(f"%{b:02X}" for b in c.encode()) for c in name)
        steps.append(Step("PUT", f"/parity-l/{quoted}", {"Content-Type": "text/plain"}, b"12"))
    for query in (
        "",
        "?format=json",
        "?format=xml",
        "?delimiter=/",
        "?delimiter=/&format=json",
        "?delimiter=/&format=xml",
        "?prefix=b/&format=json",
        "?delimiter=b/",
        "?limit=2&format=json",
        "?limit=5000.0",
        "?marker=b/c&end_marker=%D0%B6",
        "?reverse=on",
    ):
        steps.append(Step("GET", f"/parity-l{query}"))
    steps.append(Step("GET", "/parity-l", {"Accept": "application/json"}))
    steps.append(Step("GET", "/parity-l", {"Accept": "application/xml"}))
    assert not differences_from_swift(sides, steps)


def test_account(sides):
    assert not differences_from_swift(
        sides,
        [
            Step("PUT", "/parity-a1"),
            Step("PUT", "/parity-a1/x", body=b"12345"),
            Step("HEAD", ""),
            Step("GET", "?prefix=parity-a"),
            Step("GET", "?prefix=parity-a&format=json"),
            Step("GET", "?prefix=parity-a&format=xml"),
            Step("POST", "", {"X-Account-Meta-Team": "blue"}),
            Step("HEAD", ""),
        ],
    )


def test_errors(sides):
    assert not differences_from_swift(
        sides,
        [
            Step("GET", raw_path=b"/v1"),
            Step("GET", raw_path=b"/v1/"),
            Step("PUT", "/parity-e"),
            Step("PUT", "/parity-e/o", {"X-Object-Meta-" + "n" * 129: "v"}, b""),
            Step("PUT", "/parity-e/o", {"X-Object-Meta-Big": "v" * 257}, b""),
            Step("PUT", "/parity-e/o", {"Transfer-Encoding": "gzip, chunked"}, b"0\r\n\r\n"),
            Step("GET", "/parity-e/%FF%FE"),
            Step("PUT", "/parity-e/" + "n" * 1025, body=b""),
            Step("PUT", "/" + "c" * 257),
        ],
    )


def test_expiration(sides):
    at = "4102444800"  # 2100-01-01: far enough to answer alike
    assert not differences_from_swift(
        sides,
        [
            Step("PUT", "/parity-x"),
            Step("PUT", "/parity-x/o", {"X-Delete-At": "1000"}, b"x"),
            Step("PUT", "/parity-x/o", {"X-Delete-At": "soon"}, b"x"),
            Step("PUT", "/parity-x/o", {"X-Delete-After": "-1"}, b"x"),
            Step("PUT", "/parity-x/o", {"X-Delete-After": "1h"}, b"x"),
            Step("HEAD", "/parity-x/o"),
            Step("PUT", "/parity-x/o", {"X-Delete-At": at}, b"x"),
            Step("HEAD", "/parity-x/o"),
            Step("GET", "/parity-x/o"),
            Step("COPY", "/parity-x/o", {"Destination": "parity-x/kept"}),
            Step("HEAD", "/parity-x/kept"),
            Step("COPY", "/parity-x/o", {"Destination": "parity-x/given", "X-Delete-At": "4102444801"}),
            Step("HEAD", "/parity-x/given"),
            Step("POST", "/parity-x/o", {"X-Delete-At": "1000"}),
            Step("POST", "/parity-x/o", {"X-Object-Meta-A": "b"}),
            Step("HEAD", "/parity-x/o"),
            Step("GET", "/parity-x?format=json"),
        ],
    )
