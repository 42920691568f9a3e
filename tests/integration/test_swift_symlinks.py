"""Symlinks through a real gunicorn gateway (``paste.ini``'s pipeline, with ``symlink``):
python-swiftclient makes and reads links, static links, ``?symlink=get``, listings, POST, COPY
and DELETE; the failure paths a client meets (a loop 409, a dangling link 404, a static link's
ETag mismatch 409, a body 400, a link into an account the client may not read 403, a container
temp URL's link out of its container 401); boto3 reads a link's target through ``s3``; and the
filter works in a real OpenStack Swift proxy (``tests/swift/aio.py``) over Swift's own servers."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path

import pytest
from swiftclient import client as swift

from librgw import temp_urls
from tests.swift import aio

pytestmark = pytest.mark.slow

DATA = b"what the links point at"
ETAG = hashlib.md5(DATA, usedforsecurity=False).hexdigest()


def failure(call) -> swift.ClientException:
    with pytest.raises(swift.ClientException) as raised:
        call()
    return raised.value


@pytest.fixture
def container(gateway) -> tuple[swift.Connection, str]:
    conn = gateway.connection()
    name = f"ln-{uuid.uuid4().hex[:8]}"
    conn.put_container(name)
    conn.put_object(name, "target", DATA, content_type="text/plain")
    return conn, name


def link(conn: swift.Connection, container: str, name: str, target: str, **headers: str) -> dict:
    response: dict = {}
    conn.put_object(container, name, b"", headers={"X-Symlink-Target": target, **headers}, response_dict=response)
    return response


def test_a_link_reads_as_its_target_and_lists_its_path(gateway, container):
    conn, name = container
    assert json.loads(gateway.raw("GET", "/info")[2])["symlink"] == {"symloop_max": 2, "static_links": True}
    assert link(conn, name, "ln", f"{name}/target")["status"] == 201
    headers, body = conn.get_object(name, "ln")
    assert body == DATA and headers["etag"] == ETAG
    assert headers["content-location"] == f"/v1/AUTH_alice/{name}/target"
    own = conn.head_object(name, "ln", query_string="symlink=get")
    assert (own["x-symlink-target"], own["content-length"], own["content-type"]) == (
        f"{name}/target",
        "0",
        "application/symlink",
    )
    link(conn, name, "static", f"{name}/target", **{"X-Symlink-Target-Etag": ETAG})
    _, listing = conn.get_container(name)
    entries = {entry["name"]: entry for entry in listing}
    assert entries["ln"]["symlink_path"] == f"/v1/AUTH_alice/{name}/target"
    assert entries["ln"]["hash"] == "d41d8cd98f00b204e9800998ecf8427e"
    assert (entries["static"]["symlink_etag"], entries["static"]["symlink_bytes"]) == (ETAG, len(DATA))
    assert "symlink_path" not in entries["target"]


def test_failure_paths(container):
    conn, name = container
    body = failure(lambda: conn.put_object(name, "ln", b"x", headers={"X-Symlink-Target": f"{name}/target"}))
    assert (body.http_status, body.http_response_content) == (400, b"Symlink requests require a zero byte body")
    assert failure(lambda: link(conn, name, "ln", "/nope")).http_status == 412
    link(conn, name, "a", f"{name}/b")
    link(conn, name, "b", f"{name}/a")
    loop = failure(lambda: conn.get_object(name, "a"))
    assert (loop.http_status, loop.http_response_content) == (
        409,
        b"Too many levels of symbolic links, maximum allowed is 2",
    )
    link(conn, name, "dangling", f"{name}/nothing")
    assert failure(lambda: conn.get_object(name, "dangling")).http_status == 404
    mismatch = failure(lambda: link(conn, name, "s", f"{name}/target", **{"X-Symlink-Target-Etag": "0" * 32}))
    assert mismatch.http_status == 409
    assert (
        mismatch.http_response_content
        == f"Object Etag '{ETAG}' does not match X-Symlink-Target-Etag header '{'0' * 32}'".encode()
    )
    link(conn, name, "s", f"{name}/target", **{"X-Symlink-Target-Etag": ETAG})
    conn.put_object(name, "target", b"new bytes")
    assert failure(lambda: conn.get_object(name, "s")).http_status == 409
    assert conn.get_object(name, "target")[1] == b"new bytes"


def test_post_copy_and_delete(gateway, container):
    conn, name = container
    link(conn, name, "ln", f"{name}/target")
    assert failure(lambda: conn.post_object(name, "ln", {"X-Symlink-Target": f"{name}/x"})).http_status == 400
    # sent by hand: python-swiftclient's requests would follow the 307 to the target, as browsers do
    token = conn.get_auth()[1]
    status, headers, _ = gateway.raw(
        "POST", f"/v1/AUTH_alice/{name}/ln", {"X-Auth-Token": token, "X-Object-Meta-Color": "blue"}
    )
    assert status == 307 and headers["Location"] == f"/v1/AUTH_alice/{name}/target"  # relative, as Swift's
    own = conn.head_object(name, "ln", query_string="symlink=get")
    assert own["x-object-meta-color"] == "blue" and own["x-symlink-target"] == f"{name}/target"
    conn.copy_object(name, "ln", f"/{name}/copy")
    assert conn.get_object(name, "copy")[1] == DATA
    assert "x-symlink-target" not in conn.head_object(name, "copy", query_string="symlink=get")
    conn.delete_object(name, "ln")
    assert conn.get_object(name, "target")[1] == DATA
    assert failure(lambda: conn.head_object(name, "ln")).http_status == 404


def test_a_link_reads_with_the_clients_own_rights(gateway, container):
    conn, name = container
    bob = gateway.connection("bob:swift", "bob-key")
    bobs = f"bob-{uuid.uuid4().hex[:8]}"
    bob.put_container(bobs)
    bob.put_object(bobs, "secret", b"bob's")
    link(conn, name, "into-bob", f"{bobs}/secret", **{"X-Symlink-Target-Account": "AUTH_bob"})
    assert failure(lambda: conn.get_object(name, "into-bob")).http_status == 403
    bob.post_container(bobs, {"X-Container-Read": "alice"})
    assert conn.get_object(name, "into-bob")[1] == b"bob's"


def test_s3_get_object_of_a_link_reads_its_target(gateway, container):
    conn, name = container
    link(conn, name, "ln", f"{name}/target")
    s3 = gateway.s3()
    assert s3.get_object(Bucket=name, Key="ln")["Body"].read() == DATA
    listed = {item["Key"]: item for item in s3.list_objects_v2(Bucket=name)["Contents"]}
    assert listed["ln"]["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_a_temp_url_follows_links_within_its_keys_scope(gateway, container):
    conn, name = container
    other = f"{name}-other"
    conn.put_container(other)
    conn.put_object(other, "target", b"elsewhere")
    link(conn, name, "here", f"{name}/target")
    link(conn, name, "there", f"{other}/target")
    conn.post_container(name, {"X-Container-Meta-Temp-URL-Key": "container-key"})

    def temp_url(obj: str) -> str:
        path = f"/v1/AUTH_alice/{name}/{obj}"
        expires = int(time.time()) + 60
        signature = temp_urls.sign(temp_urls.Scope("GET", expires, path), "container-key")
        return f"{path}?temp_url_sig={signature}&temp_url_expires={expires}"

    assert gateway.raw("GET", temp_url("here"))[::2] == (200, DATA)
    assert gateway.raw("GET", temp_url("there"))[0] == 401  # a container key's URL stays in its container


@pytest.fixture(scope="module")
def swift_proxy(tmp_path_factory):
    """A real Swift all-in-one whose proxy runs this project's symlink filter where Swift's own
    would be (after the copy and dlo filters Swift's proxy adds)."""
    yield from aio.running(
        Path(tmp_path_factory.mktemp("swift-aio")), filters=(aio.ProxyFilter("symlink", "egg:librgw#symlink"),)
    )


def test_our_filter_in_a_swift_proxy(swift_proxy):
    token, url = swift_proxy.token()
    conn = swift.Connection(preauthurl=url, preauthtoken=token, retries=0)
    conn.put_container("links")
    conn.put_object("links", "target", DATA)
    link(conn, "links", "ln", "links/target")
    headers, body = conn.get_object("links", "ln")
    assert body == DATA and headers["content-location"].endswith("/links/target")
    assert conn.head_object("links", "ln", query_string="symlink=get")["x-symlink-target"] == "links/target"
    link(conn, "links", "a", "links/b")
    link(conn, "links", "b", "links/a")
    assert failure(lambda: conn.get_object("links", "a")).http_status == 409
    link(conn, "links", "s", "links/target", **{"X-Symlink-Target-Etag": ETAG})
    entries = {entry["name"]: entry for entry in conn.get_container("links")[1]}
    assert entries["ln"]["symlink_path"].endswith("/links/target")
    assert entries["ln"]["hash"] == "d41d8cd98f00b204e9800998ecf8427e"
    assert (entries["s"]["symlink_etag"], entries["s"]["symlink_bytes"]) == (ETAG, len(DATA))
    conn.put_object("links", "target", b"changed")
    assert failure(lambda: conn.get_object("links", "s")).http_status == 409
