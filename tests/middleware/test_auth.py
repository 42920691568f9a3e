"""``auth``: tempauth tokens for Swift subusers, kept in the cluster, built from the real filter factories."""

import time

import pytest
from webob import Request

import librgw
from librgw.middleware import auth, gateway


def make_pipeline(conf: str, **settings):
    return auth.filter_factory({}, cluster=conf, **settings)(gateway.app_factory({}, cluster=conf))


@pytest.fixture
def swift_key(conf):
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice")
        user = rgw.users.create_subuser("alice", "swift", secret_key="s3cr3t")
        rgw.users.create("bob", "Bob")
        rgw.users.create_subuser("bob", "swift", secret_key="bobkey")
        rgw.users.suspend("bob")
    return user.swift_keys[0]["secret_key"]


def login(app, user: str, key: str):
    return Request.blank("/auth/v1.0", headers={"X-Auth-User": user, "X-Auth-Key": key}).get_response(app)


def test_a_token_for_the_right_key_works_in_every_worker(conf, swift_key):
    first, second = make_pipeline(conf), make_pipeline(conf)  # two workers, one cluster
    response = login(first, "alice:swift", swift_key)
    assert response.status_int == 200
    token = response.headers["X-Auth-Token"]
    assert token.startswith("AUTH_tk") and response.headers["X-Storage-Token"] == token
    assert response.headers["X-Storage-Url"] == "http://localhost/v1/AUTH_alice"
    assert response.headers["X-Auth-Token-Expires"] == "86400"
    seen = {}

    def spy(environ, start_response):
        seen.update(environ)
        start_response("204 No Content", [])
        return [b""]

    app = auth.filter_factory({}, cluster=conf)(spy)
    assert Request.blank("/v1/AUTH_alice", headers={"X-Auth-Token": token}).get_response(app).status_int == 204
    identity = seen[auth.IDENTITY_KEY]
    assert (identity.user_id, identity.swift_user, identity.account) == ("alice", "alice:swift", "AUTH_alice")
    assert Request.blank("/healthcheck").get_response(second).status_int == 200


def test_wrong_keys_unknown_users_and_suspended_users_are_refused(conf, swift_key):
    app = make_pipeline(conf)
    assert login(app, "alice:swift", "wrong").status_int == 401
    assert login(app, "nobody:swift", "x").status_int == 401
    assert login(app, "alice", swift_key).status_int == 401  # not account:user
    assert Request.blank("/auth/v1.0").get_response(app).status_int == 401
    assert login(app, "bob:swift", "bobkey").status_int == 403


def test_unknown_and_expired_tokens_are_401(conf, swift_key):
    app = make_pipeline(conf, token_life="1", token_cache_seconds="0")
    assert Request.blank("/v1/AUTH_alice", headers={"X-Auth-Token": "AUTH_tknope"}).get_response(app).status_int == 401
    assert Request.blank("/v1/AUTH_alice", headers={"X-Auth-Token": "../../etc"}).get_response(app).status_int == 401
    token = login(app, "alice:swift", swift_key).headers["X-Auth-Token"]
    assert Request.blank("/v1/AUTH_alice", headers={"X-Auth-Token": token}).get_response(app).status_int == 204
    time.sleep(1.1)
    assert Request.blank("/v1/AUTH_alice", headers={"X-Auth-Token": token}).get_response(app).status_int == 401


def test_open_paths_need_no_token(conf):
    app = make_pipeline(conf)
    assert Request.blank("/healthcheck").get_response(app).status_int == 200
    assert Request.blank("/info").get_response(app).status_int == 200


def test_a_suspended_users_tokens_stop_working(conf, swift_key):
    app = make_pipeline(conf, token_cache_seconds="0")
    token = login(app, "alice:swift", swift_key).headers["X-Auth-Token"]
    assert Request.blank("/v1/AUTH_alice", headers={"X-Auth-Token": token}).get_response(app).status_int == 204
    with librgw.connect(conf) as rgw:
        rgw.users.suspend("alice")
    assert Request.blank("/v1/AUTH_alice", headers={"X-Auth-Token": token}).get_response(app).status_int == 401


def test_tokens_carry_the_subusers_permission_and_the_admin_flag(conf, swift_key):
    with librgw.connect(conf) as rgw:
        rgw.users.create_subuser("alice", "ro", "read", secret_key="ro-key")
        rgw.users.modify("alice", admin=True)
    app = make_pipeline(conf)
    token = login(app, "alice:ro", "ro-key").headers["X-Auth-Token"]
    identity = auth.TokenCache(app.core, 0).lookup(token)
    assert (identity.permissions, identity.reseller_admin) == ("read", True)
