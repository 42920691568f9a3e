"""PostObject: browser form uploads with a policy signed by boto3's generate_presigned_post."""

import time

import pytest
import requests

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def s3(gateway):
    client = gateway.s3()
    client.create_bucket(Bucket="forms")
    return client


def post(post: dict, data: bytes, filename: str = "photo.jpg", **extra) -> requests.Response:
    return requests.post(post["url"], data={**post["fields"], **extra}, files={"file": (filename, data)}, timeout=30)


def test_a_signed_form_uploads_the_file(s3):
    form = s3.generate_presigned_post(
        "forms", "uploads/${filename}", Fields={"x-amz-meta-tag": "t1"}, Conditions=[{"x-amz-meta-tag": "t1"}]
    )
    answer = post(form, b"form data " * 1000)
    assert answer.status_code == 204, answer.text
    got = s3.get_object(Bucket="forms", Key="uploads/photo.jpg")
    assert got["Body"].read() == b"form data " * 1000 and got["Metadata"] == {"tag": "t1"}


def test_success_action_status_201_answers_a_document(s3):
    form = s3.generate_presigned_post(
        "forms", "k201", Fields={"success_action_status": "201"}, Conditions=[{"success_action_status": "201"}]
    )
    answer = post(form, b"x")
    assert answer.status_code == 201 and "<Key>k201</Key>" in answer.text


def test_sigv4_forms_work_too(gateway):
    s3v4 = gateway.s3(signature_version="s3v4")
    form = s3v4.generate_presigned_post("forms", "v4")
    assert "x-amz-signature" in form["fields"]
    assert post(form, b"v4 data").status_code == 204
    assert s3v4.get_object(Bucket="forms", Key="v4")["Body"].read() == b"v4 data"


def test_policy_conditions_are_enforced(s3):
    form = s3.generate_presigned_post("forms", "small", Conditions=[["content-length-range", 1, 10]])
    assert post(form, b"x" * 11).status_code == 400
    assert post(form, b"x" * 5).status_code == 204
    form = s3.generate_presigned_post("forms", "fixed")
    tampered = {**form, "fields": {**form["fields"], "key": "elsewhere"}}
    assert post(tampered, b"x").status_code == 403  # the key no longer matches the policy
    assert post(form, b"x", **{"x-amz-meta-extra": "1"}).status_code == 403  # a field no condition names
    field = "x-amz-signature" if "x-amz-signature" in form["fields"] else "signature"  # SigV4 or SigV2 forms
    bad_signature = {**form, "fields": {**form["fields"], field: "AAAA" + form["fields"][field][4:]}}
    assert "SignatureDoesNotMatch" in post(bad_signature, b"x").text
    expired = s3.generate_presigned_post("forms", "late", ExpiresIn=1)
    time.sleep(2)
    assert post(expired, b"x").status_code == 403
    assert s3.list_objects_v2(Bucket="forms", Prefix="elsewhere")["KeyCount"] == 0
