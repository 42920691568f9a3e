"""``librgw admin``: users, keys, subusers and quotas from the command line, as radosgw-admin prints them."""

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import librgw as core
from librgw.bucket_index import IndexEntry


def test_user_create_info_list_and_rm(librgw):
    created = librgw("admin", "user", "create", "--uid", "johndoe", "--display-name", "John Doe", "--email", "j@x.org")
    assert created.code == 0
    user = json.loads(created.out)
    assert user["user_id"] == "johndoe" and user["email"] == "j@x.org" and len(user["keys"]) == 1
    assert user["keys"][0]["user"] == "johndoe" and user["bucket_quota"]["max_objects"] == -1
    assert json.loads(librgw("admin", "user", "info", "--uid", "johndoe").out) == user
    assert json.loads(librgw("admin", "user", "list").out) == ["johndoe"]
    assert librgw("admin", "user", "rm", "--uid", "johndoe").code == 0
    assert json.loads(librgw("admin", "user", "list").out) == []


def test_errors_are_one_line_with_the_rgw_code(librgw):
    assert librgw("admin", "user", "create", "--uid", "u", "--display-name", "U").code == 0
    again = librgw("admin", "user", "create", "--uid", "u", "--display-name", "U")
    assert again.code == 1 and again.err.strip() == "librgw: error: user 'u' already exists (UserAlreadyExists)"
    missing = librgw("admin", "user", "info", "--uid", "nobody")
    assert missing.code == 1 and "(NoSuchUser)" in missing.err and missing.out == ""
    assert librgw("admin", "user", "create", "--uid", "x").code == 2  # --display-name is required


def test_keys_subusers_quotas_and_suspension(librgw):
    librgw("admin", "user", "create", "--uid", "u", "--display-name", "U", "--no-key")
    user = json.loads(librgw("admin", "key", "create", "--uid", "u", "--access-key", "AK1", "--secret-key", "S1").out)
    assert user["keys"] == [{"user": "u", "access_key": "AK1", "secret_key": "S1"}]
    user = json.loads(librgw("admin", "subuser", "create", "--uid", "u", "--subuser", "swift", "--access", "full").out)
    assert user["subusers"] == [{"id": "u:swift", "permissions": "full-control"}] and len(user["swift_keys"]) == 1
    user = json.loads(librgw("admin", "key", "rm", "--uid", "u", "--access-key", "AK1").out)
    assert user["keys"] == []
    args = ("--uid", "u", "--quota-scope", "bucket")
    user = json.loads(librgw("admin", "quota", "set", *args, "--max-objects", "10", "--max-size", "2048").out)
    assert user["bucket_quota"] == {
        "enabled": False,
        "check_on_raw": False,
        "max_size": 2048,
        "max_size_kb": 2,
        "max_objects": 10,
    }
    assert json.loads(librgw("admin", "quota", "enable", *args).out)["bucket_quota"]["enabled"] is True
    assert json.loads(librgw("admin", "user", "suspend", "--uid", "u").out)["suspended"] == 1
    assert json.loads(librgw("admin", "user", "enable", "--uid", "u").out)["suspended"] == 0
    modified = json.loads(librgw("admin", "user", "modify", "--uid", "u", "--max-buckets", "3").out)
    assert modified["max_buckets"] == 3


def test_bucket_list_stats_and_rm(librgw, cluster_conf):
    librgw("admin", "user", "create", "--uid", "u", "--display-name", "U")
    with core.connect(str(cluster_conf)) as rgw:
        rgw.buckets.create("u", "photos")
        rgw.buckets.create("u", "videos")
    assert json.loads(librgw("admin", "bucket", "list").out) == ["photos", "videos"]
    assert json.loads(librgw("admin", "bucket", "list", "--uid", "u").out) == ["photos", "videos"]
    stats = json.loads(librgw("admin", "bucket", "stats", "--bucket", "photos").out)
    assert stats["owner"] == "u" and stats["num_shards"] == 11 and stats["id"] == stats["marker"]
    assert librgw("admin", "bucket", "rm", "--bucket", "photos").code == 0
    assert json.loads(librgw("admin", "bucket", "list").out) == ["videos"]
    gone = librgw("admin", "bucket", "stats", "--bucket", "photos")
    assert gone.code == 1 and "(NoSuchBucket)" in gone.err


KILLED_WRITER = """
import os, signal, sys
import librgw
from librgw.bucket_index import BucketIndex

rgw = librgw.connect(sys.argv[1])
with rgw.indexes.open(rgw.buckets.get("photos")) as index:
    index.prepare("dog.jpg", "tag-dog", "write")  # a writer that dies before its head is written
# and one that dies after writing its head, before completing the index entry
BucketIndex.complete = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
rgw.put("photos", "cat.jpg", b"meow" * 100)
"""


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_bucket_check_fix_after_kill_9_between_head_write_and_index_completion(librgw, cluster_conf):
    librgw("admin", "user", "create", "--uid", "u", "--display-name", "U")
    with core.connect(str(cluster_conf)) as rgw:
        rgw.buckets.create("u", "photos")
    root = Path(__file__).resolve().parents[2]
    writer = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(cluster_conf)], cwd=root, env={**os.environ, "PYTHONPATH": str(root)}
    )
    assert writer.returncode == -signal.SIGKILL
    report = json.loads(librgw("admin", "bucket", "check", "--bucket", "photos").out)
    assert {p["key"]: p["action"] for p in report["pending_entries"]} == {"cat.jpg": "restore", "dog.jpg": "drop"}
    assert report["check_result"]["calculated_header"]["usage"]["rgw.main"] == {"size": 400, "num_objects": 1}
    assert librgw("admin", "bucket", "check", "--bucket", "photos", "--fix").code == 0
    stats = json.loads(librgw("admin", "bucket", "stats", "--bucket", "photos").out)
    assert stats["usage"] == {"rgw.main": {"size": 400, "num_objects": 1}}
    assert json.loads(librgw("admin", "bucket", "check", "--bucket", "photos").out)["pending_entries"] == []
    with core.connect(str(cluster_conf)) as rgw:
        index = rgw.indexes.open(rgw.buckets.get("photos"))
        assert [(e.key, e.size, e.etag) for e in index.list().entries] == [("cat.jpg", 400, md5(b"meow" * 100))]
        assert rgw.get("photos", "cat.jpg").read() == b"meow" * 100


def test_bucket_reshard_moves_the_index(librgw, cluster_conf):
    librgw("admin", "user", "create", "--uid", "u", "--display-name", "U")
    with core.connect(str(cluster_conf)) as rgw:
        index = rgw.indexes.open(rgw.buckets.create("u", "photos"))
        for n in range(20):
            index.prepare(f"k{n}", "t", "write")
            index.complete(f"k{n}", "t", IndexEntry(f"k{n}", n, "e", 0.0))
    resharded = json.loads(librgw("admin", "bucket", "reshard", "--bucket", "photos", "--num-shards", "3").out)
    assert resharded["num_shards"] == 3 and resharded["index_gen"] == 1
    stats = json.loads(librgw("admin", "bucket", "stats", "--bucket", "photos").out)
    assert stats["num_shards"] == 3 and stats["usage"] == {"rgw.main": {"size": sum(range(20)), "num_objects": 20}}
    assert librgw("admin", "bucket", "reshard", "--bucket", "photos", "--num-shards", "0").code == 1


def test_object_stat_and_gc_list_process(librgw, cluster_conf):
    librgw("admin", "user", "create", "--uid", "u", "--display-name", "U")
    with core.connect(str(cluster_conf)) as rgw:
        rgw.buckets.create("u", "photos")
        rgw.put("photos", "big", b"x" * (6 * 1024 * 1024), metadata={"color": "red"})
        rgw.put("photos", "big", b"y" * (6 * 1024 * 1024))
    stat = json.loads(librgw("admin", "object", "stat", "--bucket", "photos", "--object", "big").out)
    assert stat["size"] == 6 * 1024 * 1024 and stat["etag"] == md5(b"y" * (6 * 1024 * 1024))
    assert len(stat["manifest"]["parts"]) == 1 and stat["attrs"] == {}
    assert json.loads(librgw("admin", "gc", "list").out) == []  # in its grace period
    (queued,) = json.loads(librgw("admin", "gc", "list", "--include-all").out)
    assert len(queued["objs"]) == 1
    assert json.loads(librgw("admin", "gc", "process", "--include-all").out) == {"removed_objects": 1}
    assert json.loads(librgw("admin", "gc", "list", "--include-all").out) == []
    missing = librgw("admin", "object", "stat", "--bucket", "photos", "--object", "nope")
    assert missing.code == 1 and "(NoSuchKey)" in missing.err


def test_metadata_list_and_get(librgw, cluster_conf):
    librgw("admin", "user", "create", "--uid", "u", "--display-name", "U")
    with core.connect(str(cluster_conf)) as rgw:
        info = rgw.buckets.create("u", "photos")
    assert json.loads(librgw("admin", "metadata", "list").out) == ["user", "bucket", "bucket.instance"]
    assert json.loads(librgw("admin", "metadata", "list", "user").out) == ["u"]
    assert json.loads(librgw("admin", "metadata", "list", "bucket").out) == ["photos"]
    assert json.loads(librgw("admin", "metadata", "list", "bucket.instance").out) == [f"photos:{info.marker}"]
    bucket = json.loads(librgw("admin", "metadata", "get", "bucket:photos").out)
    assert bucket["key"] == "bucket:photos" and bucket["data"]["bucket"]["marker"] == info.marker
    assert bucket["data"]["owner"] == "u"
    instance = json.loads(librgw("admin", "metadata", "get", f"bucket.instance:photos:{info.marker}").out)
    assert instance["data"]["num_shards"] == 11
    assert json.loads(librgw("admin", "metadata", "get", "user:u").out)["data"]["user_id"] == "u"
    assert librgw("admin", "metadata", "get", "nonsense").code == 1


def test_roles_and_their_policies_as_radosgw_admin_has_them(librgw):
    alice = {"AWS": ["arn:aws:iam:::user/alice"]}
    trust = json.dumps({"Statement": [{"Effect": "Allow", "Principal": alice, "Action": "sts:AssumeRole"}]})
    created = librgw("admin", "role", "create", "--role-name", "reader", "--assume-role-policy-doc", trust)
    assert created.code == 0, created.err
    role = json.loads(created.out)
    assert role["arn"] == "arn:aws:iam:::role/reader" and role["max_session_duration"] == 3600
    assert json.loads(librgw("admin", "role", "get", "--role-name", "reader").out) == role
    assert [r["name"] for r in json.loads(librgw("admin", "role", "list").out)] == ["reader"]
    policy = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})
    named = ("--role-name", "reader", "--policy-name", "get")
    assert librgw("admin", "role-policy", "put", *named, "--policy-doc", policy).code == 0
    assert json.loads(librgw("admin", "role-policy", "list", "--role-name", "reader").out) == ["get"]
    assert json.loads(librgw("admin", "role-policy", "get", *named).out) == {"Permission policy": policy}
    bad = librgw("admin", "role-policy", "put", *named, "--policy-doc", '{"Statement": [{"Effect": "Allow"}]}')
    assert bad.code == 1 and "(MalformedPolicyDocument)" in bad.err
    conflict = librgw("admin", "role", "delete", "--role-name", "reader")
    assert conflict.code == 1 and "(DeleteConflict)" in conflict.err
    assert librgw("admin", "role-policy", "delete", *named).code == 0
    assert librgw("admin", "role", "delete", "--role-name", "reader").code == 0
    assert "(NoSuchEntity)" in librgw("admin", "role", "get", "--role-name", "reader").err
