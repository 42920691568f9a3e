"""Garbage collection of what failed or dead writes leave: intents that keep the tails of a head
that landed and collect those of one that never did."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from librgw import rados
from librgw.gc import GarbageCollector
from librgw.manifest import head_oid, tail_oid
from librgw.zone import DATA_POOL
from tests.core.conftest import data_objects

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024

# A gateway worker killed (SIGKILL) in the middle of a 20 MiB PUT, once two tails are written.
KILLED_MID_STREAM = """
import os, signal, sys
import librgw
from librgw import objects

taken = []
real_take = objects.Stripes.take

def take(self, size):
    taken.append(size)
    if len(taken) == 4:  # the head's share, two tails, then death before the third
        os.kill(os.getpid(), signal.SIGKILL)
    return real_take(self, size)

objects.Stripes.take = take
rgw = librgw.connect(sys.argv[1])
rgw.put("photos", "big", os.urandom(20 * 1024 * 1024))
"""


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    return rgw.create_bucket("alice", "photos")


def test_the_tails_of_a_writer_killed_mid_stream_are_collected(conf, rgw, client, bucket):
    writer = subprocess.run(
        [sys.executable, "-c", KILLED_MID_STREAM, conf], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert writer.returncode == -signal.SIGKILL
    left = sorted(data_objects(client))
    assert [name.rsplit("_", 1)[1] for name in left] == ["1", "2"]  # two tails, no head
    assert all(name.startswith(f"{bucket.marker}__shadow_") for name in left)
    assert rgw.list("photos").objects == []
    with rgw.indexes.open(bucket) as index:
        assert index.stored("big") is None  # it never reached its head write
    gc = GarbageCollector(rgw.zone, min_wait_s=0.0)  # as if the grace had passed
    assert gc.process(include_all=True) == 2  # the intent finds no head of its write
    assert data_objects(client) == set() and gc.list(include_all=True) == []


def test_an_intent_left_behind_keeps_the_tails_of_the_head_that_landed(rgw, client, bucket, monkeypatch):
    def fails(self, key):
        raise rados.IOError("the log pool is away", errno=5)

    monkeypatch.setattr(GarbageCollector, "forget", fails)
    blob = os.urandom(9 * MiB)
    rgw.put("photos", "k", blob)  # forgetting the intent is best effort: the write succeeds
    monkeypatch.undo()
    gc = GarbageCollector(rgw.zone, min_wait_s=0.0)
    (intent,) = gc.list(include_all=True)
    assert intent.head == head_oid(bucket.marker, "k") and intent.marker == bucket.marker
    assert gc.process(include_all=True) == 0
    assert gc.list(include_all=True) == [] and rgw.get("photos", "k").read() == blob


def write_tails(rgw, bucket, tag: str, count: int) -> None:
    with rgw.client.open_ioctx(DATA_POOL) as data:
        for n in range(1, count + 1):
            data.write_full(tail_oid(bucket.marker, tag, n), b"x" * 100)


def test_an_intent_waits_while_its_tails_are_fresh(rgw, client, bucket):
    """A writer still streaming (its newest tail younger than the grace) keeps its tails."""
    write_tails(rgw, bucket, "streaming", 2)
    gc = GarbageCollector(rgw.zone, min_wait_s=3600.0)
    gc.intend("streaming", head_oid(bucket.marker, "k"), marker=bucket.marker)
    assert gc.process(include_all=True) == 0
    assert len(data_objects(client)) == 2
    (waiting,) = gc.list(include_all=True)
    assert (waiting.owner_tag, waiting.head, waiting.marker) == (
        "streaming",
        head_oid(bucket.marker, "k"),
        bucket.marker,
    )
    assert GarbageCollector(rgw.zone, min_wait_s=0.0).process(include_all=True) == 2  # once the grace has passed
    assert data_objects(client) == set()


def test_a_due_intent_of_a_write_that_never_landed_becomes_an_ordinary_entry(rgw, client, bucket):
    """Not deleted at once: had the head landed and been replaced, its readers keep their grace."""
    write_tails(rgw, bucket, "dead", 3)
    gc = GarbageCollector(rgw.zone, min_wait_s=0.0)
    gc.intend("dead", head_oid(bucket.marker, "k"), marker=bucket.marker)
    removed = gc.process()
    queued = gc.list(include_all=True)
    assert removed + sum(len(e.oids) for e in queued) == 3 and all(not e.head for e in queued)
    gc.process()
    assert data_objects(client) == set() and gc.list(include_all=True) == []
