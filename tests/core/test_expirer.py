"""The expirer: batches, several at once, and never an object rewritten since its entry was queued."""

import threading
import time

import pytest

from librgw.expirer import ExpirerShare
from librgw.write_request import WriteRequest


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    return rgw.create_bucket("alice", "tmp")


def _expired(rgw, bucket, keys):
    for key in keys:
        rgw.objects.put(bucket, key, b"x", WriteRequest(delete_at=time.time() - 1))


def test_a_pass_goes_in_batches_and_reports_each(rgw, bucket):
    _expired(rgw, bucket, [f"k{i}" for i in range(7)])
    seen = []
    report = rgw.expirer.process(batch_size=3, progress=lambda r: seen.append(r.done))
    assert seen == [3, 6, 7] and (report.due, report.deleted) == (7, 7)
    assert rgw.list("tmp").objects == [] and rgw.objects.expiry.due() == []


def test_an_object_rewritten_with_another_time_or_none_stays(rgw, bucket):
    _expired(rgw, bucket, ["none", "later", "sooner"])
    rgw.objects.put(bucket, "none", b"new", WriteRequest())
    rgw.objects.put(bucket, "later", b"new", WriteRequest(delete_at=time.time() + 3600))
    rgw.objects.put(bucket, "sooner", b"new", WriteRequest(delete_at=time.time() - 0.5))
    report = rgw.expirer.process()
    assert (report.deleted, report.kept) == (1, 3)  # "sooner": its old entry kept it, its new one deleted it
    assert sorted(o.key for o in rgw.list("tmp").objects) == ["later", "none"]
    assert rgw.get("tmp", "none").read() == b"new"


def test_an_entry_whose_object_was_deleted_then_made_again_deletes_nothing(rgw, bucket):
    """As after an expirer killed between deleting and dropping the entry: the next run
    finds the entry again, and the object made since under that name survives."""
    _expired(rgw, bucket, ["k"])
    entries = rgw.objects.expiry.due()
    rgw.objects.delete(bucket, "k")
    rgw.objects.put(bucket, "k", b"again", WriteRequest())
    assert rgw.objects.expiry.due() == entries
    report = rgw.expirer.process()
    assert (report.deleted, report.kept) == (0, 1) and rgw.get("tmp", "k").read() == b"again"


def test_two_expirers_at_once_delete_each_object_once(rgw, bucket):
    keys = [f"k{i:03d}" for i in range(40)]
    _expired(rgw, bucket, keys)
    reports = []

    def run():
        reports.append(rgw.expirer.process(batch_size=5))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.deleted for r in reports) == len(keys)
    assert sum(r.failed for r in reports) == 0
    assert rgw.list("tmp").objects == [] and rgw.objects.expiry.due() == []


def test_processes_split_the_queue(rgw, bucket):
    _expired(rgw, bucket, [f"k{i}" for i in range(20)])
    first = rgw.expirer.process(share=ExpirerShare(2, 0))
    assert 0 < first.due < 20 and len(rgw.objects.expiry.due()) == 20 - first.due
    second = rgw.expirer.process(share=ExpirerShare(2, 1))
    assert first.deleted + second.deleted == 20


def test_a_copy_and_a_post_keep_the_delete_at_they_are_given(rgw, bucket):
    at = round(time.time() + 3600, 6)
    rgw.objects.put(bucket, "src", b"data", WriteRequest(delete_at=at))
    src = rgw.objects.stat(bucket, "src")
    rgw.object_ops.copy(bucket, src, bucket, "copy", WriteRequest(metadata={}, delete_at=at + 1))
    assert rgw.objects.stat(bucket, "copy").delete_at == at + 1
    rgw.object_ops.update_metadata(bucket, "src", WriteRequest(metadata={"a": "b"}))
    assert rgw.objects.stat(bucket, "src").delete_at is None  # a POST without it removes it, as Swift's
    assert [e.key for e in rgw.objects.expiry.due(now=at + 2)] == ["src", "copy"]
    assert rgw.expirer.process(now=at + 2).deleted == 1
    assert [o.key for o in rgw.list("tmp").objects] == ["src"]
