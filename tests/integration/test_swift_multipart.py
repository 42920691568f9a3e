"""The native API's multipart upload sub-resources, over raw HTTP to a real gunicorn."""

import hashlib
import json
import os
from urllib.parse import quote, urlsplit

import pytest

pytestmark = pytest.mark.slow

MiB = 1024 * 1024


class Native:
    """Raw requests to one account, as one Swift user."""

    def __init__(self, gateway, user: str, key: str, account: str = "") -> None:
        url, self.token = gateway.login(user, key)
        self.gateway = gateway
        self.base = urlsplit(url).path if not account else f"/v1/{account}"

    def __call__(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
        headers = {"X-Auth-Token": self.token, **(headers or {})}
        if body is None and method in ("PUT", "POST"):
            body = b""
        return self.gateway.raw(method, self.base + quote(path, safe="/?=&"), headers, body)


@pytest.fixture(scope="module")
def alice(gateway):
    native = Native(gateway, "alice:swift", "alice-key")
    assert native("PUT", "/mp")[0] in (201, 202)
    return native


def initiate_in(alice, container: str, name: str, headers: dict | None = None) -> str:
    status, _, body = alice("POST", f"/{container}/{name}?uploads", headers)
    assert status == 200, body
    return json.loads(body)["upload_id"]


def initiate(alice, name: str, headers: dict | None = None) -> str:
    return initiate_in(alice, "mp", name, headers)


def test_upload_list_and_complete_keep_metadata_and_content_headers(alice):
    upload_id = initiate(
        alice,
        "movie.mp4",
        {"X-Object-Meta-Color": "blue", "Content-Disposition": "inline", "Content-Type": "video/mp4"},
    )
    first, last = os.urandom(5 * MiB), b"the end"
    status, headers, body = alice(
        "PUT", f"/mp/movie.mp4?upload-id={upload_id}&part-number=1", {"ETag": hashlib.md5(b"x").hexdigest()}, first
    )
    assert status == 422 and headers["X-Librgw-Error"] == "BadDigest"
    status, headers, _ = alice(
        "PUT", f"/mp/movie.mp4?upload-id={upload_id}&part-number=1", {"ETag": hashlib.md5(first).hexdigest()}, first
    )
    assert status == 201 and headers["ETag"] == f'"{hashlib.md5(first).hexdigest()}"' and "X-Timestamp" in headers
    status, headers, _ = alice("PUT", f"/mp/movie.mp4?upload-id={upload_id}&part-number=2", body=last)
    assert status == 201

    status, headers, body = alice("GET", f"/mp/movie.mp4?upload-id={upload_id}")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    listing = json.loads(body)
    assert listing["upload_id"] == upload_id and listing["object"] == "movie.mp4" and listing["owner"] == "alice"
    assert listing["content_type"] == "video/mp4" and listing["is_truncated"] is False
    assert [(p["part_number"], p["size"]) for p in listing["parts"]] == [(1, 5 * MiB), (2, len(last))]
    page = json.loads(alice("GET", f"/mp/movie.mp4?upload-id={upload_id}&max-parts=1")[2])
    assert [p["part_number"] for p in page["parts"]] == [1] and page["is_truncated"]
    assert page["next_part_number_marker"] == 1 and page["max_parts"] == 1
    rest = json.loads(alice("GET", f"/mp/movie.mp4?upload-id={upload_id}&part-number-marker=1")[2])
    assert [p["part_number"] for p in rest["parts"]] == [2] and not rest["is_truncated"]

    status, _, body = alice("GET", "/mp?uploads")
    uploads = json.loads(body)
    assert status == 200 and [(u["object"], u["upload_id"]) for u in uploads["uploads"]] == [("movie.mp4", upload_id)]

    etags = [p["etag"] for p in listing["parts"]]
    parts = [{"part_number": n, "etag": e} for n, e in zip((1, 2), etags)]
    wrong = [{"part_number": 1, "etag": "0" * 32}, parts[1]]
    status, headers, _ = alice("POST", f"/mp/movie.mp4?upload-id={upload_id}", body=json.dumps(wrong).encode())
    assert status == 400 and headers["X-Librgw-Error"] == "InvalidPart"
    status, headers, _ = alice("POST", f"/mp/movie.mp4?upload-id={upload_id}", body=json.dumps(parts[::-1]).encode())
    assert status == 400 and headers["X-Librgw-Error"] == "InvalidPartOrder"
    for bad in (b"not json", b'{"part_number": 1}', b'[{"part_number": "1", "etag": "x"}]'):
        status, headers, _ = alice("POST", f"/mp/movie.mp4?upload-id={upload_id}", body=bad)
        assert status == 400 and "X-Librgw-Error" not in headers
    status, headers, body = alice("POST", f"/mp/movie.mp4?upload-id={upload_id}", body=json.dumps(parts).encode())
    expected = hashlib.md5(b"".join(bytes.fromhex(e) for e in etags)).hexdigest() + "-2"
    assert status == 201 and json.loads(body)["etag"] == expected and headers["ETag"] == f'"{expected}"'
    assert json.loads(body)["size"] == 5 * MiB + len(last)

    status, headers, body = alice("GET", "/mp/movie.mp4")
    assert status == 200 and body == first + last
    assert headers["Content-Type"] == "video/mp4" and headers["Content-Disposition"] == "inline"
    assert headers["X-Object-Meta-Color"] == "blue" and headers["ETag"] == f'"{expected}"'
    assert json.loads(alice("GET", "/mp?uploads")[2])["uploads"] == []
    status, headers, _ = alice("GET", f"/mp/movie.mp4?upload-id={upload_id}")
    assert status == 404 and headers["X-Librgw-Error"] == "NoSuchUpload"


def test_small_parts_before_the_last_are_entity_too_small(alice):
    upload_id = initiate(alice, "small")
    etags = [alice("PUT", f"/mp/small?upload-id={upload_id}&part-number={n}", body=b"tiny")[1]["ETag"] for n in (1, 2)]
    parts = [{"part_number": n, "etag": e.strip('"')} for n, e in zip((1, 2), etags)]
    status, headers, _ = alice("POST", f"/mp/small?upload-id={upload_id}", body=json.dumps(parts).encode())
    assert status == 400 and headers["X-Librgw-Error"] == "EntityTooSmall"
    assert alice("DELETE", f"/mp/small?upload-id={upload_id}")[0] == 204
    status, headers, _ = alice("DELETE", f"/mp/small?upload-id={upload_id}")
    assert status == 404 and headers["X-Librgw-Error"] == "NoSuchUpload"
    status, headers, _ = alice("PUT", f"/mp/small?upload-id={upload_id}&part-number=3", body=b"late")
    assert status == 404 and headers["X-Librgw-Error"] == "NoSuchUpload"


def test_part_copy_with_and_without_a_range(alice):
    source = os.urandom(6 * MiB)
    assert alice("PUT", "/mp/source", body=source)[0] == 201
    upload_id = initiate(alice, "copy")
    status, headers, _ = alice(
        "PUT",
        f"/mp/copy?upload-id={upload_id}&part-number=1",
        {"X-Copy-From": "/mp/source", "X-Copy-From-Range": f"bytes=10-{10 + 5 * MiB - 1}"},
    )
    assert status == 201 and headers["ETag"] == f'"{hashlib.md5(source[10 : 10 + 5 * MiB]).hexdigest()}"'
    assert headers["X-Copied-From"] == "mp/source" and "X-Copied-From-Last-Modified" in headers
    status, headers, _ = alice("PUT", f"/mp/copy?upload-id={upload_id}&part-number=2", {"X-Copy-From": "mp/source"})
    assert status == 201 and headers["ETag"] == f'"{hashlib.md5(source).hexdigest()}"'
    for bad, expected in (("bytes=5-", 400), ("bytes=9-3", 416), (f"bytes=0-{len(source)}", 416)):
        status, _, _ = alice(
            "PUT",
            f"/mp/copy?upload-id={upload_id}&part-number=3",
            {"X-Copy-From": "mp/source", "X-Copy-From-Range": bad},
        )
        assert status == expected, bad
    status, headers, _ = alice("PUT", f"/mp/copy?upload-id={upload_id}&part-number=3", {"X-Copy-From": "mp/nothing"})
    assert status == 404 and headers["X-Librgw-Error"] == "NoSuchKey"
    listing = json.loads(alice("GET", f"/mp/copy?upload-id={upload_id}")[2])
    parts = [{"part_number": p["part_number"], "etag": p["etag"]} for p in listing["parts"]]
    assert alice("POST", f"/mp/copy?upload-id={upload_id}", body=json.dumps(parts).encode())[0] == 201
    assert alice("GET", "/mp/copy")[2] == source[10 : 10 + 5 * MiB] + source


def test_uploads_listing_pages_by_key_and_upload_id_and_rolls_up_prefixes(alice):
    assert alice("PUT", "/mp-list")[0] in (201, 202)
    ids = {name: initiate_in(alice, "mp-list", name) for name in ("a", "b", "dir/x", "dir/y")}
    second_a = initiate_in(alice, "mp-list", "a")
    everything = json.loads(alice("GET", "/mp-list?uploads")[2])
    keyed = [(u["object"], u["upload_id"]) for u in everything["uploads"]]
    assert keyed == sorted([*ids.items(), ("a", second_a)]) and not everything["is_truncated"]

    walked, marker, id_marker = [], "", ""
    while True:
        page = json.loads(
            alice("GET", f"/mp-list?uploads&max-uploads=2&key-marker={marker}&upload-id-marker={id_marker}")[2]
        )
        walked += [(u["object"], u["upload_id"]) for u in page["uploads"]]
        if not page["is_truncated"]:
            break
        marker, id_marker = page["next_key_marker"], page["next_upload_id_marker"]
    assert walked == keyed

    rolled = json.loads(alice("GET", "/mp-list?uploads&delimiter=/")[2])
    assert rolled["prefixes"] == ["dir/"] and [u["object"] for u in rolled["uploads"]] == ["a", "a", "b"]
    under = json.loads(alice("GET", "/mp-list?uploads&prefix=dir/")[2])
    assert [u["object"] for u in under["uploads"]] == ["dir/x", "dir/y"]
    assert alice("GET", "/mp-list?uploads&max-uploads=x")[0] == 400
    assert alice("PUT", "/mp-list?uploads")[0] == 405
    for name, upload_id in [*ids.items(), ("a", second_a)]:
        assert alice("DELETE", f"/mp-list/{name}?upload-id={upload_id}")[0] == 204


def test_authorization_is_the_objects(alice, gateway):
    upload_id = initiate(alice, "guarded")
    assert alice("PUT", f"/mp/guarded?upload-id={upload_id}&part-number=1", body=b"x")[0] == 201
    reader = Native(gateway, "alice:reader", "reader-key")
    assert reader("POST", "/mp/guarded?uploads")[0] == 403
    assert reader("PUT", f"/mp/guarded?upload-id={upload_id}&part-number=1", body=b"y")[0] == 403
    assert reader("DELETE", f"/mp/guarded?upload-id={upload_id}")[0] == 403
    assert reader("GET", f"/mp/guarded?upload-id={upload_id}")[0] == 200
    assert reader("GET", "/mp?uploads")[0] == 200
    bob = Native(gateway, "bob:swift", "bob-key", account="AUTH_alice")
    assert bob("GET", f"/mp/guarded?upload-id={upload_id}")[0] == 403
    assert bob("GET", "/mp?uploads")[0] == 403
    assert bob("POST", f"/mp/guarded?upload-id={upload_id}", body=b"[]")[0] == 403
    assert alice("DELETE", f"/mp/guarded?upload-id={upload_id}")[0] == 204


def test_bad_requests(alice):
    upload_id = initiate(alice, "bad")
    assert alice("PUT", f"/mp/bad?upload-id={upload_id}", body=b"x")[0] == 400  # no part number
    assert alice("PUT", f"/mp/bad?upload-id={upload_id}&part-number=0", body=b"x")[0] == 400
    assert alice("PUT", f"/mp/bad?upload-id={upload_id}&part-number=one", body=b"x")[0] == 400
    assert alice("GET", f"/mp/bad?upload-id={upload_id}&max-parts=-1")[0] == 400
    assert alice("HEAD", f"/mp/bad?upload-id={upload_id}")[0] == 405
    assert alice("GET", "/mp/bad?uploads")[0] == 405
    assert alice("POST", "/mp/bad?uploads", {"X-Object-Meta-" + "n" * 200: "v"})[0] == 400
    assert alice("GET", "/nowhere?uploads")[0] == 404
    assert alice("DELETE", f"/mp/bad?upload-id={upload_id}")[0] == 204
