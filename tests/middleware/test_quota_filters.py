"""``container_quotas`` and ``account_quotas``, through a pipeline built from the real
factories (auth, both quota filters, the gateway) on each backend."""

from __future__ import annotations

import io

import pytest
from webob import Request

import librgw
from librgw.middleware import account_quotas, auth, container_quotas, gateway
from librgw.middleware.swift.context import SKIP_USAGE


def make_pipeline(conf: str):
    app = gateway.app_factory({}, cluster=conf)
    app = account_quotas.filter_factory({})(app)
    app = container_quotas.filter_factory({})(app)
    return auth.filter_factory({}, cluster=conf)(app)


@pytest.fixture
def app(conf):
    with librgw.connect(conf) as rgw:
        for uid in ("alice", "root"):
            rgw.users.create(uid, uid.title())
            rgw.users.create_subuser(uid, "swift", "full", secret_key=f"{uid}-key")
        rgw.users.modify("root", admin=True)
    return make_pipeline(conf)


def login(app, user: str) -> str:
    answer = Request.blank("/auth/v1.0", headers={"X-Auth-User": f"{user}:swift", "X-Auth-Key": f"{user}-key"})
    return answer.get_response(app).headers["X-Auth-Token"]


@pytest.fixture
def token(app):
    return login(app, "alice")


def call(app, method: str, path: str, token: str, body: bytes | None = None, chunked: bool = False, **headers):
    request = Request.blank(path, method=method, headers={"X-Auth-Token": token, **headers})
    if chunked:
        request.headers["Transfer-Encoding"] = "chunked"
        request.environ["wsgi.input"] = io.BytesIO(body)
    elif body is not None:
        request.body = body
    return request.get_response(app)


@pytest.fixture
def photos(app, token):
    assert call(app, "PUT", "/v1/AUTH_alice/photos", token).status_int == 201
    return "/v1/AUTH_alice/photos"


def test_invalid_container_quota_is_400(app, token, photos):
    answer = call(app, "POST", photos, token, **{"X-Container-Meta-Quota-Bytes": "1k"})
    assert (answer.status_int, answer.body) == (400, b"Invalid bytes quota.")
    answer = call(app, "PUT", "/v1/AUTH_alice/other", token, **{"X-Container-Meta-Quota-Count": "x"})
    assert (answer.status_int, answer.body) == (400, b"Invalid count quota.")


def test_container_bytes_quota_exact_then_one_byte_over_chunked(app, token, photos):
    assert call(app, "POST", photos, token, **{"X-Container-Meta-Quota-Bytes": "6"}).status_int == 204
    assert call(app, "PUT", f"{photos}/a", token, b"123456", chunked=True).status_int == 201
    answer = call(app, "PUT", f"{photos}/b", token, b"1", chunked=True)
    assert (answer.status_int, answer.body) == (413, b"Upload exceeds quota.")
    assert answer.headers["X-Librgw-Error"] == "QuotaExceeded"
    assert call(app, "HEAD", f"{photos}/b", token).status_int == 404
    assert call(app, "HEAD", photos, token).headers["X-Container-Bytes-Used"] == "6"


def test_container_count_quota(app, token, photos):
    call(app, "POST", photos, token, **{"X-Container-Meta-Quota-Count": "1"})
    assert call(app, "PUT", f"{photos}/a", token, b"1").status_int == 201
    assert call(app, "PUT", f"{photos}/b", token, b"").status_int == 413


def test_quota_does_not_answer_before_authorization(app, token, photos):
    call(app, "POST", photos, token, **{"X-Container-Meta-Quota-Count": "0"})
    request = Request.blank(f"{photos}/a", method="PUT", body=b"1")
    assert request.get_response(app).status_int == 401


def test_only_a_reseller_admin_sets_an_account_quota(app, token):
    answer = call(app, "POST", "/v1/AUTH_alice", token, **{"X-Account-Meta-Quota-Bytes": "5"})
    assert answer.status_int == 403
    root = login(app, "root")
    assert call(app, "POST", "/v1/AUTH_alice", root, **{"X-Account-Meta-Quota-Bytes": "five"}).status_int == 400
    assert call(app, "POST", "/v1/AUTH_alice", root, **{"X-Account-Quota-Bytes": "5"}).status_int == 204
    assert call(app, "HEAD", "/v1/AUTH_alice", token).headers["X-Account-Meta-Quota-Bytes"] == "5"
    call(app, "PUT", "/v1/AUTH_alice/c", token)
    assert call(app, "PUT", "/v1/AUTH_alice/c/o", token, b"12345", chunked=True).status_int == 201
    assert call(app, "PUT", "/v1/AUTH_alice/c/p", token, b"1").status_int == 413
    assert call(app, "PUT", "/v1/AUTH_alice/c/p", root, b"1").status_int == 201  # a reseller is not limited
    assert call(app, "POST", "/v1/AUTH_alice", root, **{"X-Remove-Account-Meta-Quota-Bytes": "x"}).status_int == 204
    assert "X-Account-Meta-Quota-Bytes" not in call(app, "HEAD", "/v1/AUTH_alice", token).headers


def test_usage_is_summed_only_for_a_quota(app, token, photos):
    """The filters ask for an account's or container's metadata alone (``SKIP_USAGE``), and for
    its counts only when it has a quota; a client's HEAD always gets the counts."""
    assert call(app, "PUT", photos + "/a", token, b"123").status_int == 201
    for path, kind in ((photos, "Container"), ("/v1/AUTH_alice", "Account")):
        counted = call(app, "HEAD", path, token)
        assert counted.headers[f"X-{kind}-Bytes-Used"] == "3"
        bare = Request.blank(path, method="HEAD", headers={"X-Auth-Token": token})
        bare.environ[SKIP_USAGE] = True
        answer = bare.get_response(app)
        assert answer.status_int == 204 and f"X-{kind}-Bytes-Used" not in answer.headers
        assert f"X-{kind}-Object-Count" not in answer.headers


def test_an_account_quota_counts_every_container(app, token, photos):
    root = login(app, "root")
    assert call(app, "POST", "/v1/AUTH_alice", root, **{"X-Account-Meta-Quota-Bytes": "10"}).status_int == 204
    assert call(app, "PUT", photos + "/a", token, b"123456").status_int == 201
    assert call(app, "PUT", "/v1/AUTH_alice/other", token).status_int == 201
    assert call(app, "PUT", "/v1/AUTH_alice/other/b", token, b"12345").status_int == 413  # 6 + 5 > 10
    assert call(app, "PUT", "/v1/AUTH_alice/other/b", token, b"1234").status_int == 201  # 6 + 4 = 10
    assert call(app, "PUT", "/v1/AUTH_alice/other/c", token, b"1").status_int == 413
