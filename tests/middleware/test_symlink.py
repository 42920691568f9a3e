"""``symlink``: Swift's symbolic links, through a pipeline built from the real factories
(gatekeeper, auth, slo, dlo, symlink, the gateway) on each backend."""

from __future__ import annotations

import json
from hashlib import md5

import pytest
from webob import Request, Response

import librgw
from librgw.middleware import auth, dlo, gatekeeper, gateway, registry, slo, symlink

BASE = "/v1/AUTH_alice"
DATA = b"the target's bytes"
ETAG = md5(DATA, usedforsecurity=False).hexdigest()


class Client:
    """Requests to a pipeline with alice's token; each answer's status checked."""

    def __init__(self, pipeline, token: str) -> None:
        self.pipeline, self.token = pipeline, token

    def request(self, path: str, method: str, body: bytes | None = None, status: int = 0, **kwargs) -> Response:
        request = Request.blank(path, method=method, headers={"X-Auth-Token": self.token, **kwargs.get("headers", {})})
        if body is not None:
            request.body = body
        answer = request.get_response(self.pipeline)
        assert answer.status_int == (status or answer.status_int), answer.body
        assert status or answer.status_int // 100 == 2, answer.body
        return answer

    def get(self, path: str, **kwargs) -> Response:
        return self.request(path, "GET", **kwargs)

    def head(self, path: str, **kwargs) -> Response:
        return self.request(path, "HEAD", **kwargs)

    def put(self, path: str, body: bytes | None = None, **kwargs) -> Response:
        return self.request(path, "PUT", body, **kwargs)

    def post(self, path: str, **kwargs) -> Response:
        return self.request(path, "POST", **kwargs)

    def delete(self, path: str, **kwargs) -> Response:
        return self.request(path, "DELETE", **kwargs)


@pytest.fixture
def app(conf):
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice")
        rgw.users.create_subuser("alice", "swift", "full", secret_key="alice-key")
    terminal = gateway.app_factory({}, cluster=conf)  # first: it starts /info's registry afresh
    below = symlink.filter_factory({})(terminal)
    pipeline = auth.filter_factory({}, cluster=conf)(slo.filter_factory({})(dlo.filter_factory({})(below)))
    pipeline = gatekeeper.filter_factory({})(pipeline)
    login = Request.blank("/auth/v1.0", headers={"X-Auth-User": "alice:swift", "X-Auth-Key": "alice-key"})
    client = Client(pipeline, login.get_response(pipeline).headers["X-Auth-Token"])
    client.put(f"{BASE}/c")
    client.put(f"{BASE}/c/target", DATA, headers={"Content-Type": "text/plain"})
    return client


def link(app, name: str, target: str, status: int = 201, **headers):
    return app.put(f"{BASE}/c/{name}", b"", headers={"X-Symlink-Target": target, **headers}, status=status)


def test_a_link_reads_its_target_and_symlink_get_reads_the_link(app):
    assert registry.swift_info()["symlink"] == {"symloop_max": 2, "static_links": True}
    assert link(app, "ln", "c/target").headers["ETag"] == symlink.EMPTY_ETAG
    got = app.get(f"{BASE}/c/ln")
    assert got.body == DATA and got.headers["Content-Location"] == f"{BASE}/c/target"
    assert got.headers["ETag"] == ETAG and not [h for h in got.headers if "Sysmeta" in h]
    own = app.head(f"{BASE}/c/ln?symlink=get")
    assert own.headers["X-Symlink-Target"] == "c/target" and own.headers["Content-Type"] == "application/symlink"
    assert own.headers["Content-Length"] == "0" and not [h for h in own.headers if "Sysmeta" in h]
    listing = json.loads(app.get(f"{BASE}/c?format=json").body)
    entry = next(item for item in listing if item["name"] == "ln")
    assert entry["hash"] == symlink.EMPTY_ETAG and entry["symlink_path"] == f"{BASE}/c/target"
    xml = app.get(f"{BASE}/c?format=xml").body
    assert b"symlink_" not in xml and f"<hash>{symlink.EMPTY_ETAG}</hash>".encode() in xml


def test_bad_links_are_refused_with_swifts_messages(app):
    body = app.put(f"{BASE}/c/ln", b"x", headers={"X-Symlink-Target": "c/target"}, status=400)
    assert body.body == b"Symlink requests require a zero byte body"
    assert link(app, "ln", "/c/target", status=412).body.startswith(b"X-Symlink-Target header must be of the form")
    assert link(app, "ln", "nocontainer", status=412).content_type == "text/html"
    assert link(app, "ln", "c/ln", status=400).body == b"Symlink cannot target itself"
    app.put(f"{BASE}/c/ln2", b"", headers={"X-Object-Sysmeta-Symlink-Target": "c/target"})  # gatekeeper drops it
    assert app.get(f"{BASE}/c/ln2").body == b""


def test_loops_dangling_links_and_static_links(app):
    link(app, "a", "c/b")
    link(app, "b", "c/a")
    loop = app.get(f"{BASE}/c/a", status=409)
    assert loop.body == b"Too many levels of symbolic links, maximum allowed is 2"
    link(app, "gone", "c/nothing")
    assert app.get(f"{BASE}/c/gone", status=404).headers["Content-Location"] == f"{BASE}/c/nothing"
    assert link(app, "s", "c/target", status=409, **{"X-Symlink-Target-Etag": "0" * 32}).body.startswith(b"Object Etag")
    assert link(app, "s", "c/nothing", status=409, **{"X-Symlink-Target-Etag": ETAG}).body == (
        b"X-Symlink-Target does not exist"
    )
    link(app, "s", "c/target", **{"X-Symlink-Target-Etag": ETAG})
    own = app.head(f"{BASE}/c/s?symlink=get")
    assert own.headers["X-Symlink-Target-Bytes"] == str(len(DATA)) and own.headers["Content-Type"] == "text/plain"
    entry = next(item for item in json.loads(app.get(f"{BASE}/c?format=json").body) if item["name"] == "s")
    assert (entry["symlink_etag"], entry["symlink_bytes"]) == (ETAG, len(DATA))
    app.put(f"{BASE}/c/target", b"changed")
    changed = app.get(f"{BASE}/c/s", status=409)
    assert changed.body.startswith(b"Object Etag '") and changed.headers["Content-Location"] == f"{BASE}/c/target"


def test_post_keeps_the_target_copy_copies_it_delete_removes_the_link(app):
    link(app, "ln", "c/target")
    assert app.post(f"{BASE}/c/ln", headers={"X-Symlink-Target": "c/x"}, status=400).body == (
        b"A PUT request is required to set a symlink target"
    )
    posted = app.post(f"{BASE}/c/ln", headers={"X-Object-Meta-Color": "blue"}, status=307)
    assert posted.headers["Location"].endswith(f"{BASE}/c/target")
    own = app.head(f"{BASE}/c/ln?symlink=get")
    assert own.headers["X-Object-Meta-Color"] == "blue" and own.headers["X-Symlink-Target"] == "c/target"
    assert app.get(f"{BASE}/c/ln").body == DATA
    copied = app.request(f"{BASE}/c/ln", method="COPY", headers={"Destination": "c/copy"}, status=201)
    assert copied.headers["X-Copied-From"] == "c/ln" and app.get(f"{BASE}/c/copy").body == DATA
    app.request(f"{BASE}/c/ln?symlink=get", method="COPY", headers={"Destination": "c/copy2"}, status=201)
    assert app.head(f"{BASE}/c/copy2?symlink=get").headers["X-Symlink-Target"] == "c/target"
    app.delete(f"{BASE}/c/ln", status=204)
    assert app.get(f"{BASE}/c/target").body == DATA
    assert json.loads(app.get(f"{BASE}/c?format=json").body)[0]["name"] == "copy"
