"""One agent for both: the expirer applies the buckets' lifecycle rules after the expiry
queue (sharing, period, progress, report), and reaps X-Delete-At objects of versioned buckets
behind a delete marker. Lifecycle times run on a fake clock (``process(now=...)``)."""

import time
import zlib

import pytest

from librgw.expirer import ExpirerShare
from librgw.lifecycle import LC_SHARDS
from librgw.lifecycle_rules import DAY, LifecycleConfiguration
from librgw.write_request import WriteRequest


def expiring(days: int = 1, prefix: str = "") -> LifecycleConfiguration:
    rules = [{"id": "r", "status": "Enabled", "filter": {"prefix": prefix}, "expiration": {"days": days}}]
    return LifecycleConfiguration.from_json({"rules": rules})


@pytest.fixture
def alice(rgw):
    rgw.users.create("alice", "Alice")
    return "alice"


def keys(rgw, name: str) -> list[str]:
    return [e.key for e in rgw.list(name).objects]


def test_the_expirer_applies_lifecycle_expiration_after_the_queue(rgw, alice):
    bucket = rgw.create_bucket(alice, "lcb")
    rgw.lifecycle.set("lcb", expiring(prefix="logs/"))
    for key in ("logs/a", "logs/b", "keep"):
        rgw.objects.put(bucket, key, b"x", WriteRequest())
    rgw.objects.put(bucket, "tmp", b"x", WriteRequest(delete_at=time.time() - 1))
    seen = []
    report = rgw.expirer.process(now=time.time() + 2 * DAY, progress=lambda r: seen.append((r.done, r.buckets_done)))
    assert (report.deleted, report.buckets_due, report.buckets_done, report.lifecycle.expired) == (1, 1, 1, 2)
    assert seen == [(1, 0), (1, 1)] and keys(rgw, "lcb") == ["keep"]
    assert rgw.lifecycle.list()[0].status == "COMPLETE"


def test_a_bucket_rules_run_once_per_period_and_at_once_when_set_again(rgw, alice):
    bucket = rgw.create_bucket(alice, "lcb")
    rgw.lifecycle.set("lcb", expiring())
    later = time.time() + 2 * DAY
    assert rgw.expirer.process(now=later).buckets_done == 1
    rgw.objects.put(bucket, "new", b"x", WriteRequest())
    assert rgw.expirer.process(now=later).buckets_due == 0  # ran less than a period ago
    rgw.lifecycle.set("lcb", expiring())
    assert rgw.expirer.process(now=later).lifecycle.expired == 1
    assert rgw.expirer.process(now=later, lifecycle_period=0).buckets_done == 1


def test_processes_split_the_lifecycle_shards(rgw, alice):
    names = [f"bucket{n}" for n in range(8)]
    for name in names:
        bucket = rgw.create_bucket(alice, name)
        rgw.objects.put(bucket, "k", b"x", WriteRequest())
        rgw.lifecycle.set(name, expiring())
    later = time.time() + 2 * DAY
    first = rgw.expirer.process(now=later, share=ExpirerShare(2, 0))
    second = rgw.expirer.process(now=later, share=ExpirerShare(2, 1))
    on_even = sum(zlib.crc32(name.encode()) % LC_SHARDS % 2 == 0 for name in names)
    assert (first.buckets_done, second.buckets_done) == (on_even, len(names) - on_even)
    assert first.lifecycle.expired + second.lifecycle.expired == len(names)
    assert all(keys(rgw, name) == [] for name in names)


def test_in_a_versioned_bucket_an_expired_object_goes_behind_a_delete_marker(rgw, alice):
    rgw.create_bucket(alice, "vbk")
    rgw.buckets.set_versioning("vbk", "enabled")
    bucket = rgw.buckets.get("vbk")
    expired = rgw.object_ops.put(bucket, "gone", b"x", WriteRequest(delete_at=time.time() - 1)).version_id
    rgw.object_ops.put(bucket, "kept", b"old", WriteRequest(delete_at=time.time() - 1))
    current = rgw.object_ops.put(bucket, "kept", b"new", WriteRequest()).version_id
    report = rgw.expirer.process()
    assert (report.deleted, report.kept, report.gone) == (1, 1, 0)
    assert keys(rgw, "vbk") == ["kept"] and rgw.object_ops.stat(bucket, "kept").version_id == current
    versions = [v for v in rgw.versions.list(bucket).versions if v.key == "gone"]
    assert versions[0].delete_marker and [v.version_id for v in versions[1:]] == [expired]
    assert rgw.objects.expiry.due() == []


def test_a_versioned_reap_killed_before_its_entry_left_the_queue_adds_no_second_marker(rgw, alice):
    """As after ``kill -9`` between the delete marker and the queue write: the next pass finds
    the entry again, its object already hidden, and only drops it."""
    rgw.create_bucket(alice, "vbk")
    rgw.buckets.set_versioning("vbk", "enabled")
    bucket = rgw.buckets.get("vbk")
    rgw.object_ops.put(bucket, "k", b"x", WriteRequest(delete_at=time.time() - 1))
    (entry,) = rgw.objects.expiry.due()
    assert rgw.versions.expire_current(bucket, "k", entry.delete_at) is True
    report = rgw.expirer.process()
    assert (report.deleted, report.gone) == (0, 1) and rgw.objects.expiry.due() == []
    assert [v.delete_marker for v in rgw.versions.list(bucket).versions] == [True, False]
