"""``librgw expirer``: the object expirer as a command, once or pass after pass, and killed midway."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import librgw as core
from librgw.write_request import WriteRequest

CONTAINERS = 10
PER_CONTAINER = 1000


def _past() -> WriteRequest:
    return WriteRequest(delete_at=time.time() - 1)


def test_expirer_once_deletes_what_is_due_and_sums_up(librgw, cluster_conf):
    with core.connect(str(cluster_conf)) as rgw:
        rgw.users.create("alice", "Alice")
        bucket = rgw.create_bucket("alice", "tmp")
        for key in ("a", "b", "c"):
            rgw.objects.put(bucket, key, b"x", _past())
        rgw.objects.put(bucket, "later", b"x", WriteRequest(delete_at=time.time() + 3600))
    result = librgw("expirer", "--once", "--batch-size", "2")
    assert result.code == 0, result.err
    assert (
        result.out == "3 due: 3 deleted, 0 already gone, 0 rewritten since (kept), 0 failed (left for the next pass)\n"
    )
    assert result.err == ""  # no progress line off a terminal
    assert json.loads(librgw("-f", "json", "expirer", "--once").out) == {
        "due": 0,
        "deleted": 0,
        "gone": 0,
        "kept": 0,
        "failed": 0,
    }
    with core.connect(str(cluster_conf)) as rgw:
        assert [o.key for o in rgw.list("tmp").objects] == ["later"]


def test_expirer_refuses_a_process_outside_processes(librgw):
    result = librgw("expirer", "--once", "--processes", "2", "--process", "2")
    assert result.code == 2 and "--process" in result.err


@pytest.mark.slow
def test_expirer_killed_halfway_finishes_on_the_next_run_deleting_nothing_twice(cluster_conf):
    """Acceptance 5 of issue 18: 10,000 due objects across 10 containers; ``kill -9`` halfway;
    the next run deletes the rest, and neither the objects rewritten before the first run nor
    those made again (after it deleted them) under their names, whose entries it left, go."""
    names = [f"c{c:02d}" for c in range(CONTAINERS)]
    with core.connect(str(cluster_conf)) as rgw:
        rgw.users.create("alice", "Alice")
        buckets = {name: rgw.create_bucket("alice", name) for name in names}
        for bucket in buckets.values():
            for i in range(PER_CONTAINER):
                rgw.objects.put(bucket, f"o{i:04d}", b"x", _past())
        for name in names:  # rewritten after being queued: with no delete-at, or a later one
            rgw.objects.put(buckets[name], "o0500", b"kept", WriteRequest())
            rgw.objects.put(buckets[name], "o0501", b"kept", WriteRequest(delete_at=time.time() + 3600))

    script = Path(sys.executable).parent / "librgw"
    expirer = subprocess.Popen(
        [str(script), "-c", str(cluster_conf), "expirer", "--once", "--batch-size", "50"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with core.connect(str(cluster_conf)) as rgw:
        deadline = time.monotonic() + 600
        while (
            len(rgw.list("c04").objects) > PER_CONTAINER // 2 and expirer.poll() is None
        ):  # the queue is in time order
            assert time.monotonic() < deadline
            time.sleep(0.5)
        os.kill(expirer.pid, signal.SIGKILL)
        expirer.wait()
        assert rgw.objects.expiry.due(), "killed before it was done"
        gone_in_c04 = sorted({f"o{i:04d}" for i in range(PER_CONTAINER)} - {o.key for o in rgw.list("c04").objects})
        remade = gone_in_c04[-5:]  # the last it deleted: their entries are likely still queued
        for key in remade:
            rgw.objects.put(buckets["c04"], key, b"remade", WriteRequest())

    second = subprocess.run(
        [str(script), "-c", str(cluster_conf), "-f", "json", "expirer", "--once"],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(second.stdout)
    assert report["failed"] == 0 and report["deleted"] > 0

    with core.connect(str(cluster_conf)) as rgw:
        assert rgw.objects.expiry.due() == []
        for name in names:
            listed = [o.key for o in rgw.list(name, max_keys=2000).objects]
            expected = ["o0500", "o0501"] + (remade if name == "c04" else [])
            assert listed == sorted(expected)
            for key in listed:  # every entry listed is an object that reads
                assert rgw.get(name, key).read() in (b"kept", b"remade")
