"""Object versions with S3's semantics, for buckets whose versioning is enabled or suspended.

Each version of a key has its own head: ``<marker>__:<version id>_<key>`` (RGW's instance
name), except the ``null`` version (written while versioning was off or suspended), whose
head is the plain ``<marker>_<key>``. A delete marker has no head at all.

The versions of every key are kept, newest first, in the omap of
``<marker>__versions.<shard>`` in the index pool (the shard is the key's bucket index shard),
under ``<key>\\x01\\x01<inverted time>.<version id>`` (``omap_keys.py``), so one ordered scan
lists versions as ListObjectVersions does and the first entry of a key is its current
version. The bucket index entry of the key mirrors the current version (none when it is a
delete marker), so a plain listing is unchanged. A key's version list is changed under a lock on its shard.

A key written before versioning was enabled has only its null version and no entries yet;
its first versioned change records that null version before adding the new one.

Whether a request goes through the versions at all is ``object_ops.py``'s to decide. Every
write of a versioned bucket (``put``, ``copy``, a completed multipart upload) goes through
``write``, which gives the writer the version id to write (a new one, or ``null`` while
suspended; its head is ``manifest.instance_oid``'s) and records the version once the head
is written, so a write that fails (a bad MD5, a client gone) leaves the versions as they
were. The data is written outside the key's lock; only the bookkeeping after it is under
the lock. Listing reads every version under the prefix from the key marker on and selects
the page in memory (``select_versions``).

The bucket index entry changes in two phases around every change of a key's versions: the
writer's head write prepares it (``ObjectStore.commit_head``; a delete prepares it itself),
and ``_sync_index`` completes it from the versions once they are recorded. A writer that
fails or dies in between leaves the operation pending, and a listing resolves it after it
expires against ``index_entry``: what the versions say, not the head the writer wrote.
"""

from __future__ import annotations

import itertools
import json
import secrets
import string
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import BinaryIO

from librgw import rados

from .bucket_index import BucketIndexes, IndexEntry, bucket_shard_index, common_prefix
from .bucket_info import BucketInfo
from .errors import NoSuchKey, NoSuchVersion
from .manifest import NULL, head_oid, instance_oid
from .objects import CopySource, ObjectStore, check_key, entry_of
from .omap_keys import entries_of, entry_key, escaped
from .omap_pages import PAGE, omap_first, omap_items
from .record_lock import locked
from .write_request import WriteRequest
from .zone import INDEX_POOL, Zone

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
    content_type: str = ""

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
    prefixes: list[str] = field(default_factory=list)  # the common prefixes, with a delimiter


def _after_markers(rows: list[Version], key_marker: str, version_id_marker: str) -> list[Version]:
    """The rows after ``key_marker`` (all its versions), or after its version ``version_id_marker``."""
    if not key_marker:
        return rows
    if version_id_marker:
        for n, v in enumerate(rows):
            if v.key == key_marker and v.version_id == version_id_marker:
                return rows[n + 1 :]
    return [v for v in rows if v.key > key_marker]


def select_versions(
    rows: list[Version],
    prefix: str = "",
    delimiter: str = "",
    key_marker: str = "",
    version_id_marker: str = "",
    max_keys: int = 1000,
) -> VersionPage:
    """The ListObjectVersions page of ``rows`` (every version under ``prefix``, by key, newest
    first): after the markers, keys sharing a prefix up to ``delimiter`` rolled up into one
    common prefix, at most ``max_keys`` versions and prefixes together."""
    versions: list[Version] = []
    prefixes: list[str] = []
    next_key = next_version_id = ""
    truncated = False
    for version in _after_markers(rows, key_marker, version_id_marker):
        rolled = common_prefix(version.key, prefix, delimiter)
        if rolled and (rolled in prefixes or rolled <= key_marker):
            continue  # listed already, on this page or an earlier one
        if len(versions) + len(prefixes) == max_keys:
            truncated = True
            break
        if rolled:
            prefixes.append(rolled)
            next_key, next_version_id = rolled, ""
        else:
            versions.append(version)
            next_key, next_version_id = version.key, version.version_id
    if not truncated:
        next_key = next_version_id = ""
    return VersionPage(versions, truncated, next_key, next_version_id, prefixes)


def new_version_id() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(VERSION_ID_LEN))


def version_shard_oids(bucket: BucketInfo) -> list[str]:
    """The objects (in the index pool) whose omaps hold the bucket's versions."""
    return [f"{bucket.marker}__versions.{shard}" for shard in range(bucket.num_shards)]


def holds_versions(index: rados.Ioctx, bucket: BucketInfo) -> bool:
    """Does the bucket keep any version or delete marker (so it cannot be deleted)?
    ``index`` is an I/O context on the index pool."""
    return any(omap_first(index, oid) is not None for oid in version_shard_oids(bucket))


def remove_version_shards(index: rados.Ioctx, bucket: BucketInfo) -> None:
    """Remove the (empty) version shards of a bucket being deleted."""
    for oid in version_shard_oids(bucket):
        try:
            index.remove_object(oid)
        except rados.ObjectNotFound:
            pass


def _omap_key(key: str, mtime_ns: int, version_id: str) -> str:
    return entry_key(key, f"{10**TIME_DIGITS - 1 - mtime_ns:0{TIME_DIGITS}d}.{version_id}")


class Versions:
    """The versions of the keys of versioned buckets; ``ObjectOps`` says when a request
    goes through them."""

    def __init__(self, zone: Zone, indexes: BucketIndexes, heads: ObjectStore) -> None:
        self.zone = zone
        self.indexes = indexes
        self.heads = heads

    def _shard_oid(self, bucket: BucketInfo, key: str) -> str:
        return f"{bucket.marker}__versions.{bucket_shard_index(key, bucket.num_shards)}"

    # -- reading -----------------------------------------------------------------

    def versions_of(self, bucket: BucketInfo, key: str) -> list[tuple[str, Version]]:
        """(omap key, version) of ``key``, newest first; the null version of a key never
        changed while versioned counts as its only version."""
        with self.zone.client.open_ioctx(INDEX_POOL) as index:
            found = self._scan(index, self._shard_oid(bucket, key), entries_of(key))
        if found:
            return found
        try:
            info = self.heads.stat(bucket, key)
        except NoSuchKey:
            return []
        version = Version(key, NULL, info.mtime, info.size, info.etag, info.owner, content_type=info.content_type)
        return [(_omap_key(key, int(info.mtime * 1e9), NULL), version)]

    def current(self, bucket: BucketInfo, key: str) -> Version | None:
        found = self.versions_of(bucket, key)
        return found[0][1] if found else None

    def index_entry(self, bucket: BucketInfo, key: str) -> IndexEntry | None:
        """The bucket index entry ``key`` should have: its current version's (the plain
        object's, in a bucket never versioned); None for a delete marker or no object."""
        current = self.current(bucket, key)
        if current is None or current.delete_marker:
            return None
        try:
            return entry_of(self.heads.stat(bucket, key, instance_oid(bucket.marker, key, current.version_id)))
        except NoSuchKey:
            return None

    def find(self, bucket: BucketInfo, key: str, version_id: str | None = None) -> Version:
        """The current version of ``key`` (perhaps a delete marker), or its version
        ``version_id``; NoSuchKey if the key has no versions, NoSuchVersion if not that one."""
        check_key(key)
        versions = [v for _, v in self.versions_of(bucket, key)]
        if not versions:
            raise NoSuchKey(f"{bucket.name}/{key} does not exist")
        versions[0].is_latest = True
        if version_id is None:
            return versions[0]
        for version in versions:
            if version.version_id == version_id:
                return version
        raise NoSuchVersion(f"{bucket.name}/{key} has no version {version_id!r}")

    def list(
        self,
        bucket: BucketInfo,
        prefix: str = "",
        key_marker: str = "",
        version_id_marker: str = "",
        max_keys: int = 1000,
        delimiter: str = "",
    ) -> VersionPage:
        """ListObjectVersions: every version and delete marker, by key, newest first (with a
        ``delimiter``, keys sharing a prefix up to it roll up into ``prefixes``). A page reads
        every version from ``key_marker`` to the end of ``prefix``."""
        rows: list[Version] = []
        with self.zone.client.open_ioctx(INDEX_POOL) as index:
            for oid in version_shard_oids(bucket):  # a key's entries sort after the key itself
                rows += [v for _, v in self._scan(index, oid, escaped(prefix), start_after=escaped(key_marker))]
        with self.indexes.open(bucket) as bucket_index:
            listed = {v.key for v in rows}
            marker = key_marker
            while True:
                page = bucket_index.list(prefix=prefix, marker=marker, max_keys=PAGE)
                rows += [
                    Version(e.key, NULL, e.mtime, e.size, e.etag, e.owner, content_type=e.content_type)
                    for e in page.entries
                    if e.key not in listed
                ]
                if not page.is_truncated:
                    break
                marker = page.next_marker
        rows.sort(key=lambda v: (v.key, -v.mtime))
        latest = set()
        for v in rows:
            v.is_latest = v.key not in latest
            latest.add(v.key)
        return select_versions(rows, prefix, delimiter, key_marker, version_id_marker, max_keys)

    # -- writing -----------------------------------------------------------------

    def write(self, bucket: BucketInfo, key: str, writer: Callable[[str], IndexEntry]) -> tuple[str, IndexEntry]:
        """A new version of ``key`` (``enabled``), or its null version replaced (``suspended``),
        as ``writer(version id)`` writes it (its head, ``instance_oid``, and its bucket index
        entry); returns (version id, the writer's entry). A writer that raises leaves the
        versions as they were.

        The data is written before the key's shard lock is taken, so a long upload holds up
        no other write; the lock covers only recording the version and making the bucket
        index entry show the newest one (concurrent writers complete in any order)."""
        check_key(key)
        version_id = new_version_id() if bucket.versioning == "enabled" else NULL
        entry = writer(version_id)
        with self._key_lock(bucket, key):
            if version_id == NULL:
                self._drop_null(bucket, key, keep_data=True)
                version = self._null_head_version(bucket, key)  # a concurrent null write may have won
            else:
                self._record_null_version(bucket, key)  # the writer left the null head alone
                version = _version_of(entry, version_id)
            if version is not None:
                self._add(bucket, version)
            self._sync_index(bucket, key, entry.tag)
        return version_id, entry

    def put(
        self, bucket: BucketInfo, key: str, data: bytes | BinaryIO, request: WriteRequest
    ) -> tuple[str, IndexEntry]:
        """A new version (``enabled``) or the null version replaced (``suspended``): (version
        id, index entry). The arguments are ``ObjectStore.put``'s, but for the request's
        condition, which is on the current version, not on the head written (``ObjectOps``
        checks it)."""
        request = replace(request, condition=None)
        return self.write(bucket, key, lambda version_id: self.heads.put(bucket, key, data, request, version_id))

    def copy(
        self, source: CopySource, dst_bucket: BucketInfo, dst_key: str, request: WriteRequest
    ) -> tuple[str, IndexEntry]:
        """``ObjectStore.copy`` into a new version of ``dst_key`` (or its null version, while
        suspended), the request's condition left to ``ObjectOps`` as ``put``'s. Returns
        (version id, entry)."""
        request = replace(request, condition=None)
        return self.write(
            dst_bucket, dst_key, lambda version_id: self.heads.copy(source, dst_bucket, dst_key, request, version_id)
        )

    def update(self, bucket: BucketInfo, key: str, request: WriteRequest) -> tuple[str, IndexEntry]:
        """Replace the current version's metadata, content type and headers in place with the
        request's (no new version, as Swift's POST; a content type of "" keeps it, and its
        owner, ACL and tags stay): (its version id, its entry). NoSuchKey if the current
        version is a delete marker."""
        with self._key_lock(bucket, key):
            version = self.find(bucket, key)
            if version.delete_marker:
                raise NoSuchKey(f"{bucket.name}/{key} does not exist (its current version is a delete marker)")
            oid = instance_oid(bucket.marker, key, version.version_id)
            current = self.heads.stat(bucket, key, oid)
            kept = WriteRequest(
                metadata=request.metadata or {},
                content_type=request.content_type or current.content_type,
                headers=request.headers,
                owner=current.owner,
                acl=current.acl,
                delete_at=request.delete_at,
            )
            entry = self.heads.copy(CopySource(bucket=bucket, key=key, oid=oid), bucket, key, kept, current.version_id)
            version = replace(version, content_type=entry.content_type)
            self._add(bucket, version)  # the same omap key: the record's content type follows
            self._sync_index(bucket, key, entry.tag)
        return version.version_id, entry

    def delete(self, bucket: BucketInfo, key: str, version_id: str | None = None) -> tuple[str, bool]:
        """Without ``version_id``: add a delete marker (null in a suspended bucket); returns its
        id. With one: remove that version for good. Returns (version id, is a delete marker)."""
        check_key(key)
        with self._key_lock(bucket, key):
            self._record_null_version(bucket, key)
            if version_id is None:
                return self._add_delete_marker(bucket, key), True
            found = [(k, v) for k, v in self.versions_of(bucket, key) if v.version_id == version_id]
            if not found:
                raise NoSuchVersion(f"{bucket.name}/{key} has no version {version_id!r}")
            ((omap_key, version),) = found
            tag = self._prepare_index(bucket, key)
            if not version.delete_marker:
                self.heads.remove_head(bucket, instance_oid(bucket.marker, key, version_id))
            self._remove_entries(bucket, key, [omap_key])
            self._sync_index(bucket, key, tag)
            return version_id, version.delete_marker

    def expire_current(self, bucket: BucketInfo, key: str, delete_at: float) -> bool | None:
        """Hide ``key``'s current version behind a delete marker if it is still the write that
        carried ``delete_at`` (the expirer's work in a versioned bucket, as S3's expiration
        of a current version). True if it did; False if the current version is another (the
        key rewritten, or given another time, since); None if the key has no current object."""
        check_key(key)
        with self._key_lock(bucket, key):
            self._record_null_version(bucket, key)
            found = self.versions_of(bucket, key)
            if not found or found[0][1].delete_marker:
                return None
            current = found[0][1]
            try:
                head = self.heads.stat(
                    bucket, key, instance_oid(bucket.marker, key, current.version_id), include_expired=True
                )
            except NoSuchKey:
                return None
            if head.delete_at != delete_at:
                return False
            self._add_delete_marker(bucket, key)
            return True

    # -- internals -----------------------------------------------------------------

    def _add_delete_marker(self, bucket: BucketInfo, key: str) -> str:
        """Make a delete marker ``key``'s current version (null in a suspended bucket, replacing
        the null version); its id. Under the key's lock."""
        marker_id = new_version_id() if bucket.versioning == "enabled" else NULL
        tag = self._prepare_index(bucket, key)
        if marker_id == NULL:
            self._drop_null(bucket, key, keep_data=False)
        self._add(bucket, Version(key, marker_id, time.time(), delete_marker=True))
        self._sync_index(bucket, key, tag)
        return marker_id

    def _key_lock(self, bucket: BucketInfo, key: str):
        index = self.zone.client.open_ioctx(INDEX_POOL)
        return _ClosingLock(index, self._shard_oid(bucket, key))

    def _record_null_version(self, bucket: BucketInfo, key: str) -> None:
        """Give a key's pre-versioning (null) version its entry before the key's first versioned change."""
        with self.zone.client.open_ioctx(INDEX_POOL) as index:
            if self._scan(index, self._shard_oid(bucket, key), entries_of(key), limit=1):
                return
        version = self._null_head_version(bucket, key)
        if version is not None:
            self._add(bucket, version)

    def _null_head_version(self, bucket: BucketInfo, key: str) -> Version | None:
        """The null version as its head is now, expired or not; None if there is no null head."""
        try:
            info = self.heads.stat(bucket, key, include_expired=True)
        except NoSuchKey:
            return None
        return Version(key, NULL, info.mtime, info.size, info.etag, info.owner, content_type=info.content_type)

    def _drop_null(self, bucket: BucketInfo, key: str, keep_data: bool) -> None:
        """Forget the key's null version (a new null version or null delete marker replaces it)."""
        nulls = [k for k, v in self.versions_of(bucket, key) if v.version_id == NULL]
        self._remove_entries(bucket, key, nulls)
        if not keep_data:  # a put overwrites the null head itself, and GCs its tails
            self.heads.remove_head(bucket, head_oid(bucket.marker, key))

    def _add(self, bucket: BucketInfo, version: Version) -> None:
        with self.zone.client.open_ioctx(INDEX_POOL) as index, rados.WriteOpCtx() as op:
            omap_key = _omap_key(version.key, int(version.mtime * 1e9), version.version_id)
            index.set_omap(op, (omap_key,), (version.encode(),))
            index.operate_write_op(op, self._shard_oid(bucket, version.key))

    def _remove_entries(self, bucket: BucketInfo, key: str, omap_keys: list[str]) -> None:
        if not omap_keys:
            return
        with self.zone.client.open_ioctx(INDEX_POOL) as index, rados.WriteOpCtx() as op:
            index.remove_omap_keys(op, tuple(omap_keys))
            try:
                index.operate_write_op(op, self._shard_oid(bucket, key))
            except rados.ObjectNotFound:
                pass

    def _prepare_index(self, bucket: BucketInfo, key: str) -> str:
        """Record a pending change of ``key``'s bucket index entry, before its versions change;
        the tag that ``_sync_index`` completes."""
        tag = uuid.uuid4().hex
        with self.indexes.open(bucket) as index:
            index.prepare(key, tag, "delete")
        return tag

    def _sync_index(self, bucket: BucketInfo, key: str, tag: str) -> None:
        """Make the bucket index entry show the key's current version, or nothing, completing
        the pending change ``tag``."""
        entry = self.index_entry(bucket, key)
        with self.indexes.open(bucket) as index:
            index.complete(key, tag, entry)

    @staticmethod
    def _scan(
        index: rados.Ioctx, oid: str, filter_prefix: str, limit: int | None = None, start_after: str = ""
    ) -> list[tuple[str, Version]]:
        """(omap key, version) of the entries of ``oid`` starting with ``filter_prefix`` (after
        ``start_after``), in order."""
        items = omap_items(index, oid, start_after, filter_prefix, page=limit or PAGE)
        return [(k, Version.decode(v)) for k, v in itertools.islice(items, limit)]


def _version_of(entry: IndexEntry, version_id: str) -> Version:
    return Version(
        entry.key, version_id, entry.mtime, entry.size, entry.etag, entry.owner, content_type=entry.content_type
    )


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
