"""Buckets: entrypoint and instance in ``root``, index shards, the owner's list, name rules."""

import threading

import pytest

from librgw import rados
from librgw.buckets import INSTANCE_PREFIX, s3_name_problem, swift_name_problem
from librgw.errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidArgument,
    InvalidBucketName,
    NoSuchBucket,
    TooManyBuckets,
    UserSuspended,
)
from librgw.zone import INDEX_POOL, META_POOL


@pytest.fixture
def owner(rgw):
    rgw.users.create("alice", "Alice")
    rgw.users.create("bob", "Bob")
    return "alice"


def objects(client, pool: str, namespace: str = "") -> set[str]:
    with client.open_ioctx(pool) as ioctx:
        ioctx.set_namespace(namespace)
        return {o.key for o in ioctx.list_objects()}


def test_a_bucket_is_an_entrypoint_an_instance_and_eleven_index_shards(rgw, client, owner):
    info = rgw.buckets.create(owner, "photos")
    assert info.marker.startswith(rgw.zone.params.id + ".") and info.num_shards == 11
    assert objects(client, META_POOL, "root") == {"photos", f"{INSTANCE_PREFIX}photos:{info.marker}"}
    assert objects(client, INDEX_POOL) == {f".dir.{info.marker}.{n}" for n in range(11)}
    assert rgw.buckets.get("photos") == info
    assert rgw.buckets.list(owner) == ["photos"] and rgw.buckets.list("bob") == []


def test_names_follow_s3_rules_or_swifts_when_asked(rgw, owner):
    for bad in ("ab", "A-Upper", "under_score", "-start", "end-", "a..b", "192.168.1.1", "xn--abc", "x" * 64):
        assert s3_name_problem(bad), bad
        with pytest.raises(InvalidBucketName):
            rgw.buckets.create(owner, bad)
    for good in ("abc", "my.bucket-2", "x" * 63):
        assert s3_name_problem(good) is None
    assert swift_name_problem("My Container_Ünïcode") is None
    assert swift_name_problem("a/b") and swift_name_problem("") and swift_name_problem("é" * 129)
    assert rgw.buckets.create(owner, "My Container", swift=True).name == "My Container"


def test_one_name_one_owner(rgw, owner):
    rgw.buckets.create(owner, "shared-name")
    with pytest.raises(BucketAlreadyOwnedByYou):
        rgw.buckets.create(owner, "shared-name")
    with pytest.raises(BucketAlreadyExists):
        rgw.buckets.create("bob", "shared-name")
    assert rgw.buckets.list("bob") == []


def test_concurrent_creates_of_one_name_make_one_bucket(rgw, owner):
    outcomes = []

    def create(uid: str) -> None:
        try:
            rgw.buckets.create(uid, "race")
            outcomes.append(uid)
        except BucketAlreadyExists:
            outcomes.append("refused")

    threads = [threading.Thread(target=create, args=(uid,)) for uid in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[1] == "refused" and rgw.buckets.get("race").owner == sorted(outcomes)[0]


def test_delete_only_when_empty_and_then_the_name_is_free(rgw, client, owner):
    info = rgw.buckets.create(owner, "temp")
    with client.open_ioctx(INDEX_POOL) as index, rados.WriteOpCtx() as op:
        index.set_omap(op, ("some-key",), (b"entry",))
        index.operate_write_op(op, info.index_objects()[3])
    with pytest.raises(BucketNotEmpty):
        rgw.buckets.delete("temp")
    with client.open_ioctx(INDEX_POOL) as index, rados.WriteOpCtx() as op:
        index.remove_omap_keys(op, ("some-key",))
        index.operate_write_op(op, info.index_objects()[3])
    with pytest.raises(NoSuchBucket):
        rgw.buckets.delete("temp", uid="bob")
    rgw.buckets.delete("temp")
    assert objects(client, META_POOL, "root") == set() and objects(client, INDEX_POOL) == set()
    assert rgw.buckets.list(owner) == []
    with pytest.raises(NoSuchBucket):
        rgw.buckets.get("temp")
    again = rgw.buckets.create("bob", "temp")
    assert again.marker != info.marker  # new index and data object names


def test_limits_suspension_and_owner_removal(rgw, owner):
    rgw.users.modify(owner, max_buckets=1)
    rgw.buckets.create(owner, "one")
    with pytest.raises(TooManyBuckets):
        rgw.buckets.create(owner, "two")
    with pytest.raises(InvalidArgument):
        rgw.users.remove(owner)  # still owns a bucket
    rgw.users.suspend("bob")
    with pytest.raises(UserSuspended):
        rgw.buckets.create("bob", "bobs")
    rgw.buckets.delete("one")
    rgw.users.remove(owner)


def test_versioning_quota_and_attributes_are_kept(rgw, owner):
    rgw.buckets.create(owner, "bkt")
    assert rgw.buckets.get("bkt").versioning == "off"
    assert rgw.buckets.set_versioning("bkt", "enabled").versioning == "enabled"
    with pytest.raises(InvalidArgument):
        rgw.buckets.set_versioning("bkt", "off")
    rgw.buckets.set_quota("bkt", max_objects=5, enabled=True)
    rgw.buckets.set_attrs("bkt", {"user.rgw.x-amz-meta-color": "blue", "user.rgw.acl": "<acl/>"})
    info = rgw.buckets.get("bkt")
    assert (info.versioning, info.quota.max_objects, info.quota.enabled) == ("enabled", 5, True)
    assert info.attrs["user.rgw.x-amz-meta-color"] == "blue"
    with pytest.raises(NoSuchBucket):
        rgw.buckets.set_versioning("nope", "enabled")
