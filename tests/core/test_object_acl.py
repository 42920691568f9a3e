"""Objects keep an ACL of their own (``user.rgw.acl``): written with the object, never copied,
changed alone by ``set_acl`` on exactly the head the caller looked at."""

import pytest

from librgw.errors import NoSuchKey
from librgw.objects import CopySource
from librgw.write_request import WriteRequest
from tests.core.conftest import data_objects, small_ec_profile

ACL = '{"owner":"bob","grants":[{"type":"user","id":"bob","permission":"FULL_CONTROL"}]}'


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    return rgw.create_bucket("alice", "photos")


def test_an_acl_is_written_and_read_with_the_object(rgw, bucket):
    rgw.objects.put(bucket, "bobs", b"data", WriteRequest(owner="bob", acl=ACL))
    assert rgw.objects.stat(bucket, "bobs").acl == ACL
    rgw.objects.put(bucket, "plain", b"data", WriteRequest())
    assert rgw.objects.stat(bucket, "plain").acl == ""


def test_a_copy_takes_the_acl_and_owner_it_is_given_never_the_sources(rgw, bucket):
    rgw.objects.put(bucket, "bobs", b"data", WriteRequest(owner="bob", acl=ACL))
    rgw.objects.copy(CopySource(bucket=bucket, key="bobs"), bucket, "copy", WriteRequest())
    copied = rgw.objects.stat(bucket, "copy")
    assert (copied.acl, copied.owner) == ("", "alice")
    rgw.objects.copy(
        CopySource(bucket=bucket, key="bobs"), bucket, "kept", WriteRequest(metadata={}, owner="bob", acl=ACL)
    )
    kept = rgw.objects.stat(bucket, "kept")
    assert (kept.acl, kept.owner) == (ACL, "bob")


def test_set_acl_changes_the_acl_alone(rgw, bucket):
    rgw.objects.put(bucket, "doc", b"data", WriteRequest(metadata={"color": "blue"}))
    before = rgw.objects.stat(bucket, "doc")
    rgw.objects.set_acl(bucket, "doc", ACL, before.tag)
    after = rgw.objects.stat(bucket, "doc")
    assert after.acl == ACL
    assert (after.etag, after.mtime, after.metadata, after.tag) == (
        before.etag,
        before.mtime,
        {"color": "blue"},
        before.tag,
    )
    assert rgw.objects.get(bucket, "doc").read() == b"data"
    rgw.objects.set_acl(bucket, "doc", "", after.tag)
    assert rgw.objects.stat(bucket, "doc").acl == ""


def test_set_acl_never_touches_another_write_of_the_key(rgw, client, bucket):
    rgw.objects.put(bucket, "doc", b"old", WriteRequest())
    old = rgw.objects.stat(bucket, "doc")
    rgw.objects.put(bucket, "doc", b"new", WriteRequest())  # replaced after the caller looked
    with pytest.raises(NoSuchKey):
        rgw.objects.set_acl(bucket, "doc", ACL, old.tag)
    assert rgw.objects.stat(bucket, "doc").acl == ""
    rgw.objects.delete(bucket, "doc")
    before = data_objects(client)
    with pytest.raises(NoSuchKey):
        rgw.objects.set_acl(bucket, "doc", ACL, old.tag)
    assert data_objects(client) == before  # no head made out of nothing


def test_a_multipart_upload_gives_the_object_the_acl_it_was_started_with(rgw, bucket):
    upload = rgw.multipart.initiate(bucket, "big", WriteRequest(owner="bob", acl=ACL))
    part = rgw.multipart.upload_part(bucket, "big", upload, 1, b"x")
    rgw.multipart.complete(bucket, "big", upload, [(1, part.etag)])
    assert rgw.objects.stat(bucket, "big").acl == ACL


def test_set_acl_on_an_erasure_coded_data_pool(conf, client):
    import librgw

    with librgw.connect(conf, data_pool_profile=small_ec_profile(client)) as rgw:
        rgw.users.create("e", "E")
        bucket = rgw.create_bucket("e", "ecbucket")
        rgw.objects.put(bucket, "k", b"data" * 1000, WriteRequest())
        info = rgw.objects.stat(bucket, "k")
        rgw.objects.set_acl(bucket, "k", ACL, info.tag)
        assert rgw.objects.stat(bucket, "k").acl == ACL
        assert rgw.objects.get(bucket, "k").read() == b"data" * 1000
