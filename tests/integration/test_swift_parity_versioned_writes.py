"""Swift's legacy versioning (``X-Versions-Location``, ``X-History-Location``) side by side with
OpenStack Swift's own ``versioned_writes`` (``allow_versioned_writes = true``, and
``allow_object_versioning`` with ``symlink`` for the ``X-Versions-Enabled`` refusal, put in the
all-in-one's pipeline here): the same requests to our gateway and to Swift, answers compared as
``test_swift_parity.py`` compares them. An archived copy is named with its time, so a listing's
names are compared as ``<len><name>/<timestamp>``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_swift_parity import Answer, Step, backend, differences_from_swift, sides  # noqa: F401 (fixtures used here)
from tests.swift import aio

pytestmark = pytest.mark.slow

ARCHIVED_NAME = re.compile(r"/\d{10}\.\d{5}")
# As in test_swift_parity_large_objects.py: the gateway's differences on every object request.
GATEWAY_WIDE = re.compile(r": header (server|x-amz-request-id|x-librgw-error): |^PUT .*: header x-timestamp: ")


def without_archive_times(answer: Answer, _server) -> Answer:
    """``answer`` with the times in archived names (``/<timestamp>``), which differ by side."""
    return Answer(answer.status, answer.headers, ARCHIVED_NAME.sub("/<timestamp>", answer.body))


@pytest.fixture(scope="module")
def swift_aio(tmp_path_factory) -> Iterator[aio.SwiftAIO]:
    """The all-in-one, with Swift's own ``versioned_writes`` in its proxy (``sides`` uses it)."""
    settings = {"allow_versioned_writes": "true", "allow_object_versioning": "true"}
    yield from aio.running(
        Path(tmp_path_factory.mktemp("swift-aio")),
        filters=(
            aio.ProxyFilter("versioned_writes", "egg:swift#versioned_writes", settings),
            aio.ProxyFilter("symlink", "egg:swift#symlink"),
        ),
    )


def test_stack_mode(sides):  # noqa: F811 (the fixture)
    listing = Step("GET", "/pv-arch?format=json")
    steps = [
        Step("PUT", "/pv-arch"),
        Step("PUT", "/pv-stack", {"X-Versions-Location": "pv-arch"}),
        Step("HEAD", "/pv-stack"),
        Step("GET", "/pv-stack"),
        Step("PUT", "/pv-stack/r", {"Content-Type": "text/plain"}, b"one"),
        Step("PUT", "/pv-stack/r", {"Content-Type": "text/plain"}, b"two"),
        Step("PUT", "/pv-stack/r", {"Content-Type": "text/plain", "X-Object-Meta-N": "3"}, b"three"),
        listing,
        Step("DELETE", "/pv-stack/r"),
        Step("GET", "/pv-stack/r"),
        listing,
        Step("DELETE", "/pv-stack/r"),
        Step("GET", "/pv-stack/r"),
        Step("DELETE", "/pv-stack/r"),
        Step("GET", "/pv-stack/r"),
        Step("DELETE", "/pv-stack/r"),
        listing,
        Step("POST", "/pv-stack", {"X-Remove-Versions-Location": "x"}),
        Step("HEAD", "/pv-stack"),
    ]
    assert not differences_from_swift(sides, steps, GATEWAY_WIDE, without_archive_times)


def test_history_mode(sides):  # noqa: F811 (the fixture)
    listing = Step("GET", "/pv-hist-arch?format=json")
    steps = [
        Step("PUT", "/pv-hist-arch"),
        Step("PUT", "/pv-hist", {"X-History-Location": "pv-hist-arch"}),
        Step("HEAD", "/pv-hist"),
        Step("PUT", "/pv-hist/r", {"Content-Type": "text/plain"}, b"one"),
        Step("PUT", "/pv-hist/r", {"Content-Type": "text/plain"}, b"two"),
        Step("DELETE", "/pv-hist/r"),
        Step("GET", "/pv-hist/r"),
        listing,
        Step("DELETE", "/pv-hist/r"),
        Step("POST", "/pv-hist", {"X-Versions-Location": "pv-hist-arch"}),  # to stack mode: pops past the markers
        Step("HEAD", "/pv-hist"),
        Step("DELETE", "/pv-hist/r"),
        Step("GET", "/pv-hist/r"),
        listing,
    ]
    assert not differences_from_swift(sides, steps, GATEWAY_WIDE, without_archive_times)


def test_refusals(sides):  # noqa: F811 (the fixture)
    steps = [
        Step("PUT", "/pv-bad", {"X-Versions-Location": "a", "X-History-Location": "b"}),
        Step("PUT", "/pv-bad", {"X-Versions-Location": "a/b"}),
        Step("PUT", "/pv-bad", {"X-Versions-Location": "", "X-History-Location": "pv-none"}),
        Step("HEAD", "/pv-bad"),
        Step("PUT", "/pv-bad/r", body=b"one"),
        Step("PUT", "/pv-bad/r", body=b"two"),
        Step("DELETE", "/pv-bad/r"),
        Step("POST", "/pv-bad", {"X-Versions-Enabled": "true"}),
        Step("POST", "/pv-bad", {"X-History-Location": ""}),
        Step("HEAD", "/pv-bad"),
        Step("POST", "/pv-bad", {"X-Versions-Location": "pv-none"}),
        Step("POST", "/pv-bad", {"X-Remove-History-Location": "1"}),
        Step("HEAD", "/pv-bad"),
    ]
    assert not differences_from_swift(sides, steps, GATEWAY_WIDE, without_archive_times)
