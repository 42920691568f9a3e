"""Odd header values, stored through Swift and S3 and read back, over a real gunicorn.

Every write is either refused at once with 400 (a value that is not UTF-8, a control
character, a header name with ``_``, a value over Swift's limits) or stored so that every
GET and HEAD reads it back whole: the full body, its ``Content-Length``, the value as sent.
Never a 200 cut short, never a 201 for something that cannot be read again.

Two bugs this guards against: an object stored with ``Content-Type: text/☃`` answered every
GET and HEAD with a 200 and no body (gunicorn refused the header); a PUT with
``Transfer-Encoding: gzip, chunked`` was never answered, and the entry it left in the index
kept its empty container from being deleted (409)."""

import socket
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

import librgw
from librgw.write_request import WriteRequest

pytestmark = pytest.mark.slow

BODY = b"0123456789" * 100


def wsgi(raw: bytes) -> str:
    """Header bytes as http.client sends and reads them (a Latin-1 string)."""
    return raw.decode("latin-1")


@pytest.fixture(scope="module")
def alice(gateway):
    """(account path, token) of alice, with the container ``odd`` made (and bucket ``odd-s3``)."""
    conn = gateway.connection()
    conn.put_container("odd")
    gateway.s3().create_bucket(Bucket="odd-s3")
    url, token = conn.get_auth()
    return url[len(gateway.url) :], token


def read_back(gateway, path: str, token: str) -> dict[str, str]:
    """GET and HEAD ``path``: both 200, the GET's body whole; the GET's headers, lower-case names."""
    status, headers, body = gateway.raw("GET", path, {"X-Auth-Token": token})
    assert status == 200, (path, status, body[:200])
    assert body == BODY
    assert int(headers["Content-Length"]) == len(BODY)
    head_status, head_headers, _ = gateway.raw("HEAD", path, {"X-Auth-Token": token})
    assert head_status == 200
    assert int(head_headers["Content-Length"]) == len(BODY)
    got = {name.lower(): value for name, value in headers.items()}
    assert {name.lower(): value for name, value in head_headers.items()}.get("content-type") == got["content-type"]
    return got


# -- the two bugs ------------------------------------------------------------------------


def test_an_object_with_a_non_ascii_content_type_reads_back_whole(gateway, alice):
    account, token = alice
    snowman = "text/☃".encode()
    status, _, _ = gateway.raw("PUT", f"{account}/odd/snow", {"X-Auth-Token": token, "Content-Type": snowman}, BODY)
    assert status == 201
    assert read_back(gateway, f"{account}/odd/snow", token)["content-type"] == wsgi(snowman)
    listing = gateway.connection().get_container("odd", prefix="snow")[1]
    assert listing[0]["content_type"] == "text/☃"


def test_values_stored_before_the_checks_still_read_back(gateway, alice):
    """Data written another way (the core's API, an older gateway) with values no response
    may carry: the read percent-encodes them rather than breaking."""
    account, token = alice
    with librgw.connect(gateway.conf) as rgw:
        bucket = rgw.buckets.get("odd")
        request = WriteRequest(metadata={"note": "one\ntwo\x7f"}, content_type="text/\x01plain", headers={})
        rgw.object_ops.put(bucket, "stored-before", BODY, request)
    headers = read_back(gateway, f"{account}/odd/stored-before", token)
    assert headers["content-type"] == "text/%01plain"
    assert headers["x-object-meta-note"] == "one%0Atwo%7F"


def test_a_transfer_coding_list_is_501_and_leaves_its_container_deletable(gateway, alice):
    account, token = alice
    assert gateway.raw("PUT", f"{account}/gz-box", {"X-Auth-Token": token})[0] == 201
    request = (
        f"PUT {account}/gz-box/o HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\n"
        "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(request)
        assert sock.recv(65536).startswith(b"HTTP/1.1 501 ")
    assert gateway.raw("DELETE", f"{account}/gz-box", {"X-Auth-Token": token})[0] == 204


@pytest.mark.parametrize("how", ["swift", "s3"])
def test_an_entry_an_interrupted_write_left_never_blocks_a_container_delete(gateway, alice, how):
    """A write cut off between the index's prepare and the head (a worker killed, a client gone)
    leaves a placeholder; the container still deletes, as RGW resolves pending entries."""
    account, token = alice
    name = f"cut-{how}"
    assert gateway.raw("PUT", f"{account}/{name}", {"X-Auth-Token": token})[0] == 201
    with librgw.connect(gateway.conf) as rgw, rgw.indexes.open(rgw.buckets.get(name)) as index:
        index.prepare("half-written", "tag-of-a-dead-write", "write")
    assert gateway.raw("GET", f"{account}/{name}?format=json", {"X-Auth-Token": token})[2] == b"[]"
    if how == "swift":
        assert gateway.raw("DELETE", f"{account}/{name}", {"X-Auth-Token": token})[0] == 204
    else:
        gateway.s3().delete_bucket(Bucket=name)
    assert gateway.raw("HEAD", f"{account}/{name}", {"X-Auth-Token": token})[0] == 404


def test_a_container_with_an_object_and_a_placeholder_is_not_empty(gateway, alice):
    account, token = alice
    assert gateway.raw("PUT", f"{account}/full", {"X-Auth-Token": token})[0] == 201
    assert gateway.raw("PUT", f"{account}/full/z", {"X-Auth-Token": token}, b"x")[0] == 201
    with librgw.connect(gateway.conf) as rgw, rgw.indexes.open(rgw.buckets.get("full")) as index:
        index.prepare("a", "tag-of-a-dead-write", "write")
    assert gateway.raw("DELETE", f"{account}/full", {"X-Auth-Token": token})[0] == 409


# -- the scan ----------------------------------------------------------------------------


@dataclass
class Odd:
    name: str
    raw: bytes  # the value's bytes on the wire
    refused: bool  # must be refused at write time (400)


ODD_VALUES = [
    Odd("ascii", b"plain value", False),
    Odd("utf8-snowman", "text/☃".encode(), False),
    Odd("utf8-accent", "café".encode(), False),
    Odd("utf8-emoji", "smile 😀".encode(), False),
    Odd("utf8-c1-control", "\u0085".encode(), False),  # U+0085 is sent as UTF-8 bytes, not a control byte
    Odd("tab-inside", b"a\tb", False),
    Odd("padded", b"  padded  ", False),
    Odd("percent-escapes", b"%00%0A%FF", False),
    Odd("rfc2047", b"=?UTF-8?B?4piD?=", False),
    Odd("long-200", b"x" * 200, False),
    Odd("latin1-accent", b"caf\xe9", True),  # not UTF-8
    Odd("latin1-ff", b"\xff\xfe", True),
    Odd("utf8-surrogate", b"\xed\xa0\x80", True),
    Odd("control-soh", b"a\x01b", True),
    Odd("control-del", b"a\x7fb", True),
    Odd("control-esc", b"\x1b[31m", True),
]
SLOTS = ["Content-Type", "X-Object-Meta-Odd", "Content-Disposition"]


def expected_value(slot: str, raw: bytes) -> str | None:
    """What a read gives back for a stored value (None: no such header)."""
    value = wsgi(raw).strip(" \t")
    if not value:  # no type: the default; no metadata value: no item; a content header: kept empty, as Swift keeps it
        return {"Content-Type": "application/octet-stream", "X-Object-Meta-Odd": None}.get(slot, "")
    return value


@pytest.mark.parametrize("slot", SLOTS)
@pytest.mark.parametrize("odd", ODD_VALUES, ids=lambda odd: odd.name)
def test_every_odd_value_through_swift_is_refused_or_read_back_whole(gateway, alice, slot, odd):
    account, token = alice
    path = f"{account}/odd/swift-{slot}-{odd.name}"
    status, _, body = gateway.raw("PUT", path, {"X-Auth-Token": token, slot: odd.raw}, BODY)
    if odd.refused:
        assert status == 400, (status, body)
        assert gateway.raw("HEAD", path, {"X-Auth-Token": token})[0] == 404
        return
    assert status == 201, body
    assert read_back(gateway, path, token).get(slot.lower()) == expected_value(slot, odd.raw)


@pytest.mark.parametrize("slot", SLOTS)
@pytest.mark.parametrize("raw", [b"", b"   "], ids=["empty", "blank"])
def test_an_empty_value_through_swift_is_no_value(gateway, alice, slot, raw):
    account, token = alice
    path = f"{account}/odd/swift-{slot}-empty"
    assert gateway.raw("PUT", path, {"X-Auth-Token": token, slot: raw}, BODY)[0] == 201
    assert read_back(gateway, path, token).get(slot.lower()) == expected_value(slot, raw)


def test_metadata_values_over_the_limit_are_refused_and_at_it_read_back(gateway, alice):
    account, token = alice
    at_limit, over = "é" * 128, "é" * 128 + "x"  # 256 and 257 bytes
    path = f"{account}/odd/meta-limit"
    headers = {"X-Auth-Token": token, "X-Object-Meta-Long": at_limit.encode()}
    assert gateway.raw("PUT", path, headers, BODY)[0] == 201
    assert read_back(gateway, path, token)["x-object-meta-long"] == wsgi(at_limit.encode())
    headers["X-Object-Meta-Long"] = over.encode()
    assert gateway.raw("PUT", path + "-over", headers, BODY)[0] == 400
    long_type = b"application/x-" + b"y" * 4000
    assert gateway.raw("PUT", path + "-type", {"X-Auth-Token": token, "Content-Type": long_type}, BODY)[0] == 201
    assert read_back(gateway, path + "-type", token)["content-type"] == wsgi(long_type)


S3_ODD_VALUES = [odd for odd in ODD_VALUES if odd.raw.isascii() or not odd.refused]  # what botocore can send


@pytest.mark.parametrize("odd", S3_ODD_VALUES, ids=lambda odd: odd.name)
def test_every_odd_value_through_s3_is_refused_or_read_back_whole(gateway, alice, odd):
    """botocore sends a header's text as UTF-8 (so only UTF-8 values reach the gateway from it)
    and refuses non-ASCII metadata itself; what it sends is refused or read back whole."""
    s3 = gateway.s3()
    value = odd.raw.decode("utf-8")
    slots = [("ContentType", {"ContentType": value}), ("ContentDisposition", {"ContentDisposition": value})]
    if value.isascii():
        slots.append(("Metadata", {"Metadata": {"odd": value}}))
    for slot, args in slots:
        key = f"s3-{slot}-{odd.name}"
        try:
            s3.put_object(Bucket="odd-s3", Key=key, Body=BODY, **args)
        except ClientError as error:
            assert odd.refused, (slot, error.response)
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            with pytest.raises(ClientError):
                s3.head_object(Bucket="odd-s3", Key=key)
            continue
        assert not odd.refused, slot
        got = s3.get_object(Bucket="odd-s3", Key=key)
        assert got["Body"].read() == BODY
        assert got["ContentLength"] == len(BODY)
        head = s3.head_object(Bucket="odd-s3", Key=key)
        assert head["ContentLength"] == len(BODY)
        expected = wsgi(odd.raw).strip(" \t")  # http.client reads header bytes as Latin-1
        for answer in (got, head):
            assert (answer["Metadata"] if slot == "Metadata" else {"odd": answer[slot]}) == {"odd": expected}
