"""The bucket index: two-phase entries, stats in the shard headers, listing against a sorted model,
pending entries resolved by listings, check, reshard."""

import hashlib
import json
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import pytest

import librgw
from librgw import bucket_index, rados
from librgw.bucket_index import HEADER_KEY, BucketIndex, IndexEntry, ShardHeader, bucket_shard_index
from librgw.errors import BucketNotEmpty, InvalidArgument
from librgw.storage.cluster import create_cluster
from librgw.zone import INDEX_POOL


def entry(key: str, size: int = 10) -> IndexEntry:
    return IndexEntry(key, size, f"etag-{size}", 1_700_000_000.0, "text/plain", "alice")


def put(index: BucketIndex, key: str, size: int = 10) -> None:
    index.prepare(key, f"tag-{key}-{size}", "write")
    index.complete(key, f"tag-{key}-{size}", entry(key, size))


def fill(rgw, index: BucketIndex, keys: list[str]) -> None:
    """Write completed entries straight into the shards, a thousand per write op, as complete() leaves them."""
    per_shard: dict[int, list[IndexEntry]] = defaultdict(list)
    for key in keys:
        per_shard[index.shard_of(key)].append(entry(key, len(key.encode())))
    with rgw.client.open_ioctx(INDEX_POOL) as ioctx:
        for shard, entries in per_shard.items():
            header = ShardHeader(1, len(entries), sum(e.size for e in entries))
            for at in range(0, len(entries), 1000):
                batch = entries[at : at + 1000]
                with rados.WriteOpCtx() as op:
                    ioctx.set_omap(op, [e.key for e in batch], [e.encode() for e in batch])
                    ioctx.operate_write_op(op, index.info.index_object(shard))
            with rados.WriteOpCtx() as op:
                ioctx.set_omap(op, (HEADER_KEY,), (header.encode(),))
                ioctx.operate_write_op(op, index.info.index_object(shard))


def put_in_threads(
    rgw, bucket: BucketIndex, shares: list[list[str]], size: Callable[[int], int]
) -> list[BaseException]:
    """Put each share's keys from a thread of its own, the n-th of a share ``size(n)`` bytes; the
    errors the threads met."""
    errors: list[BaseException] = []

    def writer(mine: list[str]) -> None:
        index = rgw.indexes.open(bucket.info)
        try:
            for n, key in enumerate(mine):
                put(index, key, size(n))
        except BaseException as e:
            errors.append(e)
        finally:
            index.close()

    threads = [threading.Thread(target=writer, args=(share,)) for share in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def model_list(keys: list[str], prefix: str, delimiter: str, marker: str, max_keys: int) -> tuple:
    """What S3 ListObjects (v1) returns, from the sorted key list: (keys, prefixes, is_truncated, next_marker)."""

    def rolled(key: str) -> str:
        if not delimiter or not key.startswith(prefix) or delimiter not in key[len(prefix) :]:
            return ""
        return key[: key.index(delimiter, len(prefix)) + len(delimiter)]

    items: list[tuple[str, bool]] = []
    for key in keys:
        if key <= marker or not key.startswith(prefix):
            continue
        common = rolled(key)
        if not common:
            items.append((key, False))
        elif common != rolled(marker) and (not items or items[-1][0] != common):
            items.append((common, True))
    page = items[:max_keys] if max_keys > 0 else []
    truncated = max_keys > 0 and len(items) > max_keys
    return (
        [k for k, is_prefix in page if not is_prefix],
        [k for k, is_prefix in page if is_prefix],
        truncated,
        page[-1][0] if truncated else "",
    )


def got(page) -> tuple:
    return [e.key for e in page.entries], page.prefixes, page.is_truncated, page.next_marker


def random_keys(rng: random.Random, count: int) -> list[str]:
    parts = ["a", "b", "ab", "é", "x y", "..", "z", "日本", "a-b", "0"]
    keys = {"/".join(rng.choices(parts, k=rng.randint(1, 4))) + str(rng.randint(0, 99)) for _ in range(count)}
    # U+10FFFF right after a rolled-up prefix: past the seek to prefix + U+10FFFF, still under it
    keys |= {"b/\U0010ffffz", "b/\U0010ffff", "a", "a/", "/lead", "trail/"}
    return sorted(keys)


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    info = rgw.buckets.create("alice", "photos")
    index = rgw.indexes.open(info)
    yield index
    index.close()


def test_a_prepared_key_stays_invisible_until_complete(bucket):
    bucket.prepare("cat.jpg", "t1", "write")
    assert bucket.get("cat.jpg") is None and bucket.list().entries == [] and bucket.stats() == (0, 0)
    bucket.complete("cat.jpg", "t1", entry("cat.jpg", 1234))
    assert bucket.get("cat.jpg") == entry("cat.jpg", 1234)
    assert got(bucket.list()) == (["cat.jpg"], [], False, "") and bucket.stats() == (1, 1234)


def test_stats_follow_overwrite_and_delete(bucket):
    put(bucket, "a", 100)
    put(bucket, "b", 50)
    put(bucket, "a", 30)
    assert bucket.stats() == (2, 80) and bucket.get("a").size == 30
    bucket.prepare("a", "d1", "delete")
    assert bucket.get("a").size == 30  # a pending delete leaves the object listed until it completes
    bucket.complete("a", "d1", None)
    assert bucket.get("a") is None and bucket.stats() == (1, 50)
    assert [e.key for e in bucket.list().entries] == ["b"]


def test_prepare_refuses_an_operation_other_than_write_or_delete(bucket):
    with pytest.raises(InvalidArgument):
        bucket.prepare("x", "t3", "rename")
    assert bucket.stored("x") is None


def test_a_complete_whose_head_was_replaced_since_only_clears_its_tag(bucket):
    bucket.prepare("k", "first", "write")
    bucket.prepare("k", "second", "write")
    bucket.complete("k", "second", entry("k", 20), current=lambda: True)
    bucket.complete("k", "first", entry("k", 10), current=lambda: False)  # its head is gone: second's is there
    assert bucket.get("k") == entry("k", 20) and bucket.stats() == (1, 20)
    bucket.prepare("new", "only", "write")
    bucket.complete("new", "only", entry("new", 5), current=lambda: False)
    assert bucket.stored("new") is None and bucket.stats() == (1, 20)


def test_concurrent_writers_to_one_shard_lose_nothing(rgw, bucket):
    keys = [k for k in (f"obj-{n}" for n in range(2000)) if bucket.shard_of(k) == 0][:80]
    assert put_in_threads(rgw, bucket, [keys[i::4] for i in range(4)], lambda n: n + 1) == []
    assert [e.key for e in bucket.list().entries] == sorted(keys)
    sizes = [n + 1 for i in range(4) for n in range(len(keys[i::4]))]
    assert bucket.stats() == (len(keys), sum(sizes))


def test_changes_queued_behind_a_slow_one_go_in_one_write_and_fail_alone(rgw, bucket):
    """While one thread's change to a shard is slow, the changes other threads make to that shard
    queue, and then go in one write, each in its order; a change that fails fails only its own
    caller."""
    keys = [k for k in (f"obj-{n}" for n in range(2000)) if bucket.shard_of(k) == 0][:12]
    oid = bucket.info.index_object(0)
    started, outcomes = threading.Event(), {}

    def slow() -> bool:
        started.set()
        time.sleep(0.5)  # the others queue meanwhile
        return True

    def failing() -> bool:
        raise RuntimeError("the head could not be read")

    def run(name, fn) -> None:
        index = rgw.indexes.open(bucket.info)
        try:
            fn(index)
            outcomes[name] = "ok"
        except Exception as e:
            outcomes[name] = repr(e)
        finally:
            index.close()

    ver_before = bucket._read_header(oid)[1].ver
    first = threading.Thread(target=run, args=("slow", lambda ix: ix.suggest(entry(keys[0], 7), slow)))
    first.start()
    started.wait()
    others = [threading.Thread(target=run, args=(key, lambda ix, key=key: put(ix, key, 3))) for key in keys[1:]]
    others.append(threading.Thread(target=run, args=("failing", lambda ix: ix.suggest(entry(keys[1], 9), failing))))
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join()
    assert outcomes.pop("failing") == "RuntimeError('the head could not be read')"
    assert set(outcomes.values()) == {"ok"} and len(outcomes) == len(keys)
    assert [e.key for e in bucket.list().entries] == sorted(keys)
    assert bucket.get(keys[0]).size == 7 and all(bucket.get(k).size == 3 for k in keys[1:])
    assert bucket.stats() == (len(keys), 7 + 3 * (len(keys) - 1))
    # the slow change was one write; the 11 prepares and 11 completes queued behind it took fewer
    writes = bucket._read_header(oid)[1].ver - ver_before
    assert 2 <= writes < 1 + 2 * (len(keys) - 1)


def test_writers_in_two_processes_and_many_threads_lose_nothing(rgw, bucket, conf):
    """Threads of one process share writes; another process's writes to the same shard race
    them on the shard header, and the loser's whole batch is applied again."""
    keys = [k for k in (f"obj-{n}" for n in range(4000)) if bucket.shard_of(k) == 0][:120]
    theirs, ours = keys[::2], keys[1::2]
    script = (
        "import sys, librgw\n"
        "from tests.core.test_bucket_index import put\n"
        "with librgw.connect(sys.argv[1]) as rgw:\n"
        "    index = rgw.indexes.open(rgw.buckets.get('photos'))\n"
        "    for key in sys.argv[2:]:\n"
        "        put(index, key, 5)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", script, conf, *theirs])
    errors = put_in_threads(rgw, bucket, [ours[i::8] for i in range(8)], lambda n: 4)
    assert other.wait(120) == 0 and errors == []
    assert [e.key for e in bucket.list().entries] == sorted(keys)
    assert bucket.stats() == (len(keys), 5 * len(theirs) + 4 * len(ours))
    assert all(bucket.stored(k).pending == {} for k in keys)


def test_listing_matches_the_sorted_model_for_random_queries(rgw, bucket):
    rng = random.Random(4)
    keys = random_keys(rng, 2000)
    fill(rgw, bucket, keys)
    for key in ("a/pending-only", "zz-pending"):
        bucket.prepare(key, "t", "write")  # placeholders: never listed
    prefixes = ["", "a", "a/", "é/", "x y/", "../", "b/ab", "nothing"]
    for _ in range(300):
        prefix, delimiter = rng.choice(prefixes), rng.choice(["", "/", "-", "b/"])
        marker = rng.choice(["", rng.choice(keys), rng.choice(keys)[:3], "a/", "b/\U0010ffff"])
        max_keys = rng.choice([0, 1, 2, 7, 50, 1000])
        query = (prefix, delimiter, marker, max_keys)
        assert got(bucket.list(*query)) == model_list(keys, *query), query


@pytest.fixture(scope="module")
def big_bucket(tmp_path_factory):
    where = tmp_path_factory.mktemp("big") / "c"
    create_cluster(where, 6, **{"osd pool default pg num": "16"})
    with librgw.connect(str(where / "cluster.conf")) as rgw:
        rgw.users.create("alice", "Alice")
        index = rgw.indexes.open(rgw.buckets.create("alice", "big"))
        keys = sorted({f"{d}/{s}/{n:05}" for d in ("logs", "img", "doc", "x") for s in "abcde" for n in range(1000)})
        fill(rgw, index, keys)
        yield index, keys


@pytest.mark.parametrize(
    ("prefix", "delimiter", "max_keys"),
    [("", "", 1000), ("", "/", 2), ("img/", "/", 3), ("logs/", "", 777), ("doc/c/", "/", 1000), ("x/", "0", 2)],
)
def test_listing_20000_keys_over_11_shards_matches_the_model_in_every_page(big_bucket, prefix, delimiter, max_keys):
    index, keys = big_bucket
    assert len(keys) == 20000 and index.info.num_shards == 11
    marker, pages = "", 0
    while True:
        page = index.list(prefix, delimiter, marker, max_keys)
        assert got(page) == model_list(keys, prefix, delimiter, marker, max_keys), (marker, pages)
        pages += 1
        if not page.is_truncated:
            break
        marker = page.next_marker
    assert pages > 1 or max_keys == 1000


class Died(Exception):
    """A gateway worker killed where this is raised."""


def dies(*args, **kwargs):
    raise Died


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_a_listing_resolves_entries_pending_past_the_expiry_against_the_heads(rgw, bucket, monkeypatch):
    info = bucket.info
    rgw.put("photos", "replaced", b"old")
    rgw.put("photos", "unwritten", b"kept")
    with monkeypatch.context() as patch:
        patch.setattr(BucketIndex, "complete", dies)  # killed between the head write and complete
        for key, data in (("replaced", b"new!"), ("created", b"fresh")):
            with pytest.raises(Died):
                rgw.put("photos", key, data)
    bucket.prepare("unwritten", "t-unwritten", "write")  # killed before the head write
    bucket.prepare("phantom", "t-phantom", "write")
    young = {e.key: (e.size, e.etag) for e in bucket.list().entries}
    assert young == {"replaced": (3, md5(b"old")), "unwritten": (4, md5(b"kept"))}  # as they were: never a phantom
    assert bucket.stats() == (2, 7) and bucket.stored("phantom").pending
    monkeypatch.setattr(bucket_index, "PENDING_EXPIRY_S", 0.0)
    listed = {e.key: (e.size, e.etag, e.pending) for e in bucket.list().entries}
    assert listed == {
        "created": (5, md5(b"fresh"), {}),
        "replaced": (4, md5(b"new!"), {}),
        "unwritten": (4, md5(b"kept"), {}),
    }
    assert bucket.stored("phantom") is None and bucket.stats() == (3, 13)
    for key in listed:
        stored = bucket.stored(key)
        assert stored.pending == {} and stored.tag == rgw.objects.stat(info, key).tag
        assert rgw.get("photos", key).size == stored.size
    assert bucket.check()["pending_entries"] == []


def test_a_listing_leaves_an_entry_to_a_pending_operation_younger_than_the_expiry(rgw, bucket, monkeypatch):
    rgw.put("photos", "k", b"old")
    with monkeypatch.context() as patch:
        patch.setattr(BucketIndex, "complete", dies)
        with pytest.raises(Died):
            rgw.put("photos", "k", b"newer")
    monkeypatch.setattr(bucket_index, "PENDING_EXPIRY_S", 0.3)
    time.sleep(0.4)
    bucket.prepare("k", "young", "write")  # another writer, still within the expiry
    (entry,) = bucket.list().entries
    assert (entry.size, len(entry.pending)) == (3, 2)  # listed as it is: the young writer decides
    time.sleep(0.4)
    (entry,) = bucket.list().entries
    assert (entry.size, entry.etag, entry.pending) == (5, md5(b"newer"), {})


def test_a_listing_asks_no_head_for_entries_without_expired_pending_operations(rgw, bucket, monkeypatch):
    for n in range(20):
        rgw.put("photos", f"k{n:02}", b"x" * n)
    bucket.prepare("k07", "in-flight", "write")
    bucket.prepare("k99", "in-flight", "write")

    def asked(*args):
        raise AssertionError("a head was asked for")

    monkeypatch.setattr(rgw.versions, "index_entry", asked)
    monkeypatch.setattr(rgw.objects, "stat", asked)
    assert [e.key for e in bucket.list(max_keys=7).entries] == [f"k{n:02}" for n in range(7)]
    assert len(bucket.list().entries) == 20


def test_a_write_landing_while_a_listing_resolves_the_key_wins(rgw, bucket, monkeypatch):
    rgw.put("photos", "k", b"old")
    bucket.prepare("k", "dead", "write")
    monkeypatch.setattr(bucket_index, "PENDING_EXPIRY_S", 0.0)
    ask = rgw.versions.index_entry

    def racing(info, key):
        seen = ask(info, key)  # the head as the listing saw it...
        rgw.put("photos", "k", b"newest")  # ...then another write lands, head and index
        return seen

    monkeypatch.setattr(rgw.versions, "index_entry", racing)
    (entry,) = bucket.list().entries
    assert (entry.size, entry.etag) == (6, md5(b"newest"))
    assert bucket.stored("k").size == 6 and bucket.stats() == (1, 6)


def test_entries_stored_before_pending_operations_had_a_time_are_read_as_long_expired(rgw, bucket):
    rgw.put("photos", "k", b"on disk")
    with rgw.client.open_ioctx(INDEX_POOL) as ioctx, rados.WriteOpCtx() as op:
        doc = {"key": "k", "size": 1, "etag": "e", "mtime": 1.0, "content_type": "", "owner": "alice"}
        doc.update(storage_class="STANDARD", version_id="", exists=True, pending={"old-tag": "write"})
        ioctx.set_omap(op, ("k",), (json.dumps(doc).encode(),))
        ioctx.operate_write_op(op, bucket.info.index_object(bucket.shard_of("k")))
    assert bucket.stored("k").pending["old-tag"].op == "write"
    (entry,) = bucket.list().entries
    assert (entry.size, entry.etag, entry.pending) == (7, md5(b"on disk"), {})


def test_check_fix_restores_a_written_head_and_drops_a_missing_one(bucket):
    put(bucket, "kept", 7)
    put(bucket, "deleted", 9)
    heads = {"kept": entry("kept", 7), "written": entry("written", 42)}
    bucket.prepare("written", "t1", "write")  # the head was written, then the gateway died
    bucket.prepare("never", "t2", "write")  # died before the head write
    bucket.prepare("deleted", "t3", "delete")  # the head was removed, then the gateway died
    report = bucket.check(heads.get)
    actions = {p["key"]: p["action"] for p in report["pending_entries"]}
    assert actions == {"written": "restore", "never": "drop", "deleted": "remove"}
    assert report["check_result"]["existing_header"]["usage"]["rgw.main"] == {"size": 16, "num_objects": 2}
    assert report["check_result"]["calculated_header"]["usage"]["rgw.main"] == {"size": 49, "num_objects": 2}
    assert bucket.get("written") is None  # without --fix nothing changes
    bucket.check(heads.get, fix=True)
    assert [e.key for e in bucket.list().entries] == ["kept", "written"]
    assert bucket.get("written") == entry("written", 42) and bucket.stats() == (2, 49)
    assert bucket.check(heads.get)["pending_entries"] == []


def test_check_fix_corrects_drifted_stats(rgw, bucket):
    put(bucket, "a", 10)
    oid = bucket.info.index_object(bucket.shard_of("a"))
    with rgw.client.open_ioctx(INDEX_POOL) as ioctx, rados.WriteOpCtx() as op:
        ioctx.set_omap(op, (HEADER_KEY,), (ShardHeader(9, 5, 999).encode(),))
        ioctx.operate_write_op(op, oid)
    assert bucket.stats() == (5, 999)
    bucket.check(lambda key: None, fix=True)
    assert bucket.stats() == (1, 10)


def test_reshard_moves_every_entry_and_keeps_the_stats(rgw, bucket, client):
    keys = [f"k{n}" for n in range(300)]
    fill(rgw, bucket, keys)
    bucket.prepare("in-flight", "t1", "write")
    old_objects = bucket.info.index_objects()
    info = bucket.reshard(5)
    assert info.num_shards == 5 and info.index_gen == 1 and rgw.buckets.get("photos") == info
    with client.open_ioctx(INDEX_POOL) as ioctx:
        stored = {o.key for o in ioctx.list_objects()}
    assert stored == {f".dir.{info.marker}.1.{n}" for n in range(5)} and not stored & set(old_objects)
    assert [e.key for e in bucket.list(max_keys=1000).entries] == sorted(keys)
    assert bucket.stats() == (300, sum(len(k) for k in keys))
    bucket.complete("in-flight", "t1", entry("in-flight", 1))  # the pending tag moved with the entry
    assert bucket.get("in-flight") == entry("in-flight", 1)
    for key in keys:
        assert bucket_shard_index(key, 5) == bucket.shard_of(key)


def test_writers_and_readers_go_on_through_a_reshard(rgw, bucket):
    stale = rgw.indexes.open(bucket.info)  # holds the old layout: must find the new one by itself
    done = threading.Event()
    written: list[str] = []
    errors: list[BaseException] = []

    def writer() -> None:
        index = rgw.indexes.open(bucket.info)
        try:
            n = 0
            while not done.is_set() or n < 50:
                put(index, f"w{n:04}", 1)
                written.append(f"w{n:04}")
                n += 1
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=writer)
    thread.start()
    while len(written) < 20:
        time.sleep(0.01)
    bucket.reshard(3)
    done.set()
    thread.join()
    assert errors == []
    assert [e.key for e in stale.list().entries] == written and stale.stats() == (len(written), len(written))
    assert stale.get("w0000") == entry("w0000", 1)


def test_a_bucket_whose_objects_were_deleted_can_be_deleted(rgw, bucket):
    put(bucket, "a")
    with pytest.raises(BucketNotEmpty):
        rgw.buckets.delete("photos")
    bucket.prepare("a", "d", "delete")
    bucket.complete("a", "d", None)
    rgw.buckets.delete("photos")
