"""``librgw admin lc``: the buckets with lifecycle rules, their rules, and the agent run from the
command line as ``radosgw-admin lc list|get|process``."""

import json

import librgw as core
from librgw.lifecycle_rules import LifecycleConfiguration
from librgw.write_request import WriteRequest

PAST = {
    "rules": [{"id": "past", "status": "Enabled", "filter": {"prefix": "tmp/"}, "expiration": {"date": "2020-01-01"}}]
}


def test_lc_list_get_and_process(librgw, cluster_conf):
    with core.connect(str(cluster_conf)) as rgw:
        rgw.users.create("alice", "Alice")
        bucket = rgw.create_bucket("alice", "expiring")
        rgw.create_bucket("alice", "plain")
        for key in ("tmp/a", "tmp/b", "keep"):
            rgw.put("expiring", key, b"data")
        rgw.lifecycle.set("expiring", LifecycleConfiguration.from_json(PAST))
        upload = rgw.multipart.initiate(bucket, "tmp/upload", WriteRequest())

    listed = json.loads(librgw("admin", "lc", "list").out)
    assert listed == [
        {
            "bucket": f":expiring:{bucket.marker}",
            "started": "Thu, 01 Jan 1970 00:00:00 GMT",
            "status": "UNINITIAL",
            "last_result": {},
        }
    ]
    got = json.loads(librgw("admin", "lc", "get", "--bucket", "expiring").out)
    assert got["rules"][0]["expiration"] == {"date": "2020-01-01T00:00:00.000Z"}
    missing = librgw("admin", "lc", "get", "--bucket", "plain")
    assert missing.code == 1 and "no lifecycle configuration" in missing.err

    report = json.loads(librgw("admin", "lc", "process").out)
    assert report["expired"] == 2 and report["aborted_uploads"] == 0
    assert report["buckets"] == [
        {
            "bucket": "expiring",
            "status": "COMPLETE",
            "expired": 2,
            "noncurrent_expired": 0,
            "delete_markers_removed": 0,
            "aborted_uploads": 0,
        }
    ]
    with core.connect(str(cluster_conf)) as rgw:
        assert [e.key for e in rgw.list("expiring").objects] == ["keep"]
        assert [u.upload_id for u in rgw.multipart.list_uploads(bucket)] == [upload]  # no rule aborts it
    listed = json.loads(librgw("admin", "lc", "list").out)
    assert listed[0]["status"] == "COMPLETE" and listed[0]["last_result"]["expired"] == 2
    again = json.loads(librgw("admin", "lc", "process", "--bucket", "expiring").out)
    assert again["expired"] == 0 and [b["status"] for b in again["buckets"]] == ["COMPLETE"]
