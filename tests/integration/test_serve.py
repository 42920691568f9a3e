"""``librgw serve``: real gunicorn, real Paste Deploy pipeline, over a real socket."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
