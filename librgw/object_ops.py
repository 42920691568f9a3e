"""Object operations as a request makes them: the one place that decides what a write or a
read does in a bucket, given its versioning state (RGW's ops: ``RGWPutObj``, ``RGWCopyObj``,
``RGWPutMetadataObject``, ``RGWDeleteObj``, ``RGWCompleteMultipart``, ``RGWGetObj``).

Every caller goes through ``ObjectOps``: the gateway's Swift controllers (and so S3, which
reaches them as native requests), ``RGW.put``/``get``/``delete``, the lifecycle agent and
anything in-process, so an object is written and read the same way whoever asks.

- In a bucket never versioned a write replaces the object's head (``ObjectStore``), a
  delete removes it, and a version id other than ``null`` is refused (``InvalidArgument``).
- In a versioned bucket (versioning enabled, or suspended since) a PUT, COPY or completed
  upload makes a new version (``enabled``) or replaces the ``null`` one (``suspended``); a
  POST (``update_metadata``) changes the current version in place; a DELETE adds a delete
  marker, or with a version id removes that version for good; a read reads the current
  version or the one named, and raises ``CurrentIsDeleteMarker`` or ``VersionIsDeleteMarker``
  when that is a delete marker (``versioning.py``).

Results say which version a call made or read (``version_id`` None: the bucket keeps no
versions), which is what a protocol's answer reports; the wire format is the gateway's.

Every write (put, copy, completed upload) is held to the bucket's and its owner's quotas
(``quotas.py``) before it is written, a streamed one as it is read.

A write's condition (``WriteRequest.condition``: ``If-Match``, ``If-None-Match: *``) is
checked before any data is read (``check_condition``, which a server may call itself even
before it reads the request's body). In a bucket never versioned the head write checks it
again atomically. In a versioned one it is not checked again: a version is recorded only
after its data is written, so a write that completes during the upload is not seen (a race
window the versions leave).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from .bucket_index import IndexEntry
from .bucket_info import BucketInfo
from .errors import CurrentIsDeleteMarker, InvalidArgument, NoSuchKey, VersionIsDeleteMarker
from .manifest import NULL, instance_oid
from .multipart import MultipartUploads
from .objects import CopySource, ObjectReader, ObjectState, ObjectStore
from .quotas import QuotaCheck
from .versioning import Versions
from .write_condition import WriteCondition
from .write_request import WriteRequest


@dataclass(frozen=True, kw_only=True)
class WriteResult:
    """What a write made: its bucket index entry, and the version it made or changed (None
    in a bucket that keeps no versions); for a copy, the version it read (None likewise)."""

    entry: IndexEntry
    version_id: str | None = None
    source_version_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeleteResult:
    """What a delete did: the version it made (a delete marker) or removed, None in a bucket
    that keeps no versions; whether that is a delete marker; whether there was an object
    (the current one, or the version named) to delete."""

    version_id: str | None
    delete_marker: bool
    existed: bool


class ObjectOps:
    """Read and write a bucket's objects as requests do, whatever its versioning state."""

    def __init__(self, heads: ObjectStore, versions: Versions, multipart: MultipartUploads, quotas: QuotaCheck) -> None:
        self.heads = heads
        self.versions = versions
        self.multipart = multipart
        self.quotas = quotas

    # -- reading -------------------------------------------------------------------

    def stat(self, bucket: BucketInfo, key: str, version_id: str | None = None) -> ObjectState:
        """The head record of the current object, or of its version ``version_id``; its
        ``version_id`` is the version's (``null`` for one made before versioning) in a
        versioned bucket. NoSuchKey or NoSuchVersion if there is none, ``CurrentIsDeleteMarker``
        or ``VersionIsDeleteMarker`` if it is a delete marker."""
        if not _versions_kept(bucket, version_id):
            return self.heads.stat(bucket, key)
        version = self.versions.find(bucket, key, version_id)
        if version.delete_marker:
            if version_id is None:
                raise CurrentIsDeleteMarker(
                    f"{bucket.name}/{key} does not exist (its current version is a delete marker)",
                    version.version_id,
                    version.mtime,
                )
            raise VersionIsDeleteMarker(
                f"version {version_id!r} of {bucket.name}/{key} is a delete marker", version.version_id, version.mtime
            )
        state = self.heads.stat(bucket, key, instance_oid(bucket.marker, key, version.version_id))
        state.version_id = version.version_id
        return state

    def get(
        self,
        bucket: BucketInfo,
        key: str,
        version_id: str | None = None,
        byte_range: tuple[int, int] | None = None,
    ) -> ObjectReader:
        """A reader of the current object or of version ``version_id`` (as ``stat``), or of
        its bytes ``first..last`` (inclusive, as HTTP ``Range``)."""
        if not _versions_kept(bucket, version_id):
            return self.heads.get(bucket, key, byte_range)
        return self.read(bucket, self.stat(bucket, key, version_id), byte_range)

    def read(self, bucket: BucketInfo, state: ObjectState, byte_range: tuple[int, int] | None = None) -> ObjectReader:
        """A reader of the very head ``stat`` gave as ``state`` (the version it named), or of
        bytes ``first..last`` of it. The reader's ``etag`` differs from ``state``'s if that
        head was replaced since (a null version overwritten)."""
        reader = self.heads.get(bucket, state.key, byte_range, state.oid)
        reader.version_id = reader.info.version_id = state.version_id  # a null version's head says ""
        return reader

    def current_etag(self, bucket: BucketInfo, key: str) -> str | None:
        """The ETag of the current object ``key``; None if there is none (or a delete marker)."""
        try:
            return self.stat(bucket, key).etag
        except NoSuchKey:  # CurrentIsDeleteMarker included
            return None

    def check_condition(self, bucket: BucketInfo, key: str, condition: WriteCondition | None) -> None:
        """Raise unless the current object ``key`` meets a write's ``condition`` (None: none)."""
        if condition is not None:
            condition.check(self.current_etag(bucket, key), f"{bucket.name}/{key}")

    # -- writing -------------------------------------------------------------------

    def put(self, bucket: BucketInfo, key: str, data: bytes | BinaryIO, request: WriteRequest) -> WriteResult:
        """Store ``data`` (bytes, or a binary file object read to its end, streamed) as
        ``key`` with what ``request`` asks for: a new version, in a versioned bucket."""
        self.check_condition(bucket, key, request.condition)
        data = self.quotas.limit(bucket, data)
        if not bucket.versioned:
            return WriteResult(entry=self.heads.put(bucket, key, data, request))
        version_id, entry = self.versions.put(bucket, key, data, request)
        return WriteResult(entry=entry, version_id=version_id)

    def copy(
        self, src_bucket: BucketInfo, src: ObjectState, dst_bucket: BucketInfo, dst_key: str, request: WriteRequest
    ) -> WriteResult:
        """Copy the object (or version) ``stat`` gave as ``src`` to ``dst_key`` (a new version,
        in a versioned bucket); ``ObjectStore.copy`` says what ``request`` keeps or replaces."""
        self.check_condition(dst_bucket, dst_key, request.condition)
        self.quotas.check(dst_bucket, src.size)
        source = CopySource(bucket=src_bucket, key=src.key, oid=src.oid)
        source_version = (src.version_id or NULL) if src_bucket.versioned else None
        if not dst_bucket.versioned:
            entry = self.heads.copy(source, dst_bucket, dst_key, request)
            return WriteResult(entry=entry, source_version_id=source_version)
        version_id, entry = self.versions.copy(source, dst_bucket, dst_key, request)
        return WriteResult(entry=entry, version_id=version_id, source_version_id=source_version)

    def update_metadata(self, bucket: BucketInfo, key: str, request: WriteRequest) -> WriteResult:
        """Replace the current object's metadata and content headers with the request's (and
        its content type, unless the request's is ""), its data, owner, ACL and tags kept
        (Swift's POST): in a versioned bucket the current version's, without making a new
        one. Its delete-at time becomes the request's (None: it no longer expires), as a
        Swift POST's ``X-Delete-At``. NoSuchKey if there is no current object."""
        if not bucket.versioned:
            current = self.heads.stat(bucket, key)
            kept = WriteRequest(
                metadata=request.metadata or {},
                content_type=request.content_type or current.content_type,
                headers=request.headers,
                owner=current.owner,
                acl=current.acl,
                delete_at=request.delete_at,
            )
            source = CopySource(bucket=bucket, key=key, oid=current.oid)
            return WriteResult(entry=self.heads.copy(source, bucket, key, kept))
        version_id, entry = self.versions.update(bucket, key, request)
        return WriteResult(entry=entry, version_id=version_id)

    def complete_upload(
        self,
        bucket: BucketInfo,
        key: str,
        upload_id: str,
        parts: list[tuple[int, str]],
        condition: WriteCondition | None = None,
    ) -> WriteResult:
        """Complete multipart upload ``upload_id`` into ``key`` (a new version, in a versioned
        bucket) from ``parts``, (number, ETag) as the client lists them; ``condition`` as a
        ``put``'s."""
        self.check_condition(bucket, key, condition)
        numbers = {number for number, _ in parts}
        uploaded = self.multipart.list_parts(bucket, key, upload_id)
        self.quotas.check(bucket, sum(part.size for part in uploaded if part.number in numbers))
        if not bucket.versioned:
            return WriteResult(entry=self.multipart.complete(bucket, key, upload_id, parts, condition=condition))
        version_id, entry = self.versions.write(
            bucket, key, lambda version: self.multipart.complete(bucket, key, upload_id, parts, version)
        )
        return WriteResult(entry=entry, version_id=version_id)

    def set_acl(self, bucket: BucketInfo, state: ObjectState, acl: str) -> None:
        """Replace the ACL of the very head ``stat`` gave as ``state`` (the version it named);
        NoSuchKey if that head was replaced or deleted since."""
        self.heads.set_acl(bucket, state.key, acl, state.tag, state.oid)

    def set_tags(self, bucket: BucketInfo, state: ObjectState, tags: dict[str, str]) -> None:
        """Replace the tags of the very head ``stat`` gave as ``state``, as ``set_acl``."""
        self.heads.set_tags(bucket, state.key, tags, state.tag, state.oid)

    # -- deleting ------------------------------------------------------------------

    def delete(self, bucket: BucketInfo, key: str, version_id: str | None = None) -> DeleteResult:
        """Delete the object: in a versioned bucket add a delete marker (a ``null`` one while
        suspended), or with ``version_id`` remove that version for good (NoSuchVersion if
        the key has none such). Deleting a missing object deletes nothing (in a versioned
        bucket a delete marker is added all the same) and says so: ``existed`` False."""
        if not _versions_kept(bucket, version_id):
            if self.current_etag(bucket, key) is None:
                return DeleteResult(version_id=None, delete_marker=False, existed=False)
            self.heads.delete(bucket, key)
            return DeleteResult(version_id=None, delete_marker=False, existed=True)
        existed = version_id is not None or self.current_etag(bucket, key) is not None
        removed, is_marker = self.versions.delete(bucket, key, version_id)
        return DeleteResult(version_id=removed, delete_marker=is_marker, existed=existed)


def _versions_kept(bucket: BucketInfo, version_id: str | None) -> bool:
    """Does a request for ``version_id`` go through the bucket's versions (not to the plain
    object)? A bucket never versioned has only its ``null`` version: any other is refused."""
    if bucket.versioned:
        return True
    if version_id not in (None, NULL):
        raise InvalidArgument("Version-aware operations require that the container is versioned")
    return False
