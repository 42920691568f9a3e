"""Container and account quotas through a real gunicorn gateway: python-swiftclient, chunked
uploads that cross a limit by one byte (nothing stored), a limit met exactly, count quotas, a
non-reseller refused, S3 uploads over a quota answered ``QuotaExceeded``, the core's bucket
quota; and both filters in a real OpenStack Swift proxy (``tests/swift/aio.py``)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from swiftclient import client as swift

import librgw
from tests.swift import aio

pytestmark = pytest.mark.slow


def chunks(data: bytes, size: int = 3):
    """``data`` as an iterator, which swiftclient sends with ``Transfer-Encoding: chunked``."""
    return iter([data[i : i + size] for i in range(0, len(data), size)])


def status_of(call) -> int:
    with pytest.raises(swift.ClientException) as failure:
        call()
    return failure.value.http_status


@pytest.fixture
def container(gateway) -> tuple[swift.Connection, str]:
    conn = gateway.connection()
    name = f"q-{uuid.uuid4().hex[:8]}"
    conn.put_container(name)
    return conn, name


def test_container_bytes_quota_met_exactly_then_crossed_by_one_chunked_byte(container):
    conn, name = container
    conn.post_container(name, {"X-Container-Meta-Quota-Bytes": "10"})
    conn.put_object(name, "a", contents=chunks(b"12345"))
    conn.put_object(name, "b", contents=chunks(b"12345"))  # exactly at the limit
    assert status_of(lambda: conn.put_object(name, "c", contents=chunks(b"1"))) == 413
    conn.post_container(name, {"X-Container-Meta-Quota-Bytes": "14"})
    assert status_of(lambda: conn.put_object(name, "c", contents=chunks(b"12345"))) == 413
    headers, listing = conn.get_container(name)
    assert [o["name"] for o in listing] == ["a", "b"]
    assert headers["x-container-bytes-used"] == "10"
    assert headers["x-container-object-count"] == "2"
    assert status_of(lambda: conn.head_object(name, "c")) == 404


def test_container_bytes_quota_refuses_known_length_before_reading(gateway, container):
    conn, name = container
    conn.post_container(name, {"X-Container-Meta-Quota-Bytes": "4"})
    storage_url, token = gateway.login("alice:swift", "alice-key")
    path = storage_url.split(str(gateway.port), 1)[1]
    status, _, body = gateway.raw("PUT", f"{path}/{name}/big", {"X-Auth-Token": token}, b"12345")
    assert (status, body) == (413, b"Upload exceeds quota.")
    status, _, _ = gateway.raw("PUT", f"{path}/{name}/fits", {"X-Auth-Token": token}, b"1234")
    assert status == 201


def test_container_count_quota(container):
    conn, name = container
    conn.put_container(name, {"X-Container-Meta-Quota-Count": "2"})
    conn.put_object(name, "a", b"x")
    conn.put_object(name, "b", b"x")
    assert status_of(lambda: conn.put_object(name, "c", b"x")) == 413
    assert status_of(lambda: conn.put_object(name, "c", b"x", headers={"X-Copy-From": f"{name}/a"})) == 413


def test_copy_into_container_over_quota_is_refused(container):
    conn, name = container
    conn.put_object(name, "src", b"123456")
    conn.post_container(name, {"X-Container-Meta-Quota-Bytes": "10"})
    assert status_of(lambda: conn.copy_object(name, "src", f"/{name}/dst")) == 413
    assert status_of(lambda: conn.put_object(name, "dst", b"", headers={"X-Copy-From": f"{name}/src"})) == 413


def test_invalid_container_quotas_are_400_with_swifts_message(container):
    conn, name = container
    with pytest.raises(swift.ClientException) as failure:
        conn.post_container(name, {"X-Container-Meta-Quota-Bytes": "abc"})
    assert (failure.value.http_status, failure.value.http_response_content) == (400, b"Invalid bytes quota.")
    with pytest.raises(swift.ClientException) as failure:
        conn.put_container(name, {"X-Container-Meta-Quota-Count": "-1"})
    assert (failure.value.http_status, failure.value.http_response_content) == (400, b"Invalid count quota.")


def test_account_quota_only_a_reseller_sets_and_it_limits_uploads(gateway):
    bob = gateway.connection("bob:swift", "bob-key")
    assert status_of(lambda: bob.post_account({"X-Account-Meta-Quota-Bytes": "100"})) == 403

    bob_url, _ = gateway.login("bob:swift", "bob-key")
    _, root_token = gateway.login("root:swift", "root-key")
    with pytest.raises(swift.ClientException) as failure:
        swift.post_account(bob_url, root_token, {"X-Account-Meta-Quota-Bytes": "abc"})
    assert failure.value.http_status == 400
    used = int(bob.head_account()["x-account-bytes-used"])
    swift.post_account(bob_url, root_token, {"X-Account-Meta-Quota-Bytes": str(used + 8)})
    assert bob.head_account()["x-account-meta-quota-bytes"] == str(used + 8)
    bob.put_container("aq")
    bob.put_object("aq", "fits", contents=chunks(b"12345678"))  # exactly at the limit
    assert status_of(lambda: bob.put_object("aq", "over", contents=chunks(b"1"))) == 413
    assert status_of(lambda: bob.head_object("aq", "over")) == 404
    assert int(bob.head_account()["x-account-bytes-used"]) == used + 8
    swift.post_account(bob_url, root_token, {"X-Remove-Account-Meta-Quota-Bytes": "x"})
    bob.put_object("aq", "over", b"1")


def test_s3_upload_over_a_container_quota_is_quota_exceeded(gateway, container):
    conn, name = container
    conn.post_container(name, {"X-Container-Meta-Quota-Bytes": "4"})
    s3 = gateway.s3()
    with pytest.raises(ClientError) as failure:
        s3.put_object(Bucket=name, Key="big", Body=b"12345")
    assert failure.value.response["Error"]["Code"] == "QuotaExceeded"
    assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    s3.put_object(Bucket=name, Key="fits", Body=b"1234")
    with pytest.raises(ClientError) as failure:
        s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "fits"})
    assert failure.value.response["Error"]["Code"] == "QuotaExceeded"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["fits"]


def test_core_bucket_quota_is_413_on_swift_and_quota_exceeded_on_s3(gateway):
    conn = gateway.connection()
    name = f"cq-{uuid.uuid4().hex[:8]}"
    conn.put_container(name)
    with librgw.connect(gateway.conf) as rgw:
        rgw.buckets.set_quota(name, max_size=8, enabled=True)
    conn.put_object(name, "fits", contents=chunks(b"1234"))
    assert status_of(lambda: conn.put_object(name, "over", contents=chunks(b"12345"))) == 413
    assert status_of(lambda: conn.head_object(name, "over")) == 404
    with pytest.raises(ClientError) as failure:
        gateway.s3().put_object(Bucket=name, Key="over", Body=b"12345")
    assert failure.value.response["Error"]["Code"] == "QuotaExceeded"
    assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    gateway.s3().put_object(Bucket=name, Key="rest", Body=b"1234")  # exactly at the limit
    assert [o["name"] for o in conn.get_container(name)[1]] == ["fits", "rest"]


@pytest.fixture(scope="module")
def swift_proxy(tmp_path_factory):
    """A real Swift all-in-one whose proxy runs this project's quota filters after tempauth."""
    yield from aio.running(
        Path(tmp_path_factory.mktemp("swift-aio")),
        filters=(
            aio.ProxyFilter("container_quotas", "egg:librgw#container_quotas"),
            aio.ProxyFilter("account_quotas", "egg:librgw#account_quotas"),
        ),
    )


def test_container_quotas_in_a_swift_proxy(swift_proxy):
    token, url = swift_proxy.token()
    conn = swift.Connection(preauthurl=url, preauthtoken=token, retries=0)
    with pytest.raises(swift.ClientException) as failure:
        conn.put_container("quoted", {"X-Container-Meta-Quota-Bytes": "ten"})
    assert (failure.value.http_status, failure.value.http_response_content) == (400, b"Invalid bytes quota.")
    conn.put_container("quoted", {"X-Container-Meta-Quota-Bytes": "10", "X-Container-Meta-Quota-Count": "3"})
    conn.put_object("quoted", "a", contents=chunks(b"12345"))
    conn.put_object("quoted", "b", b"12345")  # exactly at the limit
    assert status_of(lambda: conn.put_object("quoted", "c", contents=chunks(b"1"))) == 413
    assert status_of(lambda: conn.put_object("quoted", "c", b"1")) == 413
    assert status_of(lambda: conn.head_object("quoted", "c")) == 404
    assert [o["name"] for o in conn.get_container("quoted")[1]] == ["a", "b"]
    conn.post_container("quoted", {"X-Container-Meta-Quota-Bytes": ""})
    conn.put_object("quoted", "c", b"1")
    assert status_of(lambda: conn.put_object("quoted", "d", b"1")) == 413  # the count quota


def test_account_quotas_in_a_swift_proxy(swift_proxy):
    token, url = swift_proxy.token()
    conn = swift.Connection(preauthurl=url, preauthtoken=token, retries=0)
    assert status_of(lambda: conn.post_account({"X-Account-Meta-Quota-Bytes": "4"})) == 403
    reseller_token = swift_proxy.token(aio.RESELLER, aio.RESELLER_KEY)[0]
    swift.post_account(url, reseller_token, {"X-Account-Meta-Quota-Bytes": "4"})
    conn.put_container("acct")
    # Swift's account stats lag (its container-updater): the upload's own size crosses the quota
    assert status_of(lambda: conn.put_object("acct", "over", contents=chunks(b"12345"))) == 413
    assert status_of(lambda: conn.put_object("acct", "over", b"12345")) == 413
    assert status_of(lambda: conn.head_object("acct", "over")) == 404
    conn.put_object("acct", "fits", contents=chunks(b"1234"))
    swift.post_account(url, reseller_token, {"X-Remove-Account-Meta-Quota-Bytes": "x"})
    conn.put_object("acct", "over", b"12345")
