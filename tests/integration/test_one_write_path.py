"""One write path: a PUT into a versioned bucket through the in-process ``RGW.put``, through
the Swift API and through S3 (real gunicorn, swiftclient, boto3) leaves the same records:
the head's xattrs (``ObjectState``), the key's version entry and its bucket index entry,
apart from what is one write's own (its tag, time and version id)."""

from dataclasses import asdict

import pytest

import librgw
from librgw.zone import DATA_POOL

pytestmark = pytest.mark.slow

BODY = b"the same bytes, three ways"
METADATA = {"color": "blue"}
CONTENT_TYPE = "text/plain"
OWN = {"tag", "mtime", "version_id", "key", "oid"}  # what each write has of its own
OWN_XATTRS = {"user.rgw.idtag", "user.rgw.mtime", "user.rgw.version_id"}


def test_a_put_through_the_core_swift_and_s3_makes_the_same_records(gateway):
    s3 = gateway.s3()
    s3.create_bucket(Bucket="same")
    s3.put_bucket_versioning(Bucket="same", VersioningConfiguration={"Status": "Enabled"})
    with librgw.connect(gateway.conf) as rgw:
        rgw.put("same", "via-core", BODY, METADATA, CONTENT_TYPE)
        gateway.connection().put_object(
            "same", "via-swift", BODY, content_type=CONTENT_TYPE, headers={"X-Object-Meta-Color": "blue"}
        )
        s3.put_object(Bucket="same", Key="via-s3", Body=BODY, Metadata=METADATA, ContentType=CONTENT_TYPE)

        bucket = rgw.buckets.get("same")
        keys = ("via-core", "via-swift", "via-s3")
        states = [rgw.object_ops.stat(bucket, key) for key in keys]
        with rgw.client.open_ioctx(DATA_POOL) as data:
            xattrs = [dict(data.get_xattrs(state.oid)) for state in states]
        versions = [rgw.versions.versions_of(bucket, key) for key in keys]
        with rgw.indexes.open(bucket) as index:
            entries = [index.get(key) for key in keys]

    for state in states:  # each a version of its own, at its own head
        assert len(state.version_id) == 32 and state.oid.endswith(f"{state.version_id}_{state.key}")
    assert (states[0].metadata, states[0].content_type, states[0].owner) == (METADATA, CONTENT_TYPE, "alice")
    assert _agree([{k: v for k, v in asdict(s).items() if k not in OWN} for s in states])
    assert _agree([{k: v for k, v in x.items() if k not in OWN_XATTRS} for x in xattrs])
    assert {k for k in xattrs[0] if k.startswith("user.rgw.x-amz-meta-")} == {"user.rgw.x-amz-meta-color"}
    assert [len(v) for v in versions] == [1, 1, 1]
    assert [v[0][1].version_id for v in versions] == [s.version_id for s in states]
    assert _agree([{k: v for k, v in asdict(v[0][1]).items() if k not in OWN} for v in versions])
    assert [e.version_id for e in entries] == [s.version_id for s in states]
    assert all(not e.pending for e in entries)
    assert _agree([{k: v for k, v in asdict(e).items() if k not in OWN} for e in entries])


def _agree(records: list[dict]) -> bool:
    """Does every record equal the first? (pytest shows the difference when one does not.)"""
    assert records[1:] == [records[0]] * (len(records) - 1)
    return True
