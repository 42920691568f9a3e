"""Lifecycle rules: the configuration's checks, and the agent applying them, run on a fake
clock (``process(now=...)``) rather than waiting days."""

import time
import uuid

import pytest

from librgw.errors import InvalidArgument, InvalidRequest, InvalidTag, NoSuchKey
from librgw.lifecycle import LC_LOCK, LC_NS, _shard_oid, configuration_of
from librgw.lifecycle_rules import DAY, LifecycleConfiguration, after_days, parse_date
from librgw.manifest import STRIPE_SIZE
from librgw.write_request import WriteRequest
from librgw.zone import LOG_POOL


def rule(**fields) -> dict:
    return {"id": "r", "status": "Enabled", **fields}


def config(*rules: dict) -> LifecycleConfiguration:
    return LifecycleConfiguration.from_json({"rules": list(rules)})


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    return rgw.create_bucket("alice", "lcb")


def keys(rgw, name: str = "lcb") -> list[str]:
    return [e.key for e in rgw.list(name).objects]


# -- the configuration --------------------------------------------------------------------


def test_a_configuration_round_trips_through_json():
    doc = {
        "rules": [
            rule(
                id="a",
                filter={"prefix": "logs/", "tags": {"t": "1"}, "object_size_greater_than": 10},
                expiration={"days": 30},
                noncurrent_version_expiration={"noncurrent_days": 7, "newer_noncurrent_versions": 2},
            ),
            rule(id="b", status="Disabled", prefix="old/", expiration={"date": "2030-01-01T00:00:00Z"}),
            rule(id="c", filter={}, abort_incomplete_multipart_upload={"days_after_initiation": 3}),
            rule(id="d", filter={}, expiration={"expired_object_delete_marker": True}),
        ]
    }
    parsed = LifecycleConfiguration.from_json(doc)
    again = parsed.to_json()
    assert again["rules"][0] == doc["rules"][0]
    assert again["rules"][1]["prefix"] == "old/" and again["rules"][1]["expiration"] == {
        "date": "2030-01-01T00:00:00.000Z"
    }
    assert LifecycleConfiguration.from_json(again) == parsed
    assert [r.id for r in parsed.enabled] == ["a", "c", "d"]
    assert LifecycleConfiguration.from_json({"rules": [{"status": "Enabled", "expiration": {"days": 1}}]}).rules[0].id


@pytest.mark.parametrize(
    "bad, error",
    [
        (rule(expiration={"days": 0}), InvalidArgument),
        (rule(expiration={"days": True}), InvalidArgument),
        (rule(expiration={"days": 1, "date": "2030-01-01"}), InvalidArgument),
        (rule(expiration={"date": "2030-01-01T12:00:00Z"}), InvalidArgument),
        (rule(expiration={"date": "soon"}), InvalidArgument),
        (rule(status="On", expiration={"days": 1}), InvalidArgument),
        (rule(prefix="a", filter={}, expiration={"days": 1}), InvalidArgument),
        (rule(filter={"colour": "red"}, expiration={"days": 1}), InvalidArgument),
        (
            rule(filter={"object_size_greater_than": 5, "object_size_less_than": 5}, expiration={"days": 1}),
            InvalidArgument,
        ),
        (rule(id="x" * 256, expiration={"days": 1}), InvalidArgument),
        (rule(noncurrent_version_expiration={"noncurrent_days": -1}), InvalidArgument),
        (rule(filter={"tags": {"k" * 129: "v"}}, expiration={"days": 1}), InvalidTag),
        (rule(), InvalidRequest),
        (rule(status="Enabled", expiration={"expired_object_delete_marker": False}), InvalidRequest),
        (
            rule(filter={"tags": {"a": "b"}}, abort_incomplete_multipart_upload={"days_after_initiation": 1}),
            InvalidRequest,
        ),
        (rule(filter={"tags": {"a": "b"}}, expiration={"expired_object_delete_marker": True}), InvalidRequest),
    ],
)
def test_rules_s3_would_refuse_are_refused(bad, error):
    with pytest.raises(error):
        config(bad)


def test_a_configuration_has_rules_with_unique_ids():
    for doc in ({"rules": []}, {"rules": {}}, {}, [], {"rules": [rule(expiration={"days": 1})] * 2}):
        with pytest.raises(InvalidArgument):
            LifecycleConfiguration.from_json(doc)


def test_times_round_up_to_midnight_utc_as_s3_computes_them():
    written = parse_date("2026-01-15T00:00:00Z") + 10.5 * 3600  # 10:30
    assert after_days(written, 3) == parse_date("2026-01-19")
    assert after_days(parse_date("2026-01-15"), 1) == parse_date("2026-01-16")
    lifecycle = config(
        rule(id="late", filter={"prefix": "a"}, expiration={"days": 10}),
        rule(id="early", filter={"prefix": "a/b"}, expiration={"date": "2026-01-17"}),
        rule(id="tagged", filter={"tags": {"x": "1"}}, expiration={"days": 1}),
    )
    assert lifecycle.expiration("a/b/c", written, 1, {}) == (parse_date("2026-01-17"), "early")
    assert lifecycle.expiration("a/c", written, 1, {}) == (parse_date("2026-01-26"), "late")
    assert lifecycle.expiration("z", written, 1, {"x": "1"}) == (parse_date("2026-01-17"), "tagged")
    assert lifecycle.expiration("z", written, 1, {}) is None


# -- the agent ----------------------------------------------------------------------------


def test_expiration_by_days_deletes_only_what_is_due_and_gc_gets_the_tails(rgw, bucket):
    rgw.lifecycle.set("lcb", config(rule(filter={"prefix": "logs/"}, expiration={"days": 30})))
    for key in ("logs/1", "logs/2", "data/1"):
        rgw.objects.put(bucket, key, b"x" * (STRIPE_SIZE + 1), WriteRequest())  # a head and a tail
    tails = {p.oid for p in rgw.objects.stat(bucket, "logs/1").manifest.parts}
    now = time.time()
    assert rgw.lifecycle.process(now=now + 29 * DAY)["expired"] == 0
    report = rgw.lifecycle.process(now=now + 31 * DAY)
    assert report["expired"] == 2 and report["buckets"][0]["status"] == "COMPLETE"
    assert keys(rgw) == ["data/1"]
    assert tails <= {oid for entry in rgw.objects.gc.list(include_all=True) for oid in entry.oids}
    again = rgw.lifecycle.process(now=now + 31 * DAY)
    assert again["expired"] == 0 and keys(rgw) == ["data/1"]  # idempotent


def test_filters_on_tags_and_sizes_and_disabled_rules(rgw, bucket):
    rgw.lifecycle.set(
        "lcb",
        config(
            rule(id="tagged", filter={"tags": {"temp": "yes"}}, expiration={"days": 1}),
            rule(id="big", filter={"object_size_greater_than": 100}, expiration={"days": 1}),
            rule(id="off", status="Disabled", filter={}, expiration={"days": 1}),
        ),
    )
    rgw.objects.put(bucket, "temp", b"x", WriteRequest(tags={"temp": "yes", "other": "1"}))
    rgw.objects.put(bucket, "not-temp", b"x", WriteRequest(tags={"temp": "no"}))
    rgw.objects.put(bucket, "big", b"x" * 101, WriteRequest())
    rgw.objects.put(bucket, "small", b"x" * 100, WriteRequest())
    small = rgw.objects.stat(bucket, "small")
    rgw.objects.set_tags(bucket, "small", {"temp": "yes"}, small.tag)  # tags changed in place count
    assert rgw.lifecycle.process(now=time.time() + 3 * DAY)["expired"] == 3
    assert keys(rgw) == ["not-temp"]


def test_a_date_in_the_past_expires_at_once(rgw, bucket):
    rgw.lifecycle.set("lcb", config(rule(filter={}, expiration={"date": "2020-01-01"})))
    rgw.objects.put(bucket, "old", b"x", WriteRequest())
    assert rgw.lifecycle.process()["expired"] == 1 and keys(rgw) == []


def test_stale_multipart_uploads_are_aborted(rgw, bucket):
    rgw.lifecycle.set(
        "lcb", config(rule(filter={"prefix": "up/"}, abort_incomplete_multipart_upload={"days_after_initiation": 2}))
    )
    stale = rgw.multipart.initiate(bucket, "up/big", WriteRequest())
    rgw.multipart.upload_part(bucket, "up/big", stale, 1, b"part")
    other = rgw.multipart.initiate(bucket, "elsewhere", WriteRequest())
    now = time.time()
    assert rgw.lifecycle.process(now=now + DAY)["aborted_uploads"] == 0
    assert rgw.lifecycle.process(now=now + 3 * DAY)["aborted_uploads"] == 1
    assert [u.upload_id for u in rgw.multipart.list_uploads(bucket)] == [other]
    assert rgw.lifecycle.process(now=now + 3 * DAY)["aborted_uploads"] == 0


def versioned(rgw):
    rgw.buckets.set_versioning("lcb", "enabled")
    return rgw.buckets.get("lcb")


def test_in_a_versioned_bucket_expiration_adds_a_delete_marker_and_noncurrent_versions_go(rgw, bucket):
    bucket = versioned(rgw)
    rgw.lifecycle.set(
        "lcb",
        config(
            rule(id="current", filter={"prefix": "doc"}, expiration={"days": 10}),
            rule(
                id="old",
                filter={},
                noncurrent_version_expiration={"noncurrent_days": 1, "newer_noncurrent_versions": 1},
            ),
        ),
    )
    ids = [rgw.versions.put(bucket, "doc", f"v{n}".encode(), WriteRequest())[0] for n in range(4)]  # v3 current
    now = time.time()
    assert rgw.lifecycle.process(now=now + 0.5 * DAY)["noncurrent_expired"] == 0  # not a day noncurrent yet
    report = rgw.lifecycle.process(now=now + 2 * DAY)
    assert report["noncurrent_expired"] == 2 and report["expired"] == 0  # v1, v0; v2 is the one kept
    assert [v.version_id for v in rgw.versions.list(bucket).versions] == [ids[3], ids[2]]
    report = rgw.lifecycle.process(now=now + 11 * DAY)
    assert report["expired"] == 1 and report["noncurrent_expired"] == 1  # a delete marker over v3; v2 goes
    versions = rgw.versions.list(bucket).versions
    assert versions[0].delete_marker and [v.version_id for v in versions[1:]] == [ids[3]]
    with pytest.raises(NoSuchKey):
        rgw.get("lcb", "doc")
    assert rgw.lifecycle.process(now=now + 20 * DAY)["noncurrent_expired"] == 0  # v3: the one noncurrent kept


def test_a_delete_marker_left_alone_is_removed(rgw, bucket):
    bucket = versioned(rgw)
    rgw.lifecycle.set(
        "lcb",
        config(
            rule(id="old", filter={}, noncurrent_version_expiration={"noncurrent_days": 1}),
            rule(id="markers", filter={}, expiration={"expired_object_delete_marker": True}),
        ),
    )
    rgw.versions.put(bucket, "a", b"a", WriteRequest())
    rgw.versions.delete(bucket, "a")
    rgw.versions.put(bucket, "b", b"b", WriteRequest())
    report = rgw.lifecycle.process(now=time.time() + 2 * DAY)
    assert report["noncurrent_expired"] == 1 and report["delete_markers_removed"] == 1
    assert [(v.key, v.delete_marker) for v in rgw.versions.list(bucket).versions] == [("b", False)]


def test_the_lc_list_follows_configurations_and_buckets(rgw, bucket):
    lifecycle = config(rule(filter={}, expiration={"days": 1}))
    rgw.lifecycle.set("lcb", lifecycle)
    assert [(e.bucket, e.marker, e.status) for e in rgw.lifecycle.list()] == [("lcb", bucket.marker, "UNINITIAL")]
    assert configuration_of(rgw.buckets.get("lcb")) == lifecycle and rgw.lifecycle.get("lcb") == lifecycle
    rgw.lifecycle.process()
    assert [e.status for e in rgw.lifecycle.list()] == ["COMPLETE"]
    rgw.lifecycle.remove("lcb")
    assert rgw.lifecycle.list() == [] and rgw.lifecycle.get("lcb") is None
    rgw.lifecycle.set("lcb", lifecycle)
    rgw.buckets.delete("lcb")
    report = rgw.lifecycle.process()
    assert report["buckets"] == [
        {"bucket": "lcb", "status": "REMOVED", "reason": "the bucket or its configuration is gone"}
    ]
    assert rgw.lifecycle.list() == []


def test_a_shard_another_agent_holds_is_skipped(rgw, bucket):
    rgw.lifecycle.set("lcb", config(rule(filter={}, expiration={"date": "2020-01-01"})))
    rgw.objects.put(bucket, "k", b"x", WriteRequest())
    with rgw.client.open_ioctx(LOG_POOL) as log:
        log.set_namespace(LC_NS)
        cookie = uuid.uuid4().hex
        log.lock_exclusive(_shard_oid("lcb"), LC_LOCK, cookie, duration=60)
        try:
            report = rgw.lifecycle.process()
        finally:
            log.unlock(_shard_oid("lcb"), LC_LOCK, cookie)
    assert report["skipped_shards"] == 1 and report["buckets"] == [] and keys(rgw) == ["k"]
    assert rgw.lifecycle.process()["expired"] == 1
