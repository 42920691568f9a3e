"""Server-side encryption over a real gunicorn, as boto3 asks for it: refused with
``NotImplemented``, never stored in plaintext, and an SSE-C key never written to the log."""

import base64
import hashlib

import pytest
import requests
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.integration.conftest import S3_KEYS

pytestmark = pytest.mark.slow

BUCKET = "s3-sse"
CUSTOMER_KEY = "k" * 32  # what boto3 takes, and base64-encodes with its MD5 on the wire
SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": CUSTOMER_KEY}
COPY_SSE_C = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": CUSTOMER_KEY}
ASKS = {
    "SSE-S3": {"ServerSideEncryption": "AES256"},
    "SSE-KMS": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/mine", "BucketKeyEnabled": True},
    "SSE-C": SSE_C,
}


def error_of(call, *args, **kwargs) -> tuple[int, str, dict]:
    """(HTTP status, S3 code, error) of a call that must fail."""
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]


@pytest.fixture(scope="module")
def s3(gateway):
    client = gateway.s3()
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="kept", Body=b"plain old bytes")
    return client


def keys(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def kept(s3) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key="kept")["Body"].read()


@pytest.mark.parametrize("ask", list(ASKS))
def test_put_object_asking_for_encryption_is_not_implemented_and_stores_nothing(s3, ask):
    status, code, error = error_of(s3.put_object, Bucket=BUCKET, Key="new", Body=b"secret", **ASKS[ask])
    assert (status, code) == (501, "NotImplemented") and error["Header"].startswith("x-amz-server-side-encryption")
    status, code, _ = error_of(s3.put_object, Bucket=BUCKET, Key="kept", Body=b"overwrite", **ASKS[ask])
    assert (status, code) == (501, "NotImplemented")
    assert keys(s3) == ["kept"] and kept(s3) == b"plain old bytes"


@pytest.mark.parametrize("ask", list(ASKS))
def test_copy_object_asking_for_encryption_is_not_implemented(s3, ask):
    source = {"Bucket": BUCKET, "Key": "kept"}
    for destination in ("copy", "kept"):
        status, code, _ = error_of(
            s3.copy_object, Bucket=BUCKET, Key=destination, CopySource=source, MetadataDirective="REPLACE", **ASKS[ask]
        )
        assert (status, code) == (501, "NotImplemented")
    status, code, _ = error_of(s3.copy_object, Bucket=BUCKET, Key="copy", CopySource=source, **COPY_SSE_C)
    assert (status, code) == (501, "NotImplemented")
    assert keys(s3) == ["kept"] and kept(s3) == b"plain old bytes"


@pytest.mark.parametrize("ask", list(ASKS))
def test_create_multipart_upload_asking_for_encryption_is_not_implemented(s3, ask):
    status, code, _ = error_of(s3.create_multipart_upload, Bucket=BUCKET, Key="mp", **ASKS[ask])
    assert (status, code) == (501, "NotImplemented")
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_parts_asking_for_encryption_are_not_implemented(s3):
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="mp")["UploadId"]
    try:
        status, code, _ = error_of(
            s3.upload_part, Bucket=BUCKET, Key="mp", UploadId=upload, PartNumber=1, Body=b"part", **SSE_C
        )
        assert (status, code) == (501, "NotImplemented")
        source = {"Bucket": BUCKET, "Key": "kept"}
        for ask in (SSE_C, COPY_SSE_C):
            status, code, _ = error_of(
                s3.upload_part_copy, Bucket=BUCKET, Key="mp", UploadId=upload, PartNumber=2, CopySource=source, **ask
            )
            assert (status, code) == (501, "NotImplemented")
        assert s3.list_parts(Bucket=BUCKET, Key="mp", UploadId=upload).get("Parts", []) == []
    finally:
        s3.abort_multipart_upload(Bucket=BUCKET, Key="mp", UploadId=upload)


def test_reading_with_a_customer_key_is_not_implemented(s3):
    assert error_of(s3.get_object, Bucket=BUCKET, Key="kept", **SSE_C)[:2] == (501, "NotImplemented")
    assert error_of(s3.head_object, Bucket=BUCKET, Key="kept", **SSE_C)[0] == 501
    assert kept(s3) == b"plain old bytes"


def test_a_post_form_asking_for_encryption_is_not_implemented(s3):
    fields = {"x-amz-server-side-encryption": "AES256"}
    form = s3.generate_presigned_post(BUCKET, "posted", Fields=fields, Conditions=[fields])
    answer = requests.post(form["url"], data=form["fields"], files={"file": ("f", b"secret")}, timeout=30)
    assert answer.status_code == 501 and "<Code>NotImplemented</Code>" in answer.text
    assert keys(s3) == ["kept"]


def test_a_presigned_url_asking_for_encryption_in_its_query_is_not_implemented(gateway, s3):
    request = AWSRequest(method="PUT", url=f"{gateway.url}/{BUCKET}/presigned?x-amz-server-side-encryption=AES256")
    S3SigV4QueryAuth(Credentials(*S3_KEYS["alice"]), "s3", "us-east-1", expires=300).add_auth(request)
    answer = requests.put(request.url, data=b"secret", timeout=30)
    assert answer.status_code == 501 and "<Code>NotImplemented</Code>" in answer.text
    assert answer.headers["x-amz-request-id"].startswith("tx")
    assert keys(s3) == ["kept"]


def test_bucket_encryption_put_get_delete(s3):
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    status, code, _ = error_of(
        s3.put_bucket_encryption, Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [rule]}
    )
    assert (status, code) == (501, "NotImplemented")
    status, code, _ = error_of(s3.get_bucket_encryption, Bucket=BUCKET)
    assert (status, code) == (404, "ServerSideEncryptionConfigurationNotFoundError")
    assert s3.delete_bucket_encryption(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(s3.get_bucket_encryption, Bucket=BUCKET)[1] == "ServerSideEncryptionConfigurationNotFoundError"


def test_bucket_encryption_is_the_owners(gateway, s3):
    bob = gateway.s3("bob")
    assert error_of(bob.get_bucket_encryption, Bucket=BUCKET)[:2] == (403, "AccessDenied")
    assert error_of(bob.delete_bucket_encryption, Bucket=BUCKET)[:2] == (403, "AccessDenied")


def test_afterwards_no_customer_key_is_in_the_log(gateway, s3):
    error_of(s3.put_object, Bucket=BUCKET, Key="new", Body=b"secret", **SSE_C)
    log = gateway.log.read_text(errors="replace")
    assert CUSTOMER_KEY not in log
    assert base64.b64encode(CUSTOMER_KEY.encode()).decode() not in log
    assert base64.b64encode(hashlib.md5(CUSTOMER_KEY.encode()).digest()).decode() not in log
    assert "Traceback" not in log
