"""Symlinks side by side with OpenStack Swift's own ``symlink`` filter (put in the all-in-one's
proxy pipeline here, after the ``copy`` and ``dlo`` Swift's proxy adds, where Swift's sample
config has it): the same link PUTs, GETs, HEADs, ``?symlink=get``, static links, loops,
dangling links, POSTs, COPYs and listings to our gateway and to Swift, answers compared as
``test_swift_parity.py`` compares them (its ``sides`` and normalization)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_swift_parity import (  # noqa: F401 (fixtures used here)
    Answer,
    Step,
    backend,
    differences_from_swift,
    sides,
)
from tests.swift import aio

pytestmark = pytest.mark.slow

DATA = b"hello"
ETAG = "5d41402abc4b2a76b9719d911017c592"  # md5 of DATA
# Differences of the gateway's on every object request, not of its links (test_swift_parity.py's
# own scenarios show them): the Server and S3 request id headers, X-Librgw-Error on a 404.
GATEWAY_WIDE = re.compile(r": header (server|x-amz-request-id|x-librgw-error): ")


def comparable(answer: Answer, account: str) -> Answer:
    """``answer`` with the length of a body that names the account (a listing's
    ``symlink_path``) counted without the account's name, which differs."""
    headers = dict(answer.headers)
    named = answer.body.count("AUTH_<account>")
    if named and headers.get("content-length", "").isdigit():
        headers["content-length"] = f"{int(headers['content-length']) - named * len(account)} + account names"
    return dataclasses.replace(answer, headers=headers)


def comparable_side(answer: Answer, server) -> Answer:
    """``comparable`` with the account of the side that answered."""
    return comparable(answer, server.account_path.rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def swift_aio(tmp_path_factory) -> Iterator[aio.SwiftAIO]:
    """The all-in-one, with Swift's own ``symlink`` in its proxy (``sides`` uses it)."""
    yield from aio.running(
        Path(tmp_path_factory.mktemp("swift-aio")), filters=(aio.ProxyFilter("symlink", "egg:swift#symlink"),)
    )


def link(name: str, target: str, **headers: str) -> Step:
    return Step("PUT", f"/parity-ln/{name}", {"X-Symlink-Target": target, **headers}, b"")


def test_links_read_as_their_targets(sides):  # noqa: F811 (the fixture)
    steps = [
        Step("PUT", "/parity-ln"),
        Step("PUT", "/parity-ln/target", {"Content-Type": "text/plain", "X-Object-Meta-Mood": "good"}, DATA),
        link("ln", "parity-ln/target"),
        Step("HEAD", "/parity-ln/ln"),
        Step("GET", "/parity-ln/ln"),
        Step("GET", "/parity-ln/ln", {"Range": "bytes=1-2"}),
        Step("GET", "/parity-ln/ln", {"If-Match": ETAG}),
        Step("HEAD", "/parity-ln/ln?symlink=get"),
        Step("GET", "/parity-ln/ln?symlink=get"),
        link("ln2", "parity-ln/ln", **{"Content-Type": "text/x-link", "X-Object-Meta-Own": "yes"}),
        Step("GET", "/parity-ln/ln2"),
        Step("HEAD", "/parity-ln/ln2?symlink=get"),
        link("ln3", "parity-ln/ln2"),
        Step("GET", "/parity-ln/ln3"),
        link("odd%20name", "parity-ln/target%20x"),
        Step("HEAD", "/parity-ln/odd%20name?symlink=get"),
        Step("GET", "/parity-ln/odd%20name"),
        link("acct", "parity-ln/target", **{"X-Symlink-Target-Account": "AUTH_nobody"}),
        Step("HEAD", "/parity-ln/acct?symlink=get"),
        Step("GET", "/parity-ln?format=json"),
        Step("GET", "/parity-ln?format=xml"),
        Step("GET", "/parity-ln"),
    ]
    assert not differences_from_swift(sides, steps, GATEWAY_WIDE, comparable_side)


def test_bad_links_loops_and_dangling_links(sides):  # noqa: F811 (the fixture)
    steps = [
        Step("PUT", "/parity-ln"),
        Step("PUT", "/parity-ln/target", body=DATA),
        Step("PUT", "/parity-ln/bad", {"X-Symlink-Target": "parity-ln/target"}, b"x"),
        link("bad", "/parity-ln/target"),
        link("bad", "parity-ln"),
        link("bad", "parity-ln/"),
        link("bad", "parity-ln/target", **{"X-Symlink-Target-Account": ""}),
        link("bad", "parity-ln/target", **{"X-Symlink-Target-Account": "a/b"}),
        link("bad", "parity-ln/bad"),
        link("bad", "parity-ln/target", **{"X-Symlink-Target-Etag": 'a"b'}),
        Step("PUT", "/parity-ln/bad", {"X-Symlink-Target": "parity-ln/target", "X-Copy-From": "parity-ln/target"}, b""),
        Step("HEAD", "/parity-ln/bad"),
        link("a", "parity-ln/b"),
        link("b", "parity-ln/a"),
        Step("GET", "/parity-ln/a"),
        Step("HEAD", "/parity-ln/a"),
        link("dangling", "parity-ln/nothing"),
        Step("GET", "/parity-ln/dangling"),
        Step("HEAD", "/parity-ln/dangling"),
        Step("PUT", "/parity-ln/sysmeta", {"X-Object-Sysmeta-Symlink-Target": "parity-ln/target"}, b""),
        Step("GET", "/parity-ln/sysmeta"),
    ]
    assert not differences_from_swift(sides, steps, GATEWAY_WIDE, comparable_side)


def test_static_links(sides):  # noqa: F811 (the fixture)
    steps = [
        Step("PUT", "/parity-ln"),
        Step("PUT", "/parity-ln/starget", {"Content-Type": "text/plain"}, DATA),
        link("s", "parity-ln/starget", **{"X-Symlink-Target-Etag": "0" * 32}),
        link("s", "parity-ln/nothing", **{"X-Symlink-Target-Etag": ETAG}),
        link("s", "parity-ln/starget", **{"X-Symlink-Target-Etag": ETAG}),
        Step("HEAD", "/parity-ln/s?symlink=get"),
        Step("GET", "/parity-ln/s"),
        link("s2", "parity-ln/s", **{"X-Symlink-Target-Etag": "d41d8cd98f00b204e9800998ecf8427e"}),
        link("d", "parity-ln/starget"),
        link("s3", "parity-ln/d", **{"X-Symlink-Target-Etag": "d41d8cd98f00b204e9800998ecf8427e"}),
        Step("GET", "/parity-ln/s3"),
        Step("GET", "/parity-ln?format=json&prefix=s"),
        Step("PUT", "/parity-ln/starget", body=b"changed"),
        Step("GET", "/parity-ln/s"),
        Step("HEAD", "/parity-ln/s"),
    ]
    assert not differences_from_swift(sides, steps, GATEWAY_WIDE, comparable_side)


def test_post_copy_and_delete(sides):  # noqa: F811 (the fixture)
    steps = [
        Step("PUT", "/parity-ln"),
        Step("PUT", "/parity-ln/ptarget", {"Content-Type": "text/plain"}, DATA),
        link("p", "parity-ln/ptarget"),
        Step("POST", "/parity-ln/p", {"X-Symlink-Target": "parity-ln/x"}),
        Step("POST", "/parity-ln/p", {"X-Object-Meta-Color": "blue"}),
        Step("HEAD", "/parity-ln/p?symlink=get"),
        Step("HEAD", "/parity-ln/p"),
        link("ps", "parity-ln/ptarget", **{"X-Symlink-Target-Etag": ETAG}),
        Step("POST", "/parity-ln/ps", {"X-Object-Meta-Color": "red"}),
        Step("COPY", "/parity-ln/p", {"Destination": "parity-ln/copied"}),
        Step("GET", "/parity-ln/copied"),
        Step("COPY", "/parity-ln/p?symlink=get", {"Destination": "parity-ln/linkcopy"}),
        Step("HEAD", "/parity-ln/linkcopy?symlink=get"),
        Step("PUT", "/parity-ln/copied2", {"X-Copy-From": "parity-ln/p"}, b""),
        Step("GET", "/parity-ln/copied2"),
        Step("DELETE", "/parity-ln/p"),
        Step("HEAD", "/parity-ln/p"),
        Step("HEAD", "/parity-ln/ptarget"),
    ]
    assert not differences_from_swift(sides, steps, GATEWAY_WIDE, comparable_side)
