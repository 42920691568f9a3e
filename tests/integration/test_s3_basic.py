"""The S3 middleware's first operations, driven by boto3 over a real gunicorn."""

import hashlib
import os
from email.utils import formatdate

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.slow


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def s3(gateway):
    client = gateway.s3()
    client.create_bucket(Bucket="s3-basic")
    return client


def test_buckets_create_list_head_delete(s3):
    s3.create_bucket(Bucket="s3-other")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "s3-basic" in names and "s3-other" in names
    s3.head_bucket(Bucket="s3-other")
    assert code_of(s3.create_bucket, Bucket="s3-other") == "BucketAlreadyOwnedByYou"
    assert code_of(s3.create_bucket, Bucket="Bad_Name") == "InvalidBucketName"
    s3.delete_bucket(Bucket="s3-other")
    assert code_of(s3.head_bucket, Bucket="s3-other") == "404"
    assert code_of(s3.list_objects, Bucket="s3-other") == "NoSuchBucket"


def test_put_get_head_delete_with_metadata_and_md5(s3):
    data = os.urandom(6 * 1024 * 1024)
    put = s3.put_object(Bucket="s3-basic", Key="dir/obj ü", Body=data, Metadata={"color": "blue"}, ContentType="x/y")
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket="s3-basic", Key="dir/obj ü")
    assert got["Body"].read() == data and got["Metadata"] == {"color": "blue"} and got["ContentType"] == "x/y"
    head = s3.head_object(Bucket="s3-basic", Key="dir/obj ü")
    assert head["ContentLength"] == len(data)
    ranged = s3.get_object(Bucket="s3-basic", Key="dir/obj ü", Range="bytes=10-19")
    assert ranged["Body"].read() == data[10:20] and ranged["ContentRange"] == f"bytes 10-19/{len(data)}"
    assert code_of(s3.get_object, Bucket="s3-basic", Key="nope") == "NoSuchKey"
    s3.delete_object(Bucket="s3-basic", Key="dir/obj ü")
    s3.delete_object(Bucket="s3-basic", Key="dir/obj ü")  # again: S3 says nothing
    assert code_of(s3.head_object, Bucket="s3-basic", Key="dir/obj ü") == "404"


def test_listing_v1_and_v2(s3):
    for key in ("a", "b/1", "b/2", "c"):
        s3.put_object(Bucket="s3-basic", Key=key, Body=b"x")
    page = s3.list_objects_v2(Bucket="s3-basic", Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == ["a", "c"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["b/"]
    keys, token = [], None
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket="s3-basic", MaxKeys=1, **kwargs)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert keys == ["a", "b/1", "b/2", "c"]
    assert [o["Key"] for o in s3.list_objects(Bucket="s3-basic", Marker="b/1")["Contents"]] == ["b/2", "c"]
    paginator = s3.get_paginator("list_objects")
    assert [
        o["Key"]
        for page in paginator.paginate(Bucket="s3-basic", PaginationConfig={"PageSize": 2})
        for o in page["Contents"]
    ] == ["a", "b/1", "b/2", "c"]
    deleted = s3.delete_objects(
        Bucket="s3-basic", Delete={"Objects": [{"Key": k} for k in ("a", "b/1", "b/2", "c", "zz")]}
    )
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["a", "b/1", "b/2", "c", "zz"]
    assert s3.list_objects_v2(Bucket="s3-basic")["KeyCount"] == 0


def test_copy_object_copy_and_replace(s3):
    s3.put_object(Bucket="s3-basic", Key="src", Body=b"source", Metadata={"a": "1"})
    s3.copy_object(Bucket="s3-basic", Key="dst", CopySource={"Bucket": "s3-basic", "Key": "src"})
    assert s3.head_object(Bucket="s3-basic", Key="dst")["Metadata"] == {"a": "1"}
    s3.copy_object(
        Bucket="s3-basic", Key="dst2", CopySource="s3-basic/src", Metadata={"b": "2"}, MetadataDirective="REPLACE"
    )
    assert s3.head_object(Bucket="s3-basic", Key="dst2")["Metadata"] == {"b": "2"}
    assert s3.get_object(Bucket="s3-basic", Key="dst2")["Body"].read() == b"source"


def test_bad_signature_and_unknown_key_and_anonymous(gateway, s3):
    wrong = gateway.s3()
    wrong._request_signer._credentials.secret_key = "wrong"
    assert code_of(wrong.list_buckets) == "SignatureDoesNotMatch"
    s3.put_object(Bucket="s3-basic", Key="private", Body=b"x")
    status, headers, body = gateway.raw("GET", "/s3-basic/private")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and headers["x-amz-request-id"].startswith("tx")
    dated = {"Authorization": "AWS NOSUCHKEY:abc", "Date": formatdate(usegmt=True)}
    status, _, body = gateway.raw("GET", "/s3-basic/private", dated)
    assert status == 403 and b"<Code>InvalidAccessKeyId</Code>" in body
    bob = gateway.s3("bob")
    assert code_of(bob.get_object, Bucket="s3-basic", Key="private") == "AccessDenied"


def test_presigned_get_and_bad_md5(gateway, s3):
    s3.put_object(Bucket="s3-basic", Key="shared", Body=b"shared data")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "s3-basic", "Key": "shared"}, ExpiresIn=60)
    status, _, body = gateway.raw("GET", url[len(gateway.url) :])
    assert (status, body) == (200, b"shared data")
    status, _, body = gateway.raw("GET", url[len(gateway.url) :].replace("shared", "shareX", 1))
    assert status == 403 and b"SignatureDoesNotMatch" in body
    assert (
        code_of(s3.put_object, Bucket="s3-basic", Key="md5", Body=b"x", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==")
        == "BadDigest"
    )
    assert code_of(s3.head_object, Bucket="s3-basic", Key="md5") == "404"


def test_copy_source_conditions(s3):
    etag = s3.put_object(Bucket="s3-basic", Key="cond-src", Body=b"c")["ETag"]
    s3.copy_object(Bucket="s3-basic", Key="cond-ok", CopySource="s3-basic/cond-src", CopySourceIfMatch=etag)
    assert s3.get_object(Bucket="s3-basic", Key="cond-ok")["Body"].read() == b"c"
    for condition in ({"CopySourceIfMatch": '"0000"'}, {"CopySourceIfNoneMatch": etag}):
        code = code_of(s3.copy_object, Bucket="s3-basic", Key="cond-no", CopySource="s3-basic/cond-src", **condition)
        assert code == "PreconditionFailed", condition
    assert code_of(s3.head_object, Bucket="s3-basic", Key="cond-no") == "404"
    s3.put_object(Bucket="s3-basic", Key="odd?key", Body=b"q")  # a '?' in the key, sent as %3F
    s3.copy_object(Bucket="s3-basic", Key="odd-copy", CopySource={"Bucket": "s3-basic", "Key": "odd?key"})
    assert s3.get_object(Bucket="s3-basic", Key="odd-copy")["Body"].read() == b"q"
