"""Many clients at once: ``gunicorn --paste paste.ini -w 4`` (the gateway's threaded worker, from
``gunicorn.conf.py``, and gunicorn's sync worker) serves 200 concurrent uploads from 20 threads
with no error, and every object reads back intact."""

import hashlib
import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.slow

THREADS = 20
CONTAINER = "race"
SMALL, MEDIUM, LARGE = 7, 100 * 1024, 5 * 1024 * 1024  # LARGE has a tail beyond the 4 MiB head
# Each thread's uploads in order: (size, the key every thread overwrites, or None for one of its own).
PLAN = [
    (SMALL, None),
    (MEDIUM, None),
    (LARGE, None),
    (SMALL, "shared/small"),
    (MEDIUM, None),
    (LARGE, "shared/large"),
    (SMALL, None),
    (MEDIUM, "shared/medium"),
    (SMALL, None),
    (MEDIUM, None),
]
SERVE = {  # the command, and the worker class gunicorn says it uses
    # the command: the worker class of gunicorn.conf.py, whose threads share one core connection
    "default": (["gunicorn", "--paste", "paste.ini", "-w", "4"], "librgw.server.worker.HeadDeadlineWorker"),
    # gunicorn's own default worker class, one request at a time per process (gunicorn makes
    # it gthread when there are threads, which gunicorn.conf.py sets)
    "sync": (["gunicorn", "--paste", "paste.ini", "-w", "4", "-k", "sync", "--threads", "1"], "sync"),
}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def upload_plan(gateway, thread: int) -> list[tuple[str, str]]:
    """Run ``PLAN`` on a connection of its own; (key, MD5) of each upload."""
    conn = gateway.connection()
    done = []
    for n, (size, shared) in enumerate(PLAN):
        key = shared or f"thread-{thread:02d}/{n}"
        data = os.urandom(size)
        assert conn.put_object(CONTAINER, key, data) == md5(data)
        done.append((key, md5(data)))
    return done


@pytest.mark.parametrize("worker", SERVE)
def test_concurrent_uploads_all_succeed_and_read_back_intact(own_gateway, worker):
    command, worker_class = SERVE[worker]
    gateway = own_gateway(command=command)
    conn = gateway.connection()
    conn.put_container(CONTAINER)

    with ThreadPoolExecutor(THREADS) as pool:
        uploads = [u for done in pool.map(lambda t: upload_plan(gateway, t), range(THREADS)) for u in done]

    assert len(uploads) == THREADS * len(PLAN) == 200
    written = defaultdict(set)  # key -> the MD5 of every version written to it
    for key, etag in uploads:
        written[key].add(etag)
    listing = conn.get_container(CONTAINER, full_listing=True)[1]
    assert len(listing) == len(written) == THREADS * 7 + 3
    assert {entry["name"] for entry in listing} == written.keys()
    for entry in listing:
        headers, body = conn.get_object(CONTAINER, entry["name"])
        assert md5(body) in written[entry["name"]], entry["name"]  # one whole version, never a mix
        assert entry["hash"] == md5(body) == headers["etag"].strip('"')
        assert entry["bytes"] == len(body) == int(headers["content-length"])
    stats = conn.head_container(CONTAINER)
    assert int(stats["x-container-object-count"]) == len(written)
    assert int(stats["x-container-bytes-used"]) == sum(entry["bytes"] for entry in listing)

    log = gateway.log.read_text()
    assert f"Using worker: {worker_class}" in log
    assert "Traceback" not in log, log[-5000:]
    requests = gateway.access_log()
    assert [r for r in requests if r[2] >= 500] == []
    assert sum(1 for method, _, status in requests if method == "PUT" and status == 201) == 200 + 1
