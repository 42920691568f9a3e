"""What a client sees when things fail under a real gunicorn gateway: a GET never sends ``200``
with fewer bytes than its ``Content-Length`` (a failure before the headers is a clean 503 or
500, one after them aborts the connection), and a worker killed with SIGKILL in the middle of a
PUT leaves listings that agree with the heads once its pending entry has expired."""

import hashlib
import http.client
import json
import os
import signal
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import librgw
from librgw import rados
from librgw.bucket_index import bucket_shard_index
from librgw.manifest import head_oid
from librgw.zone import DATA_POOL, INDEX_POOL

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
GRACE_S = 3.0  # the gateway's PENDING_EXPIRY_S in the kill test, instead of RGW's 120 s

# gunicorn's config file, run by the master before it forks its worker: a short expiry for
# pending index entries, and a write of KILL_SIZE bytes that stops between its head write and
# completing its index entry, saying so in ``mark``, for the test to SIGKILL the worker there.
GUNICORN_CONF = """
import os, time
from librgw import bucket_index

bucket_index.PENDING_EXPIRY_S = {grace!r}
complete = bucket_index.BucketIndex.complete


def stalled_complete(self, key, tag, entry, current=None):
    if entry is not None and entry.size == {kill_size!r}:
        with open({mark!r}, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(600)
    return complete(self, key, tag, entry, current)


bucket_index.BucketIndex.complete = stalled_complete
"""
KILL_KEY = "killed-before-complete"
KILL_SIZE = 9 * MiB


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def swift_path(container: str, key: str = "") -> str:
    return f"/v1/AUTH_alice/{container}" + (f"/{key}" if key else "")


def open_get(gateway, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=60)
    conn.request("GET", path, headers=headers or {})
    return conn.getresponse()


def presigned_path(gateway, key: str, container: str = "box", method: str = "get_object") -> str:
    url = gateway.s3().generate_presigned_url(method, Params={"Bucket": container, "Key": key})
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def head_statuses(gateway, token: str, key: str) -> tuple[int, int]:
    """The status of a Swift and an S3 HEAD of ``box/key``: all a GET reads but the data."""
    swift = gateway.raw("HEAD", swift_path("box", key), {"X-Auth-Token": token})[0]
    return swift, gateway.raw("HEAD", presigned_path(gateway, key, method="head_object"))[0]


def tails_of(conf: str, container: str, key: str) -> list[str]:
    with librgw.connect(conf) as rgw:
        return rgw.objects.stat(rgw.buckets.get(container), key).manifest.tail_oids()


def remove(conf: str, oid: str) -> None:
    with rados.Rados(conffile=conf) as client, client.open_ioctx(DATA_POOL) as data:
        data.remove_object(oid)


def mark(conf: str, verb: str, ids: list[int]) -> None:
    with rados.Rados(conffile=conf) as client:
        ret, _, outs = client.mon_command(json.dumps({"prefix": f"osd {verb}", "ids": [str(i) for i in ids]}), b"")
        assert ret == 0, outs


def acting(client: rados.Rados, pool: str, name: str) -> list[int]:
    ret, out, outs = client.mon_command(json.dumps({"prefix": "osd map", "pool": pool, "object": name}), b"")
    assert ret == 0, outs
    return json.loads(out)["acting"]


def access_lines(gateway, needle: str) -> list[str]:
    return [line for line in gateway.log.read_text(errors="replace").splitlines() if needle in line]


@pytest.fixture
def stored(own_gateway):
    """A gateway (of its own: the aborted responses leave tracebacks in its log) with container
    ``box`` holding objects of three stripes (4 MiB head, two 4 MiB tails): {key: data}."""
    gateway = own_gateway()
    conn = gateway.connection()
    conn.put_container("box")
    objects = {key: os.urandom(12 * MiB) for key in ("swift", "s3", "first-tail-lost")}
    for key, data in objects.items():
        assert conn.put_object("box", key, data) == md5(data)
    return gateway, objects


def test_a_tail_lost_mid_body_aborts_the_connection_never_a_short_200(stored):
    gateway, objects = stored
    token = gateway.login("alice:swift", "alice-key")[1]
    for key in ("swift", "s3"):
        remove(gateway.conf, tails_of(gateway.conf, "box", key)[1])  # past what a GET reads before answering
    answers = {
        "swift": open_get(gateway, swift_path("box", "swift"), {"X-Auth-Token": token}),
        "s3": open_get(gateway, presigned_path(gateway, "s3")),
    }
    for key, response in answers.items():
        assert response.status == 200 and int(response.getheader("Content-Length")) == len(objects[key])
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            response.read()  # the connection ends before Content-Length bytes: never a clean short body
    for needle in ('"GET /v1/AUTH_alice/box/swift ', '"GET /box/s3?'):
        (line,) = access_lines(gateway, needle)
        status, sent = line.split('" ', 1)[1].split()[:2]
        assert status == "200" and int(sent) < 12 * MiB and line.endswith(" aborted"), line
    assert gateway.raw("GET", "/healthcheck")[0] == 200  # the worker goes on


def test_an_object_unreadable_before_the_headers_is_a_clean_500_in_either_protocol(stored):
    gateway, objects = stored
    token = gateway.login("alice:swift", "alice-key")[1]
    remove(gateway.conf, tails_of(gateway.conf, "box", "first-tail-lost")[0])
    status, headers, body = gateway.raw("GET", swift_path("box", "first-tail-lost"), {"X-Auth-Token": token})
    assert status == 500 and headers["Content-Type"].startswith("text/plain"), body
    assert headers["X-Trans-Id"].encode() in body
    url = presigned_path(gateway, "first-tail-lost")
    status, headers, body = gateway.raw("GET", url)
    assert status == 500 and b"<Code>InternalError</Code>" in body, body
    assert headers["x-amz-request-id"].encode() in body
    ranged = gateway.raw("GET", swift_path("box", "first-tail-lost"), {"X-Auth-Token": token, "Range": "bytes=0-9"})
    assert ranged[:1] == (206,) and ranged[2] == objects["first-tail-lost"][:10]  # the head's bytes still read


def test_an_object_the_cluster_cannot_serve_now_is_a_clean_503_in_either_protocol(own_gateway, backend):
    if backend != "embedded":
        pytest.skip("marks OSDs of the embedded cluster down")
    gateway = own_gateway()
    conn = gateway.connection()
    conn.put_container("box")
    token = gateway.login("alice:swift", "alice-key")[1]
    for attempt in range(20):  # until the first tail's OSDs hold nothing else these GETs need
        key = f"k{attempt}"
        conn.put_object("box", key, os.urandom(6 * MiB))
        with librgw.connect(gateway.conf) as rgw:
            bucket = rgw.buckets.get("box")
            (tail,) = rgw.objects.stat(bucket, key).manifest.tail_oids()
            down = acting(rgw.client, DATA_POOL, tail)
            shard = bucket.index_object(bucket_shard_index(key, bucket.num_shards))
            others = [
                acting(rgw.client, DATA_POOL, head_oid(bucket.marker, key)),
                acting(rgw.client, INDEX_POOL, shard),
            ]
        mark(gateway.conf, "down", down)
        readable = all(set(osds) - set(down) for osds in others)
        if readable and all(status == 200 for status in head_statuses(gateway, token, key)):
            break
        mark(gateway.conf, "up", down)
    else:
        pytest.fail("no placement left the head and the records a GET needs readable")
    status, headers, body = gateway.raw("GET", swift_path("box", key), {"X-Auth-Token": token})
    assert status == 503 and b"cannot serve" in body, body
    status, headers, body = gateway.raw("GET", presigned_path(gateway, key))
    assert status == 503 and b"<Code>SlowDown</Code>" in body, body  # S3's 503 code, as for writes
    mark(gateway.conf, "up", down)
    assert gateway.raw("GET", swift_path("box", key), {"X-Auth-Token": token})[0] == 200


def worker_pids(master: int) -> list[int]:
    """The pids of gunicorn's workers: the master's children."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


def wait_for_a_new_worker(gateway, killed: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pids = worker_pids(gateway.process.pid)
        if pids and killed not in pids and gateway.raw("GET", "/healthcheck")[0] == 200:
            return
        time.sleep(0.1)
    raise AssertionError("gunicorn did not replace the killed worker")


def stream_put(gateway, token: str, key: str, size: int) -> None:
    """PUT ``size`` bytes to ``box/key``, a MiB every 50 ms; the connection is expected to die."""
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=60)
    try:
        conn.putrequest("PUT", swift_path("box", key))
        conn.putheader("X-Auth-Token", token)
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        for _ in range(size // MiB):
            conn.send(os.urandom(MiB))
            time.sleep(0.05)
        conn.getresponse().read()
    except OSError:
        pass
    finally:
        conn.close()


def wait_for_intent(conf: str, container: str, key: str) -> None:
    """Until the write of ``key`` has queued its GC intent: it is streaming its tails."""
    deadline = time.monotonic() + 60
    with librgw.connect(conf) as rgw:
        head = head_oid(rgw.buckets.get(container).marker, key)
        while head not in {e.head for e in rgw.objects.gc.list(include_all=True)}:
            assert time.monotonic() < deadline, f"the PUT of {key} never started its tails"
            time.sleep(0.05)


def test_listings_agree_with_the_heads_after_workers_are_killed_mid_put(own_gateway, tmp_path):
    mark_file = tmp_path / "stalled-in-complete"
    conf_file = tmp_path / "gunicorn.conf.py"
    conf_file.write_text(GUNICORN_CONF.format(grace=GRACE_S, kill_size=KILL_SIZE, mark=str(mark_file)))
    gateway = own_gateway(
        command=["gunicorn", "-c", str(conf_file), "--paste", "paste.ini", "-w", "1", "--threads", "4"]
    )
    s3 = gateway.s3()
    s3.create_bucket(Bucket="box")
    old = {key: os.urandom(MiB) for key in (KILL_KEY, "killed-mid-stream")}
    for key, data in old.items():
        s3.put_object(Bucket="box", Key=key, Body=data)
    token = gateway.login("alice:swift", "alice-key")[1]

    # a worker killed between its head write and completing the index entry
    new = os.urandom(KILL_SIZE)
    outcome: list = []

    def put_new() -> None:
        try:
            outcome.append(gateway.raw("PUT", swift_path("box", KILL_KEY), {"X-Auth-Token": token}, new))
        except OSError as error:
            outcome.append(error)

    writer = threading.Thread(target=put_new)
    writer.start()
    deadline = time.monotonic() + 60
    while not mark_file.exists() or not mark_file.read_text():
        assert time.monotonic() < deadline, "the write never reached its index completion"
        time.sleep(0.05)
    stalled = int(mark_file.read_text())
    killed_at = time.monotonic()
    os.kill(stalled, signal.SIGKILL)
    writer.join(60)
    assert isinstance(outcome[0], OSError), outcome  # the client's connection died with the worker
    wait_for_a_new_worker(gateway, stalled)

    # a worker killed while a big PUT streams, before its head write
    streamer = threading.Thread(target=stream_put, args=(gateway, token, "killed-mid-stream", 32 * MiB))
    streamer.start()
    wait_for_intent(gateway.conf, "box", "killed-mid-stream")
    (worker,) = worker_pids(gateway.process.pid)
    os.kill(worker, signal.SIGKILL)
    streamer.join(60)
    wait_for_a_new_worker(gateway, worker)

    time.sleep(max(0.0, killed_at + GRACE_S + 0.5 - time.monotonic()))
    listed = {o["Key"]: (o["Size"], o["ETag"].strip('"')) for o in s3.list_objects_v2(Bucket="box")["Contents"]}
    for key in old:
        head = s3.head_object(Bucket="box", Key=key)
        assert listed[key] == (head["ContentLength"], head["ETag"].strip('"')), key
    assert listed[KILL_KEY] == (len(new), md5(new))  # its head was written: the listing completed it
    assert listed["killed-mid-stream"] == (MiB, md5(old["killed-mid-stream"]))  # it never got that far
    assert s3.get_object(Bucket="box", Key=KILL_KEY)["Body"].read() == new
    with librgw.connect(gateway.conf) as rgw:
        bucket = rgw.buckets.get("box")
        intents = {e.head for e in rgw.objects.gc.list(include_all=True) if e.head}
    assert head_oid(bucket.marker, "killed-mid-stream") in intents  # its tails stay queued for the GC
