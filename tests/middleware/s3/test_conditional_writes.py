"""S3's conditional writes through the whole pipeline: ``If-Match`` and ``If-None-Match: *`` on
PutObject and CompleteMultipartUpload store only when they hold, and otherwise change nothing."""

import hashlib

import pytest

from tests.middleware.s3.conftest import error_code

BUCKET = "cond"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture(scope="module")
def bucket(pipeline) -> str:
    assert pipeline.send("PUT", f"/{BUCKET}").status_int == 200
    return BUCKET


def put(pipeline, key: str, data: bytes, **conditions: str):
    headers = {name.replace("_", "-"): value for name, value in conditions.items()}
    return pipeline.send("PUT", f"/{BUCKET}/{key}", headers, data)


def stored(pipeline, key: str) -> bytes | None:
    answer = pipeline.send("GET", f"/{BUCKET}/{key}")
    return answer.body if answer.status_int == 200 else None


@pytest.mark.parametrize("spelled", ['"{}"', "{}", '"nope", "{}"'])
def test_if_match_with_the_current_etag_replaces_the_object(pipeline, bucket, spelled):
    put(pipeline, "doc", b"v1")
    answer = put(pipeline, "doc", b"v2", If_Match=spelled.format(md5(b"v1")))
    assert answer.status_int == 200 and answer.headers["ETag"] == f'"{md5(b"v2")}"'
    assert stored(pipeline, "doc") == b"v2"


@pytest.mark.parametrize("value", ['"0123456789abcdef0123456789abcdef"', "stale", 'W/"{}"'])
def test_if_match_with_another_etag_is_412_and_the_object_stays(pipeline, bucket, value):
    put(pipeline, "doc", b"kept")
    answer = put(pipeline, "doc", b"overwrite", If_Match=value.format(md5(b"kept")))
    assert (answer.status_int, error_code(answer)) == (412, "PreconditionFailed")
    assert b"<Condition>If-Match</Condition>" in answer.body and answer.headers["x-amz-request-id"]
    assert stored(pipeline, "doc") == b"kept"


def test_if_match_where_there_is_no_object_is_no_such_key_and_stores_nothing(pipeline, bucket):
    for value in (f'"{md5(b"x")}"', "*"):
        answer = put(pipeline, "absent", b"x", If_Match=value)
        assert (answer.status_int, error_code(answer)) == (404, "NoSuchKey")
        assert stored(pipeline, "absent") is None


def test_if_none_match_star_still_creates_but_never_overwrites(pipeline, bucket):
    assert put(pipeline, "once", b"first", If_None_Match="*").status_int == 200
    answer = put(pipeline, "once", b"second", If_None_Match="*")
    assert (answer.status_int, error_code(answer)) == (412, "PreconditionFailed")
    assert b"<Condition>If-None-Match</Condition>" in answer.body
    assert stored(pipeline, "once") == b"first"


def test_copy_object_honours_the_conditions_on_its_destination(pipeline, bucket):
    put(pipeline, "src", b"source")
    put(pipeline, "dst", b"destination")
    copy = {"x-amz-copy-source": f"/{BUCKET}/src"}
    for condition in ({"If-None-Match": "*"}, {"If-Match": md5(b"source")}):  # the source's ETag names nothing here
        answer = pipeline.send("PUT", f"/{BUCKET}/dst", {**copy, **condition})
        assert (answer.status_int, error_code(answer)) == (412, "PreconditionFailed"), condition
    answer = pipeline.send("PUT", f"/{BUCKET}/nowhere", {**copy, "If-Match": "*"})
    assert (answer.status_int, error_code(answer)) == (404, "NoSuchKey")
    assert stored(pipeline, "dst") == b"destination" and stored(pipeline, "nowhere") is None
    answer = pipeline.send("PUT", f"/{BUCKET}/dst", {**copy, "If-Match": md5(b"destination")})
    assert answer.status_int == 200 and stored(pipeline, "dst") == b"source"


def complete_document(etag: str) -> bytes:
    return (
        f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    ).encode()


def test_complete_multipart_upload_honours_if_match_and_keeps_the_upload_when_it_fails(pipeline, bucket):
    put(pipeline, "big", b"old")
    answer = pipeline.send("POST", f"/{BUCKET}/big?uploads")
    upload = answer.body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()
    part = pipeline.send("PUT", f"/{BUCKET}/big?partNumber=1&uploadId={upload}", body=b"joined").headers["ETag"]
    path = f"/{BUCKET}/big?uploadId={upload}"
    answer = pipeline.send("POST", path, {"If-Match": md5(b"other")}, complete_document(part))
    assert (answer.status_int, error_code(answer)) == (412, "PreconditionFailed")
    answer = pipeline.send("POST", path, {"If-None-Match": "*"}, complete_document(part))
    assert (answer.status_int, error_code(answer)) == (412, "PreconditionFailed")
    assert stored(pipeline, "big") == b"old"
    assert upload.encode() in pipeline.send("GET", f"/{BUCKET}?uploads").body  # still there, to complete
    answer = pipeline.send("POST", path, {"If-Match": f'"{md5(b"old")}"'}, complete_document(part))
    assert answer.status_int == 200, answer.body
    assert stored(pipeline, "big") == b"joined"


def test_complete_multipart_upload_if_match_of_a_missing_key_is_no_such_key(pipeline, bucket):
    answer = pipeline.send("POST", f"/{BUCKET}/fresh?uploads")
    upload = answer.body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()
    part = pipeline.send("PUT", f"/{BUCKET}/fresh?partNumber=1&uploadId={upload}", body=b"p").headers["ETag"]
    answer = pipeline.send("POST", f"/{BUCKET}/fresh?uploadId={upload}", {"If-Match": "*"}, complete_document(part))
    assert (answer.status_int, error_code(answer)) == (404, "NoSuchKey")
    assert stored(pipeline, "fresh") is None


def test_if_match_in_a_versioned_bucket_compares_the_current_version(pipeline):
    assert pipeline.send("PUT", "/cond-versioned").status_int == 200
    enable = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
    assert pipeline.send("PUT", "/cond-versioned?versioning", body=enable).status_int == 200
    assert pipeline.send("PUT", "/cond-versioned/k", body=b"v1").status_int == 200
    answer = pipeline.send("PUT", "/cond-versioned/k", {"If-Match": md5(b"other")}, b"v2")
    assert (answer.status_int, error_code(answer)) == (412, "PreconditionFailed")
    assert pipeline.send("PUT", "/cond-versioned/k", {"If-Match": md5(b"v1")}, b"v2").status_int == 200
    assert pipeline.send("GET", "/cond-versioned/k").body == b"v2"
    assert pipeline.send("GET", "/cond-versioned?versions").body.count(b"<Version>") == 2
