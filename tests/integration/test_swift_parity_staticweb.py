"""Static web sites side by side with OpenStack Swift's own ``staticweb``: the same anonymous (and
``X-Web-Mode``) requests for a public container's index pages, redirects, listings, error pages
and directory markers go to our gateway (its ``staticweb`` filter) and to a Swift all-in-one with
Swift's ``staticweb`` in its proxy, and to a second all-in-one with this project's filter in
Swift's place (``egg:librgw#staticweb``), which must answer as Swift's own does. Answers are
compared as ``test_swift_parity.py`` compares them; the container is set up, uncompared, with the
owner's token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import Gateway
from tests.integration.test_swift_parity import Answer, Server, Step, backend, differences  # noqa: F401 (a fixture)
from tests.swift import aio

pytestmark = pytest.mark.slow

SITE = "/sw"
# Each side's own host and port, in redirects' Location.
HOST = re.compile(r"127\.0\.0\.1:\d+")
# A listing's dates, Swift's ``last_modified`` to the second.
LISTING_DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
# The gateway's account is root's, AUTH_root, as long a name as the all-in-one's AUTH_test, so
# the pages naming it (listings' titles) have the same length.
ACCOUNT = re.compile(r"AUTH_root\b")
# Differences of the gateway's on every object request, not of staticweb's (the Server and S3
# request id headers, X-Librgw-Error on a 404): shown by test_swift_parity.py's own scenarios.
# And Vary: Swift's listing_formats filter, above staticweb, marks every successful answer to a
# container's path "Vary: Accept", an index page's too; the gateway marks its listings only.
GATEWAY_WIDE = re.compile(
    r": header (server|x-amz-request-id|x-librgw-error): |^our gateway: (GET|HEAD) /sw/ ({.*})?: header vary: "
)


@pytest.fixture(scope="module")
def swift_aio(tmp_path_factory) -> Iterator[aio.SwiftAIO]:
    """An all-in-one with Swift's own ``staticweb`` just after its auth filter."""
    filters = (aio.ProxyFilter("staticweb", "egg:swift#staticweb"),)
    yield from aio.running(Path(tmp_path_factory.mktemp("swift-staticweb")), filters)


@pytest.fixture(scope="module")
def librgw_aio(tmp_path_factory) -> Iterator[aio.SwiftAIO]:
    """An all-in-one with this project's ``staticweb`` where Swift's would be."""
    filters = (aio.ProxyFilter("staticweb", "egg:librgw#staticweb"),)
    yield from aio.running(Path(tmp_path_factory.mktemp("librgw-staticweb")), filters)


def side(port: int, url: str, token: str) -> tuple[Server, Server]:
    """(the owner, an anonymous client) of the account at ``url``."""
    path = url.split(str(port), 1)[1]
    return Server("127.0.0.1", port, path, token), Server("127.0.0.1", port, path, "")


@pytest.fixture(scope="module")
def servers(gateway: Gateway, swift_aio: aio.SwiftAIO, librgw_aio: aio.SwiftAIO) -> dict[str, tuple[Server, Server]]:
    url, token = gateway.login("root:swift", "root-key")
    found = {"our gateway": side(gateway.port, url, token)}
    for name, proxy in (("Swift", swift_aio), ("our filter in Swift's proxy", librgw_aio)):
        token, url = proxy.token()
        found[name] = side(proxy.ports["proxy"], url, token)
    return found


def comparable(answer: Answer) -> Answer:
    headers = {name: ACCOUNT.sub("AUTH_<account>", HOST.sub("<host>", value)) for name, value in answer.headers.items()}
    return Answer(answer.status, headers, ACCOUNT.sub("AUTH_<account>", LISTING_DATE.sub("<date>", answer.body)))


def setup(servers, steps: list[Step]) -> None:
    for owner, _ in servers.values():
        for step in steps:
            assert owner.send(step).status < 300, step


def compare(servers, steps: list[tuple[bool, Step]]) -> None:
    """Send each (as the owner?, step) to every side; every side must answer as Swift."""
    found = []
    for as_owner, step in steps:
        answers = {name: comparable(sides[0 if as_owner else 1].send(step)) for name, sides in servers.items()}
        for name, answer in answers.items():
            if name != "Swift":
                lines = [f"{name}: {line}" for line in differences(step, answer, answers["Swift"])]
                found += [line for line in lines if not GATEWAY_WIDE.search(line)]
    assert not found, "staticweb answers differently from Swift's:\n" + "\n".join(found)


def anonymous(*steps: Step) -> list[tuple[bool, Step]]:
    return [(False, step) for step in steps]


def test_static_site(servers):
    html = {"Content-Type": "text/html"}
    setup(
        servers,
        [
            Step("PUT", SITE, {"X-Container-Read": ".r:*,.rlistings", "X-Container-Meta-Web-Index": "index.html"}),
            Step("PUT", f"{SITE}/index.html", html, b"<p>home</p>"),
            Step("PUT", f"{SITE}/404error.html", html, b"<p>lost</p>"),
            Step("PUT", f"{SITE}/docs/a.txt", {"Content-Type": "text/plain"}, b"a" * 2048),
            Step("PUT", f"{SITE}/docs/b%20c.html", html, b"<p>b</p>"),
            Step("PUT", f"{SITE}/docs/sub/x.txt", {"Content-Type": "text/plain"}, b"x"),
            Step("PUT", f"{SITE}/marker", {"Content-Type": "application/directory"}, b""),
            Step("PUT", f"{SITE}/marker/in.txt", {"Content-Type": "text/plain"}, b"in"),
        ],
    )
    compare(
        servers,
        anonymous(
            Step("GET", SITE),
            Step("HEAD", SITE),
            Step("GET", f"{SITE}/"),
            Step("HEAD", f"{SITE}/"),
            Step("GET", f"{SITE}/index.html"),
            Step("GET", f"{SITE}/docs"),
            Step("GET", f"{SITE}/docs/"),  # listings off: "Web Listing Disabled", "Index File Not Found"
            Step("GET", f"{SITE}/missing"),
            Step("GET", f"{SITE}/missing/"),
            Step("GET", f"{SITE}/marker"),
        ),
    )
    setup(servers, [Step("POST", SITE, {"X-Container-Meta-Web-Listings": "true"})])
    compare(
        servers,
        anonymous(
            Step("GET", f"{SITE}/docs/"),
            Step("HEAD", f"{SITE}/docs/"),
            Step("GET", f"{SITE}/docs/sub/"),
            Step("GET", f"{SITE}/marker/"),
            Step("GET", f"{SITE}/nothing/"),
        )
        + [
            (True, Step("GET", f"{SITE}/docs/")),  # the owner sees the Swift API
            (True, Step("GET", f"{SITE}/", {"X-Web-Mode": "true"})),
            (True, Step("GET", f"{SITE}/docs/", {"X-Web-Mode": "true"})),
        ],
    )
    settings = {
        "X-Container-Meta-Web-Error": "error.html",
        "X-Container-Meta-Web-Listings-CSS": "style.css",
        "X-Container-Meta-Web-Listings-Label": "example.com",
        "X-Container-Meta-Web-Directory-Type": "text/directory",
    }
    setup(servers, [Step("POST", SITE, settings)])
    compare(
        servers,
        anonymous(
            Step("GET", f"{SITE}/docs/sub/"),
            Step("GET", f"{SITE}/missing"),
            Step("GET", f"{SITE}/missing/"),
            Step("GET", f"{SITE}/docs/none.txt"),
            Step("GET", f"{SITE}/marker"),  # no longer a marker: its type is not the directory type
        ),
    )
    setup(servers, [Step("POST", SITE, {"X-Container-Read": ".r:*", "X-Remove-Container-Meta-Web-Index": "x"})])
    compare(
        servers,
        anonymous(
            Step("GET", f"{SITE}/"),  # the container is not listable: 401
            Step("GET", f"{SITE}/index.html"),
            Step("GET", f"{SITE}/docs/"),
        ),
    )
