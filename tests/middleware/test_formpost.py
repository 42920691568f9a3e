"""``formpost``: browser form uploads signed with temp URL keys, through a pipeline built from
the real factories (formpost, auth, the gateway) on each backend."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

import pytest
from webob import Request

import librgw
from librgw.middleware import auth, formpost, gateway

ACCOUNT_KEY, CONTAINER_KEY = "account-secret", "container-secret"
BOUNDARY = "----librgw-form-boundary"


def make_pipeline(conf: str, **settings):
    app = auth.filter_factory({}, cluster=conf)(gateway.app_factory({}, cluster=conf))
    return formpost.filter_factory({}, **settings)(app)


@pytest.fixture
def app(conf):
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice")
        rgw.users.create_subuser("alice", "swift", "full", secret_key="alice-key")
    pipeline = make_pipeline(conf)
    token = login(pipeline)
    for method, path, headers in (
        ("POST", "/v1/AUTH_alice", {"X-Account-Meta-Temp-URL-Key": ACCOUNT_KEY}),
        ("PUT", "/v1/AUTH_alice/inbox", {}),
        ("POST", "/v1/AUTH_alice/inbox", {"X-Container-Meta-Temp-URL-Key": CONTAINER_KEY}),
    ):
        answer = Request.blank(path, method=method, headers={"X-Auth-Token": token, **headers}).get_response(pipeline)
        assert answer.status_int in (201, 204)
    return pipeline


def login(app) -> str:
    answer = Request.blank("/auth/v1.0", headers={"X-Auth-User": "alice:swift", "X-Auth-Key": "alice-key"})
    return answer.get_response(app).headers["X-Auth-Token"]


def signature(path: str, key: str, redirect="", max_file_size=1024, max_file_count=5, expires=None, digest="sha256"):
    expires = expires if expires is not None else int(time.time()) + 60
    message = f"{path}\n{redirect}\n{max_file_size}\n{max_file_count}\n{expires}".encode()
    return expires, hmac.new(key.encode(), message, getattr(hashlib, digest)).hexdigest()


def form(fields: dict[str, object], files: list[tuple[str, bytes, str]], tail: bool = True) -> bytes:
    """A multipart/form-data body: ``fields``, then ``files`` (name, data, content type)."""
    out = b""
    for name, value in fields.items():
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for i, (filename, data, content_type) in enumerate(files):
        out += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file{i}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        out += data + b"\r\n"
    return out + (f"--{BOUNDARY}--\r\n".encode() if tail else b"")


def post(app, path: str, body: bytes):
    request = Request.blank(path, method="POST", content_type=f"multipart/form-data; boundary={BOUNDARY}")
    request.body = body
    return request.get_response(app)


def stored(app, name: str) -> tuple[int, bytes, str]:
    answer = Request.blank(f"/v1/AUTH_alice/inbox/{name}", headers={"X-Auth-Token": login(app)}).get_response(app)
    return answer.status_int, answer.body, answer.headers.get("Content-Type", "")


def signed_fields(path: str, key: str = ACCOUNT_KEY, **options) -> dict[str, object]:
    redirect = options.pop("redirect", "")
    limits = {"max_file_size": options.pop("max_file_size", 1024), "max_file_count": options.pop("max_file_count", 5)}
    expires, sig = signature(path, key, redirect, **limits, **options)
    fields = {"redirect": redirect} if redirect else {}
    return {**fields, **limits, "expires": expires, "signature": sig}


def test_a_signed_form_uploads_each_file_under_the_prefix_and_redirects(app):
    path = "/v1/AUTH_alice/inbox/up/"
    fields = signed_fields(path, redirect="https://app.example.com/done?x=1")
    answer = post(app, path, form(fields, [("a.txt", b"alpha", "text/plain"), ("b.bin", b"\x00\x01", "image/png")]))
    assert answer.status_int == 303
    assert answer.headers["Location"] == "https://app.example.com/done?x=1&status=201&message="
    assert stored(app, "up/a.txt") == (200, b"alpha", "text/plain")
    assert stored(app, "up/b.bin") == (200, b"\x00\x01", "image/png")


def test_without_a_redirect_the_answer_is_the_status(app):
    fields = signed_fields("/v1/AUTH_alice/inbox", CONTAINER_KEY, digest="sha512")
    answer = post(app, "/v1/AUTH_alice/inbox", form(fields, [("c.txt", b"gamma", "text/plain")]))
    assert (answer.status_int, answer.body) == (201, b"201 Created")
    assert stored(app, "c.txt")[1] == b"gamma"


def test_a_base64_signature_and_a_large_file_streamed(app):
    path = "/v1/AUTH_alice/inbox"
    data = os.urandom(3 * 1024 * 1024 + 17)
    expires, sig = signature(path, ACCOUNT_KEY, max_file_size=len(data), max_file_count=1, digest="sha512")
    b64 = base64.b64encode(bytes.fromhex(sig)).decode()
    fields = {"max_file_size": len(data), "max_file_count": 1, "expires": expires, "signature": f"sha512:{b64}"}
    assert post(app, path, form(fields, [("big.bin", data, "application/octet-stream")])).status_int == 201
    assert stored(app, "big.bin")[1] == data


@pytest.mark.parametrize(
    ("change", "status", "body"),
    [
        ({"signature": "0" * 64}, 401, b"FormPost: Invalid Signature"),
        ({"signature": "nonsense"}, 401, b"FormPost: Invalid Signature"),
        ({"max_file_size": 999999}, 401, b"FormPost: Invalid Signature"),  # not what was signed
        ({"expires": 1}, 401, b"FormPost: Form Expired"),
        ({"max_file_count": "many"}, 400, b"FormPost: max_file_count not an integer"),
    ],
)
def test_bad_forms_are_refused_and_store_nothing(app, change, status, body):
    fields = {**signed_fields("/v1/AUTH_alice/inbox"), **change}
    answer = post(app, "/v1/AUTH_alice/inbox", form(fields, [("x.txt", b"x", "text/plain")]))
    assert (answer.status_int, answer.body) == (status, body)
    assert stored(app, "x.txt")[0] == 404


def test_limits_on_size_and_count(app):
    fields = signed_fields("/v1/AUTH_alice/inbox", max_file_size=10, max_file_count=1)
    answer = post(app, "/v1/AUTH_alice/inbox", form(fields, [("big.txt", b"x" * 11, "text/plain")]))
    assert (answer.status_int, answer.body) == (400, b"FormPost: max_file_size exceeded")
    assert stored(app, "big.txt")[0] == 404
    files = [("one.txt", b"1", "text/plain"), ("two.txt", b"2", "text/plain")]
    answer = post(app, "/v1/AUTH_alice/inbox", form(fields, files))
    assert (answer.status_int, answer.body) == (400, b"400 Bad Request\r\nFormPost: Max File Count Exceeded")
    assert stored(app, "one.txt")[1] == b"1" and stored(app, "two.txt")[0] == 404


def test_malformed_and_empty_forms(app):
    fields = signed_fields("/v1/AUTH_alice/inbox")
    answer = post(app, "/v1/AUTH_alice/inbox", form(fields, [("cut.txt", b"cut", "text/plain")], tail=False))
    assert answer.status_int == 400 and answer.body.startswith(b"FormPost: ")
    answer = post(app, "/v1/AUTH_alice/inbox", form(fields, []))
    assert (answer.status_int, answer.body) == (400, b"400 Bad Request\r\nFormPost: No Files To Process")
    outside = signed_fields("/v1/AUTH_alice")
    assert post(app, "/v1/AUTH_alice", form(outside, [("x", b"x", "text/plain")])).status_int == 401


def test_other_posts_go_on_down_the_pipeline(app):
    token = login(app)
    headers = {"X-Auth-Token": token, "X-Container-Meta-Color": "red"}
    assert Request.blank("/v1/AUTH_alice/inbox", method="POST", headers=headers).get_response(app).status_int == 204
    anonymous = Request.blank("/v1/AUTH_alice/inbox", method="POST", headers={"X-Container-Meta-Color": "blue"})
    assert anonymous.get_response(app).status_int == 401


def test_bad_settings_fail_when_the_pipeline_is_built():
    with pytest.raises(ValueError):
        formpost.filter_factory({}, allowed_digests="md5")


def test_info_lists_formpost(app):
    assert Request.blank("/info").get_response(app).json["formpost"] == {
        "allowed_digests": ["sha1", "sha256", "sha512"]
    }
