"""Errors, permissions and ``/info`` as OpenStack Swift gives them, over a real gunicorn.

Each test names the Swift source or document it follows: ``swift/proxy/server.py`` (412 "Bad
URL", 412 for bad UTF-8), ``swift/common/constraints.py`` (metadata limits and their
messages), ``swob.is_chunked`` (501 for a list of transfer codings), ``swob.Response`` and
tempauth (``WWW-Authenticate: Swift realm=...`` on every 401), tempauth's account ACLs
(``X-Account-Access-Control``), and ``register_swift_info`` (``/info``)."""

import json
import socket
import time

import pytest
from swiftclient import client as swift
from swiftclient.exceptions import ClientException

from tests.integration.conftest import status_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def alice(gateway):
    """(account path, token) of alice, with the container ``errs`` made."""
    conn = gateway.connection()
    conn.put_container("errs")
    url, token = conn.get_auth()
    return url[len(gateway.url) :], token


def body_of(call, *args, **kwargs) -> str:
    try:
        call(*args, **kwargs)
    except ClientException as error:
        return error.http_response_content.decode()
    raise AssertionError("the request succeeded")


# -- paths ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1", "/v1/"])
def test_the_api_version_alone_is_412_bad_url(gateway, alice, path):
    status, _, body = gateway.raw("GET", path, {"X-Auth-Token": alice[1]})
    assert status == 412
    assert b"Bad URL" in body
    assert gateway.raw("GET", path)[0] == 412


def test_invalid_utf8_in_the_path_is_412(gateway, alice):
    account, token = alice
    status, _, body = gateway.raw("GET", f"{account}/errs/%FF", {"X-Auth-Token": token})
    assert status == 412
    assert b"Invalid UTF8 or contains NULL" in body


# -- metadata limits: swift/common/constraints.py ---------------------------------------


@pytest.mark.parametrize("kind", ["object", "container", "account"])
def test_metadata_over_swifts_limits_is_400_with_swifts_messages(gateway, alice, kind):
    url, token = gateway.connection().get_auth()

    def write(headers: dict) -> None:
        # a connection of its own: one whose request was refused before its body was read is closed
        conn = swift.Connection(preauthurl=url, preauthtoken=token, retries=0)
        if kind == "object":
            conn.put_object("errs", "meta", b"x", headers=headers)
        elif kind == "container":
            conn.post_container("errs", headers)
        else:
            conn.post_account(headers)

    prefix = f"X-{kind.title()}-Meta-"
    at_limits = {prefix + "n" * 128: "v" * 256}
    if kind == "object" and gateway.conf.startswith("ceph:"):
        # a Ceph OSD keeps attribute names of 100 bytes (osd_max_attr_name_len): RGW's 400
        assert "Metadata name too long" in body_of(write, at_limits)
        at_limits = {prefix + "n" * 64: "v" * 256}
    write(at_limits)  # 128-byte names (64 on Ceph) and 256-byte values are allowed
    long_name = "n" * 129
    assert status_of(write, {prefix + long_name: "v"}) == 400
    # Swift names the header as its swob keys it: the part after the prefix title-cased
    assert f"Metadata name too long: x-{kind}-meta-{long_name.title()}" in body_of(write, {prefix + long_name: "v"})
    assert f"Metadata value longer than 256: x-{kind}-meta-Big" in body_of(write, {prefix + "Big": "v" * 257})
    many = {f"{prefix}M{i}": "v" for i in range(91)}
    assert "Too many metadata items; max 90" in body_of(write, many)
    large = {f"{prefix}L{i}": "v" * 250 for i in range(17)}  # 17 x 252 bytes > 4096
    assert "Total metadata too large; max 4096" in body_of(write, large)
    write(dict.fromkeys(at_limits, ""))  # removes the item again


def test_a_multibyte_value_is_counted_in_bytes(gateway, alice):
    conn = gateway.connection()
    conn.put_object("errs", "bytes", b"x", headers={"X-Object-Meta-Snow": "☃" * 85})  # 255 bytes
    assert status_of(conn.put_object, "errs", "bytes", b"x", headers={"X-Object-Meta-Snow": "☃" * 86}) == 400


# -- Transfer-Encoding: swob.is_chunked ---------------------------------------------------


def send_head(gateway, head: bytes) -> tuple[bytes, float]:
    """Send a request head only (no body) and read the answer until the server closes the
    connection, as it does after refusing a body it will not read: (its bytes, seconds taken)."""
    started = time.monotonic()
    answer = b""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(head)
        while chunk := sock.recv(65536):
            answer += chunk
    return answer, time.monotonic() - started


def test_a_transfer_coding_list_is_501_at_once_through_swift(gateway, alice):
    account, token = alice
    head = (
        f"PUT {account}/errs/gz HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\n"
        "Transfer-Encoding: gzip, chunked\r\n\r\n"
    ).encode()
    answer, seconds = send_head(gateway, head)  # the body never comes: the answer must not wait for it
    assert answer.startswith(b"HTTP/1.1 501 "), answer
    assert b"Unsupported Transfer-Coding header value specified in Transfer-Encoding header" in answer
    assert seconds < 5
    assert gateway.raw("HEAD", f"{account}/errs/gz", {"X-Auth-Token": token})[0] == 404


def test_a_transfer_coding_list_is_501_not_implemented_through_s3(gateway):
    answer, seconds = send_head(
        gateway, b"PUT /errs/gz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 501 "), answer
    assert seconds < 5


def test_a_single_coding_other_than_chunked_is_refused(gateway, alice):
    account, token = alice
    head = f"PUT {account}/errs/gz HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\nTransfer-Encoding: gzip\r\n\r\n"
    answer, _ = send_head(gateway, head.encode())
    assert answer.startswith(b"HTTP/1.1 400 "), answer  # gunicorn's answer: no length can be known


# -- 401s: swob.Response.www_authenticate, tempauth -----------------------------------------


def test_every_401_says_how_to_authenticate(gateway, alice):
    account, _ = alice
    status, headers, _ = gateway.raw("GET", f"{account}/errs")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Swift realm="AUTH_alice"'
    status, headers, _ = gateway.raw("GET", f"{account}/errs", {"X-Auth-Token": "AUTH_tk" + "0" * 32})
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Swift realm="AUTH_alice"'
    status, headers, _ = gateway.raw("GET", "/auth/v1.0", {"X-Auth-User": "alice:swift", "X-Auth-Key": "wrong"})
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Swift realm="alice"'
    status, headers, _ = gateway.raw("GET", "/auth/v1.0")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Swift realm="unknown"'
    status, headers, _ = gateway.raw("GET", f"{account}/errs", {"X-Auth-Token": alice[1]})
    assert "WWW-Authenticate" not in headers


# -- header names with "_" ------------------------------------------------------------------


def test_a_header_name_with_an_underscore_is_refused_never_dropped(gateway, alice):
    account, token = alice
    headers = {"X-Auth-Token": token, "X-Object-Meta-c_real": "1"}
    status, _, body = gateway.raw("PUT", f"{account}/errs/underscore", headers, b"x")
    assert status == 400
    assert b"C_REAL" in body
    assert gateway.raw("HEAD", f"{account}/errs/underscore", {"X-Auth-Token": token})[0] == 404


def test_s3_metadata_with_an_underscore_is_refused_not_a_signature_mismatch(gateway):
    from botocore.exceptions import ClientError

    s3 = gateway.s3()
    s3.create_bucket(Bucket="under-score")
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket="under-score", Key="k", Body=b"x", Metadata={"c_real": "1"})
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    s3.put_object(Bucket="under-score", Key="k", Body=b"x", Metadata={"c-real": "1"})
    assert s3.head_object(Bucket="under-score", Key="k")["Metadata"] == {"c-real": "1"}


# -- permissions: RGW's subusers, tempauth's account ACLs -----------------------------------


def test_a_read_subuser_cannot_make_delete_or_change_the_account(gateway):
    reader = gateway.connection("alice:reader", "reader-key")
    assert status_of(reader.put_container, "by-reader") == 403
    assert status_of(reader.delete_container, "errs") == 403
    assert status_of(reader.post_account, {"X-Account-Meta-A": "1"}) == 403
    assert status_of(reader.post_account, {"X-Account-Access-Control": '{"admin":["alice:reader"]}'}) == 403


def test_a_readwrite_subuser_writes_objects_but_makes_no_containers_and_no_account_changes(gateway):
    # issue 17: as in Swift, a user without account-admin rights makes and deletes containers
    # only if the account's ACL grants it (read-write); the account's metadata and ACLs are
    # the owner's (full-control). A readwrite subuser writes objects in the containers there are.
    owner, rw = gateway.connection(), gateway.connection("alice:rw", "rw-key")
    assert status_of(rw.put_container, "by-rw") == 403
    owner.put_container("for-rw")
    rw.put_object("for-rw", "doc", b"written")
    rw.delete_object("for-rw", "doc")
    assert status_of(rw.delete_container, "for-rw") == 403
    owner.delete_container("for-rw")
    assert status_of(rw.post_account, {"X-Account-Meta-A": "1"}) == 403
    assert status_of(rw.post_account, {"X-Account-Access-Control": '{"admin":["alice:rw"]}'}) == 403
    assert status_of(rw.post_container, "errs", {"X-Container-Read": ".r:*"}) == 403


def test_another_user_needs_the_accounts_acl(gateway, alice):
    account, _ = alice
    owner = gateway.connection()
    bob = gateway.connection("bob:swift", "bob-key")
    _, bob_token = bob.get_auth()

    def as_bob(method: str, path: str = "", headers: dict | None = None) -> int:
        return gateway.raw(method, account + path, {"X-Auth-Token": bob_token, **(headers or {})}, b"x")[0]

    owner.put_object("errs", "doc", b"secret")
    assert as_bob("GET", "/errs/doc") == 403
    assert as_bob("PUT", "/bobs") == 403
    try:
        owner.post_account({"X-Account-Access-Control": '{"read-only":["bob"]}'})
        assert as_bob("GET", "/errs/doc") == 200
        assert as_bob("GET") == 200
        assert as_bob("PUT", "/bobs") == 403
        assert as_bob("PUT", "/errs/by-bob") == 403
        owner.post_account({"X-Account-Access-Control": '{"read-write":["bob:swift"]}'})
        assert as_bob("PUT", "/bobs") == 201
        assert as_bob("PUT", "/bobs/o") == 201
        assert as_bob("DELETE", "/bobs/o") == 204
        assert as_bob("DELETE", "/bobs") == 204
        assert as_bob("POST", "", {"X-Account-Meta-By": "bob"}) == 403
        assert "x-account-access-control" not in {
            k.lower() for k in gateway.raw("HEAD", account, {"X-Auth-Token": bob_token})[1]
        }
        owner.post_account({"X-Account-Access-Control": '{"admin":["AUTH_bob"]}'})
        assert as_bob("POST", "", {"X-Account-Meta-By": "bob"}) == 204
        headers = gateway.raw("HEAD", account, {"X-Auth-Token": bob_token})[1]
        assert json.loads(headers["X-Account-Access-Control"]) == {"admin": ["AUTH_bob"]}
    finally:
        owner.post_account({"X-Account-Access-Control": "", "X-Remove-Account-Meta-By": "x"})
    assert as_bob("GET", "/errs/doc") == 403
    assert "X-Account-Access-Control" not in gateway.raw("HEAD", account, {"X-Auth-Token": alice[1]})[1]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not json", "Syntax error in input ('not json')"),
        ("[1]", "Syntax error in input ('[1]')"),
        ('{"owner":["bob"]}', "Key 'owner' not recognized"),
        ('{"admin":"bob"}', "Value for key 'admin' must be a list"),
        ('{"admin":[1]}', "Elements of 'admin' list must be strings"),
    ],
)
def test_a_malformed_account_acl_is_400_with_tempauths_message(gateway, value, message):
    owner = gateway.connection()
    assert message in body_of(owner.post_account, {"X-Account-Access-Control": value})


# -- /info: register_swift_info --------------------------------------------------------------


def test_info_lists_every_feature_the_pipeline_serves(gateway):
    status, headers, body = gateway.raw("GET", "/info")
    assert status == 200
    info = json.loads(body)
    assert info["s3api"] == {
        "max_bucket_listing": 1000,
        "max_parts_listing": 1000,
        "max_upload_part_num": 10000,
        "max_multi_delete_objects": 1000,
        "allow_multipart_uploads": True,
        "min_segment_size": 5242880,
        "s3_acl": True,
    }
    assert info["tempauth"] == {"account_acls": True}
    assert info["bulk_delete"] == {"max_deletes_per_request": 10000, "max_failed_deletes": 1000}
    assert "object_versioning" in info
    assert info["swift"]["max_meta_value_length"] == 256
    assert info["swift"]["max_file_size"] == 5 * 1024**3
