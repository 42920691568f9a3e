"""The ``ceph:`` backend end to end, on real Ceph: ``librgw serve`` on a Ceph cluster serves boto3
and python-swiftclient, and what it writes is RGW's layout as Ceph's own ``rados`` tool shows
it; and killing one OSD of three by pid during a stream of writes loses no acknowledged object.

The rest of the core and gateway suites run on Ceph too, through the ``backend`` fixture.
"""

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from swiftclient import client as swift

import librgw
from librgw import rados
from tests.ceph import backend as ceph_backend
from tests.conftest import skip_unless_ceph_can_run
from tests.integration.conftest import ROOT, S3_KEYS, free_port, make_users, start_gateway, stop_gateway

pytestmark = pytest.mark.slow


def rados_cli(conf: str, *args: str) -> bytes:
    """Ceph's own ``rados`` tool on the cluster of ``conf``."""
    return subprocess.run(["rados", "-c", conf, *args], check=True, capture_output=True, timeout=60).stdout


def s3_client(url: str, access: str, secret: str):
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture
def own_ceph(tmp_path):
    """A new Ceph cluster of the test's own (the session's one stays wiped only between tests)."""
    skip_unless_ceph_can_run()
    where = tmp_path / "ceph"
    try:
        yield ceph_backend.bring_up(where)
    finally:
        ceph_backend.tear_down(where)


def test_librgw_serve_on_ceph_serves_boto3_and_swift_in_rgws_layout(own_ceph, tmp_path):
    ceph_conf = own_ceph
    spec = rados.CEPH_PREFIX + ceph_conf
    port = free_port()
    out = open(tmp_path / "serve.out", "w+")
    serve = [sys.executable, "-m", "librgw.cli.main", "-c", spec, "serve", "--bind", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(serve, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    try:
        printed = ""
        for _ in range(300):
            out.seek(0)
            printed = out.read()
            if "Listening at" in printed or proc.poll() is not None:
                break
            time.sleep(0.1)
        keys = re.search(r"S3: +access key (\S+) +secret key (\S+)", printed)
        swift_login = re.search(r"Swift: user (\S+) +key (\S+)", printed)
        assert keys and swift_login and proc.poll() is None, printed
        time.sleep(1)  # gunicorn's workers come up just after it says it listens

        s3 = s3_client(url, keys[1], keys[2])
        s3.create_bucket(Bucket="photos")
        cat = os.urandom(300 * 1024)
        s3.put_object(Bucket="photos", Key="cat.jpg", Body=cat, ContentType="image/jpeg")
        assert s3.get_object(Bucket="photos", Key="cat.jpg")["Body"].read() == cat

        conn = swift.Connection(url + "/auth/v1.0", swift_login[1], swift_login[2], retries=0)
        conn.put_container("docs")
        conn.put_object("docs", "notes/a.txt", b"written with swiftclient")
        assert conn.get_object("docs", "notes/a.txt")[1] == b"written with swiftclient"
        assert [o["name"] for o in conn.get_container("docs")[1]] == ["notes/a.txt"]
        assert [c["name"] for c in conn.get_account()[1]] == ["docs", "photos"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        out.close()

    with librgw.connect(spec) as rgw:
        photos, docs = rgw.buckets.get("photos").marker, rgw.buckets.get("docs").marker
    data = rados_cli(ceph_conf, "-p", "default.rgw.buckets.data", "ls").decode().split()
    assert f"{photos}_cat.jpg" in data and f"{docs}_notes/a.txt" in data
    assert rados_cli(ceph_conf, "-p", "default.rgw.buckets.data", "get", f"{photos}_cat.jpg", "-") == cat
    xattrs = rados_cli(ceph_conf, "-p", "default.rgw.buckets.data", "listxattr", f"{photos}_cat.jpg").decode()
    assert "user.rgw.etag" in xattrs.split()
    index = rados_cli(ceph_conf, "-p", "default.rgw.buckets.index", "ls").decode().split()
    shards = [name for name in index if name.startswith(f".dir.{docs}.")]
    assert shards and any(name.startswith(f".dir.{photos}.") for name in index)
    keys = set()
    for shard in shards:
        keys |= set(rados_cli(ceph_conf, "-p", "default.rgw.buckets.index", "listomapkeys", shard).decode().split("\n"))
    assert "notes/a.txt" in keys
    uids = rados_cli(ceph_conf, "-p", "default.rgw.meta", "-N", "users.uid", "ls").decode().split()
    assert "demo" in uids
    assert "zone_names.default" in rados_cli(ceph_conf, "-p", ".rgw.root", "ls").decode().split()


def test_killing_one_osd_of_three_during_writes_loses_no_acknowledged_object(own_ceph, tmp_path):
    spec = rados.CEPH_PREFIX + own_ceph
    make_users(spec)
    gateway = start_gateway(spec, tmp_path / "gunicorn.log")
    access, secret = S3_KEYS["alice"]
    try:
        s3 = s3_client(gateway.url, access, secret)
        s3.create_bucket(Bucket="stream")
        acked: dict[str, str] = {}
        failed: list[str] = []

        def write(n: int) -> None:
            body = os.urandom(1024 + n * 37 % 70_000)
            key = f"obj-{n:05d}"
            try:
                s3.put_object(Bucket="stream", Key=key, Body=body)
            except Exception as e:  # not acknowledged: allowed to be lost, not counted
                failed.append(f"{key}: {e}")
                return
            acked[key] = hashlib.md5(body).hexdigest()

        killed = threading.Event()
        victim = Path(own_ceph).parent / "run" / "osd.1.pid"

        def kill_when_under_way() -> None:
            while len(acked) < 100:
                time.sleep(0.01)
            os.kill(int(victim.read_text()), signal.SIGKILL)
            killed.set()

        killer = threading.Thread(target=kill_when_under_way)
        killer.start()
        for n in range(400):
            write(n)
        killer.join()
        assert killed.is_set()
        assert len(acked) >= 380, failed[:5]  # a write or two may fail while the OSD is being marked down
        health = subprocess.run(["ceph", "-c", own_ceph, "health"], capture_output=True, text=True, timeout=60)
        assert "osd" in health.stdout.lower() or "degraded" in health.stdout.lower(), health.stdout

        s3 = s3_client(gateway.url, access, secret)
        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="stream"):
            listed |= {o["Key"] for o in page.get("Contents", [])}
        assert set(acked) <= listed
        for key, md5 in acked.items():
            assert hashlib.md5(s3.get_object(Bucket="stream", Key=key)["Body"].read()).hexdigest() == md5, key
    finally:
        stop_gateway(gateway)
