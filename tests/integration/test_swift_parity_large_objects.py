"""Large objects side by side with OpenStack Swift's own ``slo`` and ``dlo`` (``dlo`` is one of
the filters Swift's proxy always adds; ``slo`` is put in the all-in-one's pipeline here): the
same manifest PUTs, GETs, HEADs, ranges and ``?multipart-manifest=get`` to our gateway and to
Swift, answers compared as ``test_swift_parity.py`` compares them (its ``sides`` and
normalization)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from hashlib import md5
from pathlib import Path

import pytest

from tests.integration.test_swift_parity import Step, backend, differences_from_swift, sides  # noqa: F401 (fixtures used here)
from tests.swift import aio

pytestmark = pytest.mark.slow

PARTS = [b"a" * 10, b"b" * 10]
# Differences of the gateway's on every object request, not of its large objects (the Server
# and S3 request id headers, X-Timestamp on a PUT's answer, X-Librgw-Error on a 404): shown by
# test_swift_parity.py's own scenarios, left out here so these compare what slo and dlo answer.
# For the same reason there is no 304 or 416 step: the gateway shapes those answers (the headers
# a 304 and a 416 carry) for every object alike.
GATEWAY_WIDE = re.compile(r": header (server|x-amz-request-id|x-librgw-error): |^PUT .*: header x-timestamp: ")


@pytest.fixture(scope="module")
def swift_aio(tmp_path_factory) -> Iterator[aio.SwiftAIO]:
    """The all-in-one, with Swift's own ``slo`` in its proxy (``sides`` uses it)."""
    yield from aio.running(
        Path(tmp_path_factory.mktemp("swift-aio")), filters=(aio.ProxyFilter("slo", "egg:swift#slo"),)
    )


def test_static_large_objects(sides):  # noqa: F811 (the fixture)
    manifest = [
        {"path": f"/parity-slo-segs/p{i}", "etag": md5(p, usedforsecurity=False).hexdigest(), "size_bytes": 10}
        for i, p in enumerate(PARTS)
    ]
    wrong = [dict(manifest[0], etag="0" * 32), manifest[1]]  # one: Swift lists several in HEAD-completion order
    steps = [Step("PUT", "/parity-slo"), Step("PUT", "/parity-slo-segs")]
    steps += [Step("PUT", f"/parity-slo-segs/p{i}", body=p) for i, p in enumerate(PARTS)]
    steps += [
        Step(
            "PUT",
            "/parity-slo/big?multipart-manifest=put",
            {"Content-Type": "text/plain"},
            json.dumps(manifest).encode(),
        ),
        Step("HEAD", "/parity-slo/big"),
        Step("GET", "/parity-slo/big"),
        Step("GET", "/parity-slo/big", {"Range": "bytes=5-14"}),
        Step("GET", "/parity-slo/big", {"Range": "bytes=-3"}),
        Step("GET", "/parity-slo/big", {"Range": "bytes=0-1,8-11"}),
        Step("GET", "/parity-slo?format=json"),
        Step("GET", "/parity-slo?format=xml"),
        Step("GET", "/parity-slo"),
        Step("GET", "/parity-slo/big", {"If-Match": '"983025f12ad5a0707419d419fc2a9b34"'}),
        Step("GET", "/parity-slo/big?multipart-manifest=get"),
        Step("GET", "/parity-slo/big?multipart-manifest=get&format=raw"),
        Step("PUT", "/parity-slo/bad?multipart-manifest=put", body=json.dumps(wrong).encode()),
        Step("PUT", "/parity-slo/bad?multipart-manifest=put", body=b"{"),
        Step("PUT", "/parity-slo/bad?multipart-manifest=put", body=b'[{"path": "x"}]'),
        Step("HEAD", "/parity-slo/bad"),
        Step("PUT", "/parity-slo/fake", {"X-Static-Large-Object": "True"}, b""),
    ]
    assert not differences_from_swift(sides, steps, GATEWAY_WIDE)


def test_dynamic_large_objects(sides):  # noqa: F811 (the fixture)
    steps = [Step("PUT", "/parity-dlo"), Step("PUT", "/parity-dlo-segs")]
    steps += [Step("PUT", f"/parity-dlo-segs/big/{i}", body=p) for i, p in enumerate(PARTS)]
    steps += [
        Step(
            "PUT", "/parity-dlo/big", {"X-Object-Manifest": "parity-dlo-segs/big/", "Content-Type": "text/plain"}, b""
        ),
        Step("HEAD", "/parity-dlo/big"),
        Step("GET", "/parity-dlo/big"),
        Step("GET", "/parity-dlo/big", {"Range": "bytes=5-14"}),
        Step("GET", "/parity-dlo/big?multipart-manifest=get"),
        Step("PUT", "/parity-dlo/bad", {"X-Object-Manifest": "nocontainer"}, b""),
    ]
    assert not differences_from_swift(sides, steps, GATEWAY_WIDE)
