"""The native API's versioning (``X-Versions-Enabled``, ``?versions``, ``?version-id``, version
headers), over raw HTTP and swiftclient to a real gunicorn."""

import json
from urllib.parse import quote, urlsplit

import pytest

pytestmark = pytest.mark.slow

MARKER_TYPE = "application/x-deleted;swift_versions_deleted=1"


class Native:
    """Raw requests to one account, as one Swift user."""

    def __init__(self, gateway, user: str, key: str) -> None:
        url, self.token = gateway.login(user, key)
        self.gateway = gateway
        self.base = urlsplit(url).path

    def __call__(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
        headers = {"X-Auth-Token": self.token, **(headers or {})}
        if body is None and method in ("PUT", "POST"):
            body = b""
        return self.gateway.raw(method, self.base + quote(path, safe="/?=&"), headers, body)

    def versions(self, container: str, query: str = "") -> list[dict]:
        status, _, body = self("GET", f"/{container}?versions&format=json{query}")
        assert status == 200, body
        return json.loads(body)


@pytest.fixture(scope="module")
def alice(gateway):
    return Native(gateway, "alice:swift", "alice-key")


def versioned(alice, name: str) -> str:
    assert alice("PUT", f"/{name}", {"X-Versions-Enabled": "true"})[0] == 201
    return name


def put(alice, path: str, body: bytes, headers: dict | None = None) -> str:
    status, answer, _ = alice("PUT", path, headers, body)
    assert status == 201
    return answer["X-Object-Version-Id"]


def listed(entries: list[dict]) -> list[tuple]:
    return [(e["name"], e["version_id"], e["is_latest"], e["content_type"] == MARKER_TYPE) for e in entries]


def test_versioning_is_enabled_suspended_shown_and_never_off_again(gateway, alice):
    assert alice("PUT", "/plain")[0] == 201
    assert "X-Versions-Enabled" not in alice("HEAD", "/plain")[1]
    versioned(alice, "states")
    assert alice("HEAD", "/states")[1]["X-Versions-Enabled"] == "true"
    assert alice("POST", "/states", {"X-Versions-Enabled": "false"})[0] == 204
    assert alice("GET", "/states")[1]["X-Versions-Enabled"] == "false"
    assert alice("POST", "/states", {"X-Versions-Enabled": "maybe"})[0] == 400
    assert alice("POST", "/plain", {"X-Versions-Enabled": "True"})[0] == 204
    assert gateway.connection().head_container("plain")["x-versions-enabled"] == "true"
    reader = Native(gateway, "alice:reader", "reader-key")
    assert reader("POST", "/plain", {"X-Versions-Enabled": "false"})[0] == 403


def test_each_put_is_a_version_readable_by_its_id(alice):
    versioned(alice, "docs")
    ids = [put(alice, "/docs/report", f"draft {n}".encode(), {"Content-Type": "text/plain"}) for n in (1, 2, 3)]
    assert len(set(ids)) == 3 and all(len(i) == 32 for i in ids)
    status, headers, body = alice("GET", "/docs/report")
    assert (status, body, headers["X-Object-Version-Id"]) == (200, b"draft 3", ids[2])
    status, headers, body = alice("GET", f"/docs/report?version-id={ids[0]}")
    assert (status, body, headers["X-Object-Version-Id"]) == (200, b"draft 1", ids[0])
    status, headers, _ = alice("HEAD", f"/docs/report?version-id={ids[1]}")
    assert status == 200 and headers["Content-Length"] == "7" and headers["X-Object-Version-Id"] == ids[1]
    status, headers, body = alice("GET", f"/docs/report?version-id={ids[0]}", {"Range": "bytes=6-"})
    assert (status, body) == (206, b"1")

    entries = alice.versions("docs")
    assert listed(entries) == [("report", ids[2], True, False), ("report", ids[1], False, False)] + [
        ("report", ids[0], False, False)
    ]
    assert entries[0]["bytes"] == 7 and entries[0]["content_type"] == "text/plain" and len(entries[0]["hash"]) == 32
    assert alice("GET", "/docs?format=json")[2].count(b'"name"') == 1  # the plain listing shows the current one


def test_delete_marker_hides_the_object_until_it_is_deleted_itself(alice):
    versioned(alice, "trash")
    v1, v2 = put(alice, "/trash/k", b"one"), put(alice, "/trash/k", b"two")
    status, headers, _ = alice("DELETE", "/trash/k")
    marker = headers["X-Object-Version-Id"]
    assert status == 204 and headers["X-Object-Delete-Marker"] == "true" and marker not in (v1, v2)
    for method in ("GET", "HEAD"):
        status, headers, body = alice(method, "/trash/k")
        assert status == 404 and body == b"" and headers["X-Object-Delete-Marker"] == "true"
        assert headers["X-Object-Version-Id"] == marker and headers["Content-Type"] == MARKER_TYPE
    status, headers, _ = alice("GET", f"/trash/k?version-id={marker}")
    assert status == 404 and headers["X-Object-Delete-Marker"] == "true"
    assert alice("GET", "/trash?format=json")[2] == b"[]"
    assert listed(alice.versions("trash")) == [
        ("k", marker, True, True),
        ("k", v2, False, False),
        ("k", v1, False, False),
    ]
    status, headers, _ = alice("DELETE", "/trash/k")  # no current object: 404, but a marker all the same
    second = headers["X-Object-Version-Id"]
    assert status == 404 and headers["X-Object-Delete-Marker"] == "true"

    for gone in (second, marker):
        status, headers, _ = alice("DELETE", f"/trash/k?version-id={gone}")
        assert status == 204 and headers["X-Object-Version-Id"] == gone and headers["X-Object-Delete-Marker"] == "true"
    status, headers, body = alice("GET", "/trash/k")
    assert (status, body, headers["X-Object-Version-Id"]) == (200, b"two", v2)
    status, headers, _ = alice("DELETE", f"/trash/k?version-id={v2}")
    assert status == 204 and headers["X-Object-Version-Id"] == v2 and "X-Object-Delete-Marker" not in headers
    assert alice("GET", "/trash/k")[2] == b"one"
    assert alice("GET", f"/trash/k?version-id={v2}")[0] == 404
    assert alice("DELETE", f"/trash/k?version-id={v2}")[0] == 404
    assert listed(alice.versions("trash")) == [("k", v1, True, False)]


def test_suspended_versioning_writes_and_replaces_the_null_version(alice):
    assert alice("PUT", "/later")[0] == 201
    assert alice("PUT", "/later/k", body=b"before")[0] == 201
    assert "X-Object-Version-Id" not in alice("GET", "/later/k")[1]
    assert alice("POST", "/later", {"X-Versions-Enabled": "true"})[0] == 204
    assert alice("GET", "/later/k")[1]["X-Object-Version-Id"] == "null"
    kept = put(alice, "/later/k", b"kept")
    assert alice("POST", "/later", {"X-Versions-Enabled": "false"})[0] == 204
    assert put(alice, "/later/k", b"null one") == "null"
    assert put(alice, "/later/k", b"null two") == "null"
    assert listed(alice.versions("later")) == [("k", "null", True, False), ("k", kept, False, False)]
    assert alice("GET", "/later/k?version-id=null")[2] == b"null two"
    assert alice("GET", f"/later/k?version-id={kept}")[2] == b"kept"
    status, headers, _ = alice("DELETE", "/later/k")
    assert status == 204 and headers["X-Object-Version-Id"] == "null"
    assert listed(alice.versions("later")) == [("k", "null", True, True), ("k", kept, False, False)]


def test_copies_name_versions_and_post_changes_the_current_one_in_place(alice):
    versioned(alice, "src")
    v1, v2 = put(alice, "/src/a", b"first"), put(alice, "/src/a", b"second")
    status, headers, _ = alice("COPY", f"/src/a?version-id={v1}", {"Destination": "/src/b"})
    assert status == 201 and headers["X-Copied-From-Version-Id"] == v1 and len(headers["X-Object-Version-Id"]) == 32
    assert alice("GET", "/src/b")[2] == b"first"
    status, headers, _ = alice("PUT", "/src/a", {"X-Copy-From": "/src/a", "X-Copy-From-Version-Id": v1})
    restored = headers["X-Object-Version-Id"]
    assert status == 201 and headers["X-Copied-From-Version-Id"] == v1 and restored not in (v1, v2)
    assert alice("GET", "/src/a")[2] == b"first"
    assert alice("PUT", "/plain/copied", {"X-Copy-From": "/src/a", "X-Copy-From-Version-Id": v2})[0] == 201
    assert alice("GET", "/plain/copied")[2] == b"second"
    assert alice("PUT", "/src/c", {"X-Copy-From": "/src/a", "X-Copy-From-Version-Id": "nope"})[0] == 400

    status, headers, _ = alice("POST", "/src/a", {"X-Object-Meta-Color": "blue", "Content-Type": "text/x-note"})
    assert status == 202 and headers["X-Object-Version-Id"] == restored
    status, headers, body = alice("GET", "/src/a")
    assert body == b"first" and headers["X-Object-Meta-Color"] == "blue" and headers["X-Object-Version-Id"] == restored
    entries = alice.versions("src", "&prefix=a")
    assert [e["version_id"] for e in entries] == [restored, v2, v1] and entries[0]["content_type"] == "text/x-note"
    assert "X-Object-Meta-Color" not in alice("HEAD", f"/src/a?version-id={v1}")[1]
    for method in ("PUT", "POST"):
        assert alice(method, f"/src/a?version-id={v1}")[0] == 400


def test_versions_listing_pages_with_markers_prefix_and_delimiter(alice):
    versioned(alice, "pages")
    ids = {name: [put(alice, f"/pages/{name}", str(n).encode()) for n in range(2)] for name in ("a", "d/x", "d/y", "e")}
    everything = [(name, vid) for name in ("a", "d/x", "d/y", "e") for vid in reversed(ids[name])]
    assert [(e["name"], e["version_id"]) for e in alice.versions("pages")] == everything
    walked, marker, version_marker = [], "", ""
    while True:
        query = f"&limit=3&marker={marker}" + (f"&version_marker={version_marker}" if version_marker else "")
        page = alice.versions("pages", query)
        walked += [(e["name"], e["version_id"]) for e in page]
        if len(page) < 3:
            break
        marker, version_marker = page[-1]["name"], page[-1]["version_id"]
    assert walked == everything
    rolled = alice.versions("pages", "&delimiter=/")
    assert [e.get("subdir") or e["name"] for e in rolled] == ["a", "a", "d/", "e", "e"]
    assert [e["name"] for e in alice.versions("pages", "&prefix=d/&delimiter=/")] == ["d/x"] * 2 + ["d/y"] * 2
    assert alice.versions("pages", "&marker=d/")[0]["name"] == "d/x"
    status, _, body = alice("GET", "/pages?versions&format=xml&limit=1")
    assert status == 200 and b"<version_id>" in body and b"<is_latest>True</is_latest>" in body
    assert alice("GET", f"/pages?versions&version_marker={ids['a'][0]}")[0] == 400  # takes a marker
    assert alice("GET", "/pages?versions&reverse=true")[0] == 400


def test_bad_and_unknown_version_ids_and_unversioned_containers(alice):
    versioned(alice, "ids")
    put(alice, "/ids/k", b"data")
    assert alice("GET", "/ids/k?version-id=not-an-id")[0] == 400
    status, headers, _ = alice("GET", "/ids/k?version-id=" + "A" * 32)
    assert status == 404 and headers["X-Librgw-Error"] == "NoSuchVersion"
    assert alice("PUT", "/never")[0] == 201
    assert alice("PUT", "/never/k", body=b"plain")[0] == 201
    assert alice("GET", "/never/k?version-id=null")[2] == b"plain"
    assert alice("GET", "/never/k?version-id=" + "A" * 32)[0] == 400
    status, headers, _ = alice("DELETE", "/never/k")
    assert status == 204 and "X-Object-Version-Id" not in headers
    assert alice("DELETE", "/never/k")[0] == 404


def test_versions_are_authorized_like_the_objects(gateway, alice):
    versioned(alice, "shared")
    v1 = put(alice, "/shared/k", b"secret")
    reader = Native(gateway, "alice:reader", "reader-key")
    assert reader("GET", f"/shared/k?version-id={v1}")[2] == b"secret"
    assert reader("GET", "/shared?versions")[0] == 200
    assert reader("DELETE", f"/shared/k?version-id={v1}")[0] == 403
    bob = Native(gateway, "bob:swift", "bob-key")
    bob.base = alice.base
    assert bob("GET", f"/shared/k?version-id={v1}")[0] == 403
    assert bob("GET", "/shared?versions")[0] == 403
    assert alice("POST", "/shared", {"X-Container-Read": "bob"})[0] == 204
    assert bob("GET", f"/shared/k?version-id={v1}")[2] == b"secret"
    assert bob("DELETE", f"/shared/k?version-id={v1}")[0] == 403
    assert bob("POST", "/shared", {"X-Versions-Enabled": "false"})[0] == 403


def test_a_container_keeping_versions_cannot_be_deleted(alice):
    versioned(alice, "keep")
    v1 = put(alice, "/keep/k", b"x")
    marker = alice("DELETE", "/keep/k")[1]["X-Object-Version-Id"]
    assert alice("GET", "/keep")[0] == 204  # an empty plain listing
    assert alice("DELETE", "/keep")[0] == 409
    assert alice("DELETE", f"/keep/k?version-id={v1}")[0] == 204
    assert alice("DELETE", "/keep")[0] == 409  # the marker is still there
    assert alice("DELETE", f"/keep/k?version-id={marker}")[0] == 204
    assert alice("DELETE", "/keep")[0] == 204


def test_a_completed_upload_and_if_none_match_in_a_versioned_container(alice):
    versioned(alice, "mpv")
    v1 = put(alice, "/mpv/big", b"small first")
    upload_id = json.loads(alice("POST", "/mpv/big?uploads")[2])["upload_id"]
    etag = alice("PUT", f"/mpv/big?upload-id={upload_id}&part-number=1", body=b"only part")[1]["ETag"]
    parts = json.dumps([{"part_number": 1, "etag": etag.strip('"')}]).encode()
    status, headers, _ = alice("POST", f"/mpv/big?upload-id={upload_id}", body=parts)
    assert status == 201 and headers["X-Object-Version-Id"] not in (v1, "null")
    assert alice("GET", "/mpv/big")[2] == b"only part"
    assert alice("GET", f"/mpv/big?version-id={v1}")[2] == b"small first"
    assert alice("PUT", "/mpv/big", {"If-None-Match": "*"}, b"no")[0] == 412
    alice("DELETE", "/mpv/big")
    assert alice("PUT", "/mpv/big", {"If-None-Match": "*"}, b"yes")[0] == 201
    assert len(alice.versions("mpv")) == 4
