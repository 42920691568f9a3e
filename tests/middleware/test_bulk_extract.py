"""``bulk``'s extract-archive, through a pipeline built from the real factories (auth, bulk,
expiration, the gateway) on each backend."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from webob import Request, Response

import librgw
from librgw.middleware import auth, bulk, expiration, gateway


def archive(
    files: dict[str, bytes], compression: str = "gz", links: tuple[str, ...] = (), pax: dict | None = None
) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=f"w:{compression}", format=tarfile.PAX_FORMAT) as tar:
        directory = tarfile.TarInfo("adir")
        directory.type = tarfile.DIRTYPE  # skipped
        tar.addfile(directory)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.pax_headers = len(data), pax or {}
            tar.addfile(info, io.BytesIO(data))
        for name in links:
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.SYMTYPE, "elsewhere"
            tar.addfile(link)
    return out.getvalue()


@pytest.fixture
def app(conf):
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice")
        rgw.users.create_subuser("alice", "swift", "full", secret_key="alice-key")
    pipeline = expiration.filter_factory({})(gateway.app_factory({}, cluster=conf))
    pipeline = bulk.filter_factory({}, max_containers_per_extraction="2")(pipeline)
    return auth.filter_factory({}, cluster=conf)(pipeline)


@pytest.fixture
def token(app):
    answer = Request.blank("/auth/v1.0", headers={"X-Auth-User": "alice:swift", "X-Auth-Key": "alice-key"})
    return answer.get_response(app).headers["X-Auth-Token"]


def extract(app, token: str, path: str, body: bytes, fmt: str = "tar.gz", **headers):
    request = Request.blank(f"{path}?extract-archive={fmt}", method="PUT", body=body)
    request.headers.update({"X-Auth-Token": token, "Accept": "application/json", **headers})
    answer = request.get_response(app)
    assert answer.status_int == 200
    return json.loads(answer.body)


def test_archives_into_an_account_and_a_container_store_only_regular_files(app, token):
    files = {"photos/cat.jpg": b"meow", "./photos/sub/dog.png": b"woof", "docs/a.txt": b"alpha", "top.txt": b"skipped"}
    pax = {"SCHILY.xattr.user.meta.lunch": "soup", "LIBARCHIVE.xattr.user.mime_type": "text/x-test"}
    report = extract(
        app, token, "/v1/AUTH_alice", archive(files, links=("photos/link",), pax=pax), **{"X-Delete-After": "600"}
    )
    assert report == {"Response Status": "201 Created", "Response Body": "", "Number Files Created": 3, "Errors": []}
    got = Request.blank("/v1/AUTH_alice/photos/sub/dog.png", headers={"X-Auth-Token": token}).get_response(app)
    assert (got.body, got.headers["X-Object-Meta-Lunch"], got.headers["Content-Type"]) == (
        b"woof",
        "soup",
        "text/x-test",
    )
    assert "X-Delete-At" in got.headers
    listing = Request.blank("/v1/AUTH_alice", headers={"X-Auth-Token": token}).get_response(app)
    assert listing.body.split() == [b"docs", b"photos"]
    # into a container, under a prefix; the report in plain text
    Request.blank("/v1/AUTH_alice/box", method="PUT", headers={"X-Auth-Token": token}).get_response(app)
    request = Request.blank("/v1/AUTH_alice/box/in/?extract-archive=tar", method="PUT", body=archive({"a": b"1"}, ""))
    request.headers["X-Auth-Token"] = token
    answer = request.get_response(app)
    assert (answer.content_type, answer.body) == (
        "text/plain",
        b"Number Files Created: 1\nResponse Body: \nResponse Status: 201 Created\nErrors:\n",
    )
    assert Request.blank("/v1/AUTH_alice/box/in/a", headers={"X-Auth-Token": token}).get_response(app).body == b"1"


def test_refusals(app, token):
    bad = Request.blank("/v1/AUTH_alice?extract-archive=zip", method="PUT", body=b"x", headers={"X-Auth-Token": token})
    assert (bad.get_response(app).status_int, bad.get_response(app).body) == (400, b"Unsupported archive format")
    report = extract(app, token, "/v1/AUTH_alice", b"not a gzip stream at all")
    assert (report["Response Status"], report["Response Body"]) == (
        "400 Bad Request",
        "Invalid Tar File: not a gzip file",
    )
    cut = archive({"c0/small": b"1", "c0/big": bytes(range(256)) * 400}, "")[:30000]  # ends inside c0/big
    report = extract(app, token, "/v1/AUTH_alice", cut, "tar")
    assert (report["Response Status"], report["Response Body"]) == (
        "400 Bad Request",
        "Invalid Tar File: unexpected end of data",
    )
    assert report["Number Files Created"] == 1
    assert Request.blank("/v1/AUTH_alice/c0/big", headers={"X-Auth-Token": token}).get_response(app).status_int == 404
    report = extract(app, token, "/v1/AUTH_alice", archive({"top.txt": b"x"}))
    assert (report["Response Status"], report["Response Body"]) == (
        "400 Bad Request",
        "Invalid Tar File: No Valid Files",
    )
    three = archive({"c1/a": b"1", "c2/a": b"2", "c3/a": b"3", "c4/a": b"4"}, "bz2")
    report = extract(app, token, "/v1/AUTH_alice", three, "tar.bz2")
    assert (report["Response Status"], report["Response Body"]) == (
        "400 Bad Request",
        "More than 2 containers to create from tar.",
    )
    assert report["Number Files Created"] == 2
    long_name = "c1/" + "n" * 1100
    report = extract(app, token, "/v1/AUTH_alice", archive({long_name: b"x", "c1/ok": b"y"}))
    assert report["Number Files Created"] == 1 and report["Errors"] == [[long_name, "400 Bad Request"]]


def stored(environ, start_response):
    """Below the filter: every container is there, every PUT stores its whole body."""
    request = Request(environ)
    if request.method == "PUT":
        assert len(request.body_file.read()) == request.content_length
        return Response(status=201)(environ, start_response)
    return Response(status=204)(environ, start_response)


def test_a_slow_extraction_beats_its_heart_then_reports_as_swift():
    app = bulk.filter_factory({}, yield_frequency="0")(stored)
    body = archive({"c/a": b"1", "c/b": b"2"})
    request = Request.blank(
        "/v1/AUTH_a?extract-archive=tar.gz", method="PUT", body=body, headers={"Accept": "text/xml"}
    )
    answer = request.get_response(app)
    assert (answer.status_int, answer.content_type) == (200, "text/xml")
    head, _, report = answer.body.partition(b"\r\n\r\n")
    assert head.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n') and head.endswith(b" ")
    assert report == (
        b"<extract>\n<number_files_created>2</number_files_created>\n<response_body></response_body>\n"
        b"<response_status>201 Created</response_status>\n<errors>\n</errors>\n</extract>\n"
    )
