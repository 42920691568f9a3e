"""The native versioning contract's pure parts: the container header, version ids, listing
entries and the delete marker's 404."""

import pytest
from webob import Request, exc

from librgw.bucket_info import BucketInfo
from librgw.errors import CurrentIsDeleteMarker
from librgw.middleware.swift.versions import (
    DELETE_MARKER_CONTENT_TYPE,
    EMPTY_MD5,
    DeleteMarkerReached,
    copy_source_version,
    deleted_headers,
    is_versions_listing,
    refuse_version_on_write,
    requested_state,
    requested_version,
    state_headers,
    version_item,
)
from librgw.object_ops import DeleteResult
from librgw.versioning import Version

VERSION = "a1B2" * 8


def request(query: str = "", method: str = "GET", headers: dict | None = None) -> Request:
    return Request.blank("/v1/AUTH_alice/c/o" + (f"?{query}" if query else ""), method=method, headers=headers)


@pytest.mark.parametrize(
    ("value", "state"), [("true", "enabled"), ("True", "enabled"), (" 1", "enabled"), ("false", "suspended")]
)
def test_x_versions_enabled_is_enabled_or_suspended(value, state):
    assert requested_state(request(headers={"X-Versions-Enabled": value})) == state


def test_no_header_asks_nothing_and_other_values_are_400():
    assert requested_state(request()) is None
    with pytest.raises(exc.HTTPBadRequest):
        requested_state(request(headers={"X-Versions-Enabled": "off-ish"}))


def test_a_container_shows_its_state_once_versioning_was_set():
    info = BucketInfo("c", "m", "alice", 0.0)
    assert state_headers(info) == []
    info.versioning = "enabled"
    assert state_headers(info) == [("X-Versions-Enabled", "true")]
    info.versioning = "suspended"
    assert state_headers(info) == [("X-Versions-Enabled", "false")]


def test_version_ids_are_ours_or_null():
    assert requested_version(request()) is None
    assert requested_version(request("version-id=null")) == "null"
    assert requested_version(request(f"version-id={VERSION}")) == VERSION
    assert requested_version(request("versions")) is None
    for bad in ("version-id=", "version-id=abc", f"version-id={VERSION}x", "version-id=../x"):
        with pytest.raises(exc.HTTPBadRequest):
            requested_version(request(bad))
    assert copy_source_version(request(headers={"X-Copy-From-Version-Id": VERSION})) == VERSION
    with pytest.raises(exc.HTTPBadRequest):
        copy_source_version(request(headers={"X-Copy-From-Version-Id": "nope"}))


def test_put_and_post_of_a_version_are_refused():
    refuse_version_on_write(request(method="PUT"))
    for method in ("PUT", "POST"):
        with pytest.raises(exc.HTTPBadRequest):
            refuse_version_on_write(request("version-id=null", method))


def test_versions_listing_is_asked_by_the_versions_parameter():
    assert is_versions_listing(request("versions"))
    assert is_versions_listing(request("format=json&versions="))
    assert not is_versions_listing(request("format=json"))
    assert not is_versions_listing(request("version_marker=x"))


def test_listing_entries_show_delete_markers_as_swift_does():
    version = Version("k", VERSION, 1700000000.25, 5, "e" * 32, "alice", is_latest=True, content_type="text/plain")
    assert version_item(version) == {
        "name": "k",
        "hash": "e" * 32,
        "bytes": 5,
        "content_type": "text/plain",
        "last_modified": "2023-11-14T22:13:20.250000",
        "version_id": VERSION,
        "is_latest": True,
    }
    marker = version_item(Version("k", VERSION, 1700000000.0, delete_marker=True))
    assert (marker["content_type"], marker["bytes"], marker["hash"]) == (DELETE_MARKER_CONTENT_TYPE, 0, EMPTY_MD5)


def test_a_delete_marker_reached_is_an_empty_404_that_says_so():
    error = DeleteMarkerReached(CurrentIsDeleteMarker("c/k is a delete marker", VERSION, 1700000000.0))
    for method in ("GET", "HEAD"):
        response = Request.blank("/", method=method).get_response(error)
        assert response.status_int == 404 and response.body == b""
        assert response.headers["X-Object-Delete-Marker"] == "true"
        assert response.headers["X-Object-Version-Id"] == VERSION
        assert response.headers["Content-Type"] == DELETE_MARKER_CONTENT_TYPE
        assert response.headers["Last-Modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    marker = DeleteResult(version_id=VERSION, delete_marker=True, existed=True)
    assert deleted_headers(marker) == [("X-Object-Version-Id", VERSION), ("X-Object-Delete-Marker", "true")]
    removed = DeleteResult(version_id="", delete_marker=False, existed=True)
    assert deleted_headers(removed) == [("X-Object-Version-Id", "null")]
    assert deleted_headers(DeleteResult(version_id=None, delete_marker=False, existed=True)) == []
