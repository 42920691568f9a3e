"""A request reads each metadata record once (``request_memo``), and still sees its own changes."""

import threading

import pytest

import librgw
from librgw import request_memo
from librgw.errors import InvalidAccessKeyId, NoSuchBucket
from librgw.middleware.request_log import RequestLog


@pytest.fixture
def owner(rgw):
    rgw.users.create("alice", "Alice")
    return "alice"


@pytest.fixture
def in_request():
    request_memo.begin()
    yield
    request_memo.end()


def meanwhile(change) -> None:
    """``change`` made by another request (another thread, outside this one's scope)."""
    worker = threading.Thread(target=change)
    worker.start()
    worker.join()


def test_a_request_keeps_the_bucket_it_read_and_the_next_request_sees_the_change(rgw, owner):
    rgw.buckets.create(owner, "photos")
    request_memo.begin()
    try:
        assert not rgw.buckets.get("photos").versioned
        meanwhile(lambda: rgw.buckets.set_versioning("photos", "enabled"))
        assert not rgw.buckets.get("photos").versioned  # read once: no second rados read
    finally:
        request_memo.end()
    assert rgw.buckets.get("photos").versioned


def test_outside_a_request_every_read_goes_to_the_cluster(rgw, owner):
    rgw.buckets.create(owner, "photos")
    assert not rgw.buckets.get("photos").versioned
    meanwhile(lambda: rgw.buckets.set_versioning("photos", "enabled"))
    assert rgw.buckets.get("photos").versioned


def test_a_request_sees_what_it_changed_itself(rgw, owner, in_request):
    with pytest.raises(NoSuchBucket):
        rgw.buckets.get("photos")
    rgw.buckets.create(owner, "photos")
    assert not rgw.buckets.get("photos").versioned
    rgw.buckets.set_versioning("photos", "enabled")
    assert rgw.buckets.get("photos").versioned
    rgw.buckets.delete("photos")
    with pytest.raises(NoSuchBucket):
        rgw.buckets.get("photos")


def test_a_key_made_in_the_request_is_found_after_a_miss(rgw, owner, in_request):
    with pytest.raises(InvalidAccessKeyId):
        rgw.users.lookup_key("AKIANEWKEY0000000000")
    rgw.users.create_key(owner, access_key="AKIANEWKEY0000000000", secret_key="s" * 40)
    assert rgw.users.lookup_key("AKIANEWKEY0000000000").user_id == owner


def test_another_connection_to_the_cluster_shares_the_request_view(rgw, conf, owner, in_request):
    """The S3 filter and the gateway app each hold a connection: a change through one is
    seen through the other in the same request."""
    rgw.buckets.create(owner, "photos")
    with librgw.connect(conf) as other:
        assert not other.buckets.get("photos").versioned
        rgw.buckets.set_versioning("photos", "enabled")
        assert other.buckets.get("photos").versioned


def test_a_request_that_failed_leaves_nothing_behind_for_the_next(rgw, owner):
    def failing(environ, start_response):
        rgw.buckets.get("photos")  # remembered, were the scope left open
        raise RuntimeError("the app failed")

    rgw.buckets.create(owner, "photos")
    with pytest.raises(RuntimeError):
        list(RequestLog(failing, {})({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, lambda *a: None))
    meanwhile(lambda: rgw.buckets.set_versioning("photos", "enabled"))
    assert rgw.buckets.get("photos").versioned
