"""S3 versioning end to end, following the examples of the S3 documentation ("Using versioning
in S3 buckets"): boto3 over a real gunicorn, through the s3 middleware and the native version
sub-resources to the core."""

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.slow


def error_of(call, *args, **kwargs) -> tuple[str, dict]:
    """(S3 error code, response headers) of a call that must fail."""
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPHeaders"]


@pytest.fixture(scope="module")
def s3(gateway):
    return gateway.s3()


def enabled_bucket(s3, name: str) -> str:
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def versions_of(s3, bucket: str, **params) -> list[tuple]:
    """(kind, key, version id, is latest) of every entry, in the listing's order."""
    page = s3.list_object_versions(Bucket=bucket, **params)
    entries = [("V", v["Key"], v["VersionId"], v["IsLatest"], v["LastModified"]) for v in page.get("Versions", [])]
    entries += [
        ("D", d["Key"], d["VersionId"], d["IsLatest"], d["LastModified"]) for d in page.get("DeleteMarkers", [])
    ]
    entries.sort(key=lambda e: (e[1], -e[4].timestamp()))
    return [e[:4] for e in entries]


def test_enabling_suspending_and_reading_the_configuration(s3):
    s3.create_bucket(Bucket="conf")
    assert "Status" not in s3.get_bucket_versioning(Bucket="conf")
    s3.put_bucket_versioning(Bucket="conf", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="conf")["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket="conf", VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket="conf")["Status"] == "Suspended"
    assert error_of(s3.put_bucket_versioning, Bucket="conf", VersioningConfiguration={})[0] == "MalformedXML"
    assert error_of(s3.put_bucket_versioning, Bucket="nope", VersioningConfiguration={"Status": "Enabled"})[0] == (
        "NoSuchBucket"
    )
    mfa = {"Status": "Enabled", "MFADelete": "Enabled"}
    assert error_of(s3.put_bucket_versioning, Bucket="conf", VersioningConfiguration=mfa)[0] == "NotImplemented"


def test_the_same_key_put_three_times_keeps_three_versions(s3):
    """ "Adding objects to versioning-enabled buckets", "Listing objects", "Retrieving object versions"."""
    bucket = enabled_bucket(s3, "photos")
    ids = [s3.put_object(Bucket=bucket, Key="photo.gif", Body=f"v{n}".encode())["VersionId"] for n in (1, 2, 3)]
    assert len(set(ids)) == 3
    assert versions_of(s3, bucket) == [("V", "photo.gif", ids[2], True)] + [
        ("V", "photo.gif", vid, False) for vid in ids[1::-1]
    ]
    got = s3.get_object(Bucket=bucket, Key="photo.gif")
    assert got["Body"].read() == b"v3" and got["VersionId"] == ids[2]
    old = s3.get_object(Bucket=bucket, Key="photo.gif", VersionId=ids[0])
    assert old["Body"].read() == b"v1" and old["VersionId"] == ids[0]
    head = s3.head_object(Bucket=bucket, Key="photo.gif", VersionId=ids[1])
    assert head["ContentLength"] == 2 and head["VersionId"] == ids[1]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["photo.gif"]
    assert error_of(s3.get_object, Bucket=bucket, Key="photo.gif", VersionId="A" * 32)[0] == "NoSuchVersion"
    assert error_of(s3.get_object, Bucket=bucket, Key="photo.gif", VersionId="bad id")[0] == "InvalidArgument"


def test_delete_markers_hide_the_object_and_removing_one_restores_it(s3):
    """ "Deleting object versions", "Working with delete markers", "Removing delete markers"."""
    bucket = enabled_bucket(s3, "markers")
    v1 = s3.put_object(Bucket=bucket, Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="doc", Body=b"two")["VersionId"]
    deleted = s3.delete_object(Bucket=bucket, Key="doc")
    marker = deleted["VersionId"]
    assert deleted["DeleteMarker"] is True and marker not in (v1, v2)

    code, headers = error_of(s3.get_object, Bucket=bucket, Key="doc")
    assert code == "NoSuchKey" and headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == marker
    code, headers = error_of(s3.head_object, Bucket=bucket, Key="doc")
    assert code == "404" and headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == marker
    code, headers = error_of(s3.get_object, Bucket=bucket, Key="doc", VersionId=marker)
    assert code == "MethodNotAllowed" and headers["x-amz-delete-marker"] == "true"
    assert s3.get_object(Bucket=bucket, Key="doc", VersionId=v2)["Body"].read() == b"two"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert versions_of(s3, bucket) == [("D", "doc", marker, True), ("V", "doc", v2, False), ("V", "doc", v1, False)]

    removed = s3.delete_object(Bucket=bucket, Key="doc", VersionId=marker)
    assert removed["VersionId"] == marker and removed["DeleteMarker"] is True
    got = s3.get_object(Bucket=bucket, Key="doc")
    assert got["Body"].read() == b"two" and got["VersionId"] == v2

    gone = s3.delete_object(Bucket=bucket, Key="doc", VersionId=v2)  # permanently
    assert gone["VersionId"] == v2 and "DeleteMarker" not in gone
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"one"
    assert error_of(s3.get_object, Bucket=bucket, Key="doc", VersionId=v2)[0] == "NoSuchVersion"
    assert versions_of(s3, bucket) == [("V", "doc", v1, True)]
    s3.delete_object(Bucket=bucket, Key="never-there")  # adds a marker, as S3 does
    assert [e[0] for e in versions_of(s3, bucket, Prefix="never")] == ["D"]


def test_restoring_a_previous_version_by_copying_it(s3):
    """ "Restoring previous versions": copy the version over its own key."""
    bucket = enabled_bucket(s3, "restore")
    first = s3.put_object(Bucket=bucket, Key="cfg", Body=b"good", Metadata={"state": "good"})
    v1 = first["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="cfg", Body=b"broken")["VersionId"]
    source_v1 = {"Bucket": bucket, "Key": "cfg", "VersionId": v1}
    assert error_of(s3.copy_object, Bucket=bucket, Key="cfg", CopySource=source_v1, CopySourceIfMatch='"0"')[0] == (
        "PreconditionFailed"
    )
    copied = s3.copy_object(Bucket=bucket, Key="cfg", CopySource=source_v1, CopySourceIfMatch=first["ETag"])
    assert copied["CopySourceVersionId"] == v1 and copied["VersionId"] not in (v1, v2)
    got = s3.get_object(Bucket=bucket, Key="cfg")
    assert got["Body"].read() == b"good" and got["Metadata"] == {"state": "good"}
    assert [e[2] for e in versions_of(s3, bucket)] == [copied["VersionId"], v2, v1]

    s3.create_bucket(Bucket="restore-plain")
    plain = s3.copy_object(
        Bucket="restore-plain", Key="k", CopySource={"Bucket": bucket, "Key": "cfg", "VersionId": v2}
    )
    assert plain["CopySourceVersionId"] == v2 and "VersionId" not in plain
    assert s3.get_object(Bucket="restore-plain", Key="k")["Body"].read() == b"broken"
    marker = s3.delete_object(Bucket=bucket, Key="cfg")["VersionId"]
    source = {"Bucket": bucket, "Key": "cfg", "VersionId": marker}
    assert error_of(s3.copy_object, Bucket=bucket, Key="x", CopySource=source)[0] == "InvalidRequest"
    assert error_of(s3.copy_object, Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "cfg"})[0] == (
        "NoSuchKey"
    )
    upload = s3.create_multipart_upload(Bucket="restore-plain", Key="part-copied")["UploadId"]
    part = s3.upload_part_copy(
        Bucket="restore-plain", Key="part-copied", UploadId=upload, PartNumber=1, CopySource={**source, "VersionId": v1}
    )
    assert part["CopySourceVersionId"] == v1
    s3.abort_multipart_upload(Bucket="restore-plain", Key="part-copied", UploadId=upload)


def test_suspended_versioning_writes_null_versions(s3):
    """ "Adding objects to versioning-suspended buckets", "Deleting objects from versioning-suspended buckets"."""
    s3.create_bucket(Bucket="suspended")
    s3.put_object(Bucket="suspended", Key="k", Body=b"before versioning")
    s3.put_bucket_versioning(Bucket="suspended", VersioningConfiguration={"Status": "Enabled"})
    assert s3.head_object(Bucket="suspended", Key="k")["VersionId"] == "null"
    kept = s3.put_object(Bucket="suspended", Key="k", Body=b"versioned")["VersionId"]
    s3.put_bucket_versioning(Bucket="suspended", VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket="suspended", Key="k", Body=b"null 1")["VersionId"] == "null"
    assert s3.put_object(Bucket="suspended", Key="k", Body=b"null 2")["VersionId"] == "null"
    assert versions_of(s3, "suspended") == [("V", "k", "null", True), ("V", "k", kept, False)]
    assert s3.get_object(Bucket="suspended", Key="k", VersionId="null")["Body"].read() == b"null 2"
    deleted = s3.delete_object(Bucket="suspended", Key="k")
    assert deleted["VersionId"] == "null" and deleted["DeleteMarker"] is True
    assert versions_of(s3, "suspended") == [("D", "k", "null", True), ("V", "k", kept, False)]
    assert s3.get_object(Bucket="suspended", Key="k", VersionId=kept)["Body"].read() == b"versioned"


def test_list_object_versions_pages_with_markers_prefix_and_delimiter(s3):
    bucket = enabled_bucket(s3, "listing")
    keys = ["a", "dir/x", "dir/y", "z"]
    ids = {key: [s3.put_object(Bucket=bucket, Key=key, Body=b"%d" % n)["VersionId"] for n in range(3)] for key in keys}
    everything = [(key, vid) for key in keys for vid in reversed(ids[key])]
    walked, params = [], {}
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=5, **params)
        assert page["MaxKeys"] == 5
        walked += [(v["Key"], v["VersionId"]) for v in page["Versions"]]
        if not page["IsTruncated"]:
            break
        params = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert walked == everything
    after_a = s3.list_object_versions(Bucket=bucket, KeyMarker="a")
    assert [v["Key"] for v in after_a["Versions"]] == ["dir/x"] * 3 + ["dir/y"] * 3 + ["z"] * 3
    after_one = s3.list_object_versions(Bucket=bucket, KeyMarker="a", VersionIdMarker=ids["a"][2], MaxKeys=2)
    assert [v["VersionId"] for v in after_one["Versions"]] == [ids["a"][1], ids["a"][0]]

    rolled = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [v["Key"] for v in rolled["Versions"]] == ["a"] * 3 + ["z"] * 3
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["dir/"]
    first = s3.list_object_versions(Bucket=bucket, Delimiter="/", MaxKeys=4)
    assert first["IsTruncated"] and first["NextKeyMarker"] == "dir/" and "NextVersionIdMarker" not in first
    rest = s3.list_object_versions(Bucket=bucket, Delimiter="/", KeyMarker="dir/")
    assert [v["Key"] for v in rest["Versions"]] == ["z"] * 3 and "CommonPrefixes" not in rest
    under = s3.list_object_versions(Bucket=bucket, Prefix="dir/", Delimiter="/")
    assert [v["Key"] for v in under["Versions"]] == ["dir/x"] * 3 + ["dir/y"] * 3 and under["Prefix"] == "dir/"
    assert error_of(s3.list_object_versions, Bucket=bucket, VersionIdMarker=ids["a"][0])[0] == "InvalidArgument"
    assert error_of(s3.list_object_versions, Bucket="no-such-bucket")[0] == "NoSuchBucket"


def test_delete_objects_with_version_ids(s3):
    bucket = enabled_bucket(s3, "bulk")
    v1 = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="a", Body=b"2")["VersionId"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a", "VersionId": v1}, {"Key": "b"}, {"Key": "a", "VersionId": v2}]}
    )
    deleted = {(d["Key"], d.get("VersionId")): d for d in result["Deleted"]}
    assert set(deleted) == {("a", v1), ("a", v2), ("b", None)} and "Errors" not in result
    assert deleted[("b", None)]["DeleteMarker"] is True and len(deleted[("b", None)]["DeleteMarkerVersionId"]) == 32
    assert "DeleteMarker" not in deleted[("a", v1)]
    marker = deleted[("b", None)]["DeleteMarkerVersionId"]
    again = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b", "VersionId": marker}]})["Deleted"]
    assert again == [{"Key": "b", "VersionId": marker, "DeleteMarker": True, "DeleteMarkerVersionId": marker}]
    assert versions_of(s3, bucket)[0][:2] == ("V", "b") and len(versions_of(s3, bucket)) == 1


def test_a_bucket_with_versions_is_not_empty(s3):
    bucket = enabled_bucket(s3, "to-delete")
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    assert error_of(s3.delete_bucket, Bucket=bucket)[0] == "BucketNotEmpty"
    for version_id in (version, marker):
        s3.delete_object(Bucket=bucket, Key="k", VersionId=version_id)
    s3.delete_bucket(Bucket=bucket)


def test_versions_need_the_same_permissions_as_objects(gateway, s3):
    bucket = enabled_bucket(s3, "private-versions")
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    bob = gateway.s3("bob")
    assert error_of(bob.get_object, Bucket=bucket, Key="k", VersionId=version)[0] == "AccessDenied"
    assert error_of(bob.delete_object, Bucket=bucket, Key="k", VersionId=version)[0] == "AccessDenied"
    assert error_of(bob.list_object_versions, Bucket=bucket)[0] == "AccessDenied"
    suspend = {"Status": "Suspended"}
    assert error_of(bob.put_bucket_versioning, Bucket=bucket, VersioningConfiguration=suspend)[0] == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=version)["Body"].read() == b"x"
