"""S3's conditional writes over a real gunicorn, driven by boto3: ``If-Match`` and
``If-None-Match: *`` on PutObject and CompleteMultipartUpload, and concurrent writers racing
on one ETag, of which exactly one may win."""

import hashlib
import threading

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.slow

BUCKET = "s3-cond"
MiB = 1024 * 1024


def error_of(call, *args, **kwargs) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


@pytest.fixture(scope="module")
def s3(gateway):
    client = gateway.s3()
    client.create_bucket(Bucket=BUCKET)
    return client


def body_of(s3, key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_put_object_if_match_replaces_only_the_object_it_names(s3):
    etag = s3.put_object(Bucket=BUCKET, Key="doc", Body=b"v1")["ETag"]
    assert error_of(s3.put_object, Bucket=BUCKET, Key="doc", Body=b"lost", IfMatch='"' + "0" * 32 + '"') == (
        412,
        "PreconditionFailed",
    )
    assert body_of(s3, "doc") == b"v1"
    new = s3.put_object(Bucket=BUCKET, Key="doc", Body=b"v2", IfMatch=etag)["ETag"]
    assert body_of(s3, "doc") == b"v2"
    assert error_of(s3.put_object, Bucket=BUCKET, Key="doc", Body=b"lost", IfMatch=etag) == (412, "PreconditionFailed")
    s3.put_object(Bucket=BUCKET, Key="doc", Body=b"v3", IfMatch=new.strip('"'))  # unquoted, as S3 takes it too
    assert body_of(s3, "doc") == b"v3"


def test_put_object_if_match_of_a_missing_key_is_no_such_key_and_stores_nothing(s3):
    assert error_of(s3.put_object, Bucket=BUCKET, Key="absent", Body=b"x", IfMatch='"abc"') == (404, "NoSuchKey")
    assert error_of(s3.head_object, Bucket=BUCKET, Key="absent")[0] == 404


def test_put_object_if_none_match_still_refuses_to_overwrite(s3):
    s3.put_object(Bucket=BUCKET, Key="once", Body=b"first", IfNoneMatch="*")
    assert error_of(s3.put_object, Bucket=BUCKET, Key="once", Body=b"second", IfNoneMatch="*") == (
        412,
        "PreconditionFailed",
    )
    assert body_of(s3, "once") == b"first"


def test_complete_multipart_upload_if_match(s3):
    etag = s3.put_object(Bucket=BUCKET, Key="big", Body=b"old")["ETag"]
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="big")["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key="big", UploadId=upload, PartNumber=1, Body=b"joined")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": part}]}
    complete = {"Bucket": BUCKET, "Key": "big", "UploadId": upload, "MultipartUpload": parts}
    assert error_of(s3.complete_multipart_upload, **complete, IfMatch='"' + "1" * 32 + '"') == (
        412,
        "PreconditionFailed",
    )
    assert error_of(s3.complete_multipart_upload, **complete, IfNoneMatch="*") == (412, "PreconditionFailed")
    assert body_of(s3, "big") == b"old"
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]] == [upload]
    s3.complete_multipart_upload(**complete, IfMatch=etag)
    assert body_of(s3, "big") == b"joined"


def test_copy_object_if_match_and_if_none_match_are_on_the_destination(s3):
    source = {"Bucket": BUCKET, "Key": "copy-src"}
    s3.put_object(Bucket=BUCKET, Key="copy-src", Body=b"source")
    etag = s3.put_object(Bucket=BUCKET, Key="copy-dst", Body=b"destination")["ETag"]
    copy = {"Bucket": BUCKET, "Key": "copy-dst", "CopySource": source}
    assert error_of(s3.copy_object, **copy, IfNoneMatch="*") == (412, "PreconditionFailed")
    assert error_of(s3.copy_object, **copy, IfMatch='"' + "2" * 32 + '"') == (412, "PreconditionFailed")
    assert body_of(s3, "copy-dst") == b"destination"
    s3.copy_object(**copy, IfMatch=etag)
    assert body_of(s3, "copy-dst") == b"source"


@pytest.mark.parametrize("writers", [8])
def test_writers_racing_on_one_etag_let_exactly_one_win(gateway, s3, writers):
    original = s3.put_object(Bucket=BUCKET, Key="race", Body=b"original")["ETag"]
    bodies = [bytes([n]) * MiB for n in range(writers)]  # a MiB each: a wide window between check and write
    clients = [gateway.s3() for _ in range(writers)]
    start = threading.Barrier(writers)
    outcomes: list = [None] * writers

    def write(n: int) -> None:
        start.wait()
        try:
            outcomes[n] = clients[n].put_object(Bucket=BUCKET, Key="race", Body=bodies[n], IfMatch=original)["ETag"]
        except ClientError as error:
            outcomes[n] = error.response["Error"]["Code"]

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [n for n, outcome in enumerate(outcomes) if outcome not in ("PreconditionFailed", "SlowDown")]
    assert len(winners) == 1, outcomes
    assert set(outcomes) - {outcomes[winners[0]]} <= {"PreconditionFailed", "SlowDown"}
    assert outcomes[winners[0]] == f'"{hashlib.md5(bodies[winners[0]]).hexdigest()}"'
    assert body_of(s3, "race") == bodies[winners[0]]
