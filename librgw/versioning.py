"""Object versions with S3's semantics, for buckets whose versioning is enabled or suspended.

Each version of a key has its own head: ``<marker>__:<version id>_<key>`` (RGW's instance
name), except the ``null`` version (written while versioning was off or suspended), whose
head is the plain ``<marker>_<key>``. A delete marker has no head at all.

The versions of every key are kept, newest first, in the omap of
``<marker>__versions.<shard>`` in the index pool (the shard is the key's bucket index shard),
under ``<key>\\0<inverted time>.<version id>``, so one ordered scan lists versions as
ListObjectVersions does and the first entry of a key is its current version. The bucket
index entry of the key mirrors the current version (none when it is a delete marker), so a
plain listing is unchanged. A key's version list is changed under a lock on its shard.

A key written before versioning was enabled has only its null version and no entries yet;
its first versioned change records that null version before adding the new one.
"""

from __future__ import annotations

import itertools
import json
import secrets
import string
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, BinaryIO

from librgw import rados

from .bucket_index import BucketIndex, bucket_shard_index
from .buckets import BucketInfo
from .errors import MethodNotAllowed, NoSuchKey, NoSuchVersion
from .manifest import head_oid
from .objects import ObjectReader, ObjectStore, check_key, entry_of
from .omap_pages import PAGE, omap_items
from .record_lock import locked
from .zone import INDEX_POOL

if TYPE_CHECKING:
    from .connection import RGW

NULL = "null"
VERSION_ID_LEN = 32
TIME_DIGITS = 20


@dataclass
class Version:
    """One version of a key, or a delete marker, as ListObjectVersions shows it."""

    key: str
    version_id: str
    mtime: float
    size: int = 0
    etag: str = ""
    owner: str = ""
    delete_marker: bool = False
    is_latest: bool = False

    def encode(self) -> bytes:
        doc = asdict(self)
        del doc["is_latest"]
        return json.dumps(doc).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Version:
        return cls(**json.loads(raw))


@dataclass
class VersionPage:
    versions: list[Version]  # versions and delete markers, by key, newest first
    is_truncated: bool
    next_key_marker: str
    next_version_id_marker: str


def _after_markers(rows: list[Version], key_marker: str, version_id_marker: str) -> list[Version]:
    """The rows after ``key_marker`` (all its versions), or after its version ``version_id_marker``."""
    if not key_marker:
        return rows
    if version_id_marker:
        for n, v in enumerate(rows):
            if v.key == key_marker and v.version_id == version_id_marker:
                return rows[n + 1 :]
    return [v for v in rows if v.key > key_marker]


def new_version_id() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(VERSION_ID_LEN))


def instance_oid(bucket: BucketInfo, key: str, version_id: str) -> str:
    return head_oid(bucket.marker, key) if version_id == NULL else f"{bucket.marker}__:{version_id}_{key}"


def _omap_key(key: str, mtime_ns: int, version_id: str) -> str:
    return f"{key}\0{10**TIME_DIGITS - 1 - mtime_ns:0{TIME_DIGITS}d}.{version_id}"


class Versions:
    def __init__(self, rgw: RGW, objects: ObjectStore) -> None:
        self.rgw = rgw
        self.objects = objects

    def _shard_oid(self, bucket: BucketInfo, key: str) -> str:
        return f"{bucket.marker}__versions.{bucket_shard_index(key, bucket.num_shards)}"

    # -- reading -----------------------------------------------------------------

    def versions_of(self, bucket: BucketInfo, key: str) -> list[tuple[str, Version]]:
        """(omap key, version) of ``key``, newest first; the null version of a key never
        changed while versioned counts as its only version."""
        with self.rgw.client.open_ioctx(INDEX_POOL) as index:
            found = self._scan(index, self._shard_oid(bucket, key), key + "\0")
        if found:
            return found
        try:
            info = self.objects.stat(bucket, key)
        except NoSuchKey:
            return []
        version = Version(key, NULL, info.mtime, info.size, info.etag, info.owner)
        return [(_omap_key(key, int(info.mtime * 1e9), NULL), version)]

    def current(self, bucket: BucketInfo, key: str) -> Version | None:
        found = self.versions_of(bucket, key)
        return found[0][1] if found else None

    def get(
        self, bucket: BucketInfo, key: str, version_id: str | None = None, byte_range: tuple[int, int] | None = None
    ) -> ObjectReader:
        """The current version, or ``version_id``; NoSuchKey if the current one is a delete
        marker, MethodNotAllowed if ``version_id`` names one (as S3 answers)."""
        check_key(key)
        versions = [v for _, v in self.versions_of(bucket, key)]
        if version_id is None:
            if not versions or versions[0].delete_marker:
                raise NoSuchKey(f"{bucket.name}/{key} does not exist (its current version is a delete marker)")
            version = versions[0]
        else:
            version = next((v for v in versions if v.version_id == version_id), None)
            if version is None:
                raise NoSuchVersion(f"{bucket.name}/{key} has no version {version_id!r}")
            if version.delete_marker:
                raise MethodNotAllowed(f"version {version_id!r} of {bucket.name}/{key} is a delete marker")
        reader = self.objects.get(bucket, key, byte_range, instance_oid(bucket, key, version.version_id))
        reader.version_id = version.version_id
        return reader

    def list(
        self,
        bucket: BucketInfo,
        prefix: str = "",
        key_marker: str = "",
        version_id_marker: str = "",
        max_keys: int = 1000,
    ) -> VersionPage:
        """ListObjectVersions: every version and delete marker, by key, newest first."""
        rows: list[Version] = []
        with self.rgw.client.open_ioctx(INDEX_POOL) as index:
            for shard in range(bucket.num_shards):
                oid = f"{bucket.marker}__versions.{shard}"
                rows += [v for _, v in self._scan(index, oid, prefix)]
        with BucketIndex(self.rgw, bucket) as bucket_index:
            listed = {v.key for v in rows}
            marker = ""
            while True:
                page = bucket_index.list(prefix=prefix, marker=marker, max_keys=PAGE)
                rows += [
                    Version(e.key, NULL, e.mtime, e.size, e.etag, e.owner) for e in page.entries if e.key not in listed
                ]
                if not page.is_truncated:
                    break
                marker = page.next_marker
        rows.sort(key=lambda v: (v.key, -v.mtime))
        latest = set()
        for v in rows:
            v.is_latest = v.key not in latest
            latest.add(v.key)
        rows = _after_markers(rows, key_marker, version_id_marker)
        page, rest = rows[:max_keys], rows[max_keys:]
        last = page[-1] if rest and page else None
        return VersionPage(page, bool(rest), last.key if last else "", last.version_id if last else "")

    # -- writing -----------------------------------------------------------------

    def put(
        self,
        bucket: BucketInfo,
        key: str,
        data: bytes | BinaryIO,
        metadata: dict[str, str] | None = None,
        content_type: str = "",
    ) -> tuple[str, str]:
        """A new version (``enabled``) or the null version replaced (``suspended``): (version id, ETag)."""
        check_key(key)
        version_id = new_version_id() if bucket.versioning == "enabled" else NULL
        with self._key_lock(bucket, key):
            self._record_null_version(bucket, key)
            if version_id == NULL:
                self._drop_null(bucket, key, keep_data=True)
            entry = self.objects.put(
                bucket,
                key,
                data,
                metadata,
                content_type,
                oid=instance_oid(bucket, key, version_id),
                version_id=version_id,
            )
            self._add(bucket, Version(key, version_id, entry.mtime, entry.size, entry.etag, entry.owner))
        return version_id, entry.etag

    def delete(self, bucket: BucketInfo, key: str, version_id: str | None = None) -> tuple[str, bool]:
        """Without ``version_id``: add a delete marker (null in a suspended bucket); returns its
        id. With one: remove that version for good. Returns (version id, is a delete marker)."""
        check_key(key)
        with self._key_lock(bucket, key):
            self._record_null_version(bucket, key)
            if version_id is None:
                marker_id = new_version_id() if bucket.versioning == "enabled" else NULL
                if marker_id == NULL:
                    self._drop_null(bucket, key, keep_data=False)
                self._add(bucket, Version(key, marker_id, time.time(), delete_marker=True))
                self._sync_index(bucket, key)
                return marker_id, True
            found = [(k, v) for k, v in self.versions_of(bucket, key) if v.version_id == version_id]
            if not found:
                raise NoSuchVersion(f"{bucket.name}/{key} has no version {version_id!r}")
            ((omap_key, version),) = found
            if not version.delete_marker:
                self.objects.remove_head(bucket, instance_oid(bucket, key, version_id))
            self._remove_entries(bucket, key, [omap_key])
            self._sync_index(bucket, key)
            return version_id, version.delete_marker

    # -- internals -----------------------------------------------------------------

    def _key_lock(self, bucket: BucketInfo, key: str):
        index = self.rgw.client.open_ioctx(INDEX_POOL)
        return _ClosingLock(index, self._shard_oid(bucket, key))

    def _record_null_version(self, bucket: BucketInfo, key: str) -> None:
        """Give a key's pre-versioning (null) version its entry before the key's first versioned change."""
        with self.rgw.client.open_ioctx(INDEX_POOL) as index:
            if self._scan(index, self._shard_oid(bucket, key), key + "\0", limit=1):
                return
        try:
            info = self.objects.stat(bucket, key)
        except NoSuchKey:
            return
        self._add(bucket, Version(key, NULL, info.mtime, info.size, info.etag, info.owner))

    def _drop_null(self, bucket: BucketInfo, key: str, keep_data: bool) -> None:
        """Forget the key's null version (a new null version or null delete marker replaces it)."""
        nulls = [k for k, v in self.versions_of(bucket, key) if v.version_id == NULL]
        self._remove_entries(bucket, key, nulls)
        if not keep_data:  # a put overwrites the null head itself, and GCs its tails
            self.objects.remove_head(bucket, head_oid(bucket.marker, key))

    def _add(self, bucket: BucketInfo, version: Version) -> None:
        with self.rgw.client.open_ioctx(INDEX_POOL) as index, rados.WriteOpCtx() as op:
            omap_key = _omap_key(version.key, int(version.mtime * 1e9), version.version_id)
            index.set_omap(op, (omap_key,), (version.encode(),))
            index.operate_write_op(op, self._shard_oid(bucket, version.key))

    def _remove_entries(self, bucket: BucketInfo, key: str, omap_keys: list[str]) -> None:
        if not omap_keys:
            return
        with self.rgw.client.open_ioctx(INDEX_POOL) as index, rados.WriteOpCtx() as op:
            index.remove_omap_keys(op, tuple(omap_keys))
            try:
                index.operate_write_op(op, self._shard_oid(bucket, key))
            except rados.ObjectNotFound:
                pass

    def _sync_index(self, bucket: BucketInfo, key: str) -> None:
        """Make the bucket index entry show the key's current version, or nothing."""
        current = self.current(bucket, key)
        tag = new_version_id()
        with BucketIndex(self.rgw, bucket) as index:
            index.prepare(key, tag, "write")
            if current is None or current.delete_marker:
                index.complete(key, tag, None)
                return
            info = self.objects.stat(bucket, key, instance_oid(bucket, key, current.version_id))
            index.complete(key, tag, entry_of(info))

    @staticmethod
    def _scan(index: rados.Ioctx, oid: str, filter_prefix: str, limit: int | None = None) -> list[tuple[str, Version]]:
        """(omap key, version) of the entries of ``oid`` starting with ``filter_prefix``, in order."""
        items = omap_items(index, oid, filter_prefix=filter_prefix, page=limit or PAGE)
        return [(k, Version.decode(v)) for k, v in itertools.islice(items, limit)]


class _ClosingLock:
    """The shard lock of ``versioning``, closing its I/O context afterwards."""

    def __init__(self, ioctx: rados.Ioctx, oid: str) -> None:
        self._ioctx = ioctx
        self._lock = locked(ioctx, oid)

    def __enter__(self) -> None:
        self._lock.__enter__()

    def __exit__(self, *exc) -> None:
        try:
            self._lock.__exit__(*exc)
        finally:
            self._ioctx.close()
