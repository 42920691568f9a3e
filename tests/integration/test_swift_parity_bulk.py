"""Archive extraction side by side with OpenStack Swift's own ``bulk`` (put in the all-in-one's
pipeline here): the same ``?extract-archive`` PUTs, archives byte for byte, into a container and
into an account, good and bad, to our gateway and to Swift, answers compared as
``test_swift_parity.py`` compares them (its ``sides`` and normalization).

Not compared: an archive cut off inside a file. Both report ``Invalid Tar File: unexpected end
of data`` and list the file, with the status its PUT got from a body that broke off: Swift's
proxy answers that ``500 Internal Error``, the gateway ``400 Bad Request``."""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_swift_parity import Step, backend, differences_from_swift, sides  # noqa: F401 (fixtures used here)
from tests.swift import aio

pytestmark = pytest.mark.slow

# The gateway's own headers on every answer (shown by test_swift_parity.py's scenarios), and
# X-Timestamp on a container PUT's: left out so these compare what the two extractions answer.
GATEWAY_WIDE = re.compile(r": header (server|x-amz-request-id|x-librgw-error|x-timestamp): ")


@pytest.fixture(scope="module")
def swift_aio(tmp_path_factory) -> Iterator[aio.SwiftAIO]:
    """The all-in-one, with Swift's own ``bulk`` in its proxy (``sides`` uses it)."""
    yield from aio.running(
        Path(tmp_path_factory.mktemp("swift-aio")), filters=(aio.ProxyFilter("bulk", "egg:swift#bulk"),)
    )


def archive(files: dict[str, bytes], compression: str = "") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=f"w:{compression}", format=tarfile.GNU_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1700000000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_extract_archive(sides):  # noqa: F811 (the fixture)
    not_utf8 = b"parity-xa/bad-\xff".decode("utf-8", "surrogateescape")
    into_account = archive({"parity-xa/one": b"1", "parity-xb/d/two": b"22", "top": b"skipped", not_utf8: b"x"}, "gz")
    json_answer = {"Accept": "application/json"}
    assert not differences_from_swift(
        sides,
        [
            Step("PUT", "/parity-x"),
            Step("PUT", "/parity-x/in?extract-archive=tar", json_answer, archive({"a.txt": b"alpha", "d/b": b"beta"})),
            Step("GET", "/parity-x?format=json"),
            Step("PUT", "?extract-archive=tar.gz", {"Accept": "text/xml"}, into_account),
            Step("GET", "/parity-xb?format=json"),
            Step("PUT", "?extract-archive=tar.bz2", {}, archive({"parity-xa/three": b"333"}, "bz2")),
            Step("PUT", "?extract-archive=tar", json_answer, archive({"top-only": b"x"})),
            Step("PUT", "?extract-archive=tar.gz", json_answer, b"\x1f\x8b not really gzip"),
            Step("PUT", "?extract-archive=zip", json_answer, b"PK"),
            Step("PUT", "?extract-archive=tar", json_answer),  # no body, no length
        ],
        GATEWAY_WIDE,
    )
