"""``domain_remap``: hosts rewritten to account and container paths, over an app that says what
path reached it (the filter reads nothing else)."""

from __future__ import annotations

from webob import Request, Response

from librgw.middleware import domain_remap


def echo(environ, start_response):
    """The path that reached it, and a redirect to that path with a slash."""
    path = environ["PATH_INFO"]
    response = Response(text=path, status=301)
    response.headers["Location"] = f"http://{environ['HTTP_HOST']}{path}/"
    return response(environ, start_response)


def remapped(host: str, path: str = "/", **settings) -> Response:
    app = domain_remap.filter_factory({}, **settings)(echo)
    return Request.blank(path, headers={"Host": host}).get_response(app)


def test_container_and_account_hosts_become_paths():
    assert remapped("site.auth-alice.example.com:8080", "/a/b.html").text == "/v1/AUTH_alice/site/a/b.html"
    assert remapped("AUTH_alice.example.com", "/site/x").text == "/v1/AUTH_alice/site/x"
    assert remapped("alice.example.com", "/x").text == "/x"  # no reseller prefix: not ours
    assert remapped("alice.example.com", "/x", default_reseller_prefix="AUTH").text == "/v1/AUTH_alice/x"
    assert remapped("www.example.org", "/x").text == "/x"
    assert remapped("c.auth-alice.sites.test", "/v1/x", storage_domain="a.test, sites.test").text == (
        "/v1/AUTH_alice/c/v1/x"
    )
    assert remapped("c.auth-alice.example.com", "/v1/x", mangle_client_paths="true").text == "/v1/AUTH_alice/c/x"


def test_too_many_labels_is_400_and_redirects_keep_the_host_path():
    answer = remapped("a.b.auth-alice.example.com")
    assert (answer.status_int, answer.body, answer.content_type) == (400, b"Bad domain in host header", "text/plain")
    answer = remapped("site.auth-alice.example.com", "/docs")
    assert answer.headers["Location"] == "http://site.auth-alice.example.com/docs/"
