"""User and bucket quotas (``quotas.py``), enforced by ``ObjectOps`` on every write: a put, a
copy, a completed upload; a streamed put cut off where it crosses the limit, nothing stored."""

import io

import pytest

from librgw.errors import QuotaExceeded
from librgw.write_request import WriteRequest
from tests.core.conftest import data_objects

PLAIN = WriteRequest()


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    return rgw.buckets.create("alice", "docs")


def test_bucket_quota_allows_exactly_its_size_and_refuses_one_byte_more(rgw, bucket):
    rgw.buckets.set_quota("docs", max_size=10, enabled=True)
    bucket = rgw.buckets.get("docs")
    rgw.object_ops.put(bucket, "a", b"12345", PLAIN)
    rgw.object_ops.put(bucket, "b", b"12345", PLAIN)
    with pytest.raises(QuotaExceeded):
        rgw.object_ops.put(bucket, "c", b"1", PLAIN)
    assert [e.key for e in rgw.indexes.open(bucket).list().entries] == ["a", "b"]


def test_streamed_put_crossing_the_quota_stores_nothing(rgw, bucket):
    rgw.buckets.set_quota("docs", max_size=4096, enabled=True)
    bucket = rgw.buckets.get("docs")
    before = data_objects(rgw.client)
    with pytest.raises(QuotaExceeded):
        rgw.object_ops.put(bucket, "big", io.BytesIO(b"x" * 4097), PLAIN)
    assert data_objects(rgw.client) == before
    assert rgw.indexes.open(bucket).stats() == (0, 0)
    rgw.object_ops.put(bucket, "fits", io.BytesIO(b"x" * 4096), PLAIN)


def test_user_quota_counts_objects_across_buckets(rgw, bucket):
    rgw.buckets.create("alice", "more")
    rgw.users.set_quota("alice", "user", max_objects=2, enabled=True)
    rgw.object_ops.put(bucket, "a", b"1", PLAIN)
    rgw.object_ops.put(rgw.buckets.get("more"), "b", b"1", PLAIN)
    with pytest.raises(QuotaExceeded):
        rgw.object_ops.put(bucket, "c", b"1", PLAIN)


def test_users_default_bucket_quota_and_copies(rgw, bucket):
    rgw.object_ops.put(bucket, "src", b"123456", PLAIN)
    rgw.users.set_quota("alice", "bucket", max_size=10, enabled=True)
    with pytest.raises(QuotaExceeded):
        rgw.object_ops.copy(bucket, rgw.object_ops.stat(bucket, "src"), bucket, "dst", PLAIN)
    rgw.users.set_quota("alice", "bucket", enabled=False)
    rgw.object_ops.copy(bucket, rgw.object_ops.stat(bucket, "src"), bucket, "dst", PLAIN)


def test_completed_upload_over_the_quota_is_refused(rgw, bucket):
    upload_id = rgw.multipart.initiate(bucket, "big", PLAIN)
    part = rgw.multipart.upload_part(bucket, "big", upload_id, 1, b"x" * 100)
    rgw.buckets.set_quota("docs", max_size=99, enabled=True)
    with pytest.raises(QuotaExceeded):
        rgw.object_ops.complete_upload(rgw.buckets.get("docs"), "big", upload_id, [(1, part.etag)])
