"""``slo`` and ``dlo``: static and dynamic large objects, through a pipeline built from the real
factories (slo, dlo, auth, the gateway) on each backend."""

from __future__ import annotations

import json
from hashlib import md5

import pytest
from webob import Request

import librgw
from librgw.middleware import auth, dlo, gateway, registry, slo

SEGMENTS = [bytes([65 + i]) * 1000 for i in range(3)]  # "AAA...", "BBB...", "CCC..."
WHOLE = b"".join(SEGMENTS)
BASE = "/v1/AUTH_alice"


def md5_hex(data: bytes) -> str:
    return md5(data, usedforsecurity=False).hexdigest()


@pytest.fixture
def app(conf):
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice")
        rgw.users.create_subuser("alice", "swift", "full", secret_key="alice-key")
    below = dlo.filter_factory({})(gateway.app_factory({}, cluster=conf))
    return auth.filter_factory({}, cluster=conf)(slo.filter_factory({}, max_manifest_segments="5")(below))


@pytest.fixture
def token(app):
    answer = Request.blank("/auth/v1.0", headers={"X-Auth-User": "alice:swift", "X-Auth-Key": "alice-key"})
    return answer.get_response(app).headers["X-Auth-Token"]


def call(app, method: str, path: str, token: str, body: bytes | None = None, **headers):
    request = Request.blank(path, method=method, headers={"X-Auth-Token": token, **headers})
    if body is not None:
        request.body = body
    return request.get_response(app)


@pytest.fixture
def segments(app, token):
    """Container segs with seg/0, seg/1, seg/2; container big for the manifests."""
    for container in ("segs", "big"):
        assert call(app, "PUT", f"{BASE}/{container}", token).status_int == 201
    for index, data in enumerate(SEGMENTS):
        assert call(app, "PUT", f"{BASE}/segs/seg/{index}", token, data).status_int == 201
    return app


def manifest(**overrides) -> bytes:
    items = [{"path": f"/segs/seg/{i}", "etag": md5_hex(d), "size_bytes": len(d)} for i, d in enumerate(SEGMENTS)]
    for index, item in overrides.items():
        items[int(index[1:])].update(item)
    return json.dumps(items).encode()


def slo_etag(*etags: str) -> str:
    return md5_hex("".join(etags).encode())


def test_slo_put_then_get_head_and_ranges(segments, token):
    put = call(segments, "PUT", f"{BASE}/big/obj?multipart-manifest=put", token, manifest())
    expected = slo_etag(*(md5_hex(d) for d in SEGMENTS))
    assert put.status_int == 201 and put.headers["ETag"] == f'"{expected}"'
    got = call(segments, "GET", f"{BASE}/big/obj", token)
    assert got.status_int == 200 and got.body == WHOLE
    assert got.headers["ETag"] == f'"{expected}"' and got.headers["X-Static-Large-Object"] == "True"
    head = call(segments, "HEAD", f"{BASE}/big/obj", token)
    assert head.content_length == len(WHOLE) and head.headers["ETag"] == f'"{expected}"'
    ranged = call(segments, "GET", f"{BASE}/big/obj", token, Range="bytes=990-2009")
    assert ranged.status_int == 206 and ranged.body == WHOLE[990:2010]
    assert ranged.headers["Content-Range"] == f"bytes 990-2009/{len(WHOLE)}"
    assert call(segments, "GET", f"{BASE}/big/obj", token, Range="bytes=-5").body == WHOLE[-5:]
    several = call(segments, "GET", f"{BASE}/big/obj", token, Range="bytes=0-1,2999-2999")
    assert several.status_int == 206 and b"AA" in several.body and several.content_type == "multipart/byteranges"
    assert call(segments, "GET", f"{BASE}/big/obj", token, Range="bytes=5000-").status_int == 416


def test_slo_conditional_gets_use_the_large_objects_etag(segments, token):
    call(segments, "PUT", f"{BASE}/big/obj?multipart-manifest=put", token, manifest())
    etag = call(segments, "HEAD", f"{BASE}/big/obj", token).headers["ETag"]
    assert call(segments, "GET", f"{BASE}/big/obj", token, **{"If-None-Match": etag}).status_int == 304
    assert call(segments, "GET", f"{BASE}/big/obj", token, **{"If-Match": etag}).body == WHOLE
    assert call(segments, "GET", f"{BASE}/big/obj", token, **{"If-Match": '"nope"'}).status_int == 412


def test_slo_bad_segments_are_listed_and_nothing_is_stored(segments, token):
    body = manifest(i0={"etag": "0" * 32}, i1={"size_bytes": 7}, i2={"path": "/segs/missing"})
    answer = call(segments, "PUT", f"{BASE}/big/obj?multipart-manifest=put", token, body)
    assert answer.status_int == 400
    assert answer.body.decode() == (
        "Errors:\n/segs/seg/0, Etag Mismatch\n/segs/seg/1, Size Mismatch\n/segs/missing, 404 Not Found\n"
    )
    assert call(segments, "HEAD", f"{BASE}/big/obj", token).status_int == 404


def test_slo_manifest_format_errors_name_each_item(segments, token):
    body = json.dumps([{"path": "nocontainer"}, {"path": "/segs/seg/0", "bogus": 1}, 3]).encode()
    answer = call(segments, "PUT", f"{BASE}/big/obj?multipart-manifest=put", token, body)
    assert answer.status_int == 400
    assert answer.body.decode().splitlines() == [
        "Index 0: path does not refer to an object. Path must be of the form /container/object.",
        'Index 1: extraneous keys "bogus"',
        "Index 2: not a JSON object",
    ]
    assert call(segments, "PUT", f"{BASE}/big/obj?multipart-manifest=put", token, b"{").status_int == 400
    too_many = json.dumps([{"path": "/segs/seg/0"}] * 6).encode()
    assert call(segments, "PUT", f"{BASE}/big/obj?multipart-manifest=put", token, too_many).status_int == 413
    assert call(segments, "PUT", f"{BASE}/big/x", token, b"", **{"X-Static-Large-Object": "True"}).status_int == 400


def test_slo_ranged_and_nested_segments(segments, token):
    inner = json.dumps([{"path": "/segs/seg/1", "range": "10-19"}, {"path": "/segs/seg/2"}]).encode()
    assert call(segments, "PUT", f"{BASE}/big/inner?multipart-manifest=put", token, inner).status_int == 201
    outer = json.dumps([{"path": "/segs/seg/0", "range": "-3"}, {"path": "/big/inner"}]).encode()
    assert call(segments, "PUT", f"{BASE}/big/outer?multipart-manifest=put", token, outer).status_int == 201
    expected = SEGMENTS[0][-3:] + SEGMENTS[1][10:20] + SEGMENTS[2]
    assert call(segments, "GET", f"{BASE}/big/outer", token).body == expected
    assert call(segments, "GET", f"{BASE}/big/outer", token, Range="bytes=2-14").body == expected[2:15]
    stored = call(segments, "GET", f"{BASE}/big/outer?multipart-manifest=get", token).json
    assert stored[1]["sub_slo"] is True and stored[0]["range"] == "997-999"


def test_slo_manifest_get_raw_and_copy(segments, token):
    call(segments, "PUT", f"{BASE}/big/obj?multipart-manifest=put", token, manifest(), **{"Content-Type": "text/x"})
    stored = call(segments, "GET", f"{BASE}/big/obj?multipart-manifest=get", token)
    assert stored.content_type == "application/json" and stored.json[0]["name"] == "/segs/seg/0"
    raw = call(segments, "GET", f"{BASE}/big/obj?multipart-manifest=get&format=raw", token)
    assert raw.json[0] == {"path": "/segs/seg/0", "etag": md5_hex(SEGMENTS[0]), "size_bytes": 1000}
    assert raw.content_type == "text/x"
    assert call(segments, "COPY", f"{BASE}/big/obj", token, Destination="big/flat").status_int == 201
    flat = call(segments, "GET", f"{BASE}/big/flat", token)
    assert flat.body == WHOLE and "X-Static-Large-Object" not in flat.headers
    assert flat.headers["ETag"] == md5_hex(WHOLE)
    copied = call(segments, "COPY", f"{BASE}/big/obj?multipart-manifest=get", token, Destination="big/copy")
    assert copied.status_int == 201
    assert call(segments, "GET", f"{BASE}/big/copy", token).body == WHOLE
    assert call(segments, "HEAD", f"{BASE}/big/copy", token).headers["X-Static-Large-Object"] == "True"


def test_slo_post_keeps_the_manifest_and_delete_removes_segments(segments, token):
    call(segments, "PUT", f"{BASE}/big/obj?multipart-manifest=put", token, manifest())
    assert call(segments, "POST", f"{BASE}/big/obj", token, **{"X-Object-Meta-Color": "red"}).status_int == 202
    assert call(segments, "GET", f"{BASE}/big/obj", token).body == WHOLE
    deleted = call(segments, "DELETE", f"{BASE}/big/obj?multipart-manifest=delete", token)
    assert deleted.status_int == 200 and "Number Deleted: 4" in deleted.text
    assert call(segments, "HEAD", f"{BASE}/segs/seg/0", token).status_int == 404
    assert call(segments, "HEAD", f"{BASE}/big/obj", token).status_int == 404
    call(segments, "PUT", f"{BASE}/big/plain", token, b"x")
    assert call(segments, "DELETE", f"{BASE}/big/plain?multipart-manifest=delete", token).status_int == 400


def test_slo_segment_gone_after_the_manifest(segments, token):
    call(segments, "PUT", f"{BASE}/big/obj?multipart-manifest=put", token, manifest())
    call(segments, "DELETE", f"{BASE}/segs/seg/0", token)
    assert call(segments, "GET", f"{BASE}/big/obj", token).status_int == 409
    assert call(segments, "GET", f"{BASE}/big/obj", token, Range="bytes=1000-1999").body == SEGMENTS[1]


def test_slo_heartbeat_reports_at_the_end(segments, token):
    answer = call(segments, "PUT", f"{BASE}/big/obj?multipart-manifest=put&heartbeat=on", token, manifest())
    assert answer.status_int == 202
    assert answer.body.startswith(b" \r\n\r\n") and b"Response Status: 201 Created" in answer.body
    bad = call(
        segments, "PUT", f"{BASE}/big/bad?multipart-manifest=put&heartbeat=on", token, manifest(i0={"etag": "x"})
    )
    assert b"Response Status: 400 Bad Request" in bad.body and b"/segs/seg/0, Etag Mismatch" in bad.body


def test_slo_settings_are_in_info(segments):
    info = registry.swift_info()["slo"]
    assert info["max_manifest_segments"] == 5 and info["max_manifest_size"] == 8 * 1024 * 1024
    assert info["min_segment_size"] == 1


def test_dlo_reads_the_prefix_in_order(segments, token):
    put = call(segments, "PUT", f"{BASE}/big/dyn", token, b"", **{"X-Object-Manifest": "segs/seg/"})
    assert put.status_int == 201
    got = call(segments, "GET", f"{BASE}/big/dyn", token)
    assert got.body == WHOLE and got.headers["ETag"] == f'"{slo_etag(*(md5_hex(d) for d in SEGMENTS))}"'
    assert got.headers["X-Object-Manifest"] == "segs/seg/"
    assert call(segments, "GET", f"{BASE}/big/dyn", token, Range="bytes=999-1000").body == b"AB"
    assert call(segments, "HEAD", f"{BASE}/big/dyn", token).content_length == len(WHOLE)
    assert call(segments, "GET", f"{BASE}/big/dyn?multipart-manifest=get", token).body == b""
    assert call(segments, "COPY", f"{BASE}/big/dyn", token, Destination="big/flat").status_int == 201
    assert call(segments, "GET", f"{BASE}/big/flat", token).body == WHOLE
    bad = call(segments, "PUT", f"{BASE}/big/dyn", token, b"", **{"X-Object-Manifest": "nocontainer"})
    assert bad.status_int == 400 and bad.text == "X-Object-Manifest must be in the format container/prefix"
