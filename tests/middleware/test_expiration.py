"""``expiration``: X-Delete-At / X-Delete-After checked and translated, through a pipeline built
from the real factories (auth, expiration, the gateway) on each backend, and alone over an app
that shows what reaches it."""

from __future__ import annotations

import time

import pytest
from webob import Request, Response

import librgw
from librgw.middleware import auth, expiration, gateway


@pytest.fixture
def app(conf):
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice")
        rgw.users.create_subuser("alice", "swift", "full", secret_key="alice-key")
    pipeline = auth.filter_factory({}, cluster=conf)(
        expiration.filter_factory({})(gateway.app_factory({}, cluster=conf))
    )
    login = Request.blank("/auth/v1.0", headers={"X-Auth-User": "alice:swift", "X-Auth-Key": "alice-key"})
    token = login.get_response(pipeline).headers["X-Auth-Token"]
    assert send(pipeline, token, "PUT", "/v1/AUTH_alice/tmp").status_int == 201
    return pipeline, token


def send(app, token: str, method: str, path: str, body: bytes = b"", **headers: str) -> Response:
    request = Request.blank(path, method=method, headers={"X-Auth-Token": token, **headers})
    if method == "PUT":
        request.body = body
    return request.get_response(app)


def echo(environ: dict, start_response) -> list[bytes]:
    """An app answering with the request's X-Delete-At and X-Delete-After, to see what the filter sent on."""
    request = Request(environ)
    text = f"{request.headers.get('X-Delete-At')} {request.headers.get('X-Delete-After')}"
    return Response(text=text)(environ, start_response)


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"X-Delete-At": "1000"}, b"X-Delete-At in past"),
        ({"X-Delete-At": "soon"}, b"Non-integer X-Delete-At"),
        ({"X-Delete-At": "1.5e10"}, b"Non-integer X-Delete-At"),
        ({"X-Delete-After": "-5"}, b"X-Delete-After in past"),
        ({"X-Delete-After": "0"}, b"X-Delete-After in past"),
        ({"X-Delete-After": "1h"}, b"Non-integer X-Delete-After"),
    ],
)
def test_a_bad_or_past_expiry_is_400_with_swifts_words(headers, body):
    app = expiration.filter_factory({})(echo)
    for method in ("PUT", "POST", "COPY"):
        answer = Request.blank("/v1/AUTH_a/c/o", method=method, headers=headers).get_response(app)
        assert (answer.status_int, answer.body, answer.content_type) == (400, body, "text/plain")


def test_x_delete_after_becomes_x_delete_at():
    app = expiration.filter_factory({})(echo)
    before = int(time.time())
    answer = Request.blank("/v1/AUTH_a/c/o", method="PUT", headers={"X-Delete-After": "60"}).get_response(app)
    at, after = answer.text.split()
    assert before + 60 <= int(at) <= int(time.time()) + 60 and len(at) == 10 and after == "None"


def test_other_requests_pass_untouched():
    app = expiration.filter_factory({})(echo)
    for method, path in (("GET", "/v1/AUTH_a/c/o"), ("PUT", "/v1/AUTH_a/c"), ("POST", "/v1/AUTH_a")):
        answer = Request.blank(path, method=method, headers={"X-Delete-At": "1"}).get_response(app)
        assert answer.text == "1 None"


def test_an_object_expires_and_its_post_and_copy_carry_their_own_time(app):
    pipeline, token = app
    at = int(time.time()) + 3600
    assert send(pipeline, token, "PUT", "/v1/AUTH_alice/tmp/a", b"data", **{"X-Delete-At": str(at)}).status_int == 201
    assert send(pipeline, token, "HEAD", "/v1/AUTH_alice/tmp/a").headers["X-Delete-At"] == str(at)
    copied = send(pipeline, token, "COPY", "/v1/AUTH_alice/tmp/a", Destination="tmp/b", **{"X-Delete-After": "60"})
    assert copied.status_int == 201
    assert int(send(pipeline, token, "HEAD", "/v1/AUTH_alice/tmp/b").headers["X-Delete-At"]) < at
    assert send(pipeline, token, "POST", "/v1/AUTH_alice/tmp/a", **{"X-Object-Meta-A": "b"}).status_int == 202
    assert "X-Delete-At" not in send(pipeline, token, "HEAD", "/v1/AUTH_alice/tmp/a").headers
    assert send(pipeline, token, "POST", "/v1/AUTH_alice/tmp/a", **{"X-Delete-After": "1"}).status_int == 202
    time.sleep(2.1)
    assert send(pipeline, token, "GET", "/v1/AUTH_alice/tmp/a").status_int == 404
    assert send(pipeline, token, "GET", "/v1/AUTH_alice/tmp/b").status_int == 200
    assert send(pipeline, token, "GET", "/v1/AUTH_alice/tmp?format=json").json[0]["name"] == "a"  # until reaped


def test_the_gateway_alone_refuses_a_malformed_x_delete_at(conf):
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice")
        rgw.users.create_subuser("alice", "swift", "full", secret_key="alice-key")
    pipeline = auth.filter_factory({}, cluster=conf)(gateway.app_factory({}, cluster=conf))
    login = Request.blank("/auth/v1.0", headers={"X-Auth-User": "alice:swift", "X-Auth-Key": "alice-key"})
    token = login.get_response(pipeline).headers["X-Auth-Token"]
    assert send(pipeline, token, "PUT", "/v1/AUTH_alice/tmp").status_int == 201
    answer = send(pipeline, token, "PUT", "/v1/AUTH_alice/tmp/o", b"x", **{"X-Delete-At": "soon"})
    assert answer.status_int == 400 and b"Non-integer X-Delete-At" in answer.body
