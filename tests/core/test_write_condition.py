"""Conditional writes in the core: ``If-Match`` and ``If-None-Match: *`` checked by the head's
write itself, so a write that slips in between the check and the replacement is seen."""

import hashlib
import time

import pytest

from librgw.errors import NoObjectToMatch, PreconditionFailed
from librgw.manifest import STRIPE_SIZE
from librgw.objects import CopySource
from librgw.write_condition import WriteCondition
from librgw.write_request import WriteRequest
from tests.core.conftest import data_objects, small_ec_profile

MiB = 1024 * 1024


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    return rgw.create_bucket("alice", "photos")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_if_match_replaces_only_the_object_with_that_etag(rgw, client, bucket):
    rgw.objects.put(bucket, "k", b"old", WriteRequest())
    before = data_objects(client)
    big = b"n" * (4 * MiB + STRIPE_SIZE + 1)  # a head and two tails, written before the head is
    with pytest.raises(PreconditionFailed):
        rgw.objects.put(bucket, "k", big, WriteRequest(condition=WriteCondition(if_match=(md5(b"other"),))))
    assert rgw.get("photos", "k").read() == b"old"
    assert data_objects(client) == before  # the refused write's tails went with it
    assert [e.key for e in rgw.list("photos").objects] == ["k"]
    entry = rgw.objects.put(bucket, "k", b"new", WriteRequest(condition=WriteCondition(if_match=("x", md5(b"old")))))
    assert entry.etag == md5(b"new") and rgw.get("photos", "k").read() == b"new"
    rgw.objects.put(bucket, "k", b"any", WriteRequest(condition=WriteCondition(if_match=("*",))))
    assert rgw.get("photos", "k").read() == b"any"
    with pytest.raises(PreconditionFailed):  # a weak ETag names nothing: the condition can never hold
        rgw.objects.put(bucket, "k", b"never", WriteRequest(condition=WriteCondition(if_match=())))
    assert rgw.get("photos", "k").read() == b"any"


def test_if_match_of_a_missing_or_expired_object_is_no_object_to_match(rgw, bucket):
    for condition in (WriteCondition(if_match=(md5(b"x"),)), WriteCondition(if_match=("*",))):
        with pytest.raises(NoObjectToMatch) as caught:
            rgw.objects.put(bucket, "missing", b"x", WriteRequest(condition=condition))
        assert caught.value.code == "NoSuchKey" and isinstance(caught.value, PreconditionFailed)
    assert rgw.list("photos").objects == []
    rgw.objects.put(bucket, "gone", b"x", WriteRequest(delete_at=time.time() - 1))
    with pytest.raises(NoObjectToMatch):
        rgw.objects.put(bucket, "gone", b"y", WriteRequest(condition=WriteCondition(if_match=(md5(b"x"),))))


def test_if_none_match_creates_but_never_overwrites(rgw, bucket):
    rgw.objects.put(bucket, "k", b"first", WriteRequest(condition=WriteCondition(if_none_match=True)))
    with pytest.raises(PreconditionFailed):
        rgw.objects.put(bucket, "k", b"second", WriteRequest(condition=WriteCondition(if_none_match=True)))
    assert rgw.get("photos", "k").read() == b"first"
    rgw.objects.put(bucket, "gone", b"x", WriteRequest(delete_at=time.time() - 1))  # expired: as good as absent
    rgw.objects.put(bucket, "gone", b"y", WriteRequest(condition=WriteCondition(if_none_match=True)))
    assert rgw.get("photos", "gone").read() == b"y"


class Interloper(WriteCondition):
    """A condition that, the first time it is checked, lets another writer replace the object
    (as a concurrent request would, between the check and the head's write)."""

    def __init__(self, act, **fields) -> None:
        super().__init__(**fields)
        object.__setattr__(self, "act", act)
        object.__setattr__(self, "checks", [])

    def check(self, etag, name) -> None:
        self.checks.append(etag)
        if len(self.checks) == 1:
            self.act()
        super().check(etag, name)


def test_a_write_between_the_check_and_the_head_write_fails_the_condition(rgw, bucket):
    rgw.objects.put(bucket, "k", b"old", WriteRequest())
    condition = Interloper(lambda: rgw.objects.put(bucket, "k", b"theirs", WriteRequest()), if_match=(md5(b"old"),))
    with pytest.raises(PreconditionFailed):
        rgw.objects.put(bucket, "k", b"mine", WriteRequest(condition=condition))
    assert condition.checks == [md5(b"old"), md5(b"theirs")]  # looked again at the new head
    assert rgw.get("photos", "k").read() == b"theirs"


def test_a_create_between_the_check_and_the_head_write_fails_if_none_match(rgw, bucket):
    condition = Interloper(lambda: rgw.objects.put(bucket, "k", b"theirs", WriteRequest()), if_none_match=True)
    with pytest.raises(PreconditionFailed):
        rgw.objects.put(bucket, "k", b"mine", WriteRequest(condition=condition))
    assert condition.checks == [None, md5(b"theirs")]
    assert rgw.get("photos", "k").read() == b"theirs"


def test_a_delete_between_the_check_and_the_head_write_fails_if_match(rgw, bucket):
    rgw.objects.put(bucket, "k", b"old", WriteRequest())
    condition = Interloper(lambda: rgw.objects.delete(bucket, "k"), if_match=(md5(b"old"),))
    with pytest.raises(NoObjectToMatch):
        rgw.objects.put(bucket, "k", b"mine", WriteRequest(condition=condition))
    assert rgw.list("photos").objects == []


def test_a_multipart_complete_takes_the_condition_and_keeps_the_upload_when_it_fails(rgw, bucket):
    rgw.objects.put(bucket, "k", b"old", WriteRequest())
    upload_id = rgw.multipart.initiate(bucket, "k", WriteRequest())
    part = rgw.multipart.upload_part(bucket, "k", upload_id, 1, b"joined")
    with pytest.raises(PreconditionFailed):
        rgw.multipart.complete(bucket, "k", upload_id, [(1, part.etag)], condition=WriteCondition(if_match=("x",)))
    assert rgw.get("photos", "k").read() == b"old"
    entry = rgw.multipart.complete(
        bucket, "k", upload_id, [(1, part.etag)], condition=WriteCondition(if_match=(md5(b"old"),))
    )
    assert rgw.get("photos", "k").read() == b"joined" and entry.etag.endswith("-1")


def test_a_copy_takes_the_condition_on_its_destination(rgw, client, bucket):
    rgw.objects.put(bucket, "src", b"s" * (4 * MiB + 10), WriteRequest())  # with a tail, which the copy shares
    rgw.objects.put(bucket, "dst", b"d", WriteRequest())
    with pytest.raises(PreconditionFailed):
        rgw.objects.copy(
            CopySource(bucket=bucket, key="src"),
            bucket,
            "dst",
            WriteRequest(condition=WriteCondition(if_none_match=True)),
        )
    assert rgw.get("photos", "dst").read() == b"d"
    rgw.objects.copy(
        CopySource(bucket=bucket, key="src"),
        bucket,
        "dst",
        WriteRequest(condition=WriteCondition(if_match=(md5(b"d"),))),
    )
    assert rgw.get("photos", "dst").read() == b"s" * (4 * MiB + 10)


def test_conditions_hold_on_an_erasure_coded_data_pool(conf, client):
    import librgw

    with librgw.connect(conf, data_pool_profile=small_ec_profile(client)) as rgw:
        rgw.users.create("e", "E")
        bucket = rgw.create_bucket("e", "ecbucket")
        rgw.objects.put(bucket, "k", b"first", WriteRequest(condition=WriteCondition(if_none_match=True)))
        with pytest.raises(PreconditionFailed):
            rgw.objects.put(bucket, "k", b"again", WriteRequest(condition=WriteCondition(if_none_match=True)))
        theirs = Interloper(lambda: rgw.objects.put(bucket, "k", b"theirs", WriteRequest()), if_match=(md5(b"first"),))
        with pytest.raises(PreconditionFailed):
            rgw.objects.put(bucket, "k", b"mine", WriteRequest(condition=theirs))
        rgw.objects.put(bucket, "k", b"mine", WriteRequest(condition=WriteCondition(if_match=(md5(b"theirs"),))))
        assert rgw.get("ecbucket", "k").read() == b"mine"
