"""Bucket and object tagging, CORS (configuration, preflight, actual requests) and lifecycle
rules end to end: boto3 and raw HTTP over a real gunicorn, through the s3 middleware and the
native sub-resources to the core; the lifecycle agent run as the operator runs it."""

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.slow

BUCKET = "s3-extras"
MiB = 1024 * 1024


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


def tag_set(tags: dict) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def as_dict(tags: list[dict]) -> dict:
    return {t["Key"]: t["Value"] for t in tags}


@pytest.fixture(scope="module")
def s3(gateway):
    client = gateway.s3()
    client.create_bucket(Bucket=BUCKET)
    return client


# -- tagging -------------------------------------------------------------------------------


def test_bucket_tagging_put_get_delete_and_limits(s3):
    assert code_of(s3.get_bucket_tagging, Bucket=BUCKET) == "NoSuchTagSet"
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": tag_set({"team": "blue", "cost": "ü-12"})})
    assert as_dict(s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]) == {"team": "blue", "cost": "ü-12"}
    too_many = {f"k{n}": "v" for n in range(51)}
    assert code_of(s3.put_bucket_tagging, Bucket=BUCKET, Tagging={"TagSet": tag_set(too_many)}) == "InvalidTag"
    twice = [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]
    assert code_of(s3.put_bucket_tagging, Bucket=BUCKET, Tagging={"TagSet": twice}) == "InvalidTag"
    long_key = {"k" * 129: "v"}
    assert code_of(s3.put_bucket_tagging, Bucket=BUCKET, Tagging={"TagSet": tag_set(long_key)}) == "InvalidTag"
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": tag_set({f"k{n}": "v" * 256 for n in range(50)})})
    assert len(s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]) == 50
    s3.delete_bucket_tagging(Bucket=BUCKET)
    assert code_of(s3.get_bucket_tagging, Bucket=BUCKET) == "NoSuchTagSet"
    assert code_of(s3.get_bucket_tagging, Bucket="no-such-bucket-here") == "NoSuchBucket"


def test_object_tags_come_with_puts_and_change_in_place(s3):
    s3.put_object(Bucket=BUCKET, Key="tagged", Body=b"data", Tagging="project=blue&state=new%20one")
    got = s3.get_object(Bucket=BUCKET, Key="tagged")
    assert got["TagCount"] == 2 and got["Body"].read() == b"data"
    head = s3.head_object(Bucket=BUCKET, Key="tagged")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    assert as_dict(s3.get_object_tagging(Bucket=BUCKET, Key="tagged")["TagSet"]) == {
        "project": "blue",
        "state": "new one",
    }
    s3.put_object_tagging(Bucket=BUCKET, Key="tagged", Tagging={"TagSet": tag_set({"only": "this"})})
    assert as_dict(s3.get_object_tagging(Bucket=BUCKET, Key="tagged")["TagSet"]) == {"only": "this"}
    after = s3.head_object(Bucket=BUCKET, Key="tagged")
    assert (after["ETag"], after["LastModified"]) == (head["ETag"], head["LastModified"])  # the data stays
    s3.delete_object_tagging(Bucket=BUCKET, Key="tagged")
    assert s3.get_object_tagging(Bucket=BUCKET, Key="tagged")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=BUCKET, Key="tagged")
    eleven = tag_set({f"k{n}": "v" for n in range(11)})
    assert code_of(s3.put_object_tagging, Bucket=BUCKET, Key="tagged", Tagging={"TagSet": eleven}) == "InvalidTag"
    assert code_of(s3.put_object, Bucket=BUCKET, Key="bad", Body=b"x", Tagging="a=1&a=2") == "InvalidTag"
    assert code_of(s3.head_object, Bucket=BUCKET, Key="bad") == "404"  # refused before anything was stored
    assert code_of(s3.get_object_tagging, Bucket=BUCKET, Key="missing") == "NoSuchKey"
    assert code_of(s3.put_object_tagging, Bucket=BUCKET, Key="missing", Tagging={"TagSet": []}) == "NoSuchKey"


def test_copies_keep_or_replace_tags_and_multipart_uploads_carry_them(s3):
    s3.put_object(Bucket=BUCKET, Key="source", Body=b"src", Tagging="a=1")
    s3.copy_object(Bucket=BUCKET, Key="copy-kept", CopySource=f"{BUCKET}/source")
    assert as_dict(s3.get_object_tagging(Bucket=BUCKET, Key="copy-kept")["TagSet"]) == {"a": "1"}
    s3.copy_object(
        Bucket=BUCKET, Key="copy-new", CopySource=f"{BUCKET}/source", TaggingDirective="REPLACE", Tagging="b=2"
    )
    assert as_dict(s3.get_object_tagging(Bucket=BUCKET, Key="copy-new")["TagSet"]) == {"b": "2"}
    s3.copy_object(Bucket=BUCKET, Key="copy-none", CopySource=f"{BUCKET}/source", TaggingDirective="REPLACE")
    assert s3.get_object_tagging(Bucket=BUCKET, Key="copy-none")["TagSet"] == []
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="big", Tagging="kind=upload")["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key="big", UploadId=upload, PartNumber=1, Body=b"p" * 1024)
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="big", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    )
    assert as_dict(s3.get_object_tagging(Bucket=BUCKET, Key="big")["TagSet"]) == {"kind": "upload"}


def test_tags_of_versions(s3):
    s3.create_bucket(Bucket="s3-tag-versions")
    s3.put_bucket_versioning(Bucket="s3-tag-versions", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="s3-tag-versions", Key="k", Body=b"1", Tagging="v=1")["VersionId"]
    second = s3.put_object(Bucket="s3-tag-versions", Key="k", Body=b"2", Tagging="v=2")["VersionId"]
    got = s3.get_object_tagging(Bucket="s3-tag-versions", Key="k")
    assert as_dict(got["TagSet"]) == {"v": "2"} and got["VersionId"] == second
    put = s3.put_object_tagging(
        Bucket="s3-tag-versions", Key="k", VersionId=first, Tagging={"TagSet": tag_set({"v": "one"})}
    )
    assert put["VersionId"] == first
    assert as_dict(s3.get_object_tagging(Bucket="s3-tag-versions", Key="k", VersionId=first)["TagSet"]) == {"v": "one"}
    assert as_dict(s3.get_object_tagging(Bucket="s3-tag-versions", Key="k")["TagSet"]) == {"v": "2"}
    assert s3.get_object(Bucket="s3-tag-versions", Key="k", VersionId=first)["TagCount"] == 1
    s3.delete_object(Bucket="s3-tag-versions", Key="k")  # a delete marker
    assert code_of(s3.get_object_tagging, Bucket="s3-tag-versions", Key="k") == "NoSuchKey"
    bogus = "A" * 32
    assert code_of(s3.get_object_tagging, Bucket="s3-tag-versions", Key="k", VersionId=bogus) == "NoSuchVersion"


def test_native_api_serves_the_same_tags(gateway, s3):
    s3.put_object(Bucket=BUCKET, Key="native", Body=b"n", Tagging="x=1")
    url, token = gateway.login("alice:swift", "alice-key")
    account = url[len(gateway.url) :]
    status, headers, body = gateway.raw("GET", f"{account}/{BUCKET}/native?tagging", {"X-Auth-Token": token})
    assert status == 200 and json.loads(body) == {"x": "1"}
    status, _, _ = gateway.raw(
        "PUT", f"{account}/{BUCKET}/native?tagging", {"X-Auth-Token": token}, json.dumps({"y": "2"}).encode()
    )
    assert status == 204
    assert as_dict(s3.get_object_tagging(Bucket=BUCKET, Key="native")["TagSet"]) == {"y": "2"}
    status, headers, _ = gateway.raw("HEAD", f"{account}/{BUCKET}/native", {"X-Auth-Token": token})
    assert headers["X-Object-Tagging-Count"] == "1"
    reader_url, reader_token = gateway.login("alice:reader", "reader-key")
    status, _, _ = gateway.raw(
        "PUT", f"{account}/{BUCKET}/native?tagging", {"X-Auth-Token": reader_token}, json.dumps({}).encode()
    )
    assert status == 403  # changing tags takes WRITE
    status, _, _ = gateway.raw("GET", f"{account}/{BUCKET}/native?tagging", {"X-Auth-Token": reader_token})
    assert status == 200


# -- CORS ------------------------------------------------------------------------------------

CORS = {
    "CORSRules": [
        {
            "ID": "site",
            "AllowedOrigins": ["https://*.example.com"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["content-type", "x-amz-*"],
            "ExposeHeaders": ["ETag", "x-amz-request-id"],
            "MaxAgeSeconds": 600,
        },
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]},
    ]
}


@pytest.fixture(scope="module")
def cors_bucket(s3):
    s3.create_bucket(Bucket="s3-cors")
    s3.put_object(Bucket="s3-cors", Key="page.html", Body=b"<p>hi</p>")
    return "s3-cors"


def test_cors_configuration_put_get_delete_and_refusals(s3, cors_bucket):
    assert code_of(s3.get_bucket_cors, Bucket=cors_bucket) == "NoSuchCORSConfiguration"
    s3.put_bucket_cors(Bucket=cors_bucket, CORSConfiguration=CORS)
    rules = s3.get_bucket_cors(Bucket=cors_bucket)["CORSRules"]
    assert rules == CORS["CORSRules"]
    bad_method = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}
    assert code_of(s3.put_bucket_cors, Bucket=cors_bucket, CORSConfiguration=bad_method) == "InvalidRequest"
    two_wildcards = {"CORSRules": [{"AllowedOrigins": ["https://*.*.com"], "AllowedMethods": ["GET"]}]}
    assert code_of(s3.put_bucket_cors, Bucket=cors_bucket, CORSConfiguration=two_wildcards) == "InvalidRequest"
    many = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101}
    assert code_of(s3.put_bucket_cors, Bucket=cors_bucket, CORSConfiguration=many) == "MalformedXML"
    assert s3.get_bucket_cors(Bucket=cors_bucket)["CORSRules"] == CORS["CORSRules"]  # refusals changed nothing
    s3.delete_bucket_cors(Bucket=cors_bucket)
    assert code_of(s3.get_bucket_cors, Bucket=cors_bucket) == "NoSuchCORSConfiguration"
    s3.put_bucket_cors(Bucket=cors_bucket, CORSConfiguration=CORS)


def test_preflight_needs_no_auth_and_follows_the_rules(gateway, s3, cors_bucket):
    s3.put_bucket_cors(Bucket=cors_bucket, CORSConfiguration=CORS)
    asked = {
        "Origin": "https://app.example.com",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "Content-Type, X-Amz-Meta-Color",
    }
    status, headers, body = gateway.raw("OPTIONS", f"/{cors_bucket}/page.html", asked)
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert headers["Access-Control-Allow-Headers"] == "content-type, x-amz-meta-color"
    assert headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"
    assert headers["Access-Control-Max-Age"] == "600"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in headers["Vary"]
    status, headers, _ = gateway.raw(
        "OPTIONS", f"/{cors_bucket}", {"Origin": "https://other.org", "Access-Control-Request-Method": "GET"}
    )
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"  # the second rule
    for refused in (
        {"Origin": "https://other.org", "Access-Control-Request-Method": "PUT"},  # no rule lets it PUT
        {**asked, "Access-Control-Request-Headers": "Authorization"},  # a header the rule does not allow
        {**asked, "Origin": "http://app.example.com"},  # another scheme
    ):
        status, _, body = gateway.raw("OPTIONS", f"/{cors_bucket}/page.html", refused)
        assert status == 403 and b"<Code>AccessForbidden</Code>" in body and b"CORSResponse" in body, refused
    status, _, body = gateway.raw("OPTIONS", f"/{BUCKET}/x", asked)  # a bucket without rules
    assert status == 403 and b"CORSResponse" in body
    status, _, body = gateway.raw("OPTIONS", "/no-such-bucket-here/x", asked)
    assert status == 403 and b"CORSResponse" in body
    assert gateway.raw("OPTIONS", f"/{cors_bucket}/page.html", {"Access-Control-Request-Method": "GET"})[0] == 400
    assert gateway.raw("OPTIONS", f"/{cors_bucket}/page.html", {"Origin": "https://a.example.com"})[0] == 400


def test_actual_cross_origin_requests_get_the_allow_headers(gateway, s3, cors_bucket):
    s3.put_bucket_cors(Bucket=cors_bucket, CORSConfiguration=CORS)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "page.html"})
    path = url[len(gateway.url) :]
    status, headers, body = gateway.raw("GET", path, {"Origin": "https://app.example.com"})
    assert status == 200 and body == b"<p>hi</p>"
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"
    assert "Origin" in headers["Vary"]
    status, headers, _ = gateway.raw("GET", path, {"Origin": "https://elsewhere.net"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    status, headers, _ = gateway.raw("GET", path)
    assert status == 200 and not any(name.startswith("Access-Control") for name in headers)
    missing = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "nope"})
    status, headers, _ = gateway.raw("GET", missing[len(gateway.url) :], {"Origin": "https://app.example.com"})
    assert status == 404 and headers["Access-Control-Allow-Origin"] == "https://app.example.com"  # errors too
    other = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "tagged"})
    status, headers, _ = gateway.raw("GET", other[len(gateway.url) :], {"Origin": "https://app.example.com"})
    assert not any(name.startswith("Access-Control") for name in headers)  # that bucket has no rules


# -- lifecycle ---------------------------------------------------------------------------------

LIFECYCLE = {
    "Rules": [
        {
            "ID": "logs",
            "Filter": {"Prefix": "logs/"},
            "Status": "Enabled",
            "Expiration": {"Days": 30},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
        },
        {
            "ID": "tmp-tagged",
            "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "temp", "Value": "yes"}]}},
            "Status": "Disabled",
            "Expiration": {"Date": datetime(2030, 1, 1, tzinfo=UTC)},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2},
        },
        {"ID": "old-style", "Prefix": "old/", "Status": "Enabled", "Expiration": {"Days": 365}},
    ]
}


def test_lifecycle_configuration_put_get_delete_and_refusals(s3):
    s3.create_bucket(Bucket="s3-lifecycle")
    get = s3.get_bucket_lifecycle_configuration
    assert code_of(get, Bucket="s3-lifecycle") == "NoSuchLifecycleConfiguration"
    s3.put_bucket_lifecycle_configuration(Bucket="s3-lifecycle", LifecycleConfiguration=LIFECYCLE)
    rules = {rule["ID"]: rule for rule in get(Bucket="s3-lifecycle")["Rules"]}
    assert rules["logs"] == LIFECYCLE["Rules"][0]
    assert rules["tmp-tagged"]["Filter"] == LIFECYCLE["Rules"][1]["Filter"]
    assert rules["tmp-tagged"]["Expiration"]["Date"] == datetime(2030, 1, 1, tzinfo=UTC)
    assert rules["tmp-tagged"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2}
    assert rules["old-style"]["Prefix"] == "old/" and "Filter" not in rules["old-style"]

    def refused(*rules) -> str:
        return code_of(
            s3.put_bucket_lifecycle_configuration, Bucket="s3-lifecycle", LifecycleConfiguration={"Rules": list(rules)}
        )

    base = {"ID": "r", "Filter": {"Prefix": ""}, "Status": "Enabled"}
    assert refused({**base, "Expiration": {"Days": 0}}) == "InvalidArgument"
    assert refused({**base, "Expiration": {"Date": datetime(2030, 1, 1, 12, tzinfo=UTC)}}) == "InvalidArgument"
    assert refused({**base, "Expiration": {"Days": 1}}, {**base, "Expiration": {"Days": 2}}) == "InvalidArgument"
    assert refused(base) == "InvalidRequest"  # no action
    assert refused({**base, "Status": "Sometimes", "Expiration": {"Days": 1}}) == "MalformedXML"
    tagged_abort = {
        **base,
        "Filter": {"Tag": {"Key": "a", "Value": "b"}},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }
    assert refused(tagged_abort) == "InvalidRequest"
    assert len(get(Bucket="s3-lifecycle")["Rules"]) == 3  # refusals changed nothing
    s3.delete_bucket_lifecycle(Bucket="s3-lifecycle")
    assert code_of(get, Bucket="s3-lifecycle") == "NoSuchLifecycleConfiguration"


def librgw_admin(gateway, *args: str) -> object:
    done = subprocess.run(
        [sys.executable, "-m", "librgw.cli.main", "-c", gateway.conf, "admin", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_lifecycle_agent_expires_what_the_rules_say(gateway, s3):
    s3.create_bucket(Bucket="s3-expiring")
    rules = {
        "Rules": [
            {"ID": "past", "Filter": {"Prefix": "gone/"}, "Status": "Enabled", "Expiration": {"Date": "2020-01-01"}},
            {"ID": "month", "Filter": {"Prefix": "keep/"}, "Status": "Enabled", "Expiration": {"Days": 30}},
        ]
    }
    s3.put_bucket_lifecycle_configuration(Bucket="s3-expiring", LifecycleConfiguration=rules)
    big = b"t" * (5 * MiB)  # with tails, which go to the GC queue
    for key in ("gone/a", "gone/b", "keep/c", "other"):
        s3.put_object(Bucket="s3-expiring", Key=key, Body=big)
    head = s3.head_object(Bucket="s3-expiring", Key="keep/c")
    assert head["Expiration"].startswith('expiry-date="') and head["Expiration"].endswith('rule-id="month"')
    assert "Expiration" not in s3.head_object(Bucket="s3-expiring", Key="other")
    listed = librgw_admin(gateway, "lc", "list")
    assert [e["status"] for e in listed if e["bucket"].startswith(":s3-expiring:")] == ["UNINITIAL"]

    report = librgw_admin(gateway, "lc", "process")
    mine = [b for b in report["buckets"] if b["bucket"] == "s3-expiring"]
    assert mine == [{"bucket": "s3-expiring", "status": "COMPLETE", "expired": 2, "noncurrent_expired": 0,
                     "delete_markers_removed": 0, "aborted_uploads": 0}]  # fmt: skip
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="s3-expiring")["Contents"]]
    assert keys == ["keep/c", "other"]
    assert code_of(s3.get_object, Bucket="s3-expiring", Key="gone/a") == "NoSuchKey"
    again = librgw_admin(gateway, "lc", "process", "--bucket", "s3-expiring")
    assert again["expired"] == 0 and again["buckets"][0]["status"] == "COMPLETE"  # idempotent
    listed = librgw_admin(gateway, "lc", "list")
    assert [e["status"] for e in listed if e["bucket"].startswith(":s3-expiring:")] == ["COMPLETE"]
    gc = librgw_admin(gateway, "gc", "list", "--include-all")
    assert sum(len(entry["objs"]) for entry in gc) >= 2  # the expired objects' tails wait for GC


def test_another_user_may_neither_read_nor_change_the_configurations(gateway, s3, cors_bucket):
    bob = gateway.s3("bob")
    s3.put_object(Bucket=BUCKET, Key="alices", Body=b"a", Tagging="a=1")
    assert code_of(bob.get_bucket_tagging, Bucket=BUCKET) == "AccessDenied"
    assert code_of(bob.get_bucket_cors, Bucket=cors_bucket) == "AccessDenied"
    assert code_of(bob.put_bucket_cors, Bucket=cors_bucket, CORSConfiguration=CORS) == "AccessDenied"
    assert code_of(bob.delete_bucket_lifecycle, Bucket=BUCKET) == "AccessDenied"
    assert code_of(bob.get_object_tagging, Bucket=BUCKET, Key="alices") == "AccessDenied"
    assert code_of(bob.delete_object_tagging, Bucket=BUCKET, Key="alices") == "AccessDenied"
    status, _, body = gateway.raw("PUT", f"/{BUCKET}?tagging", {}, b"<Tagging><TagSet/></Tagging>")
    assert status == 403 and b"AccessDenied" in body  # anonymous
    assert as_dict(s3.get_object_tagging(Bucket=BUCKET, Key="alices")["TagSet"]) == {"a": "1"}


def test_a_bucket_policy_may_deny_the_configurations_even_to_the_owner(s3):
    s3.create_bucket(Bucket="s3-denied")
    s3.put_object(Bucket="s3-denied", Key="k", Body=b"k")
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:PutObjectTagging", "s3:PutBucketCORS", "s3:GetLifecycleConfiguration"],
                "Resource": ["arn:aws:s3:::s3-denied", "arn:aws:s3:::s3-denied/*"],
            }
        ],
    }
    s3.put_bucket_policy(Bucket="s3-denied", Policy=json.dumps(deny))
    tagging = {"TagSet": tag_set({"a": "1"})}
    assert code_of(s3.put_object_tagging, Bucket="s3-denied", Key="k", Tagging=tagging) == "AccessDenied"
    assert code_of(s3.put_bucket_cors, Bucket="s3-denied", CORSConfiguration=CORS) == "AccessDenied"
    assert code_of(s3.get_bucket_lifecycle_configuration, Bucket="s3-denied") == "AccessDenied"
    assert s3.get_object_tagging(Bucket="s3-denied", Key="k")["TagSet"] == []  # not denied
    s3.put_bucket_tagging(Bucket="s3-denied", Tagging=tagging)
    s3.delete_bucket_policy(Bucket="s3-denied")
    s3.put_object_tagging(Bucket="s3-denied", Key="k", Tagging=tagging)
