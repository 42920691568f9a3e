"""S3 requests that once took a request down (a 500) over a real gunicorn: broken chunked
bodies and bodies cut short on every operation that reads a document, sent byte for byte over
raw sockets, and numbers too long for int() (a Range, a copied part's range, a document's).
Each is S3's 4xx, and nothing changes."""

import http.client
import socket
from urllib.parse import quote

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.integration.conftest import S3_KEYS

pytestmark = pytest.mark.slow

BUCKET = "s3-malformed"
HUGE = {4000: "9" * 4000, 5000: "9" * 5000}  # int() refuses more than 4,300 digits
CHUNKED_BODIES = {
    "bad-size": b"zz\r\n<Tagging/>\r\n0\r\n\r\n",
    "bad-size-after-a-chunk": b"5\r\n<Tagg\r\nzz\r\n\r\n",
    "no-terminator": b"5\r\n<TaggXX0\r\n\r\n",
    "cut-mid-chunk": b"400\r\n<Tagging><TagSet>",
    "no-last-chunk": b"5\r\n<Tagg\r\n",
}
# every operation that reads a document from its body, and the two that store one's bytes
OPERATIONS = {
    "PutObjectTagging": ("PUT", f"/{BUCKET}/kept?tagging"),
    "PutBucketTagging": ("PUT", f"/{BUCKET}?tagging"),
    "DeleteObjects": ("POST", f"/{BUCKET}?delete"),
    "CreateBucket": ("PUT", "/s3-malformed-new"),
    "PutBucketLifecycle": ("PUT", f"/{BUCKET}?lifecycle"),
    "PutBucketCors": ("PUT", f"/{BUCKET}?cors"),
    "PutBucketAcl": ("PUT", f"/{BUCKET}?acl"),
    "PutBucketVersioning": ("PUT", f"/{BUCKET}?versioning"),
    "PutBucketPolicy": ("PUT", f"/{BUCKET}?policy"),
    "CompleteMultipartUpload": ("POST", f"/{BUCKET}/kept?uploadId={{upload}}"),
    "PutObject": ("PUT", f"/{BUCKET}/kept"),
    "UploadPart": ("PUT", f"/{BUCKET}/kept?partNumber=1&uploadId={{upload}}"),
}


class UnsignedPayload(S3SigV4Auth):
    def payload(self, request) -> str:
        return "UNSIGNED-PAYLOAD"


def exchange(gateway, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
    """Send a request signed by alice (its payload unsigned) with ``body`` byte for byte, then
    stop sending: (status, headers, body) of the answer."""
    request = AWSRequest(method=method, url=gateway.url + path, headers=headers)
    UnsignedPayload(Credentials(*S3_KEYS["alice"]), "s3", "us-east-1").add_auth(request)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{gateway.port}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return response.status, dict(response.getheaders()), response.read()


def error_code(body: bytes) -> str:
    return body.split(b"<Code>")[1].split(b"</Code>")[0].decode() if b"<Code>" in body else ""


@pytest.fixture(scope="module")
def s3(gateway):
    client = gateway.s3()
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="kept", Body=b"0123456789")
    return client


@pytest.fixture(scope="module")
def upload(s3) -> str:
    return s3.create_multipart_upload(Bucket=BUCKET, Key="kept")["UploadId"]


def outcome(call, **kwargs) -> object:
    try:
        return call(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"]


def state(s3, upload: str) -> tuple:
    """What any of these requests could have changed."""
    answers = [
        s3.get_object(Bucket=BUCKET, Key="kept")["Body"].read(),
        [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])],
        [b["Name"] for b in s3.list_buckets()["Buckets"]],
        outcome(s3.get_object_tagging, Bucket=BUCKET, Key="kept").get("TagSet"),
        outcome(s3.get_bucket_tagging, Bucket=BUCKET),
        outcome(s3.get_bucket_lifecycle_configuration, Bucket=BUCKET),
        outcome(s3.get_bucket_cors, Bucket=BUCKET),
        outcome(s3.get_bucket_acl, Bucket=BUCKET).get("Grants"),
        outcome(s3.get_bucket_versioning, Bucket=BUCKET).get("Status"),
        outcome(s3.get_bucket_policy, Bucket=BUCKET),
        outcome(s3.list_parts, Bucket=BUCKET, Key="kept", UploadId=upload).get("Parts"),
    ]
    return tuple(answer if isinstance(answer, (str, bytes, list, type(None))) else sorted(answer) for answer in answers)


@pytest.mark.parametrize("body", list(CHUNKED_BODIES))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_a_broken_chunked_body_is_incomplete_body_and_changes_nothing(gateway, s3, upload, operation, body):
    before = state(s3, upload)
    method, path = OPERATIONS[operation]
    status, headers, answer = exchange(
        gateway, method, path.format(upload=upload), {"Transfer-Encoding": "chunked"}, CHUNKED_BODIES[body]
    )
    assert (status, error_code(answer)) == (400, "IncompleteBody"), answer
    assert headers["x-amz-request-id"].startswith("tx")
    assert state(s3, upload) == before


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_a_body_cut_before_its_content_length_is_incomplete_body_and_changes_nothing(gateway, s3, upload, operation):
    before = state(s3, upload)
    method, path = OPERATIONS[operation]
    status, _, answer = exchange(gateway, method, path.format(upload=upload), {"Content-Length": "1000"}, b"<Tagging>")
    assert (status, error_code(answer)) == (400, "IncompleteBody"), answer
    assert state(s3, upload) == before


@pytest.mark.parametrize("digits", list(HUGE))
def test_a_range_of_thousands_of_digits_is_clipped_or_416(s3, digits):
    huge = HUGE[digits]
    got = s3.get_object(Bucket=BUCKET, Key="kept", Range=f"bytes=3-{huge}")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206 and got["ContentRange"] == "bytes 3-9/10"
    assert got["Body"].read() == b"3456789"
    assert s3.get_object(Bucket=BUCKET, Key="kept", Range=f"bytes=-{huge}")["Body"].read() == b"0123456789"
    both = [f"{huge}-{huge}"] if digits < 4096 else []  # twice 5,000 digits: gunicorn's 431, past 8 KiB
    for spec in [f"{huge}-", *both]:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=BUCKET, Key="kept", Range=f"bytes={spec}")
        assert caught.value.response["Error"]["Code"] == "InvalidRange"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    assert s3.head_object(Bucket=BUCKET, Key="kept", Range=f"bytes=0-{huge}")["ContentLength"] == 10


def test_a_copied_parts_range_of_thousands_of_digits_is_416(s3, upload):
    before = state(s3, upload)
    with pytest.raises(ClientError) as caught:
        s3.upload_part_copy(
            Bucket=BUCKET,
            Key="kept",
            UploadId=upload,
            PartNumber=1,
            CopySource={"Bucket": BUCKET, "Key": "kept"},
            CopySourceRange=f"bytes=0-{HUGE[5000]}",
        )
    assert caught.value.response["Error"]["Code"] == "InvalidRange"
    assert state(s3, upload) == before


@pytest.mark.parametrize(
    ("operation", "document"),
    [
        (
            "CompleteMultipartUpload",
            f"<CompleteMultipartUpload><Part><PartNumber>{HUGE[5000]}</PartNumber><ETag>x</ETag></Part>"
            "</CompleteMultipartUpload>",
        ),
        (
            "PutBucketLifecycle",
            "<LifecycleConfiguration><Rule><ID>a</ID><Filter/><Status>Enabled</Status>"
            f"<Expiration><Days>{HUGE[5000]}</Days></Expiration></Rule></LifecycleConfiguration>",
        ),
        (
            "PutBucketCors",
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
            f"<MaxAgeSeconds>{HUGE[5000]}</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        ),
    ],
)
def test_a_document_number_of_thousands_of_digits_is_malformed_xml(gateway, s3, upload, operation, document):
    before = state(s3, upload)
    method, path = OPERATIONS[operation]
    body = document.encode()
    status, _, answer = exchange(gateway, method, path.format(upload=upload), {"Content-Length": str(len(body))}, body)
    assert (status, error_code(answer)) == (400, "MalformedXML"), answer
    assert state(s3, upload) == before


def test_a_decoded_length_of_thousands_of_digits_is_entity_too_large(gateway, s3, upload):
    before = state(s3, upload)
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": HUGE[5000], "Content-Length": "5"}
    status, _, answer = exchange(gateway, "PUT", f"/{BUCKET}/{quote('kept')}", headers, b"0\r\n\r\n")
    assert (status, error_code(answer)) == (400, "EntityTooLarge"), answer
    assert state(s3, upload) == before


def test_afterwards_the_log_is_clean_and_the_gateway_still_serves(gateway, s3):
    s3.put_object(Bucket=BUCKET, Key="after", Body=b"still fine")
    assert s3.get_object(Bucket=BUCKET, Key="after")["Body"].read() == b"still fine"
    log = gateway.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-5000:]
    assert [line for line in gateway.access_log() if line[2] >= 500] == []
