"""``librgw expirer`` applies lifecycle rules too: its summary's lifecycle line, and JSON."""

import json

import librgw as core
from librgw.lifecycle_rules import LifecycleConfiguration
from librgw.write_request import WriteRequest

PAST_DATE = {"rules": [{"id": "r", "status": "Enabled", "filter": {}, "expiration": {"date": "2020-01-01"}}]}


def test_expirer_once_applies_due_lifecycle_expiration_and_sums_it_up(librgw, cluster_conf):
    with core.connect(str(cluster_conf)) as rgw:
        rgw.users.create("alice", "Alice")
        bucket = rgw.create_bucket("alice", "logs")
        for key in ("a", "b"):
            rgw.objects.put(bucket, key, b"x", WriteRequest())
        rgw.lifecycle.set("logs", LifecycleConfiguration.from_json(PAST_DATE))
    result = librgw("expirer", "--once")
    assert result.code == 0, result.err
    assert result.out.splitlines()[1] == (
        "lifecycle, 1 buckets: 2 expired, 0 noncurrent versions and 0 delete markers removed, "
        "0 uploads aborted, 0 buckets failed (tried again next pass)"
    )
    report = json.loads(librgw("-f", "json", "expirer", "--once", "--lifecycle-period", "0").out)
    assert report["lifecycle"] == {
        "buckets": 1,
        "failed": 0,
        "expired": 0,
        "noncurrent_expired": 0,
        "delete_markers_removed": 0,
        "aborted_uploads": 0,
    }
    with core.connect(str(cluster_conf)) as rgw:
        assert rgw.list("logs").objects == []
