"""``librgw serve``: real gunicorn, real Paste Deploy pipeline, over a real socket."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from librgw import rados
from librgw.cli.main import main
from librgw.zone import DATA_POOL

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(conf: str, port: int, out) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "librgw.cli.main", "-c", conf, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    for _ in range(100):
        try:
            if get(f"http://127.0.0.1:{port}/healthcheck")[0] == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    proc.wait(10)
    pytest.fail("the gateway did not come up")


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.mark.slow
def test_serve_answers_health_info_and_ids_and_creates_a_first_user(conf, tmp_path):
    port = free_port()
    out = open(tmp_path / "out", "w+")
    proc = start_serve(conf, port, out)
    base = f"http://127.0.0.1:{port}"
    try:
        status, headers, body = get(base + "/healthcheck")
        assert (status, body) == (200, b"OK") and headers["X-Trans-Id"].startswith("tx")
        status, _, body = get(base + "/info")
        assert status == 200 and json.loads(body)["swift"]["max_file_size"] == 5 * 1024**3
        assert get(base + "/nowhere")[0] == 404
        assert get(base + "/v1/AUTH_demo")[0] == 401  # the Swift API, without a token
        out.seek(0)
        printed = out.read()
        assert "created user 'demo'" in printed and f"http://127.0.0.1:{port}/" in printed
        assert '"GET /healthcheck HTTP/1.1" 200' in printed  # the access log
        assert "Using worker: librgw.server.worker.HeadDeadlineWorker" in printed  # gunicorn_conf.py's
    finally:
        proc.terminate()
        proc.wait(10)
        out.close()


@pytest.mark.slow
def test_serve_on_a_cluster_made_with_an_erasure_coded_data_pool_stores_big_objects_in_it(tmp_path, capsys):
    import boto3

    assert main(["cluster", "init", str(tmp_path / "c"), "--osds", "4", "--data-pool", "k=2,m=1"]) == 0
    capsys.readouterr()
    conf = str(tmp_path / "c" / "cluster.conf")
    port = free_port()
    out = open(tmp_path / "out", "w+")
    proc = start_serve(conf, port, out)
    try:
        out.seek(0)
        access, secret = re.search(r"S3: +access key (\S+) +secret key (\S+)", out.read()).groups()
        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            region_name="us-east-1",
        )
        blob = os.urandom(9 * MiB + 7)  # a 4 MiB head and two tail stripes
        s3.create_bucket(Bucket="ecdata")
        s3.put_object(Bucket="ecdata", Key="big.bin", Body=blob)
        got = s3.get_object(Bucket="ecdata", Key="big.bin")
        assert got["ContentLength"] == len(blob) and got["Body"].read() == blob
        ranged = s3.get_object(Bucket="ecdata", Key="big.bin", Range="bytes=8388600-8388620")["Body"].read()
        assert ranged == blob[8388600:8388621]
    finally:
        proc.terminate()
        proc.wait(10)
        out.close()
    with rados.Rados(conffile=conf) as client, client.open_ioctx(DATA_POOL) as ioctx:
        assert client.cluster.pool(DATA_POOL).type == "erasure"
        assert len(list(ioctx.list_objects())) == 3  # the head and its two tails, in the EC pool
