"""Accounts with their own containers (issue 17, acceptance 1): tenants' Swift accounts
``AUTH_<tenant>`` through python-swiftclient, their buckets through boto3 (``tenant:bucket``
for another tenant's), and Swift's copies across accounts (``X-Copy-From-Account``,
``Destination-Account``), against a real gunicorn gateway."""

import json
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError
from botocore.handlers import validate_bucket_name
from swiftclient.exceptions import ClientException

import librgw

pytestmark = pytest.mark.slow

TENANTS = {"t1": ("T1ACCESSKEY000000000", "t1-secret"), "t2": ("T2ACCESSKEY000000000", "t2-secret")}


@pytest.fixture(scope="module")
def tenants(gateway):
    """Users ``t1$u`` and ``t2$u``, each with a Swift subuser ``swift`` (key ``<tenant>-key``)
    and an S3 key; and a second user of t1, ``t1$v``."""
    with librgw.connect(gateway.conf) as rgw:
        for tenant, (access, secret) in TENANTS.items():
            uid = f"{tenant}$u"
            rgw.users.create(uid, f"{tenant} user", access_key=access, secret_key=secret)
            rgw.users.create_subuser(uid, "swift", "full-control", f"{tenant}-key")
        rgw.users.create("t1$v", "t1 other user", generate_key=False)
        rgw.users.create_subuser("t1$v", "swift", "full-control", "t1v-key")
    return gateway


def conn(gateway, tenant: str):
    return gateway.connection(f"{tenant}$u:swift", f"{tenant}-key")


def s3(gateway, tenant: str):
    """boto3 for ``<tenant>$u``, which may name buckets ``tenant:bucket`` (botocore's own check
    of bucket names would refuse the colon before sending)."""
    import boto3
    from botocore.config import Config

    access, secret = TENANTS[tenant]
    client = boto3.client(
        "s3",
        endpoint_url=gateway.url,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    client.meta.events.unregister("before-parameter-build.s3", validate_bucket_name)
    return client


def test_a_tenant_users_storage_url_is_its_tenants_account(tenants):
    url, _ = tenants.login("t1$u:swift", "t1-key")
    assert url.endswith("/v1/AUTH_t1")
    assert tenants.login("alice:swift", "alice-key")[0].endswith("/v1/AUTH_alice")


def test_two_accounts_each_create_list_fill_and_delete_a_container_of_one_name(tenants):
    one, two, alice = conn(tenants, "t1"), conn(tenants, "t2"), tenants.connection()
    for account, client in (("t1", one), ("t2", two), ("alice", alice)):
        client.put_container("photos")
        client.put_object("photos", "who", account.encode())
    for account, client in (("t1", one), ("t2", two), ("alice", alice)):
        headers, listing = client.get_account()
        assert [c["name"] for c in listing if c["name"] == "photos"] == ["photos"]
        assert [(o["name"], o["bytes"]) for o in client.get_container("photos")[1]] == [("who", len(account))]
        assert client.get_object("photos", "who")[1] == account.encode()
    assert [c["name"] for c in one.get_account()[1]] == ["photos"]  # not t2's, nor alice's
    assert int(one.head_account()["x-account-container-count"]) == 1
    with pytest.raises(ClientException) as missing:
        one.get_object("photos", "nothing")
    assert missing.value.http_status == 404
    one.delete_object("photos", "who")
    one.delete_container("photos")
    assert one.get_account()[1] == []
    assert two.get_object("photos", "who")[1] == b"t2" and alice.get_object("photos", "who")[1] == b"alice"
    for client in (two, alice):
        client.delete_object("photos", "who")
        client.delete_container("photos")


def test_a_tenants_users_share_its_account_but_not_each_others_containers(tenants):
    u, v = conn(tenants, "t1"), tenants.connection("t1$v:swift", "t1v-key")
    u.put_container("mine")
    assert "mine" in [c["name"] for c in v.get_account()[1]]
    with pytest.raises(ClientException) as denied:
        v.put_object("mine", "k", b"x")
    assert denied.value.http_status == 403
    with pytest.raises(ClientException) as taken:
        v.put_container("mine")  # one namespace per tenant: the name is u's
    assert taken.value.http_status == 403
    v.post_account({"X-Account-Meta-Color": "blue"})
    assert u.head_account()["x-account-meta-color"] == "blue"
    u.delete_container("mine")


def test_another_account_is_refused_without_a_grant(tenants):
    one, two = conn(tenants, "t1"), conn(tenants, "t2")
    one.put_container("private")
    one.put_object("private", "k", b"secret")
    t1_url = one.get_auth()[0]
    with pytest.raises(ClientException) as error:
        two.get_object("private", "k")  # t2's own account has no such container
    assert error.value.http_status == 404
    token = two.get_auth()[1]
    status, _, _ = tenants.raw("GET", f"{t1_url.split(tenants.url)[1]}/private/k", {"X-Auth-Token": token})
    assert status == 403
    status, _, _ = tenants.raw("PUT", f"{t1_url.split(tenants.url)[1]}/theirs", {"X-Auth-Token": token})
    assert status == 403
    status, _, _ = tenants.raw("GET", "/v1/AUTH_nosuchtenant", {"X-Auth-Token": token})
    assert status == 404
    one.delete_object("private", "k")
    one.delete_container("private")


def _copy_setup(tenants):
    one, two = conn(tenants, "t1"), conn(tenants, "t2")
    for client in (one, two):
        client.put_container("shared")
    one.put_object("shared", "src", b"from t1", headers={"X-Object-Meta-Kind": "original"})
    return one, two


def _cleanup(*clients):
    for client in clients:
        for item in client.get_container("shared")[1]:
            client.delete_object("shared", item["name"])
        client.delete_container("shared")


def test_put_with_x_copy_from_account_reads_the_source_in_another_account(tenants):
    one, two = _copy_setup(tenants)
    headers = {"X-Copy-From": "shared/src", "X-Copy-From-Account": "AUTH_t1"}
    with pytest.raises(ClientException) as denied:
        two.put_object("shared", "copy", b"", headers=headers)
    assert denied.value.http_status == 403  # t2 may not read t1's container
    one.post_container("shared", {"X-Container-Read": "AUTH_t2"})
    answer = {}
    two.put_object("shared", "copy", b"", headers=headers, response_dict=answer)
    assert answer["status"] == 201
    assert answer["headers"]["x-copied-from"] == "shared/src"
    assert answer["headers"]["x-copied-from-account"] == "AUTH_t1"
    got_headers, body = two.get_object("shared", "copy")
    assert body == b"from t1" and got_headers["x-object-meta-kind"] == "original"
    with pytest.raises(ClientException) as missing:
        two.put_object(
            "shared", "none", b"", headers={"X-Copy-From": "shared/nothing", "X-Copy-From-Account": "AUTH_t1"}
        )
    assert missing.value.http_status == 404
    _cleanup(one, two)


def test_copy_with_destination_account_writes_into_another_account(tenants):
    one, two = _copy_setup(tenants)
    url, token = one.get_auth()
    path = url.split(tenants.url)[1] + "/shared/src"
    copy = {"X-Auth-Token": token, "Destination": "shared/copied", "Destination-Account": "AUTH_t2"}
    assert tenants.raw("COPY", path, copy)[0] == 403  # t1 may not write into t2's container
    two.post_container("shared", {"X-Container-Write": "AUTH_t1"})
    status, headers, _ = tenants.raw("COPY", path, copy)
    assert status == 201
    assert headers["X-Copied-From"] == "shared/src" and headers["X-Copied-From-Account"] == "AUTH_t1"
    assert two.get_object("shared", "copied")[1] == b"from t1"
    assert tenants.raw("COPY", path, {**copy, "Destination-Account": quote("AUTH_t2")})[0] == 201
    for bad in ("", "AUTH_t2/shared"):
        assert tenants.raw("COPY", path, {**copy, "Destination-Account": bad})[0] == 412
    assert tenants.raw("COPY", path, {**copy, "Destination-Account": "AUTH_nosuch"})[0] == 404
    # within one account, as before: no header, X-Copied-From-Account is the path's
    status, headers, _ = tenants.raw("COPY", path, {"X-Auth-Token": token, "Destination": "shared/again"})
    assert status == 201 and headers["X-Copied-From-Account"] == "AUTH_t1"
    _cleanup(one, two)


def test_copy_across_accounts_of_users_without_tenants(tenants):
    alice, bob = tenants.connection(), tenants.connection("bob:swift", "bob-key")
    alice.put_container("from-alice")
    alice.put_object("from-alice", "k", b"alice's")
    bob.put_container("to-bob")
    headers = {"X-Copy-From": "from-alice/k", "X-Copy-From-Account": "AUTH_alice"}
    with pytest.raises(ClientException) as denied:
        bob.put_object("to-bob", "k", b"", headers=headers)
    assert denied.value.http_status == 403
    alice.post_container("from-alice", {"X-Container-Read": "bob"})
    bob.put_object("to-bob", "k", b"", headers=headers)
    assert bob.get_object("to-bob", "k")[1] == b"alice's"
    bob.delete_object("to-bob", "k")
    bob.delete_container("to-bob")
    alice.delete_object("from-alice", "k")
    alice.delete_container("from-alice")


def test_tenants_buckets_through_s3(tenants):
    one, two, alice = s3(tenants, "t1"), s3(tenants, "t2"), tenants.s3("alice")
    for tenant, client in (("t1", one), ("t2", two), ("alice", alice)):
        client.create_bucket(Bucket="albums")
        client.put_object(Bucket="albums", Key="who", Body=tenant.encode())
    for tenant, client in (("t1", one), ("t2", two), ("alice", alice)):
        assert "albums" in [b["Name"] for b in client.list_buckets()["Buckets"]]
        assert [o["Key"] for o in client.list_objects_v2(Bucket="albums")["Contents"]] == ["who"]
        assert client.get_object(Bucket="albums", Key="who")["Body"].read() == tenant.encode()
    assert [b["Name"] for b in one.list_buckets()["Buckets"]] == ["albums"]
    # another tenant's bucket is tenant:bucket, path-style; refused without a grant
    with pytest.raises(ClientError) as denied:
        two.get_object(Bucket="t1:albums", Key="who")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    one.put_bucket_acl(Bucket="albums", ACL="public-read")
    one.put_object_acl(Bucket="albums", Key="who", ACL="public-read")
    assert two.get_object(Bucket="t1:albums", Key="who")["Body"].read() == b"t1"
    assert [o["Key"] for o in two.list_objects_v2(Bucket="t1:albums")["Contents"]] == ["who"]
    alice.put_object_acl(Bucket="albums", Key="who", ACL="public-read")
    assert one.get_object(Bucket=":albums", Key="who")["Body"].read() == b"alice"  # the bucket of no tenant
    with pytest.raises(ClientError) as foreign:
        two.create_bucket(Bucket="t1:newbucket")  # buckets are made only in their owner's tenant
    assert foreign.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as missing:
        two.head_bucket(Bucket="t9:albums")
    assert missing.value.response["Error"]["Code"] == "404"
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::albums/*"}
    policy = json.dumps({"Statement": [deny]})  # the bucket named as its tenant names it
    one.put_bucket_policy(Bucket="albums", Policy=policy)
    with pytest.raises(ClientError) as by_policy:
        two.get_object(Bucket="t1:albums", Key="who")
    assert by_policy.value.response["Error"]["Code"] == "AccessDenied"
    one.delete_bucket_policy(Bucket="albums")
    for client in (one, two, alice):
        client.delete_object(Bucket="albums", Key="who")
        client.delete_bucket(Bucket="albums")
    assert one.list_buckets()["Buckets"] == []


def test_s3_copies_from_another_tenants_or_users_bucket(tenants):
    one, two, alice, bob = s3(tenants, "t1"), s3(tenants, "t2"), tenants.s3("alice"), tenants.s3("bob")
    one.create_bucket(Bucket="source")
    one.put_object(Bucket="source", Key="k", Body=b"t1 data")
    two.create_bucket(Bucket="target")
    with pytest.raises(ClientError) as denied:
        two.copy_object(Bucket="target", Key="copy", CopySource="t1:source/k")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    one.put_object_acl(Bucket="source", Key="k", ACL="authenticated-read")
    two.copy_object(Bucket="target", Key="copy", CopySource="t1:source/k")
    assert two.get_object(Bucket="target", Key="copy")["Body"].read() == b"t1 data"
    upload = two.create_multipart_upload(Bucket="target", Key="parts")["UploadId"]
    part = two.upload_part_copy(Bucket="target", Key="parts", UploadId=upload, PartNumber=1, CopySource="t1:source/k")
    parts = [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]
    two.complete_multipart_upload(Bucket="target", Key="parts", UploadId=upload, MultipartUpload={"Parts": parts})
    assert two.get_object(Bucket="target", Key="parts")["Body"].read() == b"t1 data"
    with pytest.raises(ClientError) as missing:
        two.copy_object(Bucket="target", Key="copy", CopySource="t9:source/k")
    assert missing.value.response["Error"]["Code"] == "NoSuchBucket"
    # users without a tenant: another user's bucket, by its plain name
    alice.create_bucket(Bucket="alice-source")
    alice.put_object(Bucket="alice-source", Key="k", Body=b"alice data", ACL="authenticated-read")
    bob.create_bucket(Bucket="bob-target")
    bob.copy_object(Bucket="bob-target", Key="k", CopySource="alice-source/k")
    assert bob.get_object(Bucket="bob-target", Key="k")["Body"].read() == b"alice data"
    for client, bucket in ((one, "source"), (two, "target"), (alice, "alice-source"), (bob, "bob-target")):
        for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
        client.delete_bucket(Bucket=bucket)
