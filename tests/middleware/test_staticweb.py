"""``staticweb``: a public container served as a web site, through a pipeline built from the real
factories (auth, staticweb, the gateway) on each backend."""

from __future__ import annotations

import time

import pytest
from webob import Request

import librgw
from librgw import temp_urls
from librgw.middleware import auth, gateway, staticweb, tempurl

SITE = "/v1/AUTH_alice/site"


def call(app, method: str, path: str, token: str | None = None, body: bytes | None = None, **headers):
    if token:
        headers["X-Auth-Token"] = token
    request = Request.blank(path, method=method, headers=headers)
    if body is not None:
        request.body = body
    return request.get_response(app)


@pytest.fixture
def app(conf):
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice")
        rgw.users.create_subuser("alice", "swift", "full", secret_key="alice-key")
    app = gateway.app_factory({}, cluster=conf)
    app = staticweb.filter_factory({})(app)
    return tempurl.filter_factory({})(auth.filter_factory({}, cluster=conf)(app))


@pytest.fixture
def token(app):
    answer = Request.blank("/auth/v1.0", headers={"X-Auth-User": "alice:swift", "X-Auth-Key": "alice-key"})
    return answer.get_response(app).headers["X-Auth-Token"]


@pytest.fixture
def site(app, token):
    """A public container with an index at its top, a directory without one, and an error page."""
    headers = {"X-Container-Read": ".r:*,.rlistings", "X-Container-Meta-Web-Index": "index.html"}
    assert call(app, "PUT", SITE, token, **headers).status_int == 201
    for name, body in (("index.html", b"<p>home</p>"), ("docs/a.txt", b"a" * 2048), ("404error.html", b"lost")):
        assert call(app, "PUT", f"{SITE}/{name}", token, body, **{"Content-Type": "text/html"}).status_int == 201
    return app


def test_index_and_redirect_with_slash(site, token):
    answer = call(site, "GET", SITE)
    assert answer.status_int == 301
    assert answer.headers["Location"] == f"http://localhost{SITE}/"
    assert call(site, "GET", SITE + "/").body == b"<p>home</p>"
    assert call(site, "GET", SITE + "/docs").status_int == 301  # a pseudo-directory, not an object
    # an authenticated client sees the Swift API, unless it asks for the web site
    assert call(site, "GET", SITE + "/", token).body.splitlines()[0] == b"404error.html"
    assert call(site, "GET", SITE + "/", token, **{"X-Web-Mode": "true"}).body == b"<p>home</p>"
    # a directory marker is the directory it stands for
    call(site, "PUT", SITE + "/docs", token, b"", **{"Content-Type": "application/directory"})
    assert call(site, "GET", SITE + "/docs").status_int == 301


def test_listing_of_a_directory_without_index(site, token):
    settings = {"X-Container-Meta-Web-Listings": "true", "X-Container-Meta-Web-Listings-Label": "example.com"}
    call(site, "POST", SITE, token, **settings)
    answer = call(site, "GET", SITE + "/docs/")
    assert answer.status_int == 200 and answer.content_type == "text/html"
    body = answer.text
    assert "<title>Listing of example.com/docs/</title>" in body
    assert '<tr id="parent" class="item">' in body
    assert '<tr class="item type-text type-html">\n    <td class="colname"><a href="./a%2Etxt">a.txt</a></td>' in body
    assert '<td class="colsize">2Ki</td>' in body


def test_error_page_keeps_the_status(site, token):
    call(site, "POST", SITE, token, **{"X-Container-Meta-Web-Error": "error.html"})
    answer = call(site, "GET", SITE + "/docs/missing/")
    assert (answer.status_int, answer.body) == (404, b"lost")
    call(site, "POST", SITE, token, **{"X-Container-Read": ".r:*"})  # no listings: the container is refused
    answer = call(site, "GET", SITE + "/")
    assert answer.status_int == 401
    assert call(site, "GET", SITE + "/index.html").body == b"<p>home</p>"  # objects are still public


def test_a_prefix_temp_url_lists_its_prefix_with_signed_links(site, token):
    call(site, "POST", SITE, token, **{"X-Container-Read": "", "X-Container-Meta-Web-Listings": "true"})
    call(site, "POST", "/v1/AUTH_alice", token, **{"X-Account-Meta-Temp-URL-Key": "k"})
    expires = int(time.time()) + 60
    sig = temp_urls.sign(temp_urls.Scope("GET", expires, f"{SITE}/docs/", prefix=True), "k")
    query = f"temp_url_prefix=docs/&temp_url_expires={expires}&temp_url_sig={sig}"
    assert call(site, "GET", f"{SITE}/docs/").status_int == 401  # private now
    body = call(site, "GET", f"{SITE}/docs/?{query}").text
    signed = query.replace("&", "&amp;")  # Swift's order: prefix, expiry, signature
    assert f'<a href="./a%2Etxt?{signed}">a.txt</a>' in body
    assert '<tr id="parent"' not in body  # the URL's prefix is its top


def test_human_readable_sizes_as_swift_writes_them():
    assert [staticweb.human_readable(n) for n in (0, 1023, 1024, 1536, 1048576, 5 * 1024**3)] == [
        "0", "1023", "1Ki", "2Ki", "1Mi", "5Gi",
    ]  # fmt: skip
