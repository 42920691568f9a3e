"""Server-side encryption is refused, never silently ignored: every request asking for it is
``NotImplemented`` and stores, changes and reveals nothing; ``?encryption`` says a bucket has
no configuration."""

import base64
import hashlib
import json

import pytest

from tests.middleware.s3.conftest import BOB_KEYS, error_code

BUCKET = "sse"
CUSTOMER_KEY = b"0123456789abcdef0123456789abcdef"
KEY_B64 = base64.b64encode(CUSTOMER_KEY).decode()
KEY_MD5 = base64.b64encode(hashlib.md5(CUSTOMER_KEY).digest()).decode()
SSE_HEADERS = {
    "x-amz-server-side-encryption": "AES256",
    "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:123456789012:key/abc",
    "x-amz-server-side-encryption-context": base64.b64encode(json.dumps({"a": "b"}).encode()).decode(),
    "x-amz-server-side-encryption-bucket-key-enabled": "true",
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-server-side-encryption-customer-key": KEY_B64,
    "x-amz-server-side-encryption-customer-key-MD5": KEY_MD5,
    "x-amz-copy-source-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-copy-source-server-side-encryption-customer-key": KEY_B64,
    "x-amz-copy-source-server-side-encryption-customer-key-MD5": KEY_MD5,
}
# name, method, path, headers, body: every operation that reads or writes an object's data
OPERATIONS = [
    ("PutObject", "PUT", "/sse/new", {}, b"secret data"),
    ("CopyObject", "PUT", "/sse/new", {"x-amz-copy-source": "/sse/kept"}, b""),
    ("CreateMultipartUpload", "POST", "/sse/new?uploads", {}, b""),
    ("UploadPart", "PUT", "/sse/kept?partNumber=1&uploadId={upload}", {}, b"part data"),
    ("UploadPartCopy", "PUT", "/sse/kept?partNumber=2&uploadId={upload}", {"x-amz-copy-source": "/sse/kept"}, b""),
    ("GetObject", "GET", "/sse/kept", {}, b""),
    ("HeadObject", "HEAD", "/sse/kept", {}, b""),
]


@pytest.fixture(scope="module")
def upload(pipeline) -> str:
    assert pipeline.send("PUT", f"/{BUCKET}").status_int == 200
    assert pipeline.send("PUT", f"/{BUCKET}/kept", body=b"plain old bytes").status_int == 200
    answer = pipeline.send("POST", f"/{BUCKET}/kept?uploads")
    return answer.body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()


def state(pipeline, upload: str) -> tuple:
    """What the bucket holds: its keys, the kept object's bytes, its uploads and their parts."""
    listing = pipeline.send("GET", f"/{BUCKET}").body
    keys = [k.split(b"</Key>")[0] for k in listing.split(b"<Key>")[1:]]
    kept = pipeline.send("GET", f"/{BUCKET}/kept").body
    uploads = pipeline.send("GET", f"/{BUCKET}?uploads").body.count(b"<Upload>")
    parts = pipeline.send("GET", f"/{BUCKET}/kept?uploadId={upload}").body.count(b"<Part>")
    return keys, kept, uploads, parts


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op[0] for op in OPERATIONS])
def test_any_encryption_header_is_not_implemented_and_changes_nothing(pipeline, upload, operation):
    _, method, path, headers, body = operation
    before = state(pipeline, upload)
    for header, value in SSE_HEADERS.items():
        answer = pipeline.send(method, path.format(upload=upload), {**headers, header: value}, body)
        assert answer.status_int == 501, header
        assert answer.headers["x-amz-request-id"].startswith("tx")
        if method != "HEAD":
            assert error_code(answer) == "NotImplemented"
            assert f"<Header>{header.lower()}</Header>".encode() in answer.body
            assert value.encode() not in answer.body  # the header's name, never its value (a key)
    assert state(pipeline, upload) == before == ([b"kept"], b"plain old bytes", 1, 0)


def test_encryption_asked_for_in_the_query_is_refused_too(pipeline, upload):
    before = state(pipeline, upload)
    answer = pipeline.send("PUT", f"/{BUCKET}/new?X-Amz-Server-Side-Encryption=AES256", body=b"secret data")
    assert (answer.status_int, error_code(answer)) == (501, "NotImplemented")
    assert state(pipeline, upload) == before


def test_a_request_without_encryption_still_works(pipeline, upload):
    assert pipeline.send("PUT", f"/{BUCKET}/plain", body=b"x").status_int == 200
    assert pipeline.send("GET", f"/{BUCKET}/plain").body == b"x"
    assert pipeline.send("DELETE", f"/{BUCKET}/plain").status_int == 204


def test_get_bucket_encryption_says_there_is_no_configuration(pipeline, upload):
    answer = pipeline.send("GET", f"/{BUCKET}?encryption")
    assert (answer.status_int, error_code(answer)) == (404, "ServerSideEncryptionConfigurationNotFoundError")
    assert b"<BucketName>sse</BucketName>" in answer.body and answer.headers["x-amz-request-id"]


def test_put_bucket_encryption_is_not_implemented_and_delete_is_204(pipeline, upload):
    document = (
        b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
        b"<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"
        b"</ServerSideEncryptionConfiguration>"
    )
    answer = pipeline.send("PUT", f"/{BUCKET}?encryption", body=document)
    assert (answer.status_int, error_code(answer)) == (501, "NotImplemented")
    assert pipeline.send("DELETE", f"/{BUCKET}?encryption").status_int == 204
    answer = pipeline.send("GET", f"/{BUCKET}?encryption")
    assert error_code(answer) == "ServerSideEncryptionConfigurationNotFoundError"


def test_bucket_encryption_is_the_owners_to_see_and_change(pipeline, upload):
    for method in ("GET", "PUT", "DELETE"):
        answer = pipeline.send(method, f"/{BUCKET}?encryption", keys=BOB_KEYS)
        assert (answer.status_int, error_code(answer)) == (403, "AccessDenied"), method
        answer = pipeline.anonymous(method, f"/{BUCKET}?encryption")
        assert (answer.status_int, error_code(answer)) == (403, "AccessDenied"), method
    answer = pipeline.send("GET", "/no-such-bucket?encryption")
    assert (answer.status_int, error_code(answer)) == (404, "NoSuchBucket")
    answer = pipeline.send("GET", f"/{BUCKET}/kept?encryption")  # an object has none
    assert (answer.status_int, error_code(answer)) == (501, "NotImplemented")
