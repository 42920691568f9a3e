"""Tokens, roles and container ACLs, over a real gunicorn: who may do what."""

import json
import time

import pytest

from librgw import rados
from librgw.tokens import TOKENS_NS
from librgw.zone import LOG_POOL
from tests.integration.conftest import status_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shared(gateway):
    alice = gateway.connection()
    alice.put_container("shared")
    alice.put_object("shared", "doc", b"secret stuff")
    return alice


def path_of(gateway, url: str, rest: str = "") -> str:
    return url[len(gateway.url) :] + rest


def test_login_gives_a_token_and_a_storage_url(gateway):
    status, headers, _ = gateway.raw("GET", "/auth/v1.0", {"X-Auth-User": "alice:swift", "X-Auth-Key": "alice-key"})
    assert status == 200 and headers["X-Storage-Url"].endswith("/v1/AUTH_alice")
    assert headers["X-Auth-Token"].startswith("AUTH_tk") and int(headers["X-Auth-Token-Expires"]) > 0
    assert gateway.raw("GET", "/auth/v1.0", {"X-Auth-User": "alice:swift", "X-Auth-Key": "wrong"})[0] == 401


def test_bad_and_expired_tokens_are_401(gateway, shared):
    assert gateway.raw("GET", "/v1/AUTH_alice/shared", {"X-Auth-Token": "AUTH_tkbogus"})[0] == 401
    expired = "AUTH_tk" + "0" * 32
    record = {"user_id": "alice", "swift_user": "alice:swift", "expires": time.time() - 1}
    with rados.Rados(conffile=gateway.conf) as client, client.open_ioctx(LOG_POOL) as ioctx:
        ioctx.set_namespace(TOKENS_NS)
        ioctx.write_full(expired, json.dumps(record).encode())
    assert gateway.raw("GET", "/v1/AUTH_alice/shared", {"X-Auth-Token": expired})[0] == 401


def test_no_token_is_401_and_another_users_token_is_403(gateway, shared):
    assert gateway.raw("GET", "/v1/AUTH_alice/shared/doc")[0] == 401
    assert gateway.raw("GET", "/v1/AUTH_alice")[0] == 401
    bob = gateway.connection("bob:swift", "bob-key")
    _, token = bob.get_auth()
    assert gateway.raw("GET", "/v1/AUTH_alice/shared/doc", {"X-Auth-Token": token})[0] == 403
    assert gateway.raw("PUT", "/v1/AUTH_alice/shared/new", {"X-Auth-Token": token}, b"x")[0] == 403
    assert gateway.raw("POST", "/v1/AUTH_alice", {"X-Auth-Token": token, "X-Account-Meta-X": "1"})[0] == 403


def test_read_acl_grants_a_user_reads_and_listings_but_not_writes(gateway, shared):
    shared.post_container("shared", {"X-Container-Read": "bob"})
    bob = gateway.connection("bob:swift", "bob-key")
    url, token = bob.get_auth()
    assert gateway.raw("GET", "/v1/AUTH_alice/shared/doc", {"X-Auth-Token": token})[2] == b"secret stuff"
    assert gateway.raw("GET", "/v1/AUTH_alice/shared", {"X-Auth-Token": token})[2] == b"doc\n"
    assert gateway.raw("PUT", "/v1/AUTH_alice/shared/new", {"X-Auth-Token": token}, b"x")[0] == 403
    assert gateway.raw("DELETE", "/v1/AUTH_alice/shared/doc", {"X-Auth-Token": token})[0] == 403
    # the ACL itself is shown to the owner only
    assert shared.head_container("shared")["x-container-read"] == "bob"
    assert "X-Container-Read" not in gateway.raw("HEAD", "/v1/AUTH_alice/shared", {"X-Auth-Token": token})[1]
    shared.post_container("shared", {"X-Container-Read": ""})
    assert gateway.raw("GET", "/v1/AUTH_alice/shared/doc", {"X-Auth-Token": token})[0] == 403


def test_write_acl_grants_object_writes_only(gateway, shared):
    alice = gateway.connection()
    alice.put_container("dropbox", headers={"X-Container-Write": "bob:swift"})
    bob = gateway.connection("bob:swift", "bob-key")
    _, token = bob.get_auth()
    assert gateway.raw("PUT", "/v1/AUTH_alice/dropbox/from-bob", {"X-Auth-Token": token}, b"hi")[0] == 201
    assert alice.get_object("dropbox", "from-bob")[1] == b"hi"
    assert gateway.raw("GET", "/v1/AUTH_alice/dropbox/from-bob", {"X-Auth-Token": token})[0] == 403
    assert gateway.raw("POST", "/v1/AUTH_alice/dropbox", {"X-Auth-Token": token, "X-Container-Meta-A": "1"})[0] == 403
    assert gateway.raw("DELETE", "/v1/AUTH_alice/dropbox", {"X-Auth-Token": token})[0] == 403


def test_public_read_with_and_without_listings(gateway):
    alice = gateway.connection()
    alice.put_container("public", headers={"X-Container-Read": ".r:*"})
    alice.put_object("public", "page.html", b"<h1>hi</h1>", content_type="text/html")
    status, headers, body = gateway.raw("GET", "/v1/AUTH_alice/public/page.html")
    assert (status, body, headers["Content-Type"]) == (200, b"<h1>hi</h1>", "text/html")
    assert gateway.raw("GET", "/v1/AUTH_alice/public")[0] == 401  # no .rlistings
    assert gateway.raw("PUT", "/v1/AUTH_alice/public/x", {}, b"x")[0] == 401
    alice.post_container("public", {"X-Container-Read": ".r:*,.rlistings"})
    assert gateway.raw("GET", "/v1/AUTH_alice/public")[2] == b"page.html\n"
    alice.post_container("public", {"X-Container-Read": ".r:.example.com"})
    assert gateway.raw("GET", "/v1/AUTH_alice/public/page.html", {"Referer": "http://www.example.com/a"})[0] == 200
    assert gateway.raw("GET", "/v1/AUTH_alice/public/page.html", {"Referer": "http://evil.org/"})[0] == 401


def test_malformed_acl_is_400(gateway):
    alice = gateway.connection()
    assert status_of(alice.put_container, "badacl", headers={"X-Container-Read": ".r:"}) == 400
    assert status_of(alice.put_container, "badacl", headers={"X-Container-Read": ".bogus"}) == 400


def test_subuser_permissions_read_readwrite_full(gateway, shared):
    reader = gateway.connection("alice:reader", "reader-key")
    assert reader.get_object("shared", "doc")[1] == b"secret stuff"
    assert status_of(reader.put_object, "shared", "by-reader", b"x") == 403
    assert status_of(reader.post_account, {"X-Account-Meta-A": "1"}) == 403
    rw = gateway.connection("alice:rw", "rw-key")
    rw.put_object("shared", "by-rw", b"x")
    assert rw.get_object("shared", "by-rw")[1] == b"x"
    assert status_of(rw.post_container, "shared", {"X-Container-Read": ".r:*"}) == 403  # ACLs take full-control
    assert status_of(rw.post_account, {"X-Account-Meta-A": "1"}) == 403
    rw.delete_object("shared", "by-rw")


def test_reseller_admin_reaches_every_account(gateway, shared):
    root = gateway.connection("root:swift", "root-key")
    _, token = root.get_auth()
    assert gateway.raw("GET", "/v1/AUTH_alice/shared/doc", {"X-Auth-Token": token})[2] == b"secret stuff"
    assert gateway.raw("HEAD", "/v1/AUTH_alice", {"X-Auth-Token": token})[0] == 204
    assert gateway.raw("HEAD", "/v1/AUTH_nobody", {"X-Auth-Token": token})[0] == 404
