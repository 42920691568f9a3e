"""``tempurl``: Swift temporary URLs, through a pipeline built from the real factories
(tempurl, auth, the gateway) on each backend."""

from __future__ import annotations

import base64
import time
from urllib.parse import quote

import pytest
from webob import Request

import librgw
from librgw import temp_urls
from librgw.middleware import auth, gateway, tempurl

ACCOUNT_KEY, CONTAINER_KEY = "account-secret", "container-secret"
CAT = b"meow" * 1000


def make_pipeline(conf: str, **settings):
    app = auth.filter_factory({}, cluster=conf)(gateway.app_factory({}, cluster=conf))
    return tempurl.filter_factory({}, **settings)(app)


@pytest.fixture
def app(conf):
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice")
        rgw.users.create_subuser("alice", "swift", "full", secret_key="alice-key")
    return make_pipeline(conf)


@pytest.fixture
def token(app):
    answer = Request.blank("/auth/v1.0", headers={"X-Auth-User": "alice:swift", "X-Auth-Key": "alice-key"})
    return answer.get_response(app).headers["X-Auth-Token"]


def call(app, method: str, path: str, token: str | None = None, body: bytes | None = None, **headers):
    if token:
        headers["X-Auth-Token"] = token
    request = Request.blank(path, method=method, headers=headers)
    if body is not None:
        request.body = body
    return request.get_response(app)


@pytest.fixture
def photos(app, token):
    """Container photos with cat.jpg, the account's key and the container's key set."""
    assert call(app, "POST", "/v1/AUTH_alice", token, **{"X-Account-Meta-Temp-URL-Key": ACCOUNT_KEY}).status_int == 204
    assert call(app, "PUT", "/v1/AUTH_alice/photos", token).status_int == 201
    assert (
        call(app, "POST", "/v1/AUTH_alice/photos", token, **{"X-Container-Meta-Temp-URL-Key": CONTAINER_KEY}).status_int
        == 204
    )
    headers = {"X-Object-Meta-Color": "grey", "X-Object-Meta-Public-Tag": "cute", "Content-Type": "image/jpeg"}
    assert call(app, "PUT", "/v1/AUTH_alice/photos/cat.jpg", token, CAT, **headers).status_int == 201
    return app


def signed(method: str, path: str, key: str, seconds: int = 60, digest: str = "sha256", **extra) -> str:
    scope = temp_urls.Scope(method, int(time.time()) + seconds, path, "prefix" in extra, extra.get("ip_range"))
    sig = temp_urls.sign(scope, key, digest)
    query = f"temp_url_sig={sig}&temp_url_expires={scope.expires}"
    if "prefix" in extra:
        query += f"&temp_url_prefix={extra['prefix']}"
    if extra.get("ip_range"):
        query += f"&temp_url_ip_range={extra['ip_range']}"
    return f"{quote(path)}?{query}"


def test_a_get_url_reads_the_object_with_swifts_headers(photos):
    answer = call(photos, "GET", signed("GET", "/v1/AUTH_alice/photos/cat.jpg", ACCOUNT_KEY))
    assert answer.status_int == 200 and answer.body == CAT
    assert answer.headers["Content-Disposition"] == "attachment; filename=\"cat.jpg\"; filename*=UTF-8''cat.jpg"
    assert answer.headers["Expires"].endswith(" GMT")
    assert "X-Object-Meta-Color" not in answer.headers  # private metadata stays private
    assert answer.headers["X-Object-Meta-Public-Tag"] == "cute"


def test_a_container_key_signs_too_and_every_digest_form_is_accepted(photos):
    path = "/v1/AUTH_alice/photos/cat.jpg"
    assert call(photos, "GET", signed("GET", path, CONTAINER_KEY, digest="sha1")).status_int == 200
    assert call(photos, "GET", signed("GET", path, CONTAINER_KEY, digest="sha512")).status_int == 200
    expires = int(time.time()) + 60
    raw = bytes.fromhex(temp_urls.sign(temp_urls.Scope("GET", expires, path), ACCOUNT_KEY, "sha512"))
    b64 = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    iso = time.strftime(temp_urls.ISO8601, time.gmtime(expires))
    url = f"{path}?temp_url_sig=sha512:{b64}&temp_url_expires={iso}"
    assert call(photos, "GET", url).body == CAT


def test_head_is_allowed_by_a_get_put_or_post_signature(photos):
    for method in ("HEAD", "GET", "PUT", "POST"):
        answer = call(photos, "HEAD", signed(method, "/v1/AUTH_alice/photos/cat.jpg", ACCOUNT_KEY))
        assert answer.status_int == 200, method


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(lambda: signed("GET", "/v1/AUTH_alice/photos/cat.jpg", ACCOUNT_KEY, seconds=-1), id="expired"),
        pytest.param(lambda: signed("GET", "/v1/AUTH_alice/photos/cat.jpg", "wrong-key"), id="wrong-key"),
        pytest.param(
            lambda: signed("GET", "/v1/AUTH_alice/photos/dog.jpg", ACCOUNT_KEY).replace("dog", "cat"), id="other-object"
        ),
        pytest.param(lambda: signed("PUT", "/v1/AUTH_alice/photos/cat.jpg", ACCOUNT_KEY), id="wrong-method"),
        pytest.param(
            lambda: signed("GET", "/v1/AUTH_alice/photos/cat.jpg", ACCOUNT_KEY).replace("sig=", "sig=0"), id="tampered"
        ),
        pytest.param(
            lambda: "/v1/AUTH_alice/photos/cat.jpg?temp_url_sig=abc&temp_url_expires=9999999999", id="garbage"
        ),
        pytest.param(lambda: "/v1/AUTH_alice/photos/cat.jpg?temp_url_expires=9999999999", id="no-sig"),
        pytest.param(lambda: signed("GET", "/v1/AUTH_alice/photos", ACCOUNT_KEY), id="a-container"),
    ],
)
def test_invalid_urls_are_401_and_say_nothing_more(photos, url):
    answer = call(photos, "GET", url())
    assert answer.status_int == 401
    assert answer.body == b"401 Unauthorized: Temp URL invalid\n"
    assert answer.headers["WWW-Authenticate"] == 'Swift realm="unknown"'


def test_a_url_for_one_method_does_not_allow_another(photos):
    url = signed("GET", "/v1/AUTH_alice/photos/cat.jpg", ACCOUNT_KEY)
    assert call(photos, "DELETE", url).status_int == 401
    assert call(photos, "PUT", url, body=b"overwritten").status_int == 401
    assert call(photos, "GET", "/v1/AUTH_alice/photos/cat.jpg").status_int == 401  # and without it, nothing


def test_a_put_url_uploads_for_the_account_but_cannot_point_elsewhere(photos, token):
    url = signed("PUT", "/v1/AUTH_alice/photos/upload.bin", CONTAINER_KEY)
    assert call(photos, "PUT", url, body=b"uploaded").status_int == 201
    assert call(photos, "GET", "/v1/AUTH_alice/photos/upload.bin", token).body == b"uploaded"
    for header in ("X-Object-Manifest", "X-Copy-From", "X-Symlink-Target"):
        answer = call(photos, "PUT", url, body=b"", **{header: "photos/cat.jpg"})
        assert answer.status_int == 400 and header.encode() in answer.body
    assert call(photos, "GET", "/v1/AUTH_alice/photos/upload.bin", token).body == b"uploaded"


def test_a_delete_url_deletes_and_a_missing_object_is_404(photos, token):
    url = signed("DELETE", "/v1/AUTH_alice/photos/cat.jpg", ACCOUNT_KEY)
    assert call(photos, "DELETE", url).status_int == 204
    assert call(photos, "GET", "/v1/AUTH_alice/photos/cat.jpg", token).status_int == 404
    assert call(photos, "DELETE", url).status_int == 404


def test_prefix_urls_cover_the_prefix_only(photos, token):
    assert call(photos, "PUT", "/v1/AUTH_alice/photos/2026/a.jpg", token, b"a").status_int == 201
    url = signed("GET", "/v1/AUTH_alice/photos/2026/", ACCOUNT_KEY, prefix="2026/")
    query = url.split("?", 1)[1]
    assert call(photos, "GET", f"/v1/AUTH_alice/photos/2026/a.jpg?{query}").body == b"a"
    assert call(photos, "GET", f"/v1/AUTH_alice/photos/cat.jpg?{query}").status_int == 401


def test_ip_ranges_are_signed_and_checked(photos):
    url = signed("GET", "/v1/AUTH_alice/photos/cat.jpg", ACCOUNT_KEY, ip_range="10.1.0.0/16")
    inside = Request.blank(url, environ={"REMOTE_ADDR": "10.1.2.3"}).get_response(photos)
    outside = Request.blank(url, environ={"REMOTE_ADDR": "10.2.2.3"}).get_response(photos)
    assert (inside.status_int, outside.status_int) == (200, 401)
    widened = url.replace("10.1.0.0/16", "0.0.0.0/0")
    assert Request.blank(widened, environ={"REMOTE_ADDR": "10.2.2.3"}).get_response(photos).status_int == 401


def test_inline_and_filename_set_the_disposition(photos):
    url = signed("GET", "/v1/AUTH_alice/photos/cat.jpg", ACCOUNT_KEY)
    assert call(photos, "GET", url + "&inline").headers["Content-Disposition"] == "inline"
    named = call(photos, "GET", url + "&inline&filename=Kitty%20Cat.jpg").headers["Content-Disposition"]
    assert named == "inline; filename=\"Kitty Cat.jpg\"; filename*=UTF-8''Kitty%20Cat.jpg"
    assert call(photos, "GET", url + "&filename=k.jpg").headers["Content-Disposition"].startswith("attachment;")


def test_nothing_else_rides_on_a_temp_url(conf, photos):
    """The query goes on cut to the temp URL's parameters, incoming X-Timestamp is dropped, and
    the request is authorized for its container alone."""
    seen = {}

    def spy(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    url = signed("GET", "/v1/AUTH_alice/photos/cat.jpg", CONTAINER_KEY)
    keyed = tempurl.filter_factory({})(spy)  # the spy answers the keys' HEADs too: no keys at all
    assert Request.blank(url).get_response(keyed).status_int == 401
    seen.clear()

    def container_with_key(environ, start_response):
        if environ["REQUEST_METHOD"] == "HEAD":
            start_response("204 No Content", [("X-Container-Meta-Temp-URL-Key", CONTAINER_KEY)])
            return [b""]
        return spy(environ, start_response)

    outer = tempurl.filter_factory({})(container_with_key)
    Request.blank(url + "&multipart-manifest=get", headers={"X-Timestamp": "1"}).get_response(outer)
    assert "multipart-manifest" not in seen["QUERY_STRING"] and "temp_url_sig" in seen["QUERY_STRING"]
    assert "HTTP_X_TIMESTAMP" not in seen and seen["REMOTE_USER"] == ".wsgi.tempurl"
    authorize = seen["swift.authorize"]
    assert authorize(Request.blank("/v1/AUTH_alice/photos/other")) is None
    assert authorize(Request.blank("/v1/AUTH_alice/private/x")).status_int == 401
    assert authorize(Request.blank("/v1/AUTH_bob/photos/x")).status_int == 401


def test_without_keys_nothing_is_valid(app, token):
    assert call(app, "PUT", "/v1/AUTH_alice/photos", token).status_int == 201
    assert call(app, "PUT", "/v1/AUTH_alice/photos/cat.jpg", token, CAT).status_int == 201
    assert call(app, "GET", signed("GET", "/v1/AUTH_alice/photos/cat.jpg", "")).status_int == 401


def test_only_allowed_digests_and_methods_pass(conf, photos):
    strict = make_pipeline(conf, allowed_digests="sha512", methods="GET HEAD")
    path = "/v1/AUTH_alice/photos/cat.jpg"
    assert call(strict, "GET", signed("GET", path, ACCOUNT_KEY, digest="sha256")).status_int == 401
    assert call(strict, "GET", signed("GET", path, ACCOUNT_KEY, digest="sha512")).status_int == 200
    assert call(strict, "DELETE", signed("DELETE", path, ACCOUNT_KEY, digest="sha512")).status_int == 401
    with pytest.raises(ValueError):
        tempurl.filter_factory({}, allowed_digests="md5")


def test_info_lists_tempurl_with_swifts_settings(app):
    info = Request.blank("/info").get_response(app).json
    assert info["tempurl"]["methods"] == ["GET", "HEAD", "PUT", "POST", "DELETE"]
    assert info["tempurl"]["allowed_digests"] == ["sha1", "sha256", "sha512"]
    assert info["tempurl"]["outgoing_allow_headers"] == ["x-object-meta-public-*"]


def test_only_owners_see_or_set_temp_url_keys(conf, photos, token):
    """A key lets whoever knows it sign URLs: Swift shows and takes it from the account's owners only."""
    with librgw.connect(conf) as rgw:
        rgw.users.create_subuser("alice", "reader", "read", secret_key="reader-key")
    login = Request.blank("/auth/v1.0", headers={"X-Auth-User": "alice:reader", "X-Auth-Key": "reader-key"})
    reader = login.get_response(photos).headers["X-Auth-Token"]
    assert (
        call(photos, "POST", "/v1/AUTH_alice/photos", token, **{"X-Container-Read": ".r:*,.rlistings"}).status_int
        == 204
    )
    public = call(photos, "HEAD", "/v1/AUTH_alice/photos")
    assert public.status_int == 204 and "X-Container-Meta-Temp-Url-Key" not in public.headers
    assert "X-Container-Meta-Temp-Url-Key" not in call(photos, "HEAD", "/v1/AUTH_alice/photos", reader).headers
    assert (
        call(photos, "HEAD", "/v1/AUTH_alice/photos", token).headers["X-Container-Meta-Temp-Url-Key"] == CONTAINER_KEY
    )
    headers = {"X-Container-Meta-Temp-URL-Key": "stolen"}
    assert call(photos, "POST", "/v1/AUTH_alice/photos", reader, **headers).status_int == 403
    assert call(photos, "GET", signed("GET", "/v1/AUTH_alice/photos/cat.jpg", "stolen")).status_int == 401
