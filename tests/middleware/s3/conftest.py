"""The whole pipeline of ``paste.ini`` in process, on a fresh embedded cluster, with requests
signed by botocore as boto3 signs them: what the S3 filter does, without a server between."""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from paste.deploy import loadapp
from webob import Request, Response

import librgw
from librgw.storage.cluster import create_cluster

ROOT = Path(__file__).resolve().parents[3]
URL = "http://127.0.0.1:8080"
KEYS = ("ALICEKEY0000000000", "alice-secret")
BOB_KEYS = ("BOBKEY00000000000000", "bob-secret")
UNSIGNED = "UNSIGNED-PAYLOAD"


class UnsignedPayload(S3SigV4Auth):
    """SigV4 that signs UNSIGNED-PAYLOAD, for bodies that are never whole."""

    def payload(self, request) -> str:
        return UNSIGNED


@dataclass
class Pipeline:
    app: object
    rgw: librgw.RGW

    def signed_environ(
        self, method: str, path: str, headers: dict | None = None, body: bytes = b"", keys: tuple = KEYS
    ) -> dict:
        """The WSGI environ of ``method path`` signed with alice's key, or ``keys`` (SigV4, the
        body's SHA-256)."""
        aws = AWSRequest(method=method, url=URL + path, headers=dict(headers or {}), data=body)
        S3SigV4Auth(Credentials(*keys), "s3", "us-east-1").add_auth(aws)
        request = Request.blank(URL + path, method=method, headers=dict(aws.headers), body=body)
        request.environ["REMOTE_ADDR"] = "127.0.0.1"
        return request.environ

    def unsigned_payload_environ(self, method: str, path: str, headers: dict | None = None) -> dict:
        """As ``signed_environ``, signing UNSIGNED-PAYLOAD and with no body: the caller gives one."""
        aws = AWSRequest(method=method, url=URL + path, headers=dict(headers or {}))
        UnsignedPayload(Credentials(*KEYS), "s3", "us-east-1").add_auth(aws)
        request = Request.blank(URL + path, method=method, headers=dict(aws.headers))
        request.environ["REMOTE_ADDR"] = "127.0.0.1"
        return request.environ

    def call(self, environ: dict) -> Response:
        return Request(environ).get_response(self.app)

    def send(
        self, method: str, path: str, headers: dict | None = None, body: bytes = b"", keys: tuple = KEYS
    ) -> Response:
        return self.call(self.signed_environ(method, path, headers, body, keys))

    def anonymous(self, method: str, path: str, headers: dict | None = None, body: bytes = b"") -> Response:
        return Request.blank(URL + path, method=method, headers=headers or {}, body=body).get_response(self.app)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Pipeline:
    base = tmp_path_factory.mktemp("s3-pipeline")
    create_cluster(base / "cluster", 4, **{"osd pool default pg num": "8"})
    conf = str(base / "cluster" / "cluster.conf")
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice", access_key=KEYS[0], secret_key=KEYS[1])
        rgw.users.create("bob", "Bob", access_key=BOB_KEYS[0], secret_key=BOB_KEYS[1])
    os.environ["LIBRGW_CLUSTER"] = conf
    try:
        app = loadapp("config:" + str(ROOT / "paste.ini"))
    finally:
        del os.environ["LIBRGW_CLUSTER"]
    rgw = librgw.connect(conf)
    yield Pipeline(app, rgw)
    rgw.close()


def error_code(response: Response) -> str:
    body = response.body
    return body.split(b"<Code>")[1].split(b"</Code>")[0].decode() if b"<Code>" in body else ""
