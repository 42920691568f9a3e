"""S3 ACLs and bucket policies over a real gunicorn, driven by boto3 and by anonymous raw
HTTP: the scenarios of the S3 documentation, and the same decisions for Swift clients."""

import json
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.slow

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


def error_code(body: bytes) -> str:
    return ET.fromstring(body).findtext("Code")


@pytest.fixture(scope="module")
def alice(gateway):
    return gateway.s3()


@pytest.fixture(scope="module")
def bob(gateway):
    return gateway.s3("bob")


def make_bucket(alice, name: str, **kwargs) -> str:
    alice.create_bucket(Bucket=name, **kwargs)
    alice.put_object(Bucket=name, Key="doc", Body=b"private stuff")
    return name


def grants_of(answer: dict) -> set[tuple[str, str]]:
    """(grantee, permission) of a GetBucketAcl/GetObjectAcl answer, grantees by ID or URI."""
    return {(g["Grantee"].get("ID") or g["Grantee"]["URI"], g["Permission"]) for g in answer["Grants"]}


def test_buckets_and_objects_are_private_by_default(gateway, alice, bob):
    make_bucket(alice, "acl-private")
    assert code_of(bob.get_object, Bucket="acl-private", Key="doc") == "AccessDenied"
    assert code_of(bob.list_objects_v2, Bucket="acl-private") == "AccessDenied"
    assert code_of(bob.put_object, Bucket="acl-private", Key="x", Body=b"x") == "AccessDenied"
    assert code_of(bob.get_bucket_acl, Bucket="acl-private") == "AccessDenied"
    for path in ("/acl-private/doc", "/acl-private", "/acl-private?acl", "/acl-private/doc?acl"):
        status, headers, body = gateway.raw("GET", path)
        assert (status, error_code(body)) == (403, "AccessDenied"), path
        assert headers["Content-Type"].startswith("application/xml")
    assert gateway.raw("PUT", "/acl-private/new", body=b"x")[0] == 403
    acl = alice.get_bucket_acl(Bucket="acl-private")
    assert grants_of(acl) == {("alice", "FULL_CONTROL")}
    assert grants_of(alice.get_object_acl(Bucket="acl-private", Key="doc")) == {("alice", "FULL_CONTROL")}


def test_get_bucket_acl_is_the_document_boto3_parses(alice):
    alice.create_bucket(Bucket="acl-shape", ACL="public-read")
    acl = alice.get_bucket_acl(Bucket="acl-shape")
    assert acl["Owner"] == {"ID": "alice", "DisplayName": "Alice"}
    assert {
        "Grantee": {"Type": "CanonicalUser", "ID": "alice", "DisplayName": "Alice"},
        "Permission": "FULL_CONTROL",
    } in acl["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in acl["Grants"]
    assert len(acl["Grants"]) == 2


def test_public_read_bucket_lists_for_anyone_but_objects_take_their_own_grant(gateway, alice):
    make_bucket(alice, "acl-public-bucket", ACL="public-read")
    status, _, body = gateway.raw("GET", "/acl-public-bucket")
    assert status == 200 and [k.text for k in ET.fromstring(body).iter(S3_NS + "Key")] == ["doc"]
    assert gateway.raw("HEAD", "/acl-public-bucket")[0] == 200
    # as in S3: the bucket's READ lists its objects; reading one takes the object's own READ
    status, _, body = gateway.raw("GET", "/acl-public-bucket/doc")
    assert (status, error_code(body)) == (403, "AccessDenied")
    alice.put_object(Bucket="acl-public-bucket", Key="page.html", Body=b"<h1>hi</h1>", ACL="public-read")
    assert gateway.raw("GET", "/acl-public-bucket/page.html")[2] == b"<h1>hi</h1>"
    status, _, body = gateway.raw("GET", "/acl-public-bucket/missing")  # may list: told it is missing
    assert (status, error_code(body)) == (404, "NoSuchKey")
    assert gateway.raw("PUT", "/acl-public-bucket/new", body=b"x")[0] == 403
    # Swift clients get the same answers from the same ACL
    assert gateway.raw("GET", "/v1/AUTH_alice/acl-public-bucket")[2] == b"doc\npage.html\n"
    assert gateway.raw("GET", "/v1/AUTH_alice/acl-public-bucket/page.html")[0] == 200
    assert gateway.raw("GET", "/v1/AUTH_alice/acl-public-bucket/doc")[0] == 401


def test_public_read_object_in_a_private_bucket_is_that_object_only(gateway, alice):
    make_bucket(alice, "acl-public-object")
    alice.put_object(Bucket="acl-public-object", Key="open", Body=b"for all", ACL="public-read")
    assert gateway.raw("GET", "/acl-public-object/open")[2] == b"for all"
    assert gateway.raw("HEAD", "/acl-public-object/open")[0] == 200
    assert gateway.raw("GET", "/acl-public-object/doc")[0] == 403
    assert gateway.raw("GET", "/acl-public-object")[0] == 403
    status, _, body = gateway.raw("GET", "/acl-public-object/missing")  # may not list: not told
    assert (status, error_code(body)) == (403, "AccessDenied")
    assert gateway.raw("GET", "/acl-public-object/open?acl")[0] == 403  # READ is not READ_ACP
    assert grants_of(alice.get_object_acl(Bucket="acl-public-object", Key="open")) == {
        ("alice", "FULL_CONTROL"),
        (ALL_USERS, "READ"),
    }
    alice.put_object_acl(Bucket="acl-public-object", Key="open", ACL="private")
    assert gateway.raw("GET", "/acl-public-object/open")[0] == 403


def test_grants_to_a_user_by_canonical_id(alice, bob):
    make_bucket(alice, "acl-grants")
    alice.put_bucket_acl(
        Bucket="acl-grants",
        AccessControlPolicy={
            "Owner": {"ID": "alice"},
            "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": "alice"}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "CanonicalUser", "ID": "bob"}, "Permission": "READ"},
            ],
        },
    )
    assert [o["Key"] for o in bob.list_objects_v2(Bucket="acl-grants")["Contents"]] == ["doc"]
    assert code_of(bob.get_object, Bucket="acl-grants", Key="doc") == "AccessDenied"
    alice.put_object_acl(Bucket="acl-grants", Key="doc", GrantRead='id="bob"', GrantFullControl='id="alice"')
    assert bob.get_object(Bucket="acl-grants", Key="doc")["Body"].read() == b"private stuff"
    assert code_of(bob.put_object, Bucket="acl-grants", Key="x", Body=b"x") == "AccessDenied"
    assert code_of(bob.get_object_acl, Bucket="acl-grants", Key="doc") == "AccessDenied"
    assert code_of(alice.put_bucket_acl, Bucket="acl-grants", GrantRead='id="nobody-such"') == "InvalidArgument"
    assert code_of(alice.put_bucket_acl, Bucket="acl-grants", GrantRead="bogus") == "InvalidArgument"


def test_authenticated_read(gateway, alice, bob):
    make_bucket(alice, "acl-authenticated")
    alice.put_object(Bucket="acl-authenticated", Key="members", Body=b"m", ACL="authenticated-read")
    assert bob.get_object(Bucket="acl-authenticated", Key="members")["Body"].read() == b"m"
    assert gateway.raw("GET", "/acl-authenticated/members")[0] == 403
    assert (AUTHENTICATED, "READ") in grants_of(alice.get_object_acl(Bucket="acl-authenticated", Key="members"))


def test_write_grant_lets_bob_put_and_bob_owns_what_he_writes(alice, bob):
    make_bucket(alice, "acl-dropbox")
    alice.put_bucket_acl(Bucket="acl-dropbox", GrantWrite='id="bob"', GrantFullControl='id="alice"')
    bob.put_object(Bucket="acl-dropbox", Key="from-bob", Body=b"hi")
    assert bob.get_object(Bucket="acl-dropbox", Key="from-bob")["Body"].read() == b"hi"  # his own
    acl = bob.get_object_acl(Bucket="acl-dropbox", Key="from-bob")
    assert acl["Owner"]["ID"] == "bob" and grants_of(acl) == {("bob", "FULL_CONTROL")}
    assert code_of(alice.get_object, Bucket="acl-dropbox", Key="from-bob") == "AccessDenied"  # bob's, as in S3
    assert code_of(alice.get_object_acl, Bucket="acl-dropbox", Key="from-bob") == "AccessDenied"
    assert code_of(bob.get_object, Bucket="acl-dropbox", Key="doc") == "AccessDenied"  # alice's
    assert code_of(bob.list_objects_v2, Bucket="acl-dropbox") == "AccessDenied"
    bob.put_object(Bucket="acl-dropbox", Key="shared", Body=b"s", ACL="bucket-owner-full-control")
    assert grants_of(alice.get_object_acl(Bucket="acl-dropbox", Key="shared")) == {
        ("bob", "FULL_CONTROL"),
        ("alice", "FULL_CONTROL"),
    }
    assert alice.get_object(Bucket="acl-dropbox", Key="shared")["Body"].read() == b"s"
    alice.delete_object(Bucket="acl-dropbox", Key="from-bob")  # yet it is in her bucket: she may delete it
    bob.copy_object(Bucket="acl-dropbox", Key="copy", CopySource={"Bucket": "acl-dropbox", "Key": "shared"})
    assert grants_of(bob.get_object_acl(Bucket="acl-dropbox", Key="copy")) == {("bob", "FULL_CONTROL")}
    bob.delete_object(Bucket="acl-dropbox", Key="doc")  # WRITE on a bucket deletes any of its objects
    assert code_of(alice.head_object, Bucket="acl-dropbox", Key="doc") == "404"


def test_read_acp_and_write_acp(alice, bob):
    make_bucket(alice, "acl-acp")
    alice.put_bucket_acl(Bucket="acl-acp", GrantReadACP='id="bob"', GrantFullControl='id="alice"')
    assert ("bob", "READ_ACP") in grants_of(bob.get_bucket_acl(Bucket="acl-acp"))
    assert code_of(bob.put_bucket_acl, Bucket="acl-acp", ACL="public-read") == "AccessDenied"
    assert code_of(bob.list_objects_v2, Bucket="acl-acp") == "AccessDenied"
    alice.put_bucket_acl(Bucket="acl-acp", GrantWriteACP='id="bob"', GrantFullControl='id="alice"')
    assert code_of(bob.get_bucket_acl, Bucket="acl-acp") == "AccessDenied"
    bob.put_bucket_acl(Bucket="acl-acp", GrantRead='id="bob"', GrantFullControl='id="alice"')
    assert [o["Key"] for o in bob.list_objects_v2(Bucket="acl-acp")["Contents"]] == ["doc"]
    owner_change = {"Owner": {"ID": "bob"}, "Grants": []}
    assert code_of(alice.put_bucket_acl, Bucket="acl-acp", AccessControlPolicy=owner_change) == "MalformedACLError"


def test_acl_requests_that_are_not_acls(gateway, alice):
    make_bucket(alice, "acl-bad")
    assert code_of(alice.put_object, Bucket="acl-bad", Key="x", Body=b"x", ACL="everyone-please") == "InvalidArgument"
    assert (
        code_of(alice.put_object, Bucket="acl-bad", Key="x", Body=b"x", ACL="public-read", GrantRead='id="bob"')
        == "InvalidRequest"
    )
    assert code_of(alice.head_object, Bucket="acl-bad", Key="x") == "404"  # nothing was stored
    assert code_of(alice.put_bucket_acl, Bucket="acl-bad", GrantRead='emailAddress="nobody@example.com"') == (
        "UnresolvableGrantByEmailAddress"
    )
    client = gateway.s3()

    def bad_document(request, **_):
        request.data = b"<AccessControlPolicy><Owner><ID>alice</ID></Owner><Bogus/></AccessControlPolicy>"
        del request.headers["Content-MD5"]

    client.meta.events.register("before-sign.s3.PutBucketAcl", bad_document)
    assert code_of(client.put_bucket_acl, Bucket="acl-bad", ACL="private") == "UnexpectedContent"

    def without_canned_acl(request, **_):
        del request.headers["x-amz-acl"]

    client.meta.events.register("before-sign.s3.PutBucketAcl", without_canned_acl)
    assert code_of(client.put_bucket_acl, Bucket="acl-bad", ACL="private") == "MalformedACLError"


def test_policy_allowing_bob_get_object(alice, bob):
    make_bucket(alice, "acl-policy-get")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BobReads",
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam:::user/bob"]},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::acl-policy-get/*",
            }
        ],
    }
    alice.put_bucket_policy(Bucket="acl-policy-get", Policy=json.dumps(policy))
    assert json.loads(alice.get_bucket_policy(Bucket="acl-policy-get")["Policy"]) == policy
    assert bob.get_object(Bucket="acl-policy-get", Key="doc")["Body"].read() == b"private stuff"
    assert code_of(bob.list_objects_v2, Bucket="acl-policy-get") == "AccessDenied"
    assert code_of(bob.put_object, Bucket="acl-policy-get", Key="x", Body=b"x") == "AccessDenied"
    assert code_of(bob.get_bucket_policy, Bucket="acl-policy-get") == "AccessDenied"
    assert code_of(bob.delete_bucket_policy, Bucket="acl-policy-get") == "AccessDenied"
    alice.delete_bucket_policy(Bucket="acl-policy-get")
    assert code_of(bob.get_object, Bucket="acl-policy-get", Key="doc") == "AccessDenied"
    assert code_of(alice.get_bucket_policy, Bucket="acl-policy-get") == "NoSuchBucketPolicy"


def test_policy_for_anyone_and_its_deny_overriding_acl_grants_and_the_owner(gateway, alice, bob):
    make_bucket(alice, "acl-policy-deny", ACL="public-read")
    alice.put_object(Bucket="acl-policy-deny", Key="secret/plans", Body=b"p", ACL="public-read")
    alice.put_object(Bucket="acl-policy-deny", Key="open", Body=b"o")
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::acl-policy-deny/*",
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:Get*", "s3:ListBucket"],
                "Resource": ["arn:aws:s3:::acl-policy-deny/secret/*", "arn:aws:s3:::acl-policy-deny"],
            },
        ]
    }
    alice.put_bucket_policy(Bucket="acl-policy-deny", Policy=json.dumps(policy))
    assert gateway.raw("GET", "/acl-policy-deny/open")[2] == b"o"  # allowed by the policy, not the ACL
    assert bob.get_object(Bucket="acl-policy-deny", Key="open")["Body"].read() == b"o"
    assert gateway.raw("GET", "/acl-policy-deny/secret/plans")[0] == 403  # its ACL says READ; the deny wins
    assert code_of(bob.get_object, Bucket="acl-policy-deny", Key="secret/plans") == "AccessDenied"
    assert code_of(alice.get_object, Bucket="acl-policy-deny", Key="secret/plans") == "AccessDenied"
    assert gateway.raw("GET", "/acl-policy-deny")[0] == 403  # the bucket's public-read: denied too
    assert code_of(alice.list_objects_v2, Bucket="acl-policy-deny") == "AccessDenied"
    assert gateway.raw("GET", "/v1/AUTH_alice/acl-policy-deny/secret/plans")[0] == 401  # and to Swift clients
    alice.get_bucket_policy(Bucket="acl-policy-deny")  # the owner is never locked out of the policy
    alice.delete_bucket_policy(Bucket="acl-policy-deny")
    assert gateway.raw("GET", "/acl-policy-deny/secret/plans")[2] == b"p"


def test_malformed_and_unsupported_policies(alice):
    alice.create_bucket(Bucket="acl-policy-bad")
    assert code_of(alice.get_bucket_policy, Bucket="acl-policy-bad") == "NoSuchBucketPolicy"

    def statement(**fields):
        base = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::acl-policy-bad/*",
        }
        return json.dumps({"Version": "2012-10-17", "Statement": [{**base, **fields}]})

    malformed = [
        "{not json",
        json.dumps({"Version": "2012-10-17"}),
        statement(Effect="Maybe"),
        statement(Action="s3:FlyAway"),
        statement(Action="s3:ListBucket"),  # a bucket action on objects only
        statement(Resource="arn:aws:s3:::someone-elses/*"),
        statement(Principal={"AWS": "arn:aws:iam:::user/nobody-such"}),
        statement(Principal={"Service": "ec2.amazonaws.com"}),
        statement(Condition={"IpAddress": {"aws:SourceIp": "not-an-address"}}),
    ]
    for policy in malformed:
        assert code_of(alice.put_bucket_policy, Bucket="acl-policy-bad", Policy=policy) == "MalformedPolicy", policy
    for policy in (statement(Condition={"StringLike": {"s3:prefix": "a*"}}), statement(NotPrincipal="*")):
        assert code_of(alice.put_bucket_policy, Bucket="acl-policy-bad", Policy=policy) == "NotImplemented", policy
    assert code_of(alice.get_bucket_policy, Bucket="acl-policy-bad") == "NoSuchBucketPolicy"


def test_swift_acls_and_s3_acls_are_one(gateway, alice):
    swift = gateway.connection()
    swift.put_container("acl-swift", headers={"X-Container-Read": ".r:*,.rlistings"})
    swift.put_object("acl-swift", "page", b"hello")
    assert gateway.raw("GET", "/acl-swift/page")[2] == b"hello"  # S3 anonymous: Swift's read-objects grant
    assert gateway.raw("GET", "/acl-swift")[0] == 200
    assert (ALL_USERS, "READ") in grants_of(alice.get_bucket_acl(Bucket="acl-swift"))
    alice.put_bucket_acl(Bucket="acl-swift", ACL="private")  # replaces the Swift grants too
    assert gateway.raw("GET", "/v1/AUTH_alice/acl-swift/page")[0] == 401
    assert "x-container-read" not in swift.head_container("acl-swift")
    alice.put_bucket_acl(Bucket="acl-swift", GrantWrite='id="bob"', GrantRead=f'uri="{ALL_USERS}"')
    headers = swift.head_container("acl-swift")
    assert headers["x-container-write"] == "bob"
    assert gateway.raw("GET", "/v1/AUTH_alice/acl-swift")[0] == 200  # S3's public listing, for Swift too
    # a Swift read ACL by referrer decides S3 requests too
    swift.post_container("acl-swift", {"X-Container-Read": ".r:.example.com"})
    assert gateway.raw("GET", "/acl-swift/page", {"Referer": "http://www.example.com/"})[0] == 200
    assert gateway.raw("GET", "/acl-swift/page", {"Referer": "http://evil.org/"})[0] == 403
    assert headers["x-container-write"] == swift.head_container("acl-swift")["x-container-write"]  # kept


def test_native_acl_and_policy_sub_resources_are_the_owners(gateway, alice):
    alice.create_bucket(Bucket="acl-native")
    swift = gateway.connection()
    url, token = swift.get_auth()
    path = url[len(gateway.url) :] + "/acl-native"
    status, _, body = gateway.raw("GET", path + "?acl", {"X-Auth-Token": token})
    assert status == 200 and json.loads(body) == {
        "owner": "alice",
        "grants": [{"type": "user", "id": "alice", "permission": "FULL_CONTROL"}],
    }
    assert gateway.raw("PUT", path + "?acl", {"X-Auth-Token": token, "X-Librgw-Acl": "public-read"})[0] == 204
    assert gateway.raw("GET", "/acl-native")[0] == 200
    _, bob_token = gateway.connection("bob:swift", "bob-key").get_auth()
    _, rw_token = gateway.connection("alice:rw", "rw-key").get_auth()
    for token_of_other in (bob_token, rw_token):
        headers = {"X-Auth-Token": token_of_other, "X-Librgw-Acl": "public-read-write"}
        assert gateway.raw("PUT", path + "?acl", headers)[0] == 403
        assert gateway.raw("PUT", path + "?policy", {"X-Auth-Token": token_of_other}, b"{}")[0] == 403
    assert gateway.raw("PUT", path + "?acl", {"X-Auth-Token": token}, b'{"grants": [{"type": "x"}]}')[0] == 400
    status, headers, _ = gateway.raw("GET", path + "?policy", {"X-Auth-Token": token})
    assert (status, headers["X-Librgw-Error"]) == (404, "NoSuchBucketPolicy")
    # an object written with X-Librgw-Acl, and its ACL read back
    headers = {"X-Auth-Token": token, "X-Librgw-Acl": "public-read"}
    assert gateway.raw("PUT", path + "/obj", headers, b"data")[0] == 201
    assert gateway.raw("GET", "/acl-native/obj")[2] == b"data"
    status, _, body = gateway.raw("GET", path + "/obj?acl", {"X-Auth-Token": token})
    assert {"type": "group", "id": "AllUsers", "permission": "READ"} in json.loads(body)["grants"]


def test_multipart_upload_with_a_canned_acl(gateway, alice):
    alice.create_bucket(Bucket="acl-multipart")
    upload = alice.create_multipart_upload(Bucket="acl-multipart", Key="big", ACL="public-read")
    part = alice.upload_part(Bucket="acl-multipart", Key="big", UploadId=upload["UploadId"], PartNumber=1, Body=b"x")
    alice.complete_multipart_upload(
        Bucket="acl-multipart",
        Key="big",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert gateway.raw("GET", "/acl-multipart/big")[2] == b"x"


def test_anonymous_refusal_is_access_denied_xml(gateway, alice):
    alice.create_bucket(Bucket="acl-anonymous")
    status, headers, body = gateway.raw("DELETE", "/acl-anonymous")
    root = ET.fromstring(body)
    assert status == 403 and root.tag == "Error" and root.findtext("Code") == "AccessDenied"
    assert root.findtext("Resource") == "/acl-anonymous" and headers["x-amz-request-id"] == root.findtext("RequestId")
    alice.head_bucket(Bucket="acl-anonymous")


def test_a_browser_form_upload_takes_its_acl_field(gateway, alice):
    import requests

    alice.create_bucket(Bucket="acl-forms")
    form = alice.generate_presigned_post(
        "acl-forms", "shared", Fields={"acl": "public-read"}, Conditions=[{"acl": "public-read"}]
    )
    answer = requests.post(form["url"], data=form["fields"], files={"file": ("f", b"form")}, timeout=30)
    assert answer.status_code == 204, answer.text
    assert gateway.raw("GET", "/acl-forms/shared")[2] == b"form"
    form = alice.generate_presigned_post("acl-forms", "bad", Fields={"acl": "open"}, Conditions=[{"acl": "open"}])
    answer = requests.post(form["url"], data=form["fields"], files={"file": ("f", b"form")}, timeout=30)
    assert answer.status_code == 400 and "InvalidArgument" in answer.text


def test_each_version_has_its_own_acl_and_versions_take_their_own_actions(gateway, alice, bob):
    alice.create_bucket(Bucket="acl-versions")
    alice.put_bucket_versioning(Bucket="acl-versions", VersioningConfiguration={"Status": "Enabled"})
    first = alice.put_object(Bucket="acl-versions", Key="doc", Body=b"one", ACL="public-read")["VersionId"]
    second = alice.put_object(Bucket="acl-versions", Key="doc", Body=b"two")["VersionId"]
    assert gateway.raw("GET", "/acl-versions/doc")[0] == 403  # the current version is private
    assert gateway.raw("GET", f"/acl-versions/doc?versionId={first}")[2] == b"one"
    alice.put_object_acl(Bucket="acl-versions", Key="doc", VersionId=second, ACL="public-read")
    assert gateway.raw("GET", "/acl-versions/doc")[2] == b"two"
    assert (ALL_USERS, "READ") in grants_of(alice.get_object_acl(Bucket="acl-versions", Key="doc", VersionId=first))
    alice.put_object(Bucket="acl-versions", Key="secret", Body=b"s1")
    old = alice.list_object_versions(Bucket="acl-versions", Prefix="secret")["Versions"][0]["VersionId"]
    alice.put_object(Bucket="acl-versions", Key="secret", Body=b"s2")
    statement = {"Effect": "Allow", "Principal": {"AWS": "bob"}, "Resource": "arn:aws:s3:::acl-versions/*"}
    policy = {"Statement": [{**statement, "Action": ["s3:GetObject", "s3:DeleteObject"]}]}
    alice.put_bucket_policy(Bucket="acl-versions", Policy=json.dumps(policy))
    assert bob.get_object(Bucket="acl-versions", Key="secret")["Body"].read() == b"s2"
    assert code_of(bob.get_object, Bucket="acl-versions", Key="secret", VersionId=old) == "AccessDenied"
    assert code_of(bob.delete_object, Bucket="acl-versions", Key="secret", VersionId=old) == "AccessDenied"
    policy["Statement"].append({**statement, "Sid": "versions", "Action": "s3:*ObjectVersion"})
    alice.put_bucket_policy(Bucket="acl-versions", Policy=json.dumps(policy))
    assert bob.get_object(Bucket="acl-versions", Key="secret", VersionId=old)["Body"].read() == b"s1"
    bob.delete_object(Bucket="acl-versions", Key="secret", VersionId=old)
    assert code_of(alice.get_object, Bucket="acl-versions", Key="secret", VersionId=old) == "NoSuchVersion"
