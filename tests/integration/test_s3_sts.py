"""STS GetSessionToken and AssumeRole on the S3 endpoint, and S3 requests signed with the temporary credentials."""

import json
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import librgw
from librgw import rados
from librgw.sts import STS_NS
from librgw.zone import META_POOL
from tests.integration.conftest import S3_KEYS

pytestmark = pytest.mark.slow


def client(gateway, service: str, access: str, secret: str, token: str | None = None, **config):
    return boto3.client(
        service,
        endpoint_url=gateway.url,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
    )


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def session(gateway):
    access, secret = S3_KEYS["alice"]
    sts = client(gateway, "sts", access, secret)
    gateway.s3().create_bucket(Bucket="sts-bucket")
    return sts.get_session_token(DurationSeconds=900)["Credentials"]


def test_temporary_credentials_act_as_their_user(gateway, session):
    assert session["AccessKeyId"].startswith("ASIA") and session["SessionToken"]
    assert session["Expiration"].timestamp() == pytest.approx(time.time() + 900, abs=60)
    s3 = client(gateway, "s3", session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
    s3.put_object(Bucket="sts-bucket", Key="k", Body=b"temp")
    assert s3.get_object(Bucket="sts-bucket", Key="k")["Body"].read() == b"temp"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "sts-bucket", "Key": "k"}, ExpiresIn=60)
    status, _, body = gateway.raw("GET", url[len(gateway.url) :])
    assert (status, body) == (200, b"temp"), body


def test_the_session_token_must_come_with_them(gateway, session):
    without = client(gateway, "s3", session["AccessKeyId"], session["SecretAccessKey"])
    assert code_of(without.list_buckets) == "InvalidToken"
    wrong = client(gateway, "s3", session["AccessKeyId"], session["SecretAccessKey"], "not-the-token")
    assert code_of(wrong.list_buckets) == "InvalidToken"
    bad_secret = client(gateway, "s3", session["AccessKeyId"], "wrong", session["SessionToken"])
    assert code_of(bad_secret.list_buckets) == "SignatureDoesNotMatch"


def test_expired_credentials_are_refused(gateway, session):
    access, secret = S3_KEYS["alice"]
    fresh = client(gateway, "sts", access, secret).get_session_token(DurationSeconds=900)["Credentials"]
    with rados.Rados(conffile=gateway.conf) as cluster, cluster.open_ioctx(META_POOL) as ioctx:
        ioctx.set_namespace(STS_NS)
        record = json.loads(ioctx.read(fresh["AccessKeyId"], 4096))
        record["expiration"] = time.time() - 1
        ioctx.write_full(fresh["AccessKeyId"], json.dumps(record).encode())
    s3 = client(gateway, "s3", fresh["AccessKeyId"], fresh["SecretAccessKey"], fresh["SessionToken"])
    assert code_of(s3.list_buckets) == "ExpiredToken"


def test_sts_refuses_what_it_should(gateway, session):
    access, secret = S3_KEYS["alice"]
    sts = client(gateway, "sts", access, secret, parameter_validation=False)  # let the gateway judge
    assert code_of(sts.get_session_token, DurationSeconds=10) == "InvalidParameterValue"
    nested = client(gateway, "sts", session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
    assert code_of(nested.get_session_token) == "AccessDenied"
    assert code_of(client(gateway, "sts", access, "wrong").get_session_token) == "SignatureDoesNotMatch"
    assert code_of(nested.assume_role, RoleArn="arn:aws:iam:::role/r", RoleSessionName="sess") == "AccessDenied"


@pytest.fixture(scope="module")
def role(gateway):
    """Role ``photo-reader``, which alice may assume, that may read bucket ``role-photos`` only."""
    s3 = gateway.s3()
    for bucket in ("role-photos", "role-other"):
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="cat.jpg", Body=b"meow")
    trust = {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam:::user/alice"]}, "Action": "sts:AssumeRole"}
    read = {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::role-photos", "arn:aws:s3:::role-photos/*"],
    }
    with librgw.connect(gateway.conf) as rgw:
        created = rgw.roles.create("photo-reader", json.dumps({"Statement": [trust]}))
        rgw.roles.put_policy("photo-reader", "read-photos", json.dumps({"Statement": [read]}))
    return created


def test_assumed_role_credentials_act_with_the_roles_policies_only(gateway, role):
    access, secret = S3_KEYS["alice"]
    sts = client(gateway, "sts", access, secret)
    answer = sts.assume_role(RoleArn=role.arn, RoleSessionName="nightly", DurationSeconds=900)
    assert answer["AssumedRoleUser"] == {
        "Arn": "arn:aws:sts:::assumed-role/photo-reader/nightly",
        "AssumedRoleId": f"{role.id}:nightly",
    }
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert credentials["Expiration"].timestamp() == pytest.approx(time.time() + 900, abs=60)
    s3 = client(gateway, "s3", credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
    assert s3.get_object(Bucket="role-photos", Key="cat.jpg")["Body"].read() == b"meow"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="role-photos")["Contents"]] == ["cat.jpg"]
    # alice owns both buckets, but the role acts as the role
    assert code_of(s3.put_object, Bucket="role-photos", Key="new", Body=b"x") == "AccessDenied"
    assert code_of(s3.get_object, Bucket="role-other", Key="cat.jpg") == "AccessDenied"
    assert code_of(s3.list_objects_v2, Bucket="role-other") == "AccessDenied"


def test_assume_role_refuses_as_rgw_does(gateway, role):
    bob = client(gateway, "sts", *S3_KEYS["bob"])
    assert code_of(bob.assume_role, RoleArn=role.arn, RoleSessionName="sneaky") == "AccessDenied"
    alice = client(gateway, "sts", *S3_KEYS["alice"], parameter_validation=False)
    with pytest.raises(ClientError) as caught:
        alice.assume_role(RoleArn="arn:aws:iam:::role/nobody", RoleSessionName="s1")
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as caught:
        alice.assume_role(RoleArn=role.arn, RoleSessionName="s1", DurationSeconds=7200)
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert code_of(alice.assume_role, RoleArn=role.arn, RoleSessionName="bad name!") == "ValidationError"
