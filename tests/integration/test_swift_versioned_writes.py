"""Swift's legacy versioning (the ``versioned_writes`` filter) through a real gunicorn gateway
with python-swiftclient: stack mode (three overwrites archived, each DELETE pops one back),
history mode (a DELETE leaves the copy and a delete marker), an S3 overwrite archived too,
a missing archive container refusing the overwrite, and ``/info``'s ``versioned_writes``."""

from __future__ import annotations

import json
import uuid

import pytest
from swiftclient import client as swift

pytestmark = pytest.mark.slow

MARKER_TYPE = "application/x-deleted;swift_versions_deleted=1"


@pytest.fixture
def names(gateway) -> tuple[swift.Connection, str, str]:
    conn = gateway.connection()
    suffix = uuid.uuid4().hex[:8]
    container, archive = f"vw-{suffix}", f"vw-arch-{suffix}"
    conn.put_container(archive)
    return conn, container, archive


def test_stack_mode_overwrite_three_times_then_each_delete_pops_one_back(names):
    conn, container, archive = names
    conn.put_container(container, headers={"X-Versions-Location": archive})
    assert conn.head_container(container)["x-versions-location"] == archive
    for body in (b"v1", b"v2", b"v3", b"v4"):
        conn.put_object(container, "doc.txt", body, headers={"X-Object-Meta-Body": body.decode()})
    _, listing = conn.get_container(archive)
    assert [item["name"][:12] for item in listing] == ["007doc.txt/1"] * 3
    assert [conn.get_object(archive, item["name"])[1] for item in listing] == [b"v1", b"v2", b"v3"]
    for expected in (b"v3", b"v2", b"v1"):
        conn.delete_object(container, "doc.txt")
        headers, body = conn.get_object(container, "doc.txt")
        assert (body, headers["x-object-meta-body"]) == (expected, expected.decode())
    assert conn.get_container(archive)[1] == []
    conn.delete_object(container, "doc.txt")
    with pytest.raises(swift.ClientException) as gone:
        conn.get_object(container, "doc.txt")
    assert gone.value.http_status == 404


def test_history_mode_delete_leaves_the_copy_and_a_delete_marker(names):
    conn, container, archive = names
    conn.put_container(container, headers={"X-History-Location": archive})
    conn.put_object(container, "doc.txt", b"v1")
    conn.put_object(container, "doc.txt", b"v2")
    conn.delete_object(container, "doc.txt")
    _, listing = conn.get_container(archive)
    assert [item["content_type"] for item in listing][-1] == MARKER_TYPE
    assert [conn.get_object(archive, item["name"])[1] for item in listing[:2]] == [b"v1", b"v2"]
    assert conn.get_container(container)[1] == []


def test_s3_overwrite_is_archived_and_a_missing_archive_refuses_the_overwrite(gateway, names):
    conn, container, archive = names
    conn.put_container(container, headers={"X-Versions-Location": archive})
    s3 = gateway.s3()
    s3.put_object(Bucket=container, Key="k", Body=b"one")
    s3.put_object(Bucket=container, Key="k", Body=b"two")
    assert [conn.get_object(archive, item["name"])[1] for item in conn.get_container(archive)[1]] == [b"one"]
    for item in conn.get_container(archive)[1]:
        conn.delete_object(archive, item["name"])
    conn.delete_container(archive)
    with pytest.raises(swift.ClientException) as refused:
        conn.put_object(container, "k", b"three")
    assert refused.value.http_status == 412
    assert conn.get_object(container, "k")[1] == b"two"


def test_info_announces_the_flags(gateway):
    status, _, body = gateway.raw("GET", "/info")
    assert status == 200
    assert json.loads(body)["versioned_writes"] == {"allowed_flags": ["x-versions-location", "x-history-location"]}
