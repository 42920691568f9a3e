"""BucketIndex.holds_objects, what a bucket delete asks: entries that interrupted writes left
without a head do not count, and go (RGW's check_bucket_empty); any object does."""

import pytest

from librgw.errors import BucketNotEmpty


@pytest.fixture
def photos(rgw):
    rgw.users.create("alice", "Alice")
    return rgw.buckets.create("alice", "photos")


def test_placeholders_without_heads_hold_nothing_and_are_dropped(rgw, photos):
    with rgw.indexes.open(photos) as index:
        for key in ("a", "m", "z"):
            index.prepare(key, f"dead-{key}", "write")  # the writer died before its head
        with pytest.raises(BucketNotEmpty):
            rgw.buckets.delete("photos")
        assert not index.holds_objects()
        assert [index.stored(key) for key in ("a", "m", "z")] == [None, None, None]
    rgw.buckets.delete("photos")


def test_an_object_among_placeholders_holds_the_bucket(rgw, photos):
    rgw.put("photos", "z", b"data")
    with rgw.indexes.open(photos) as index:
        index.prepare("a", "dead-a", "write")
        assert index.holds_objects()


def test_a_pending_write_whose_head_landed_counts_and_is_completed(rgw, photos):
    rgw.put("photos", "cat", b"meow")
    with rgw.indexes.open(photos) as index:
        index.prepare("cat", "overwrite-in-flight", "write")
        assert index.holds_objects()
        assert index.stored("cat").pending == {} and index.get("cat").size == 4
