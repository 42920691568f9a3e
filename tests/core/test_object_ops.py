"""``ObjectOps``, the one entry point for object operations: what a put, copy, metadata
update, delete, completed upload or read does in a bucket never versioned, with versioning
enabled, and with versioning suspended."""

import pytest

from librgw.errors import (
    CurrentIsDeleteMarker,
    InvalidArgument,
    NoSuchKey,
    NoSuchVersion,
    PreconditionFailed,
    VersionIsDeleteMarker,
)
from librgw.manifest import NULL, head_oid
from librgw.object_ops import DeleteResult
from librgw.versioning import VERSION_ID_LEN
from librgw.write_condition import WriteCondition
from librgw.write_request import WriteRequest


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    return rgw.buckets.create("alice", "docs")


def with_versioning(rgw, state: str):
    rgw.buckets.set_versioning("docs", state)
    return rgw.buckets.get("docs")


def test_never_versioned_replaces_the_plain_head_and_keeps_no_versions(rgw, bucket):
    ops = rgw.object_ops
    first = ops.put(bucket, "k", b"one", WriteRequest(metadata={"color": "red"}))
    second = ops.put(bucket, "k", b"two", WriteRequest())
    assert (first.version_id, second.version_id) == (None, None)
    state = ops.stat(bucket, "k")
    assert (state.oid, state.version_id, state.etag) == (head_oid(bucket.marker, "k"), "", second.entry.etag)
    assert ops.stat(bucket, "k", NULL).etag == second.entry.etag  # the only version there is
    with pytest.raises(InvalidArgument):
        ops.stat(bucket, "k", "a" * VERSION_ID_LEN)
    assert ops.get(bucket, "k").read() == b"two"
    assert ops.delete(bucket, "k") == _deleted(None, False, True)
    assert ops.delete(bucket, "k") == _deleted(None, False, False)
    with pytest.raises(NoSuchKey):
        ops.stat(bucket, "k")


def test_enabled_makes_a_version_per_write_and_a_marker_per_delete(rgw, bucket):
    ops = rgw.object_ops
    info = with_versioning(rgw, "enabled")
    v1 = ops.put(info, "k", b"one", WriteRequest()).version_id
    v2 = ops.put(info, "k", b"two", WriteRequest()).version_id
    assert len(v1) == len(v2) == VERSION_ID_LEN and v1 != v2
    assert ops.stat(info, "k").version_id == v2
    assert ops.get(info, "k", v1).read() == b"one"
    deleted = ops.delete(info, "k")
    assert deleted.delete_marker and deleted.existed and deleted.version_id not in (v1, v2)
    with pytest.raises(CurrentIsDeleteMarker) as current:
        ops.stat(info, "k")
    assert current.value.version_id == deleted.version_id
    with pytest.raises(VersionIsDeleteMarker):
        ops.get(info, "k", deleted.version_id)
    with pytest.raises(NoSuchVersion):
        ops.stat(info, "k", "nope")
    assert ops.delete(info, "k", deleted.version_id) == _deleted(deleted.version_id, True, True)
    assert ops.get(info, "k").read() == b"two"
    assert not ops.delete(info, "missing").existed  # a marker all the same
    assert rgw.versions.find(info, "missing").delete_marker


def test_suspended_replaces_the_null_version_and_keeps_the_others(rgw, bucket):
    ops = rgw.object_ops
    kept = ops.put(with_versioning(rgw, "enabled"), "k", b"kept", WriteRequest()).version_id
    info = with_versioning(rgw, "suspended")
    assert ops.put(info, "k", b"null one", WriteRequest()).version_id == NULL
    assert ops.put(info, "k", b"null two", WriteRequest()).version_id == NULL
    assert [v.version_id for _, v in rgw.versions.versions_of(info, "k")] == [NULL, kept]
    assert ops.get(info, "k").read() == b"null two" and ops.get(info, "k").version_id == NULL
    marker = ops.delete(info, "k")
    assert (marker.version_id, marker.delete_marker) == (NULL, True)
    assert ops.get(info, "k", kept).read() == b"kept"


def test_a_metadata_update_changes_the_current_version_in_place(rgw, bucket):
    ops = rgw.object_ops
    ops.put(bucket, "plain", b"x", WriteRequest(content_type="text/plain", acl="private-acl", owner="bob"))
    result = ops.update_metadata(bucket, "plain", WriteRequest(metadata={"new": "1"}))
    state = ops.stat(bucket, "plain")
    assert result.version_id is None
    assert (state.metadata, state.content_type, state.acl, state.owner) == (
        {"new": "1"},
        "text/plain",
        "private-acl",
        "bob",
    )
    info = with_versioning(rgw, "enabled")
    v1 = ops.put(info, "k", b"x", WriteRequest()).version_id
    result = ops.update_metadata(info, "k", WriteRequest(metadata={"a": "b"}, content_type="text/x"))
    assert result.version_id == v1 and [v.version_id for _, v in rgw.versions.versions_of(info, "k")] == [v1]
    assert (ops.stat(info, "k").metadata, ops.stat(info, "k").content_type) == ({"a": "b"}, "text/x")
    ops.delete(info, "k")
    with pytest.raises(NoSuchKey):
        ops.update_metadata(info, "k", WriteRequest(metadata={}))


def test_a_copy_names_the_version_it_read_and_the_one_it_made(rgw, bucket):
    ops = rgw.object_ops
    ops.put(bucket, "src", b"plain source", WriteRequest())
    plain = ops.copy(bucket, ops.stat(bucket, "src"), bucket, "dst", WriteRequest())
    assert (plain.version_id, plain.source_version_id) == (None, None)
    info = with_versioning(rgw, "enabled")
    v1 = ops.put(info, "src", b"first", WriteRequest()).version_id
    ops.put(info, "src", b"second", WriteRequest())
    copied = ops.copy(info, ops.stat(info, "src", v1), info, "dst", WriteRequest())
    assert copied.source_version_id == v1 and copied.version_id not in (None, v1)
    assert ops.get(info, "dst").read() == b"first"


def test_a_completed_upload_is_a_version_only_where_versions_are_kept(rgw, bucket):
    ops = rgw.object_ops
    for info in (bucket, with_versioning(rgw, "enabled")):
        upload = rgw.multipart.initiate(info, "big", WriteRequest(content_type="video/mp4"))
        part = rgw.multipart.upload_part(info, "big", upload, 1, b"joined")
        result = ops.complete_upload(info, "big", upload, [(1, part.etag)])
        assert (result.version_id is None) == (not info.versioned)
        assert ops.stat(info, "big").content_type == "video/mp4"


def test_a_write_condition_is_on_the_current_object_whatever_the_versioning(rgw, bucket):
    ops = rgw.object_ops
    create_only = WriteRequest(condition=WriteCondition(if_none_match=True))
    for state in ("off", "enabled", "suspended"):
        info = with_versioning(rgw, state) if state != "off" else bucket
        key = f"k-{state}"
        etag = ops.put(info, key, b"x", create_only).entry.etag
        with pytest.raises(PreconditionFailed):
            ops.put(info, key, b"y", create_only)
        replace_it = WriteRequest(condition=WriteCondition(if_match=(etag,)))
        etag = ops.put(info, key, b"z", replace_it).entry.etag  # the current one matches, whatever head is written
        with pytest.raises(PreconditionFailed):
            ops.put(info, key, b"w", replace_it)
        copied = ops.copy(
            info, ops.stat(info, key), info, key, WriteRequest(condition=WriteCondition(if_match=(etag,)))
        )
        assert copied.entry.etag == etag


def _deleted(version_id, delete_marker: bool, existed: bool) -> DeleteResult:
    return DeleteResult(version_id=version_id, delete_marker=delete_marker, existed=existed)
