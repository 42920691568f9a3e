"""Object expiry: delete-at in the head and in the hourly queue; due objects are not served, then deleted."""

import time

import pytest

from librgw.errors import NoSuchKey
from librgw.expiry import EXPIRY_NS
from librgw.write_request import WriteRequest
from librgw.zone import LOG_POOL


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    return rgw.create_bucket("alice", "tmp")


def test_an_object_expires_and_the_agent_deletes_it(rgw, client, bucket):
    at = round(time.time() + 3600, 6)  # the queue keeps microseconds
    rgw.objects.put(bucket, "report", b"data", WriteRequest(delete_at=at))
    assert rgw.get("tmp", "report").read() == b"data"
    assert rgw.objects.stat(bucket, "report").delete_at == at
    assert rgw.objects.expiry.due() == []
    with client.open_ioctx(LOG_POOL) as log:
        log.set_namespace(EXPIRY_NS)
        assert [o.key for o in log.list_objects()] == [f"obj_delete_at_hint.{int(at) // 3600:010d}"]
    assert rgw.expirer.process(now=at + 1).deleted == 1
    with pytest.raises(NoSuchKey):
        rgw.get("tmp", "report")
    assert rgw.list("tmp").objects == [] and rgw.objects.expiry.due(now=at + 1) == []


def test_an_expired_object_is_not_served_before_the_agent_runs(rgw, bucket):
    rgw.objects.put(bucket, "gone", b"x", WriteRequest(delete_at=time.time() - 1))
    with pytest.raises(NoSuchKey):
        rgw.get("tmp", "gone")
    assert [e.key for e in rgw.objects.expiry.due()] == ["gone"]


def test_an_overwritten_object_is_not_deleted_by_its_old_expiry(rgw, bucket):
    rgw.objects.put(bucket, "k", b"old", WriteRequest(delete_at=time.time() - 1))
    rgw.objects.put(bucket, "k", b"new", WriteRequest())
    assert rgw.expirer.process().deleted == 0
    assert rgw.get("tmp", "k").read() == b"new" and rgw.objects.expiry.due() == []
