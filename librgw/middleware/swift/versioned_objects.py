"""Object reads and writes that honour the container's versioning: the core's ``objects`` for a
container that was never versioned, its ``versions`` for one whose versioning is enabled or
suspended.

The object controllers (``objects.py``, ``multipart.py``) call these instead of
``rgw.objects`` directly, so a PUT, COPY, POST, DELETE or completed upload in a versioned
container makes or marks versions, and a GET or HEAD reads the current version, or the one
``?version-id`` names. The wire contract (headers, the delete marker's 404) is
``versions.py``'s. In a container never versioned each call costs one comparison more than
calling ``rgw.objects``.

A write's condition (``If-Match``, ``If-None-Match: *``; ``conditions.py``) is checked by
``check_condition`` before the body is read, so a write bound to fail reads nothing. In a
container never versioned the core checks it again atomically with the write. In a versioned
one it is not checked again: a version is recorded only after its data is written, so a write
that completes during the upload is not seen (a race window the core's versions leave).
"""

from __future__ import annotations

from typing import BinaryIO

from webob import exc

import librgw
from librgw.bucket_index import IndexEntry
from librgw.buckets import BucketInfo
from librgw.errors import NoSuchKey
from librgw.objects import ObjectInfo
from librgw.versioning import NULL, instance_oid
from librgw.write_condition import WriteCondition

from .versions import COPIED_VERSION_HEADER, DeleteMarkerReached, deleted_headers, version_headers

OFF = "off"


def is_versioned(bucket: BucketInfo) -> bool:
    return bucket.versioning != OFF


def _unversioned(bucket: BucketInfo, version_id: str | None) -> bool:
    """Does a request for ``version_id`` go to the plain object? 400 for a version of a
    container that never had versioning (only its ``null`` version exists)."""
    if is_versioned(bucket):
        return False
    if version_id not in (None, NULL):
        raise exc.HTTPBadRequest("Version-aware operations require that the container is versioned")
    return True


def stat(rgw: librgw.RGW, bucket: BucketInfo, key: str, version_id: str | None = None) -> ObjectInfo:
    """The head record of the object, or of its version ``version_id``; 404 if there is none,
    ``DeleteMarkerReached`` (a 404 saying so) if that version is a delete marker. The
    record's ``version_id`` is the version's (``null`` for one made before versioning)."""
    if _unversioned(bucket, version_id):
        return rgw.objects.stat(bucket, key)
    version = rgw.versions.find(bucket, key, version_id)
    if version.delete_marker:
        raise DeleteMarkerReached(version)
    info = rgw.objects.stat(bucket, key, instance_oid(bucket, key, version.version_id))
    info.version_id = version.version_id
    return info


def read_headers(bucket: BucketInfo, info: ObjectInfo) -> list[tuple[str, str]]:
    """The version headers of a GET or HEAD of ``info`` (which ``stat`` gave)."""
    return version_headers(info.version_id) if is_versioned(bucket) else []


def copied_version_headers(src_bucket: BucketInfo, src: ObjectInfo) -> list[tuple[str, str]]:
    """``X-Copied-From-Version-Id`` of a copy from ``src`` (which ``stat`` gave)."""
    return [(COPIED_VERSION_HEADER, src.version_id or NULL)] if is_versioned(src_bucket) else []


def current_etag(rgw: librgw.RGW, bucket: BucketInfo, key: str) -> str | None:
    """The ETag of the current object ``key``; None if there is none (or a delete marker)."""
    try:
        return stat(rgw, bucket, key).etag
    except (NoSuchKey, DeleteMarkerReached):
        return None


def exists(rgw: librgw.RGW, bucket: BucketInfo, key: str) -> bool:
    """Is there a current object ``key`` (not a delete marker)?"""
    return current_etag(rgw, bucket, key) is not None


def check_condition(rgw: librgw.RGW, bucket: BucketInfo, key: str, condition: WriteCondition | None) -> None:
    """Raise unless the current object ``key`` meets a write's ``condition`` (None: none)."""
    if condition is not None:
        condition.check(current_etag(rgw, bucket, key), f"{bucket.name}/{key}")


def put(
    rgw: librgw.RGW,
    bucket: BucketInfo,
    key: str,
    body: BinaryIO,
    metadata: dict[str, str],
    content_type: str,
    owner: str,
    headers: dict[str, str],
    expected_md5: str | None,
    acl: str = "",
    tags: dict[str, str] | None = None,
    condition: WriteCondition | None = None,
) -> tuple[IndexEntry, list[tuple[str, str]]]:
    """Store ``body`` as ``key`` (a new version, in a versioned container), with ACL ``acl``:
    the index entry and the response's version headers. ``condition``, which ``check_condition``
    checked, the core checks again with the write in a container never versioned."""
    kept = {"owner": owner, "headers": headers, "expected_md5": expected_md5, "acl": acl, "tags": tags}
    if not is_versioned(bucket):
        return rgw.objects.put(bucket, key, body, metadata, content_type, **kept, condition=condition), []
    version_id, entry = rgw.versions.put(bucket, key, body, metadata, content_type, **kept)
    return entry, version_headers(version_id)


def copy(
    rgw: librgw.RGW,
    source: tuple[BucketInfo, ObjectInfo],
    dst_bucket: BucketInfo,
    dst_key: str,
    metadata: dict[str, str],
    content_type: str,
    headers: dict[str, str],
    owner: str = "",
    acl: str = "",
    tags: dict[str, str] | None = None,
    condition: WriteCondition | None = None,
) -> tuple[IndexEntry, list[tuple[str, str]]]:
    """Copy the object (or version) ``stat`` gave as ``source`` to ``dst_key``, ``owner``'s with
    ACL ``acl``: the entry and the response's version headers (the new version's, and the
    source's if it has one). The copy has the source's tags with ``tags`` None, else ``tags``;
    ``condition`` is on the object it replaces, as ``put``'s."""
    src_bucket, src = source
    version = copied_version_headers(src_bucket, src)
    kept = {"src_oid": src.oid, "headers": headers, "owner": owner, "acl": acl, "tags": tags}
    if not is_versioned(dst_bucket):
        entry = rgw.objects.copy(
            src_bucket, src.key, dst_bucket, dst_key, metadata, content_type, **kept, condition=condition
        )
        return entry, version
    version_id, entry = rgw.versions.copy(src_bucket, src.key, dst_bucket, dst_key, metadata, content_type, **kept)
    return entry, version_headers(version_id) + version


def update(
    rgw: librgw.RGW,
    bucket: BucketInfo,
    key: str,
    metadata: dict[str, str],
    content_type: str | None,
    headers: dict[str, str],
) -> list[tuple[str, str]]:
    """Replace the current object's metadata and content headers (and its content type, if
    given), its data, owner and ACL kept (POST): in a versioned container the current
    version's, without making a new one. The version headers."""
    if not is_versioned(bucket):
        info = rgw.objects.stat(bucket, key)  # 404 if it is not there
        kept = {"src_oid": info.oid, "headers": headers, "owner": info.owner, "acl": info.acl}
        rgw.objects.copy(bucket, key, bucket, key, metadata, content_type or info.content_type, **kept)
        return []
    version = rgw.versions.update(bucket, key, metadata, content_type, headers)
    return version_headers(version.version_id)


def delete(rgw: librgw.RGW, bucket: BucketInfo, key: str, version_id: str | None = None) -> list[tuple[str, str]]:
    """Delete the object: in a versioned container add a delete marker, or with ``version_id``
    remove that version for good. 404 if there was no current object (a marker is added all
    the same) or no such version. The response's version headers."""
    if _unversioned(bucket, version_id):
        rgw.objects.stat(bucket, key)  # 404 if it is not there
        rgw.objects.delete(bucket, key)
        return []
    existed = version_id is not None or exists(rgw, bucket, key)
    removed_id, is_marker = rgw.versions.delete(bucket, key, version_id)
    headers = deleted_headers(removed_id, is_marker)
    if not existed:
        raise exc.HTTPNotFound(headers=headers)
    return headers


def complete_upload(
    rgw: librgw.RGW,
    bucket: BucketInfo,
    key: str,
    upload_id: str,
    parts: list[tuple[int, str]],
    condition: WriteCondition | None = None,
) -> tuple[IndexEntry, list[tuple[str, str]]]:
    """Complete a multipart upload into ``key`` (a new version, in a versioned container);
    ``condition`` as ``put``'s."""
    if not is_versioned(bucket):
        return rgw.multipart.complete(bucket, key, upload_id, parts, condition=condition), []
    version_id, entry = rgw.versions.write(
        bucket, key, lambda oid, vid: rgw.multipart.complete(bucket, key, upload_id, parts, oid, vid)
    )
    return entry, version_headers(version_id)
