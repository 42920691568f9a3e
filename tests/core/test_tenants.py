"""Tenants: users ``tenant$uid``, buckets ``tenant/bucket``, Swift accounts, and the names of no tenant."""

import json

import pytest

from librgw.buckets import INSTANCE_PREFIX, ROOT_NS
from librgw.errors import BucketAlreadyOwnedByYou, InvalidArgument, NoSuchBucket, NoSuchUser
from librgw.tenants import (
    account_of,
    bucket_entry,
    s3_bucket_entry,
    split_bucket_entry,
    split_user_id,
    tenant_of,
    tenant_problem,
    user_id,
)
from librgw.users import UID_NS, Account


def test_names_as_rgw_writes_them():
    assert split_user_id("testx$tester") == ("testx", "tester") and split_user_id("alice") == ("", "alice")
    assert user_id("testx", "tester") == "testx$tester" == user_id("testx", "testx$tester")
    assert user_id("", "alice") == "alice" and tenant_of("testx$tester") == "testx" and tenant_of("alice") == ""
    with pytest.raises(InvalidArgument):
        user_id("testx", "other$tester")
    assert account_of("testx$tester") == "testx" and account_of("alice") == "alice"
    assert bucket_entry("testx", "photos") == "testx/photos" and bucket_entry("", "photos") == "photos"
    assert split_bucket_entry("testx/photos") == ("testx", "photos") and split_bucket_entry("photos") == ("", "photos")
    assert s3_bucket_entry("photos", "testx") == "testx/photos"
    assert s3_bucket_entry("other:photos", "testx") == "other/photos"
    assert s3_bucket_entry(":photos", "testx") == "photos"  # a bucket of no tenant, from inside one
    assert tenant_problem("test_x1") is None and tenant_problem("a-b") and tenant_problem("")


def test_two_tenants_each_have_a_bucket_of_one_name(rgw):
    rgw.users.create("t1$u", "T1 U")
    rgw.users.create("t2$u", "T2 U")
    rgw.users.create("alice", "Alice")
    one, two = rgw.buckets.create("t1$u", "photos"), rgw.buckets.create("t2$u", "photos")
    legacy = rgw.buckets.create("alice", "photos")
    assert (one.name, two.name, legacy.name) == ("t1/photos", "t2/photos", "photos")
    assert (one.tenant, one.local_name, legacy.tenant, legacy.local_name) == ("t1", "photos", "", "photos")
    root = {o.key for o in rgw.zone.meta(ROOT_NS).list_objects()}
    assert {"t1/photos", "t2/photos", "photos", f"{INSTANCE_PREFIX}t1/photos:{one.marker}"} <= root
    assert f"t1/photos:{one.marker}" in rgw.buckets.list_instances()
    assert rgw.buckets.get_instance(f"t1/photos:{one.marker}") == one
    assert rgw.buckets.list("t1$u") == ["photos"] and rgw.buckets.list_tenant("t1") == ["photos"]
    assert rgw.buckets.list_tenant("") == ["photos"] and rgw.buckets.list_all() == ["photos", "t1/photos", "t2/photos"]
    rgw.put("t1/photos", "k", b"one")
    rgw.put("t2/photos", "k", b"two")
    assert rgw.get("t1/photos", "k").read() == b"one" and rgw.get("t2/photos", "k").read() == b"two"
    with pytest.raises(BucketAlreadyOwnedByYou):
        rgw.buckets.create("t1$u", "photos")
    rgw.delete("t1/photos", "k")
    rgw.buckets.delete("t1/photos", "t1$u")
    assert rgw.buckets.list("t1$u") == [] and rgw.buckets.get("t2/photos") == two
    with pytest.raises(NoSuchBucket):
        rgw.buckets.get("t1/photos")
    rgw.put("photos", "k", b"legacy")
    assert rgw.get("photos", "k").read() == b"legacy" and rgw.get("t2/photos", "k").read() == b"two"


def test_a_tenant_user_is_checked_and_never_shares_an_account_name(rgw):
    rgw.users.create("acme$joe", "Joe")
    assert rgw.users.get("acme$joe").user_id == "acme$joe"
    assert rgw.users.tenant_users("acme") == ["acme$joe"]
    for bad in ("ac-me$joe", "$joe", "acme$", "a$b$c"):
        with pytest.raises(InvalidArgument):
            rgw.users.create(bad, "Bad")
    with pytest.raises(InvalidArgument, match="share its Swift account"):
        rgw.users.create("acme", "Acme")  # AUTH_acme is the tenant's
    rgw.users.create("solo", "Solo")
    with pytest.raises(InvalidArgument, match="share its Swift account"):
        rgw.users.create("solo$joe", "Joe")  # AUTH_solo is the user's


def test_accounts_are_a_tenants_or_a_user_without_one(rgw):
    rgw.users.create("acme$joe", "Joe")
    rgw.users.create("acme$ann", "Ann")
    rgw.users.create("solo", "Solo")
    assert rgw.users.account("acme") == Account("acme", "acme")
    assert rgw.users.account("solo") == Account("solo")
    for missing in ("nobody", "acme$joe", ""):
        with pytest.raises(NoSuchUser):
            rgw.users.account(missing)
    acme, solo = rgw.users.account("acme"), rgw.users.account("solo")
    assert acme.holds("acme$joe") and acme.holds("acme$ann") and not acme.holds("solo")
    assert solo.holds("solo") and not solo.holds("acme$joe")
    rgw.users.set_account_attrs(acme, {"meta": "tenant's"})
    rgw.users.set_account_attrs(solo, {"meta": "user's"})
    assert rgw.users.account_attrs(acme) == {"meta": "tenant's"}
    assert rgw.users.account_attrs(solo) == {"meta": "user's"} == rgw.users.get("solo").attrs
    rgw.users.remove("acme$joe")
    assert rgw.users.account_attrs(acme) == {"meta": "tenant's"}
    rgw.users.remove("acme$ann")  # the tenant's last user: its account is gone
    with pytest.raises(NoSuchUser):
        rgw.users.account("acme")
    assert rgw.users.account_attrs(acme) == {}


def test_records_written_before_tenants_read_unchanged(rgw):
    """A user and a bucket as the layout had them before tenants: the same objects and
    records, read, listed, written and removed as before."""
    rgw.users.create("alice", "Alice")
    info = rgw.buckets.create("alice", "old")
    meta = rgw.zone.meta(ROOT_NS)
    entrypoint = json.loads(meta.read("old"))
    instance = json.loads(meta.read(f"{INSTANCE_PREFIX}old:{info.marker}"))
    assert entrypoint == {"bucket": "old", "marker": info.marker, "owner": "alice"}
    assert "tenant" not in instance and instance["name"] == "old"
    assert "alice.buckets" in {o.key for o in rgw.zone.meta(UID_NS).list_objects()}
    rgw.put("old", "k", b"data")
    assert rgw.get("old", "k").read() == b"data" and rgw.buckets.list("alice") == ["old"]
    assert [e.key for e in rgw.list("old").objects] == ["k"] and rgw.users.account("alice") == Account("alice")
    assert info.to_json()["tenant"] == "" and info.to_json()["name"] == "old"
