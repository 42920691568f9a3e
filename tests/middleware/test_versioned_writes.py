"""``versioned_writes`` (Swift's X-Versions-Location / X-History-Location) through a pipeline
built from the real factories (auth, the filter, the gateway), on each backend."""

from __future__ import annotations

import pytest
from webob import Request

import librgw
from librgw.middleware import auth, gateway, versioned_writes

MARKER = "application/x-deleted;swift_versions_deleted=1"


@pytest.fixture
def app(conf):
    with librgw.connect(conf) as rgw:
        for uid in ("alice", "bob"):
            rgw.users.create(uid, uid.title())
            rgw.users.create_subuser(uid, "swift", "full", secret_key=f"{uid}-key")
    app = versioned_writes.filter_factory({}, allow_versioned_writes="true")(gateway.app_factory({}, cluster=conf))
    return auth.filter_factory({}, cluster=conf)(app)


def login(app, user: str) -> str:
    answer = Request.blank("/auth/v1.0", headers={"X-Auth-User": f"{user}:swift", "X-Auth-Key": f"{user}-key"})
    return answer.get_response(app).headers["X-Auth-Token"]


def call(app, method: str, path: str, token: str, body: bytes | None = None, **headers):
    request = Request.blank(path, method=method, headers={"X-Auth-Token": token, **headers})
    if body is not None:
        request.body = body
    return request.get_response(app)


def archive_listing(app, token: str) -> list[dict]:
    return call(app, "GET", "/v1/AUTH_alice/arch?format=json", token).json


def test_stack_mode_archives_each_overwrite_and_delete_pops_them_back(app):
    token = login(app, "alice")
    assert call(app, "PUT", "/v1/AUTH_alice/arch", token).status_int == 201
    assert call(app, "PUT", "/v1/AUTH_alice/docs", token, **{"X-Versions-Location": "arch"}).status_int == 201
    assert call(app, "HEAD", "/v1/AUTH_alice/docs", token).headers["X-Versions-Location"] == "arch"
    for body in (b"one", b"two", b"three"):
        assert call(app, "PUT", "/v1/AUTH_alice/docs/r", token, body).status_int == 201
    names = [item["name"] for item in archive_listing(app, token)]
    assert len(names) == 2 and all(name.startswith("001r/") for name in names)
    bob = login(app, "bob")
    assert call(app, "DELETE", "/v1/AUTH_alice/docs/r", bob).status_int == 403  # nothing popped for him
    assert len(archive_listing(app, token)) == 2
    assert call(app, "DELETE", "/v1/AUTH_alice/docs/r", token).status_int == 204
    assert call(app, "GET", "/v1/AUTH_alice/docs/r", token).body == b"two"
    assert call(app, "DELETE", "/v1/AUTH_alice/docs/r", token).status_int == 204
    assert call(app, "GET", "/v1/AUTH_alice/docs/r", token).body == b"one"
    assert archive_listing(app, token) == []
    assert call(app, "DELETE", "/v1/AUTH_alice/docs/r", token).status_int == 204
    assert call(app, "GET", "/v1/AUTH_alice/docs/r", token).status_int == 404


def test_history_mode_delete_leaves_the_copy_and_a_marker(app):
    token = login(app, "alice")
    call(app, "PUT", "/v1/AUTH_alice/arch", token)
    call(app, "PUT", "/v1/AUTH_alice/docs", token, **{"X-History-Location": "arch"})
    call(app, "PUT", "/v1/AUTH_alice/docs/r", token, b"one")
    assert call(app, "DELETE", "/v1/AUTH_alice/docs/r", token).status_int == 204
    listed = archive_listing(app, token)
    assert [item["content_type"] for item in listed][1] == MARKER
    assert call(app, "GET", f"/v1/AUTH_alice/arch/{listed[0]['name']}", token).body == b"one"


def test_location_checks(app):
    token = login(app, "alice")
    both = {"X-Versions-Location": "a", "X-History-Location": "b"}
    answer = call(app, "PUT", "/v1/AUTH_alice/docs", token, **both)
    assert (answer.status_int, answer.body) == (
        400,
        b"Only one of x-versions-location or x-history-location may be specified",
    )
    assert call(app, "PUT", "/v1/AUTH_alice/docs", token, **{"X-Versions-Location": "a/b"}).status_int == 412
    call(app, "PUT", "/v1/AUTH_alice/docs", token, **{"X-History-Location": "nowhere"})
    call(app, "PUT", "/v1/AUTH_alice/docs/r", token, b"one")
    assert call(app, "PUT", "/v1/AUTH_alice/docs/r", token, b"two").status_int == 412  # no archive container
    answer = call(app, "POST", "/v1/AUTH_alice/docs", token, **{"X-Versions-Enabled": "true"})
    assert answer.status_int == 400 and b"legacy versioned writes" in answer.body
    assert call(app, "POST", "/v1/AUTH_alice/docs", token, **{"X-Remove-History-Location": "x"}).status_int == 204
    assert "X-History-Location" not in call(app, "HEAD", "/v1/AUTH_alice/docs", token).headers
