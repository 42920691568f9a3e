"""Fuzzing the whole pipeline (the real paste.ini) with random S3-ish requests, in process.

Random methods, paths (any bytes), queries, headers (signature-looking or not) and bodies
(XML-ish or not) are thrown at it for a bounded number of examples. None may answer 500 or
let an exception escape, and, since none carries a valid signature, none may change what
is stored.
"""

import io
import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from paste.deploy import loadapp

import librgw
from librgw.middleware.request_log import TRANS_ID_KEY

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SUB_RESOURCES = [
    "acl", "uploads", "uploadId", "partNumber", "versionId", "versioning", "versions", "delete", "location",
    "list-type", "prefix", "delimiter", "marker", "max-keys", "continuation-token", "encoding-type", "tagging",
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature",
    "AWSAccessKeyId", "Signature", "Expires", "response-content-type", "bulk-delete", "format", "limit",
    "cors", "lifecycle",
]  # fmt: skip
HEADERS = [
    "Authorization", "x-amz-date", "x-amz-content-sha256", "Content-MD5", "Content-Type", "Range", "If-Match",
    "If-None-Match", "If-Modified-Since", "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-acl",
    "x-amz-meta-a", "Content-Encoding", "x-amz-decoded-content-length", "Host", "Date", "X-Auth-Token",
    "X-Copy-From", "Destination", "Transfer-Encoding", "x-amz-copy-source-range",
    "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers", "x-amz-tagging",
    "x-amz-tagging-directive", "X-Object-Tagging",
]  # fmt: skip
AUTH_VALUES = st.sampled_from(
    [
        "AWS ALICEKEY0000000000:abc=",
        "AWS :",
        "AWS ALICEKEY0000000000",
        "AWS4-HMAC-SHA256 Credential=ALICEKEY0000000000/20260101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=/, SignedHeaders=, Signature=",
        "AWS4-HMAC-SHA256 garbage",
        "Bearer x",
    ]
)
text = st.text(max_size=40)
header_value = st.one_of(text.map(lambda t: t.encode("utf-8").decode("latin-1")), AUTH_VALUES, st.just(""))
xmlish = st.one_of(
    st.binary(max_size=200),
    st.just(b"<Delete><Object><Key>keep</Key></Object></Delete>"),
    st.just(b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>"),
    st.just(b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;&a;</x>'),
    st.just(b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"),
    text.map(lambda t: f"<{t}>".encode()),
)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from librgw.storage.cluster import create_cluster

    base = tmp_path_factory.mktemp("fuzz")
    create_cluster(base / "cluster", 4, **{"osd pool default pg num": "8"})
    conf = str(base / "cluster" / "cluster.conf")
    with librgw.connect(conf) as rgw:
        rgw.users.create("alice", "Alice", access_key="ALICEKEY0000000000", secret_key="secret")
        rgw.users.create_subuser("alice", "swift", secret_key="k")
        rgw.buckets.create("alice", "fuzz")
        rgw.put("fuzz", "keep", b"precious", {"a": "1"})
    os.environ["LIBRGW_CLUSTER"] = conf
    try:
        app = loadapp("config:" + os.path.join(ROOT, "paste.ini"))
    finally:
        del os.environ["LIBRGW_CLUSTER"]
    rgw = librgw.connect(conf)
    yield app, rgw
    rgw.close()


def call(app, environ: dict) -> tuple[str, bytes]:
    status: list[str] = []

    def start_response(line, headers, exc_info=None):
        status.append(line)

    body = b"".join(app(environ, start_response))
    return status[0], body


def stored(rgw) -> list:
    info = rgw.buckets.get("fuzz")
    return [
        *[(e.key, e.etag) for e in rgw.list("fuzz").objects],
        *[(b, "") for b in rgw.buckets.list("alice")],
        info.attrs,
        rgw.objects.stat(info, "keep").tags,
    ]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "COPY", "BREW"]),
    path=st.one_of(
        st.sampled_from(["/", "/fuzz", "/fuzz/keep", "/fuzz/new", "/other", "/v1/AUTH_alice/fuzz/keep"]),
        st.binary(max_size=30).map(lambda b: "/" + b.decode("latin-1")),
        text.map(lambda t: "/fuzz/" + t.encode("utf-8").decode("latin-1")),
    ),
    query=st.lists(st.tuples(st.sampled_from(SUB_RESOURCES), text), max_size=4),
    raw_query=st.one_of(st.just(""), st.binary(max_size=20).map(lambda b: b.decode("latin-1"))),
    headers=st.dictionaries(st.sampled_from(HEADERS), header_value, max_size=6),
    body=xmlish,
)
@example(  # once a 500: a query that is not UTF-8, on a native request
    method="PUT", path="/v1/AUTH_alice/fuzz/keep", query=[], raw_query="\x80", headers={}, body=b""
)
def test_no_garbage_request_fails_the_server_or_changes_data(pipeline, method, path, query, raw_query, headers, body):
    app, rgw = pipeline
    before = stored(rgw)
    from urllib.parse import quote

    query_string = "&".join(f"{quote(k)}={quote(v)}" for k, v in query) + ("&" + raw_query if raw_query else "")
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query_string,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:8080",
    }
    for name, value in headers.items():
        key = "CONTENT_TYPE" if name == "Content-Type" else "HTTP_" + name.upper().replace("-", "_")
        environ[key] = value
    status, answer = call(app, environ)
    assert not status.startswith("500"), (status, answer[:300], environ.get(TRANS_ID_KEY))
    assert stored(rgw) == before
    assert rgw.get("fuzz", "keep").read() == b"precious"
