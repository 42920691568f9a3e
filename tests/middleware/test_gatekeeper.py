"""``gatekeeper``: no client sets or reads system metadata or backend headers, as Swift's; a
filter below can ask for an answer's Location to be left relative."""

from __future__ import annotations

from webob import Request, Response

from librgw.middleware import gatekeeper


def recording_app(answer_headers: dict[str, str], relative: bool = False):
    """An app that keeps the environ it was given and answers ``answer_headers``."""
    seen: dict = {}

    def app(environ, start_response):
        seen.update(environ)
        if relative:
            environ[gatekeeper.RELATIVE_LOCATION] = True
        return Response(status=307, headers=answer_headers)(environ, start_response)

    return app, seen


def test_private_headers_are_dropped_both_ways_and_the_rest_pass():
    app, seen = recording_app(
        {"X-Object-Sysmeta-Symlink-Target": "c/o", "X-Backend-Timestamp": "1", "X-Object-Meta-Color": "red"}
    )
    client_headers = {
        "X-Object-Sysmeta-Symlink-Target": "c/secret",
        "X-Container-Sysmeta-Versions-Location": "v",
        "X-Account-Sysmeta-Global-Write-Ratelimit": "BLACKLIST",
        "X-Object-Transient-Sysmeta-Crypto-Meta": "x",
        "X-Backend-Allow-Reserved-Names": "true",
        "X-Object-Meta-Color": "blue",
    }
    answer = Request.blank("/v1/AUTH_a/c/o", method="PUT", headers=client_headers).get_response(
        gatekeeper.filter_factory({})(app)
    )
    assert [key for key in seen if "SYSMETA" in key or "BACKEND" in key] == []
    assert seen["HTTP_X_OBJECT_META_COLOR"] == "blue"
    assert "X-Object-Sysmeta-Symlink-Target" not in answer.headers and "X-Backend-Timestamp" not in answer.headers
    assert answer.headers["X-Object-Meta-Color"] == "red"


def test_a_location_is_left_relative_only_when_a_filter_asks():
    location = {"Location": "http://example.com/v1/AUTH_a/c/target?x=1"}
    for relative, expected in ((False, "http://example.com/v1/AUTH_a/c/target?x=1"), (True, "/v1/AUTH_a/c/target?x=1")):
        app, _ = recording_app(location, relative)
        answer = Request.blank("/v1/AUTH_a/c/link", method="POST").get_response(gatekeeper.filter_factory({})(app))
        assert answer.headers["Location"] == expected
