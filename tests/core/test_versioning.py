"""Versioning with S3's semantics: versions, delete markers, get and delete by version id, null versions."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from librgw import bucket_index
from librgw.errors import BadDigest, BucketNotEmpty, MethodNotAllowed, NoSuchKey, NoSuchVersion
from librgw.manifest import instance_oid
from librgw.objects import CopySource
from librgw.versioning import Version, Versions, select_versions
from librgw.write_request import WriteRequest
from librgw.zone import DATA_POOL, INDEX_POOL


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
    v1, _ = rgw.versions.put(info, "report", b"first", WriteRequest())
    v2, _ = rgw.versions.put(info, "report", b"second", WriteRequest())
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
    new_id = rgw.versions.put(rgw.buckets.get("docs"), "old", b"after", WriteRequest())[0]
    assert versions(rgw, "old") == [("old", new_id, False, True), ("old", "null", False, False)]
    assert rgw.get("docs", "old", version_id="null").read() == b"from before"
    assert rgw.get("docs", "old").read() == b"after"


def test_reading_an_older_version_leaves_the_index_showing_the_current_one(rgw, bucket):
    rgw.put("docs", "old", b"from before")
    rgw.buckets.set_versioning("docs", "enabled")
    new_id = rgw.versions.put(rgw.buckets.get("docs"), "old", b"after", WriteRequest())[0]
    assert rgw.get("docs", "old", version_id="null").read() == b"from before"
    (entry,) = rgw.list("docs").objects
    assert (entry.version_id, entry.size) == (new_id, len(b"after"))


def test_a_suspended_bucket_overwrites_the_null_version(rgw, bucket):
    rgw.buckets.set_versioning("docs", "enabled")
    kept = rgw.versions.put(rgw.buckets.get("docs"), "k", b"kept", WriteRequest())[0]
    rgw.buckets.set_versioning("docs", "suspended")
    info = rgw.buckets.get("docs")
    assert rgw.versions.put(info, "k", b"null one", WriteRequest())[0] == "null"
    assert rgw.versions.put(info, "k", b"null two", WriteRequest())[0] == "null"
    assert versions(rgw, "k") == [("k", "null", False, True), ("k", kept, False, False)]
    assert rgw.get("docs", "k").read() == b"null two"
    marker, is_marker = rgw.versions.delete(info, "k")  # a null delete marker replaces the null version
    assert (marker, is_marker) == ("null", True)
    assert versions(rgw, "k") == [("k", "null", True, True), ("k", kept, False, False)]
    assert rgw.get("docs", "k", version_id=kept).read() == b"kept"


def test_listing_versions_pages_with_key_and_version_markers(rgw, bucket):
    rgw.buckets.set_versioning("docs", "enabled")
    info = rgw.buckets.get("docs")
    ids = {
        key: [rgw.versions.put(info, key, f"{key}{n}".encode(), WriteRequest())[0] for n in range(3)]
        for key in ("a", "b", "c")
    }
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


def rows(*spec: tuple[str, str]) -> list[Version]:
    """Versions in listing order: (key, version id), newest first within a key."""
    return [Version(key, vid, 0.0) for key, vid in spec]


ROWS = rows(("a", "3"), ("a", "2"), ("a", "1"), ("d/x", "1"), ("d/y", "2"), ("d/y", "1"), ("z", "1"))


def picked(page) -> list[tuple[str, str]]:
    return [(v.key, v.version_id) for v in page.versions]


def test_select_versions_pages_through_key_and_version_markers():
    page = select_versions(ROWS, max_keys=2)
    assert picked(page) == [("a", "3"), ("a", "2")] and page.is_truncated
    assert (page.next_key_marker, page.next_version_id_marker) == ("a", "2")
    rest = select_versions(ROWS, key_marker="a", version_id_marker="2", max_keys=2)
    assert picked(rest) == [("a", "1"), ("d/x", "1")]
    assert picked(select_versions(ROWS, key_marker="a")) == [(v.key, v.version_id) for v in ROWS[3:]]
    last = select_versions(ROWS, key_marker="d/y", max_keys=5)
    assert picked(last) == [("z", "1")] and not last.is_truncated and last.next_key_marker == ""


def test_select_versions_rolls_keys_up_to_the_delimiter_once():
    page = select_versions(ROWS, delimiter="/", max_keys=4)
    assert picked(page) == [("a", "3"), ("a", "2"), ("a", "1")] and page.prefixes == ["d/"]
    assert page.is_truncated and (page.next_key_marker, page.next_version_id_marker) == ("d/", "")
    rest = select_versions(ROWS, delimiter="/", key_marker="d/")
    assert picked(rest) == [("z", "1")] and rest.prefixes == []
    under = select_versions([v for v in ROWS if v.key.startswith("d/")], prefix="d/", delimiter="/")
    assert picked(under) == [("d/x", "1"), ("d/y", "2"), ("d/y", "1")] and under.prefixes == []


def test_copy_and_update_make_and_keep_versions(rgw, bucket):
    rgw.buckets.set_versioning("docs", "enabled")
    info = rgw.buckets.get("docs")
    v1, _ = rgw.versions.put(
        info,
        "src",
        b"first",
        WriteRequest(metadata={"color": "red"}, content_type="text/plain", headers={"cache-control": "no"}),
    )
    rgw.versions.put(info, "src", b"second", WriteRequest())
    copied, entry = rgw.versions.copy(
        CopySource(bucket=info, key="src", oid=instance_oid(info.marker, "src", v1)), info, "dst", WriteRequest()
    )
    assert copied not in (v1, "null") and entry.version_id == copied
    assert rgw.get("docs", "dst").read() == b"first"
    found = rgw.versions.find(info, "dst")
    assert found.version_id == copied and found.content_type == "text/plain" and found.is_latest
    updated, entry = rgw.versions.update(
        info, "dst", WriteRequest(metadata={"color": "blue"}, content_type="text/x-new")
    )
    assert updated == copied and entry.content_type == "text/x-new"
    assert rgw.versions.find(info, "dst").content_type == "text/x-new"
    head = rgw.objects.stat(info, "dst", instance_oid(info.marker, "dst", copied))
    assert head.metadata == {"color": "blue"} and head.version_id == copied and head.content_type == "text/x-new"
    assert [v.version_id for _, v in rgw.versions.versions_of(info, "dst")] == [copied]
    assert [e.key for e in rgw.list("docs").objects] == ["dst", "src"]
    rgw.versions.delete(info, "dst")
    with pytest.raises(NoSuchKey):
        rgw.versions.update(info, "dst", WriteRequest(metadata={}))
    with pytest.raises(NoSuchVersion):
        rgw.versions.find(info, "src", "nope")
    with pytest.raises(NoSuchKey):
        rgw.versions.find(info, "never")


def test_a_failed_write_leaves_the_versions_as_they_were(rgw, bucket):
    rgw.buckets.set_versioning("docs", "enabled")
    kept = rgw.versions.put(rgw.buckets.get("docs"), "k", b"kept", WriteRequest())[0]
    rgw.buckets.set_versioning("docs", "suspended")
    info = rgw.buckets.get("docs")
    rgw.versions.put(info, "k", b"null", WriteRequest())
    with pytest.raises(BadDigest):
        rgw.versions.put(info, "k", b"new", WriteRequest(expected_md5="0" * 32))
    assert versions(rgw, "k") == [("k", "null", False, True), ("k", kept, False, False)]
    assert rgw.get("docs", "k").read() == b"null"


class Died(Exception):
    """A gateway worker killed where this is raised."""


def dies(*args, **kwargs):
    raise Died


def test_a_versions_listing_resolves_what_dead_writers_left_pending_from_the_versions(rgw, bucket, monkeypatch):
    rgw.buckets.set_versioning("docs", "enabled")
    info = rgw.buckets.get("docs")
    v1, first = rgw.versions.put(info, "k", b"first", WriteRequest())
    with monkeypatch.context() as patch:
        patch.setattr(Versions, "_record_null_version", dies)  # killed after its head write, before recording it
        with pytest.raises(Died):
            rgw.versions.put(info, "k", b"orphan head", WriteRequest())
        patch.setattr(Versions, "_record_null_version", lambda *args: None)
        patch.setattr(Versions, "_sync_index", dies)  # killed after recording its version, before the index
        with pytest.raises(Died):
            rgw.versions.put(info, "j", b"recorded", WriteRequest())
        with pytest.raises(Died):
            rgw.versions.delete(info, "k")  # a delete marker recorded, the index never told
    ((_, recorded),) = rgw.versions.versions_of(info, "j")
    listed = {e.key: (e.version_id, e.etag) for e in rgw.list("docs").objects}
    assert listed == {"k": (v1, first.etag)}  # too young to resolve: as it was
    monkeypatch.setattr(bucket_index, "PENDING_EXPIRY_S", 0.0)
    page = rgw.versions.list(info)  # resolves through the same listing as a plain one
    rows = [(v.key, v.version_id, v.delete_marker, v.is_latest) for v in page.versions]
    marker = rgw.versions.current(info, "k").version_id
    assert rows == [("j", recorded.version_id, False, True), ("k", marker, True, True), ("k", v1, False, False)]
    with rgw.indexes.open(info) as index:
        assert index.stored("k") is None  # its current version is the delete marker
        j = index.stored("j")
        assert (j.version_id, j.etag, j.pending) == (recorded.version_id, recorded.etag, {})
    assert [(e.key, e.version_id) for e in rgw.list("docs").objects] == [("j", recorded.version_id)]


def test_the_index_follows_the_versions_not_a_head_no_version_records(rgw, bucket, monkeypatch):
    rgw.buckets.set_versioning("docs", "enabled")
    info = rgw.buckets.get("docs")
    v1, first = rgw.versions.put(info, "k", b"first", WriteRequest())
    with monkeypatch.context() as patch:
        patch.setattr(Versions, "_record_null_version", dies)
        with pytest.raises(Died):
            rgw.versions.put(info, "k", b"orphan head", WriteRequest())
    monkeypatch.setattr(bucket_index, "PENDING_EXPIRY_S", 0.0)
    (entry,) = rgw.list("docs").objects
    assert (entry.version_id, entry.etag, entry.pending) == (v1, first.etag, {})
    assert rgw.get("docs", "k").read() == b"first"


def test_a_completed_upload_is_a_new_version(rgw, bucket):
    rgw.buckets.set_versioning("docs", "enabled")
    info = rgw.buckets.get("docs")
    v1, _ = rgw.versions.put(info, "big", b"small", WriteRequest())
    upload_id = rgw.multipart.initiate(info, "big", WriteRequest())
    part = rgw.multipart.upload_part(info, "big", upload_id, 1, b"joined")
    result = rgw.object_ops.complete_upload(info, "big", upload_id, [(1, part.etag)])
    version_id, entry = result.version_id, result.entry
    assert entry.version_id == version_id and version_id != v1
    assert rgw.get("docs", "big").read() == b"joined"
    assert rgw.get("docs", "big", version_id=v1).read() == b"small"


def test_a_bucket_keeping_versions_or_markers_is_not_empty(rgw, bucket):
    rgw.buckets.set_versioning("docs", "enabled")
    info = rgw.buckets.get("docs")
    v1, _ = rgw.versions.put(info, "k", b"x", WriteRequest())
    marker, _ = rgw.versions.delete(info, "k")
    assert rgw.list("docs").objects == []
    for left in (v1, marker):
        with pytest.raises(BucketNotEmpty):
            rgw.buckets.delete("docs")
        rgw.versions.delete(info, "k", left)
    rgw.buckets.delete("docs")
    with rgw.client.open_ioctx(INDEX_POOL) as index:
        assert not [o.key for o in index.list_objects() if o.key.startswith(info.marker)]


def test_concurrent_writes_each_make_a_version_and_the_index_shows_the_newest(rgw, bucket):
    rgw.put("docs", "hot", b"from before")
    rgw.buckets.set_versioning("docs", "enabled")
    info = rgw.buckets.get("docs")
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda n: rgw.versions.put(info, "hot", b"%d" % n, WriteRequest())[0], range(8)))
    found = [v for _, v in rgw.versions.versions_of(info, "hot")]
    assert sorted(v.version_id for v in found) == sorted([*made, "null"]) and found[-1].version_id == "null"
    (entry,) = rgw.list("docs").objects
    assert (entry.version_id, entry.etag) == (found[0].version_id, found[0].etag)
    assert rgw.get("docs", "hot").etag == found[0].etag
