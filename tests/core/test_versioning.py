"""Versioning with S3's semantics: versions, delete markers, get and delete by version id, null versions."""

import pytest

from librgw.errors import MethodNotAllowed, NoSuchKey, NoSuchVersion
from librgw.zone import DATA_POOL


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    rgw.create_bucket("alice", "docs")
    return "docs"


def versions(rgw, key_filter=None):
    page = rgw.versions.list(rgw.buckets.get("docs"))
    return [(v.key, v.version_id, v.delete_marker, v.is_latest) for v in page.versions if key_filter in (None, v.key)]


def test_acceptance_put_put_delete_list_get_old_delete_by_version(rgw, bucket, client):
    """Issue 4, acceptance 7."""
    rgw.buckets.set_versioning("docs", "enabled")
    info = rgw.buckets.get("docs")
    v1, _ = rgw.versions.put(info, "report", b"first")
    v2, _ = rgw.versions.put(info, "report", b"second")
    assert rgw.get("docs", "report").read() == b"second"
    assert rgw.get("docs", "report").version_id == v2
    marker, is_marker = rgw.versions.delete(info, "report")
    assert is_marker and marker not in (v1, v2)
    with pytest.raises(NoSuchKey):
        rgw.get("docs", "report")
    assert rgw.list("docs").objects == []  # a delete marker hides the key from plain listings
    assert versions(rgw) == [("report", marker, True, True), ("report", v2, False, False), ("report", v1, False, False)]
    assert rgw.get("docs", "report", version_id=v1).read() == b"first"
    with pytest.raises(MethodNotAllowed):
        rgw.get("docs", "report", version_id=marker)
    with pytest.raises(NoSuchVersion):
        rgw.get("docs", "report", version_id="nope")
    rgw.delete("docs", "report", version_id=marker)  # removing the marker brings v2 back
    assert rgw.get("docs", "report").read() == b"second"
    assert [e.key for e in rgw.list("docs").objects] == ["report"]
    rgw.delete("docs", "report", version_id=v2)  # for good: v1 is current again
    assert rgw.get("docs", "report").read() == b"first"
    assert versions(rgw) == [("report", v1, False, True)]
    with client.open_ioctx(DATA_POOL) as ioctx:
        heads = {o.key for o in ioctx.list_objects()}
    assert heads == {f"{info.marker}__:{v1}_report"}


def test_an_object_from_before_versioning_is_the_null_version(rgw, bucket):
    rgw.put("docs", "old", b"from before")
    rgw.buckets.set_versioning("docs", "enabled")
    new_id = rgw.versions.put(rgw.buckets.get("docs"), "old", b"after")[0]
    assert versions(rgw, "old") == [("old", new_id, False, True), ("old", "null", False, False)]
    assert rgw.get("docs", "old", version_id="null").read() == b"from before"
    assert rgw.get("docs", "old").read() == b"after"


def test_a_suspended_bucket_overwrites_the_null_version(rgw, bucket):
    rgw.buckets.set_versioning("docs", "enabled")
    kept = rgw.versions.put(rgw.buckets.get("docs"), "k", b"kept")[0]
    rgw.buckets.set_versioning("docs", "suspended")
    info = rgw.buckets.get("docs")
    assert rgw.versions.put(info, "k", b"null one")[0] == "null"
    assert rgw.versions.put(info, "k", b"null two")[0] == "null"
    assert versions(rgw, "k") == [("k", "null", False, True), ("k", kept, False, False)]
    assert rgw.get("docs", "k").read() == b"null two"
    marker, is_marker = rgw.versions.delete(info, "k")  # a null delete marker replaces the null version
    assert (marker, is_marker) == ("null", True)
    assert versions(rgw, "k") == [("k", "null", True, True), ("k", kept, False, False)]
    assert rgw.get("docs", "k", version_id=kept).read() == b"kept"


def test_listing_versions_pages_with_key_and_version_markers(rgw, bucket):
    rgw.buckets.set_versioning("docs", "enabled")
    info = rgw.buckets.get("docs")
    ids = {key: [rgw.versions.put(info, key, f"{key}{n}".encode())[0] for n in range(3)] for key in ("a", "b", "c")}
    everything = [(v.key, v.version_id) for v in rgw.versions.list(info).versions]
    assert everything == [(k, vid) for k in "abc" for vid in reversed(ids[k])]
    seen, key_marker, vid_marker = [], "", ""
    while True:
        page = rgw.versions.list(info, key_marker=key_marker, version_id_marker=vid_marker, max_keys=4)
        seen += [(v.key, v.version_id) for v in page.versions]
        if not page.is_truncated:
            break
        key_marker, vid_marker = page.next_key_marker, page.next_version_id_marker
    assert seen == everything
    after_a = rgw.versions.list(info, key_marker="a").versions
    assert [v.key for v in after_a] == ["b"] * 3 + ["c"] * 3
