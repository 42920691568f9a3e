"""The whole pipeline (the real paste.ini) on a cluster with too few OSDs up to write (one of
three, under min_size 2): writes through either protocol are refused as "try again" (503;
S3's as XML), never a 500, and what was stored before is read back unchanged, then and
once the OSDs are back."""

import json
import os
from pathlib import Path

import boto3
import pytest
from paste.deploy import loadapp
from webob import Request

import librgw
from librgw import rados
from librgw.storage.cluster import create_cluster

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pipeline(tmp_path):
    create_cluster(tmp_path / "cluster", 3, **{"osd pool default pg num": "8"})
    conf = str(tmp_path / "cluster" / "cluster.conf")
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice", access_key="ALICEKEY", secret_key="secret")
        rgw.users.create_subuser("alice", "swift", secret_key="k")
        rgw.buckets.create("alice", "kept")
        rgw.put("kept", "doc", b"before")
    os.environ["LIBRGW_CLUSTER"] = conf
    try:
        app = loadapp(f"config:{ROOT / 'paste.ini'}")
    finally:
        del os.environ["LIBRGW_CLUSTER"]
    token = Request.blank("/auth/v1.0", headers={"X-Auth-User": "alice:swift", "X-Auth-Key": "k"}).get_response(app)
    return app, conf, token.headers["X-Auth-Token"]


def mark(conf: str, verb: str, ids: list[int]) -> None:
    with rados.Rados(conffile=conf) as client:
        ret, _, outs = client.mon_command(json.dumps({"prefix": f"osd {verb}", "ids": [str(i) for i in ids]}), b"")
        assert ret == 0, outs


def test_writes_below_min_size_are_503_and_stored_data_survives(pipeline):
    app, conf, token = pipeline
    mark(conf, "down", [1, 2])  # every PG keeps one copy up: readable, not writable
    auth = {"X-Auth-Token": token}
    put = Request.blank("/v1/AUTH_alice/kept/doc", method="PUT", body=b"after", headers=auth).get_response(app)
    assert put.status_int == 503 and "cannot serve" in put.text, put.text
    url = boto3.client(
        "s3", endpoint_url="http://localhost", aws_access_key_id="ALICEKEY", aws_secret_access_key="secret"
    ).generate_presigned_url("put_object", Params={"Bucket": "kept", "Key": "doc"})
    s3_put = Request.blank(url[len("http://localhost") :], method="PUT", body=b"after").get_response(app)
    assert s3_put.status_int == 503 and b"<Code>SlowDown</Code>" in s3_put.body, s3_put.body
    get = Request.blank("/v1/AUTH_alice/kept/doc", headers=auth).get_response(app)
    assert (get.status_int, get.body) == (200, b"before")
    mark(conf, "up", [1, 2])
    get = Request.blank("/v1/AUTH_alice/kept/doc", headers=auth).get_response(app)
    assert (get.status_int, get.body) == (200, b"before")


def test_a_cluster_that_cannot_even_read_is_503_wherever_it_is_first_needed(pipeline):
    app, conf, token = pipeline
    mark(conf, "down", [0, 1, 2])
    swift = Request.blank("/v1/AUTH_alice/kept/doc", headers={"X-Auth-Token": token}).get_response(app)
    assert swift.status_int == 503 and swift.headers["Retry-After"] == "1", swift.text  # the token's lookup
    s3 = Request.blank("/kept/doc").get_response(app)  # anonymous: the bucket's lookup
    assert s3.status_int == 503 and b"<Code>ServiceUnavailable</Code>" in s3.body, s3.body
