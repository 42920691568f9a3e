"""Object tags in the core: kept in the head beside the content headers, changed in place,
carried by copies and multipart uploads, within S3's limits."""

import pytest

from librgw.errors import InvalidTag, NoSuchKey
from librgw.manifest import head_oid
from librgw.objects import CopySource
from librgw.tagging import MAX_BUCKET_TAGS, check_tags, tags_from_pairs
from librgw.write_request import WriteRequest
from librgw.zone import DATA_POOL
from tests.core.conftest import data_objects


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    return rgw.create_bucket("alice", "tags")


def test_tags_are_a_head_attribute_not_metadata(rgw, client, bucket):
    rgw.objects.put(bucket, "k", b"data", WriteRequest(metadata={"color": "red"}, tags={"project": "blue"}))
    info = rgw.objects.stat(bucket, "k")
    assert info.tags == {"project": "blue"} and info.metadata == {"color": "red"}
    with client.open_ioctx(DATA_POOL) as data:
        assert data.get_xattr(head_oid(bucket.marker, "k"), "user.rgw.x-amz-tagging") == b'{"project":"blue"}'
    rgw.objects.put(bucket, "k", b"new", WriteRequest())
    assert rgw.objects.stat(bucket, "k").tags == {}  # an overwrite has its own tags, none here


def test_set_tags_changes_only_the_tags(rgw, bucket):
    rgw.objects.put(bucket, "k", b"x" * (5 * 1024 * 1024), WriteRequest(tags={"a": "1"}))
    before = rgw.objects.stat(bucket, "k")
    rgw.objects.set_tags(bucket, "k", {"b": "2", "c": ""}, before.tag)
    after = rgw.objects.stat(bucket, "k")
    assert after.tags == {"b": "2", "c": ""}
    assert (after.etag, after.mtime, after.tag, after.manifest) == (
        before.etag,
        before.mtime,
        before.tag,
        before.manifest,
    )
    rgw.objects.set_tags(bucket, "k", {}, before.tag)
    assert rgw.objects.stat(bucket, "k").tags == {}
    rgw.objects.set_tags(bucket, "k", {}, before.tag)  # removing none is no error


def test_set_tags_never_changes_an_object_replaced_meanwhile(rgw, bucket):
    old = rgw.objects.put(bucket, "k", b"old", WriteRequest())
    old_tag = rgw.objects.stat(bucket, "k").tag
    rgw.objects.put(bucket, "k", b"new", WriteRequest(tags={"n": "1"}))
    with pytest.raises(NoSuchKey):
        rgw.objects.set_tags(bucket, "k", {"o": "1"}, old_tag)
    assert rgw.objects.stat(bucket, "k").tags == {"n": "1"} and old.etag != rgw.objects.stat(bucket, "k").etag


def test_set_tags_of_a_missing_object_makes_no_head(rgw, client, bucket):
    before = data_objects(client)
    with pytest.raises(NoSuchKey):
        rgw.objects.set_tags(bucket, "missing", {"a": "1"}, "no-such-write")
    assert data_objects(client) == before


def test_copies_keep_tags_or_take_new_ones(rgw, bucket):
    rgw.objects.put(bucket, "src", b"s", WriteRequest(tags={"a": "1"}))
    rgw.objects.copy(CopySource(bucket=bucket, key="src"), bucket, "kept", WriteRequest())
    rgw.objects.copy(
        CopySource(bucket=bucket, key="src"), bucket, "kept-with-new-metadata", WriteRequest(metadata={"m": "1"})
    )
    rgw.objects.copy(CopySource(bucket=bucket, key="src"), bucket, "replaced", WriteRequest(tags={"b": "2"}))
    rgw.objects.copy(CopySource(bucket=bucket, key="src"), bucket, "none", WriteRequest(tags={}))
    assert rgw.objects.stat(bucket, "kept").tags == {"a": "1"}
    assert rgw.objects.stat(bucket, "kept-with-new-metadata").tags == {"a": "1"}
    assert rgw.objects.stat(bucket, "replaced").tags == {"b": "2"}
    assert rgw.objects.stat(bucket, "none").tags == {}


def test_a_multipart_upload_gives_its_tags_to_the_object(rgw, bucket):
    upload = rgw.multipart.initiate(bucket, "big", WriteRequest(tags={"kind": "upload"}))
    part = rgw.multipart.upload_part(bucket, "big", upload, 1, b"p")
    rgw.multipart.complete(bucket, "big", upload, [(1, part.etag)])
    assert rgw.objects.stat(bucket, "big").tags == {"kind": "upload"}


def test_s3_limits_are_invalid_tag(rgw, bucket):
    for tags in ({f"k{n}": "v" for n in range(11)}, {"": "v"}, {"k" * 129: "v"}, {"k": "v" * 257}, {"k": 1}):
        with pytest.raises(InvalidTag):
            check_tags(tags)
        with pytest.raises(InvalidTag):
            rgw.objects.put(bucket, "k", b"x", WriteRequest(tags=tags))
    check_tags({"k" * 128: "ü" * 256})  # characters, not bytes
    check_tags({f"k{n}": "v" for n in range(MAX_BUCKET_TAGS)}, MAX_BUCKET_TAGS)
    with pytest.raises(InvalidTag):
        tags_from_pairs([("a", "1"), ("a", "2")])
    assert tags_from_pairs([("a", "1"), ("b", "")]) == {"a": "1", "b": ""}
    with pytest.raises(NoSuchKey):
        rgw.objects.stat(bucket, "k")  # nothing stored by the refused puts
