"""S3 multipart uploads end to end: boto3 over a real gunicorn, through the s3 middleware and
the native upload sub-resources to the core."""

import hashlib
import os
import time

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from librgw.multipart import multipart_etag

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
BUCKET = "s3-multipart"


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


def md5_of(path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def write_random(path, size: int) -> None:
    with open(path, "wb") as f:
        for _ in range(size // (8 * MiB)):
            f.write(os.urandom(8 * MiB))
        f.write(os.urandom(size % (8 * MiB)))


@pytest.fixture(scope="module")
def s3(gateway):
    client = gateway.s3()
    client.create_bucket(Bucket=BUCKET)
    return client


def upload_parts(s3, key: str, parts: list[bytes]) -> tuple[str, list[dict]]:
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    done = [
        {
            "PartNumber": n,
            "ETag": s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=n, Body=data)["ETag"],
        }
        for n, data in enumerate(parts, 1)
    ]
    return upload_id, done


def test_upload_file_and_download_file_in_8_mib_parts(s3, tmp_path):
    source, copy = tmp_path / "source", tmp_path / "copy"
    write_random(source, 40 * MiB)
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)
    s3.upload_file(str(source), BUCKET, "forty.bin", Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="forty.bin")
    assert head["ContentLength"] == 40 * MiB and head["ETag"].strip('"').endswith("-5")
    s3.download_file(BUCKET, "forty.bin", str(copy), Config=config)
    assert md5_of(copy) == md5_of(source)
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_create_upload_list_complete_by_hand(s3):
    key = "hand/made ü.bin"
    upload_id = s3.create_multipart_upload(
        Bucket=BUCKET, Key=key, ContentType="video/mp4", Metadata={"take": "3"}, ContentDisposition="inline"
    )["UploadId"]
    first, last = os.urandom(5 * MiB), os.urandom(1000)
    etag1 = s3.upload_part(
        Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=first, ContentMD5=_b64md5(first)
    )["ETag"]
    etag2 = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=2, Body=last)["ETag"]
    assert etag1 == f'"{hashlib.md5(first).hexdigest()}"'

    listed = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [(1, etag1, 5 * MiB), (2, etag2, 1000)]
    assert listed["Initiator"]["ID"] == "alice" and listed["Owner"]["DisplayName"] == "Alice"
    assert not listed["IsTruncated"]
    page = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id, MaxParts=1)
    assert [p["PartNumber"] for p in page["Parts"]] == [1] and page["IsTruncated"]
    assert page["NextPartNumberMarker"] == 1
    rest = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumberMarker=1)
    assert [p["PartNumber"] for p in rest["Parts"]] == [2] and not rest["IsTruncated"]

    other = s3.create_multipart_upload(Bucket=BUCKET, Key="hand/other")["UploadId"]
    uploads = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="hand/")
    assert sorted((u["Key"], u["UploadId"]) for u in uploads["Uploads"]) == [
        ("hand/made ü.bin", upload_id),
        ("hand/other", other),
    ]
    assert uploads["Uploads"][0]["Initiator"]["ID"] == "alice"
    rolled = s3.list_multipart_uploads(Bucket=BUCKET, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["hand/"] and "Uploads" not in rolled
    first_page = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="hand/", MaxUploads=1)
    assert first_page["IsTruncated"] and len(first_page["Uploads"]) == 1
    second_page = s3.list_multipart_uploads(
        Bucket=BUCKET,
        Prefix="hand/",
        KeyMarker=first_page["NextKeyMarker"],
        UploadIdMarker=first_page["NextUploadIdMarker"],
    )
    assert [u["Key"] for u in second_page["Uploads"]] == ["hand/other"] and not second_page["IsTruncated"]
    s3.abort_multipart_upload(Bucket=BUCKET, Key="hand/other", UploadId=other)

    done = s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag1}, {"PartNumber": 2, "ETag": etag2}]},
    )
    assert done["ETag"] == f'"{multipart_etag([etag1.strip(chr(34)), etag2.strip(chr(34))])}"'
    assert done["ETag"].endswith('-2"') and done["Key"] == key and done["Bucket"] == BUCKET
    got = s3.get_object(Bucket=BUCKET, Key=key)
    assert got["Body"].read() == first + last
    assert got["ContentType"] == "video/mp4" and got["Metadata"] == {"take": "3"}
    assert got["ContentDisposition"] == "inline" and got["ETag"] == done["ETag"]
    assert s3.list_multipart_uploads(Bucket=BUCKET, Prefix="hand/").get("Uploads", []) == []
    assert code_of(s3.list_parts, Bucket=BUCKET, Key=key, UploadId=upload_id) == "NoSuchUpload"


def _b64md5(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.md5(data).digest()).decode()


def test_complete_checks_etags_order_and_part_sizes(s3):
    upload_id, parts = upload_parts(s3, "rules", [os.urandom(5 * MiB), b"small", b"last"])
    complete = s3.complete_multipart_upload
    wrong = [{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}, parts[1]]
    assert code_of(complete, Bucket=BUCKET, Key="rules", UploadId=upload_id, MultipartUpload={"Parts": wrong}) == (
        "InvalidPart"
    )
    missing = [parts[0], {"PartNumber": 7, "ETag": parts[1]["ETag"]}]
    assert code_of(complete, Bucket=BUCKET, Key="rules", UploadId=upload_id, MultipartUpload={"Parts": missing}) == (
        "InvalidPart"
    )
    backwards = [parts[1], parts[0]]
    assert code_of(complete, Bucket=BUCKET, Key="rules", UploadId=upload_id, MultipartUpload={"Parts": backwards}) == (
        "InvalidPartOrder"
    )
    assert code_of(complete, Bucket=BUCKET, Key="rules", UploadId=upload_id, MultipartUpload={"Parts": parts}) == (
        "EntityTooSmall"
    )
    # none of that harmed the upload: parts 1 and 3 make an object
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="rules", UploadId=upload_id, MultipartUpload={"Parts": [parts[0], parts[2]]}
    )
    assert s3.head_object(Bucket=BUCKET, Key="rules")["ContentLength"] == 5 * MiB + 4


def test_bad_digest_and_bad_part_numbers(s3):
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="digest")["UploadId"]
    assert (
        code_of(
            s3.upload_part,
            Bucket=BUCKET,
            Key="digest",
            UploadId=upload_id,
            PartNumber=1,
            Body=b"data",
            ContentMD5=_b64md5(b"other"),
        )
        == "BadDigest"
    )
    assert s3.list_parts(Bucket=BUCKET, Key="digest", UploadId=upload_id).get("Parts", []) == []
    for number in (0, 10001):
        assert (
            code_of(s3.upload_part, Bucket=BUCKET, Key="digest", UploadId=upload_id, PartNumber=number, Body=b"x")
            == "InvalidArgument"
        )
    s3.abort_multipart_upload(Bucket=BUCKET, Key="digest", UploadId=upload_id)


def test_abort_then_upload_part_is_no_such_upload(s3):
    upload_id, parts = upload_parts(s3, "aborted", [b"one"])
    s3.abort_multipart_upload(Bucket=BUCKET, Key="aborted", UploadId=upload_id)
    assert (
        code_of(s3.upload_part, Bucket=BUCKET, Key="aborted", UploadId=upload_id, PartNumber=2, Body=b"two")
        == "NoSuchUpload"
    )
    assert code_of(s3.abort_multipart_upload, Bucket=BUCKET, Key="aborted", UploadId=upload_id) == "NoSuchUpload"
    assert (
        code_of(
            s3.complete_multipart_upload,
            Bucket=BUCKET,
            Key="aborted",
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
        == "NoSuchUpload"
    )
    assert code_of(s3.list_parts, Bucket=BUCKET, Key="other-key", UploadId="nope") == "NoSuchUpload"
    assert code_of(s3.head_object, Bucket=BUCKET, Key="aborted") == "404"


def test_upload_part_copy_whole_and_ranged(s3):
    source = os.urandom(7 * MiB)
    s3.put_object(Bucket=BUCKET, Key="copy-source", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="copied")["UploadId"]
    ranged = s3.upload_part_copy(
        Bucket=BUCKET,
        Key="copied",
        UploadId=upload_id,
        PartNumber=1,
        CopySource={"Bucket": BUCKET, "Key": "copy-source"},
        CopySourceRange=f"bytes=1000-{1000 + 5 * MiB - 1}",
    )["CopyPartResult"]
    assert ranged["ETag"] == f'"{hashlib.md5(source[1000 : 1000 + 5 * MiB]).hexdigest()}"'
    assert ranged["LastModified"] is not None
    whole = s3.upload_part_copy(
        Bucket=BUCKET, Key="copied", UploadId=upload_id, PartNumber=2, CopySource=f"{BUCKET}/copy-source"
    )["CopyPartResult"]
    assert whole["ETag"] == f'"{hashlib.md5(source).hexdigest()}"'
    beyond = f"bytes={len(source)}-{len(source) + 10}"
    assert (
        code_of(
            s3.upload_part_copy,
            Bucket=BUCKET,
            Key="copied",
            UploadId=upload_id,
            PartNumber=3,
            CopySource=f"{BUCKET}/copy-source",
            CopySourceRange=beyond,
        )
        == "InvalidRange"
    )
    assert (
        code_of(
            s3.upload_part_copy,
            Bucket=BUCKET,
            Key="copied",
            UploadId=upload_id,
            PartNumber=3,
            CopySource=f"{BUCKET}/no-such-source",
        )
        == "NoSuchKey"
    )
    s3.put_object(Bucket=BUCKET, Key="odd?key ü", Body=b"tail")
    odd = s3.upload_part_copy(
        Bucket=BUCKET, Key="copied", UploadId=upload_id, PartNumber=3, CopySource={"Bucket": BUCKET, "Key": "odd?key ü"}
    )["CopyPartResult"]
    parts = [{"PartNumber": n, "ETag": part["ETag"]} for n, part in enumerate((ranged, whole, odd), 1)]
    s3.complete_multipart_upload(Bucket=BUCKET, Key="copied", UploadId=upload_id, MultipartUpload={"Parts": parts})
    got = s3.get_object(Bucket=BUCKET, Key="copied")["Body"].read()
    assert got == source[1000 : 1000 + 5 * MiB] + source + b"tail"


@pytest.mark.parametrize(
    "body",
    [
        b"<CompleteMultipartUpload><Part>",
        b"<Other/>",
        b"<CompleteMultipartUpload></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
    ],
)
def test_malformed_complete_xml(gateway, s3, body):
    upload_id, parts = upload_parts(s3, "malformed", [b"x"])
    client = gateway.s3()

    def replace_body(request, **_):
        request.data = body  # before signing, so the payload hash matches what is sent

    client.meta.events.register("before-sign.s3.CompleteMultipartUpload", replace_body)
    assert (
        code_of(
            client.complete_multipart_upload,
            Bucket=BUCKET,
            Key="malformed",
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
        == "MalformedXML"
    )
    s3.abort_multipart_upload(Bucket=BUCKET, Key="malformed", UploadId=upload_id)


def test_a_user_without_write_access_is_refused(gateway, s3):
    bob = gateway.s3("bob")
    assert code_of(bob.create_multipart_upload, Bucket=BUCKET, Key="intruder") == "AccessDenied"
    upload_id, parts = upload_parts(s3, "guarded", [b"mine"])
    assert (
        code_of(bob.upload_part, Bucket=BUCKET, Key="guarded", UploadId=upload_id, PartNumber=1, Body=b"theirs")
        == "AccessDenied"
    )
    assert code_of(bob.list_parts, Bucket=BUCKET, Key="guarded", UploadId=upload_id) == "AccessDenied"
    assert code_of(bob.list_multipart_uploads, Bucket=BUCKET) == "AccessDenied"
    assert (
        code_of(
            bob.complete_multipart_upload,
            Bucket=BUCKET,
            Key="guarded",
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
        == "AccessDenied"
    )
    assert code_of(bob.abort_multipart_upload, Bucket=BUCKET, Key="guarded", UploadId=upload_id) == "AccessDenied"
    assert [p["ETag"] for p in s3.list_parts(Bucket=BUCKET, Key="guarded", UploadId=upload_id)["Parts"]] == [
        parts[0]["ETag"]
    ]
    s3.abort_multipart_upload(Bucket=BUCKET, Key="guarded", UploadId=upload_id)


def test_one_gib_upload_file_and_download_file_in_64_mib_parts(s3, tmp_path):
    source, copy = tmp_path / "source", tmp_path / "copy"
    write_random(source, 1024 * MiB)
    config = TransferConfig(multipart_threshold=64 * MiB, multipart_chunksize=64 * MiB, max_concurrency=4)
    started = time.monotonic()
    s3.upload_file(str(source), BUCKET, "one-gib.bin", Config=config)
    uploaded = time.monotonic()
    s3.download_file(BUCKET, "one-gib.bin", str(copy), Config=config)
    downloaded = time.monotonic()
    print(f"1 GiB: upload {uploaded - started:.1f} s, download {downloaded - uploaded:.1f} s")
    assert s3.head_object(Bucket=BUCKET, Key="one-gib.bin")["ETag"].strip('"').endswith("-16")
    assert md5_of(copy) == md5_of(source)
    s3.delete_object(Bucket=BUCKET, Key="one-gib.bin")


def test_get_object_by_part_number(s3):
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(5 * 1024 * 1024), b"tail"]
    upload_id, done = upload_parts(s3, "by-part", parts)
    s3.complete_multipart_upload(Bucket=BUCKET, Key="by-part", UploadId=upload_id, MultipartUpload={"Parts": done})
    key = "by-part"
    for number, data in enumerate(parts, 1):
        got = s3.get_object(Bucket=BUCKET, Key=key, PartNumber=number)
        assert got["Body"].read() == data and got["PartsCount"] == 3
        assert got["ContentLength"] == len(data)
    head = s3.head_object(Bucket=BUCKET, Key=key, PartNumber=2)
    assert head["ContentLength"] == len(parts[1]) and head["PartsCount"] == 3
    assert code_of(s3.get_object, Bucket=BUCKET, Key=key, PartNumber=4) == "InvalidPartNumber"
    s3.put_object(Bucket=BUCKET, Key="single", Body=b"one piece")
    assert s3.get_object(Bucket=BUCKET, Key="single", PartNumber=1)["Body"].read() == b"one piece"
