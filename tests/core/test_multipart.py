"""Multipart uploads: parts, listing, S3's ETag, no data copied on complete, abort, and the error cases."""

import hashlib
import os

import pytest

from librgw import rados
from librgw.errors import BadDigest, EntityTooSmall, InvalidArgument, InvalidPart, InvalidPartOrder, NoSuchUpload
from librgw.gc import GarbageCollector
from librgw.multipart import multipart_etag
from librgw.objects import ObjectStore
from librgw.write_request import WriteRequest
from tests.core.conftest import data_objects, failing_head_write

MiB = 1024 * 1024


@pytest.fixture
def bucket(rgw):
    rgw.users.create("alice", "Alice")
    return rgw.create_bucket("alice", "uploads")


def test_acceptance_three_5_mib_parts_complete_without_copying(rgw, client, bucket):
    """Issue 4, acceptance 6."""
    mp = rgw.multipart
    upload = mp.initiate(bucket, "video.mp4", WriteRequest(content_type="video/mp4", metadata={"take": "3"}))
    parts = [os.urandom(5 * MiB) for _ in range(3)]
    etags = [mp.upload_part(bucket, "video.mp4", upload, n + 1, data).etag for n, data in enumerate(parts)]
    assert etags == [hashlib.md5(p).hexdigest() for p in parts]
    assert [p.number for p in mp.list_parts(bucket, "video.mp4", upload)] == [1, 2, 3]
    assert [u.upload_id for u in mp.list_uploads(bucket)] == [upload]
    part_objects = data_objects(client)
    entry = mp.complete(bucket, "video.mp4", upload, list(zip([1, 2, 3], etags)))
    assert entry.etag.endswith("-3") and entry.etag == multipart_etag(etags)
    expected = hashlib.md5(b"".join(bytes.fromhex(e) for e in etags)).hexdigest() + "-3"
    assert entry.etag == expected
    info = rgw.objects.stat(bucket, "video.mp4")
    assert info.manifest.head_size == 0 and set(info.manifest.tail_oids()) == part_objects  # the parts themselves
    assert data_objects(client) == part_objects | {f"{bucket.marker}_video.mp4"}
    reader = rgw.get("uploads", "video.mp4")
    assert reader.read() == b"".join(parts) and reader.content_type == "video/mp4" and reader.metadata == {"take": "3"}
    assert rgw.get("uploads", "video.mp4", byte_range=(5 * MiB - 2, 5 * MiB + 1)).read() == parts[0][-2:] + parts[1][:2]
    assert mp.list_uploads(bucket) == []
    assert [e.key for e in rgw.list("uploads").objects] == ["video.mp4"]


def test_part_rules_are_s3s(rgw, bucket):
    mp = rgw.multipart
    upload = mp.initiate(bucket, "k", WriteRequest())
    small = mp.upload_part(bucket, "k", upload, 1, b"tiny").etag
    last = mp.upload_part(bucket, "k", upload, 2, b"end").etag
    with pytest.raises(EntityTooSmall):
        mp.complete(bucket, "k", upload, [(1, small), (2, last)])
    with pytest.raises(InvalidPartOrder):
        mp.complete(bucket, "k", upload, [(2, last), (1, small)])
    with pytest.raises(InvalidPart):
        mp.complete(bucket, "k", upload, [(1, "0" * 32)])
    with pytest.raises(InvalidPart):
        mp.complete(bucket, "k", upload, [(3, last)])
    entry = mp.complete(bucket, "k", upload, [(2, last)])  # a single last part may be small
    assert rgw.get("uploads", "k").read() == b"end" and entry.etag.endswith("-1")
    with pytest.raises(NoSuchUpload):
        mp.upload_part(bucket, "k", upload, 1, b"again")


def test_reuploading_a_part_replaces_it_and_unused_parts_are_collected(rgw, client, bucket):
    mp = rgw.multipart
    upload = mp.initiate(bucket, "k", WriteRequest())
    mp.upload_part(bucket, "k", upload, 1, b"a" * (5 * MiB))
    first = mp.upload_part(bucket, "k", upload, 1, b"b" * (5 * MiB)).etag
    unused = mp.upload_part(bucket, "k", upload, 2, b"c" * 10)
    last = mp.upload_part(bucket, "k", upload, 3, b"d" * 10).etag
    mp.complete(bucket, "k", upload, [(1, first), (3, last)])
    assert rgw.get("uploads", "k").read() == b"b" * (5 * MiB) + b"d" * 10
    rgw.objects.gc.process(include_all=True)
    info = rgw.objects.stat(bucket, "k")
    assert data_objects(client) == set(info.manifest.tail_oids()) | {f"{bucket.marker}_k"}
    assert not {o.oid for o in unused.objects} & data_objects(client)


def test_abort_removes_every_part(rgw, client, bucket):
    mp = rgw.multipart
    upload = mp.initiate(bucket, "k", WriteRequest())
    mp.upload_part(bucket, "k", upload, 1, os.urandom(6 * MiB))
    assert data_objects(client)
    mp.abort(bucket, "k", upload)
    assert data_objects(client) == set() and mp.list_uploads(bucket) == []
    with pytest.raises(NoSuchUpload):
        mp.list_parts(bucket, "k", upload)


def test_content_headers_given_at_initiation_are_the_objects(rgw, bucket):
    mp = rgw.multipart
    upload = mp.initiate(
        bucket, "k", WriteRequest(headers={"content-disposition": "inline", "cache-control": "no-cache"})
    )
    etag = mp.upload_part(bucket, "k", upload, 1, b"data").etag
    mp.complete(bucket, "k", upload, [(1, etag)])
    assert rgw.objects.stat(bucket, "k").headers == {"content-disposition": "inline", "cache-control": "no-cache"}
    with pytest.raises(InvalidArgument):
        mp.initiate(bucket, "k", WriteRequest(headers={"x-forbidden": "1"}))


def test_a_part_with_the_wrong_md5_is_bad_digest_and_the_old_part_stays(rgw, client, bucket):
    mp = rgw.multipart
    upload = mp.initiate(bucket, "k", WriteRequest())
    kept = mp.upload_part(bucket, "k", upload, 1, b"first", expected_md5=hashlib.md5(b"first").hexdigest())
    before = data_objects(client)
    with pytest.raises(BadDigest):
        mp.upload_part(bucket, "k", upload, 1, os.urandom(6 * MiB), expected_md5=hashlib.md5(b"x").hexdigest())
    assert data_objects(client) == before
    assert [p.etag for p in mp.list_parts(bucket, "k", upload)] == [kept.etag]


def test_a_crafted_upload_id_cannot_name_another_keys_upload(rgw, bucket):
    upload_id = rgw.multipart.initiate(bucket, "a.b", WriteRequest())
    with pytest.raises(NoSuchUpload):
        rgw.multipart.upload_part(bucket, "a", "b." + upload_id, 1, b"x" * 10)
    with pytest.raises(NoSuchUpload):
        rgw.multipart.list_parts(bucket, "a", "b." + upload_id)


def test_a_multipart_object_remembers_its_parts(rgw, bucket):
    upload_id = rgw.multipart.initiate(bucket, "parted", WriteRequest())
    sizes = [5 * 1024 * 1024, 5 * 1024 * 1024 + 1, 7]
    etags = [
        rgw.multipart.upload_part(bucket, "parted", upload_id, n, os.urandom(size)).etag
        for n, size in enumerate(sizes, 1)
    ]
    rgw.multipart.complete(bucket, "parted", upload_id, list(enumerate(etags, 1)))
    manifest = rgw.objects.stat(bucket, "parted").manifest
    assert manifest.multipart_sizes == sizes
    assert manifest.part_range(2) == (sizes[0], sizes[0] + sizes[1] - 1)
    assert manifest.part_range(3) == (sum(sizes[:2]), sum(sizes) - 1) and manifest.part_range(4) is None
    plain = rgw.objects.stat(bucket, rgw.objects.put(bucket, "plain", b"abc", WriteRequest()).key).manifest
    assert plain.part_range(1) == (0, 2) and plain.part_range(2) is None


def test_a_completion_that_fails_can_be_retried_and_keeps_its_parts(rgw, client, bucket, monkeypatch):
    rgw.put("uploads", "k", b"before")
    mp = rgw.multipart
    upload = mp.initiate(bucket, "k", WriteRequest())
    parts = [os.urandom(5 * MiB), b"end"]
    listed = [(n + 1, mp.upload_part(bucket, "k", upload, n + 1, data).etag) for n, data in enumerate(parts)]
    for landed in (False, True):
        with monkeypatch.context() as patch:
            patch.setattr(ObjectStore, "write_head", failing_head_write(landed))
            with pytest.raises(rados.IOError):
                mp.complete(bucket, "k", upload, listed)
        (entry,) = rgw.list("uploads").objects
        assert entry.etag == (multipart_etag([e for _, e in listed]) if landed else hashlib.md5(b"before").hexdigest())
        assert rgw.get("uploads", "k").size == entry.size
        assert [u.upload_id for u in mp.list_uploads(bucket)] == [upload]  # the client may retry, or abort
    mp.complete(bucket, "k", upload, listed)  # the retry replaces the head that landed, on the same parts
    GarbageCollector(rgw.zone, min_wait_s=0.0).process(include_all=True)
    assert rgw.get("uploads", "k").read() == b"".join(parts)
    assert mp.list_uploads(bucket) == []
