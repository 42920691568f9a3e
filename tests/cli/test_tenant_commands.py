"""``librgw admin`` with tenants: ``--tenant`` as radosgw-admin takes it, or ``--uid 'T$U'`` and ``--bucket T/B``."""

import json

import librgw as core


def test_user_commands_take_tenant_or_a_dollar_uid(librgw):
    created = librgw("admin", "user", "create", "--tenant", "testx", "--uid", "tester", "--display-name", "Test User")
    assert created.code == 0 and json.loads(created.out)["user_id"] == "testx$tester"
    info = librgw("admin", "user", "info", "--uid", "testx$tester")
    assert json.loads(info.out) == json.loads(
        librgw("admin", "user", "info", "--tenant", "testx", "--uid", "tester").out
    )
    assert json.loads(info.out)["user_id"] == "testx$tester"
    sub = librgw("admin", "subuser", "create", "--tenant", "testx", "--uid", "tester", "--subuser", "swift")
    assert json.loads(sub.out)["subusers"] == [{"id": "testx$tester:swift", "permissions": "full-control"}]
    assert librgw("admin", "user", "create", "--uid", "tester", "--display-name", "Legacy").code == 0
    assert json.loads(librgw("admin", "user", "list").out) == ["tester", "testx$tester"]
    clash = librgw("admin", "user", "create", "--uid", "testx", "--display-name", "X")
    assert clash.code == 1 and "share its Swift account" in clash.err
    mismatch = librgw("admin", "user", "info", "--tenant", "other", "--uid", "testx$tester")
    assert mismatch.code == 1 and "(InvalidArgument)" in mismatch.err
    bad = librgw("admin", "user", "create", "--tenant", "te-st", "--uid", "u", "--display-name", "U")
    assert bad.code == 1 and "invalid tenant" in bad.err
    assert librgw("admin", "user", "rm", "--tenant", "testx", "--uid", "tester").code == 0
    assert json.loads(librgw("admin", "user", "list").out) == ["tester"]


def test_bucket_commands_take_tenant_or_tenant_slash_bucket(librgw, cluster_conf):
    for tenant in ("t1", "t2"):
        assert librgw("admin", "user", "create", "--tenant", tenant, "--uid", "u", "--display-name", "U").code == 0
    librgw("admin", "user", "create", "--uid", "alice", "--display-name", "Alice")
    with core.connect(str(cluster_conf)) as rgw:
        for uid in ("t1$u", "t2$u", "alice"):
            rgw.buckets.create(uid, "photos")
        rgw.put("t1/photos", "k", b"one")
    assert json.loads(librgw("admin", "bucket", "list").out) == ["photos", "t1/photos", "t2/photos"]
    assert json.loads(librgw("admin", "bucket", "list", "--tenant", "t1").out) == ["photos"]
    assert json.loads(librgw("admin", "bucket", "list", "--tenant", "t1", "--uid", "u").out) == ["photos"]
    assert json.loads(librgw("admin", "bucket", "list", "--uid", "t2$u").out) == ["photos"]
    stats = json.loads(librgw("admin", "bucket", "stats", "--tenant", "t1", "--bucket", "photos").out)
    assert (stats["name"], stats["tenant"], stats["owner"]) == ("photos", "t1", "t1$u")
    assert stats["usage"]["rgw.main"]["num_objects"] == 1
    assert json.loads(librgw("admin", "bucket", "stats", "--bucket", "t1/photos").out)["id"] == stats["id"]
    legacy = json.loads(librgw("admin", "bucket", "stats", "--bucket", "photos").out)
    assert (legacy["tenant"], legacy["owner"]) == ("", "alice")
    meta = json.loads(librgw("admin", "metadata", "get", "bucket:t2/photos").out)["data"]
    assert meta["bucket"]["name"] == "photos" and meta["bucket"]["tenant"] == "t2" and meta["owner"] == "t2$u"
    stat = json.loads(librgw("admin", "object", "stat", "--tenant", "t1", "--bucket", "photos", "--object", "k").out)
    assert stat["size"] == 3
    assert librgw("admin", "bucket", "rm", "--tenant", "t2", "--bucket", "photos").code == 0
    assert json.loads(librgw("admin", "bucket", "list").out) == ["photos", "t1/photos"]
    assert json.loads(librgw("admin", "bucket", "list", "--uid", "t2$u").out) == []
