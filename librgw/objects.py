"""Objects: the head ``<marker>_<key>`` with the metadata and first 4 MiB, tails under a fresh tag.

Writing (``ObjectStore.put``) streams: the first ``HEAD_MAX`` bytes are kept for the head,
every further ``STRIPE_SIZE`` bytes go to a new tail object as soon as they are read, so a
write of any size holds at most two stripes in memory. The head is then written in one
rados op (data and every xattr together), which is the moment the new object replaces
the old: a reader sees one or the other. The old version's tails go to the GC queue
(``gc.py``). Around the head write the bucket index is updated in two phases
(``bucket_index.py``): prepare just before, complete after, so a crash in between leaves a
pending entry that a listing resolves against the head, never a phantom or a lost object.

When a write fails, the head and the index still agree, now or once repaired: tails of a
write that never reached its head write are removed at once; if the head write itself fails,
the head may yet turn out to be the new one (the cluster can roll a write that errored
forward), so the index is completed if the head already shows this write, and otherwise its
pending operation is left for a listing to resolve, and the tails stay queued for GC behind
an intent (``gc.py``) that keeps them if the head turns out to be theirs. A GET that finds
the index disagreeing with the head it reads (its write's tag pending, or another write's
entry) makes the entry the head's, in the index's guarded update.

Head xattrs, as RGW names them: ``user.rgw.manifest``, ``user.rgw.etag``,
``user.rgw.content_type``, ``user.rgw.idtag`` (the write's tag), ``user.rgw.mtime``,
``user.rgw.owner``, one ``user.rgw.x-amz-meta-<name>`` per user metadata item, one
``user.rgw.<header>`` per stored HTTP header (``CONTENT_HEADERS``: ``content_disposition``, ...)
and ``user.rgw.acl``, the object's access control list, kept as text the gateway writes
(``acl.py``) and absent for an object that has none of its own; for a tagged
object, ``user.rgw.x-amz-tagging`` (``tagging.py``). ``set_acl`` and ``set_tags`` change
one of them alone, on the very head the caller looked at (asserting its rados version), so
the ACL or tags of an object replaced meanwhile are never changed by mistake. A write may
carry a condition on the object it replaces (``write_condition.py``: ``If-Match``,
``If-None-Match: *``), checked by the head's write itself.

Reading (``ObjectStore.get``) returns a file-like ``ObjectReader`` that fetches only the
rados objects the requested byte range covers, one stripe at a time; ``prefetch`` reads the
first one ahead, so a server can learn that an object cannot be read before it answers.
"""

from __future__ import annotations

import errno
import hashlib
import io
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import BinaryIO

from librgw import rados

from .bucket_index import BucketIndex, BucketIndexes, IndexEntry
from .bucket_info import BucketInfo
from .errors import BadDigest, IndexBusy, InvalidArgument, InvalidRange, NoSuchKey, PreconditionFailed
from .expiry import ExpiryQueue
from .gc import GarbageCollector, add_refs, move_refs
from .manifest import HEAD_MAX, IDTAG_ATTR, STRIPE_SIZE, Manifest, Part, head_oid, instance_oid, tail_oid
from .tagging import TAGS_ATTR, check_tags, decode_tags, encode_tags
from .write_condition import WriteCondition
from .write_request import WriteRequest
from .zone import DATA_POOL, Zone

ATTR = "user.rgw."
META_PREFIX = "x-amz-meta-"
MAX_KEY_BYTES = 1024
READ_CHUNK = 64 * 1024
HEAD_RETRIES = 5
SNAPSHOT_RETRIES = 5
# What a container listing shows as an object's hash when the write asked for another than its
# ETag: Swift's container-update override (a symlink's ETag with its target, for the symlink filter).
LISTED_ETAG = "x-object-sysmeta-container-update-override-etag"
# The HTTP headers an object keeps and returns on GET, as S3 and Swift do.
CONTENT_HEADERS = (
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "expires",
    "x-object-manifest",  # a Swift DLO manifest's segments (the dlo filter reads it)
    "x-static-large-object",  # a Swift SLO manifest (set by the slo filter only)
    # a Swift symlink's target, kept as Swift's sysmeta names it (set by the symlink filter only)
    "x-object-sysmeta-symlink-target",
    "x-object-sysmeta-symlink-target-account",
    "x-object-sysmeta-symlink-target-etag",
    "x-object-sysmeta-symlink-target-bytes",
    LISTED_ETAG,
)
# How a conditional head write fails when the head changed since it was checked: it was
# removed (ENOENT), made meanwhile (EEXIST), or is at another version (ERANGE, EOVERFLOW).
HEAD_CHANGED = frozenset({errno.ENOENT, errno.EEXIST, errno.ERANGE, errno.EOVERFLOW})


@dataclass(kw_only=True)
class ObjectState:
    """What an object's head says about it (RGW's ``RGWObjState``): what a HEAD returns.

    Not the storage layer's ``ObjectInfo`` (Ceph's ``object_info_t``: an OSD's record of
    one rados object); this is the core's record of one S3/Swift object, read from the
    xattrs of its head."""

    key: str
    size: int
    etag: str
    mtime: float
    content_type: str
    owner: str
    metadata: dict[str, str]
    manifest: Manifest
    tag: str
    oid: str = ""  # the head's rados object
    version_id: str = ""  # "" in a bucket that never had versioning
    delete_at: float | None = None  # when it expires (``expiry.py``)
    headers: dict[str, str] = field(default_factory=dict)  # of CONTENT_HEADERS, lower-case names
    acl: str = ""  # the object's ACL as the gateway writes it; "": none of its own
    tags: dict[str, str] = field(default_factory=dict)  # ``tagging.py``


def check_key(key: str) -> None:
    if not key or len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidArgument(f"object key must be 1 to {MAX_KEY_BYTES} bytes of UTF-8")
    if "\0" in key:
        raise InvalidArgument("object key cannot hold NUL: RADOS names are C strings")


def check_headers(headers: dict[str, str]) -> None:
    unknown = headers.keys() - set(CONTENT_HEADERS)
    if unknown:
        raise InvalidArgument(f"an object cannot keep the headers {sorted(unknown)}; only {CONTENT_HEADERS}")


def chunks(data: bytes | bytearray | memoryview | BinaryIO) -> Iterator[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data)
        for at in range(0, len(view), STRIPE_SIZE):
            yield bytes(view[at : at + STRIPE_SIZE])
        return
    while chunk := data.read(STRIPE_SIZE):
        yield chunk


class Stripes:
    """Cut a stream of chunks into pieces of exactly ``size`` bytes (the last may be short)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def at_end(self) -> bool:
        """Is there nothing left to take?"""
        if not self._buffer:
            self._buffer += next(self._chunks, b"")
        return not self._buffer

    def take(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        piece = bytes(self._buffer[:size])
        del self._buffer[:size]
        return piece


def write_stripes(ioctx: rados.Ioctx, stripes: Stripes, name: Callable[[int], str], md5, written: list[Part]) -> None:
    """Write the rest of ``stripes`` as objects ``name(1)``, ``name(2)``, ... of ``STRIPE_SIZE``
    bytes, appending each to ``written`` as soon as it is stored (so a caller can clean up)."""
    while piece := stripes.take(STRIPE_SIZE):
        oid = name(len(written) + 1)
        ioctx.write_full(oid, piece)
        written.append(Part(oid, len(piece)))
        md5.update(piece)


@dataclass(frozen=True, kw_only=True)
class CopySource:
    """The object a server-side copy reads: ``key`` of ``bucket``, at head ``oid`` (a
    version's, as ``stat`` gave it) if given, else at its plain head."""

    bucket: BucketInfo
    key: str
    oid: str = ""


class ObjectStore:
    """Put, get, stat and delete the heads of a bucket's objects, each head as it is told
    (a version's, or the plain one): which head a request means is ``ObjectOps``'s to say."""

    def __init__(self, zone: Zone, indexes: BucketIndexes) -> None:
        self.zone = zone
        self.indexes = indexes
        self.gc = GarbageCollector(zone)
        self.expiry = ExpiryQueue(zone)

    def _data(self) -> rados.Ioctx:
        return self.zone.client.open_ioctx(DATA_POOL)

    # -- writing -------------------------------------------------------------------

    def put(
        self,
        bucket: BucketInfo,
        key: str,
        data: bytes | bytearray | memoryview | BinaryIO,
        request: WriteRequest,
        version_id: str = "",
    ) -> IndexEntry:
        """Store ``data`` (bytes, or a binary file object read to its end) as ``key``, with
        what ``request`` asks for: in its head ``<marker>_<key>``, or in the head of version
        ``version_id`` (``Versions.write``). With a delete-at time it expires then
        (``expiry.py``). With an expected MD5 a body whose MD5 differs raises ``BadDigest``
        and leaves the old object as it was; so does a condition the object it would replace
        does not meet (``PreconditionFailed``, ``NoObjectToMatch``), checked as the head is written."""
        check_key(key)
        check_headers(request.headers or {})
        check_tags(request.tags or {})
        delete_at = self._schedule(bucket, key, request.delete_at)
        info = ObjectState(
            key=key,
            size=0,
            etag="",
            mtime=0.0,
            content_type=request.content_type or "binary/octet-stream",
            owner=request.owner or bucket.owner,
            metadata=dict(request.metadata or {}),
            manifest=Manifest(0, 0),
            tag=uuid.uuid4().hex,
            oid=instance_oid(bucket.marker, key, version_id),
            version_id=version_id,
            delete_at=delete_at,
            headers=dict(request.headers or {}),
            acl=request.acl,
            tags=dict(request.tags or {}),
        )
        with self.indexes.open(bucket) as index:
            return self._write(index, bucket, info, data, request)

    def _schedule(self, bucket: BucketInfo, key: str, delete_at: float | None) -> float | None:
        """Queue a write's delete-at time (before its head exists, so no head carries a time
        the queue lacks); the time as the head keeps it."""
        if delete_at is None:
            return None
        delete_at = round(delete_at, 6)  # as the expiry queue spells it, so the two compare equal
        self.expiry.add(bucket.name, key, delete_at)
        return delete_at

    def _write(
        self,
        index: BucketIndex,
        bucket: BucketInfo,
        info: ObjectState,
        data: bytes | bytearray | memoryview | BinaryIO,
        request: WriteRequest,
    ) -> IndexEntry:
        """Tails, then the head of ``info`` (whose size, ETag, mtime and manifest this fills in)
        between the index's two phases (``commit_head``); the entry. Tails of a write that fails
        before its head write go at once; after, the GC intent decides."""
        parts: list[Part] = []
        intent = ""
        with self._data() as data_ioctx:
            try:
                stripes = Stripes(chunks(data))
                md5 = hashlib.md5()
                head = stripes.take(HEAD_MAX)
                md5.update(head)
                if not stripes.at_end():
                    intent = self.gc.intend(info.tag, info.oid, marker=bucket.marker)
                write_stripes(data_ioctx, stripes, lambda n: tail_oid(bucket.marker, info.tag, n), md5, parts)
                info.manifest = Manifest(len(head) + sum(p.size for p in parts), len(head), parts)
                info.size, info.etag, info.mtime = info.manifest.obj_size, md5.hexdigest(), time.time()
                expected_md5 = request.expected_md5
                if expected_md5 is not None and expected_md5.lower() != info.etag:
                    raise BadDigest(f"the body's MD5 is {info.etag}, not the {expected_md5} the request gave")
            except BaseException:
                if _discard(data_ioctx, [p.oid for p in parts]) and intent:
                    self._forget_quietly(intent)
                raise
            try:
                entry = self.commit_head(index, bucket, info, head, request.condition)
            except PreconditionFailed:  # refused before the head was touched: its tails go now
                if _discard(data_ioctx, [p.oid for p in parts]) and intent:
                    self._forget_quietly(intent)
                raise
        if intent:
            self._forget_quietly(intent)
        return entry

    def commit_head(
        self,
        index: BucketIndex,
        bucket: BucketInfo,
        info: ObjectState,
        head: bytes,
        condition: WriteCondition | None = None,
    ) -> IndexEntry:
        """Prepare the index, write the head, complete the index; the entry. A version's head
        (``info.version_id``) leaves completing to ``Versions.write``, once it has recorded the
        version. A head write that raises leaves the index settled (``_settle``)."""
        index.prepare(info.key, info.tag, "write")
        try:
            self.write_head(bucket, info, head, condition)
        except BaseException:
            self._settle(index, info)
            raise
        entry = entry_of(info)
        if not info.version_id:
            index.complete(info.key, info.tag, entry, current=lambda: self.head_tag(info.oid) == info.tag)
        return entry

    def _settle(self, index: BucketIndex, info: ObjectState) -> None:
        """After a head write that raised: if the head shows this write anyway, complete the
        index now; otherwise (or if the cluster cannot tell now) leave the write's pending
        operation for a listing to resolve once it has expired, as the cluster may yet roll
        the write forward. A version's is always left (``Versions.write`` never recorded it)."""
        if info.version_id:
            return
        with suppress(rados.Error, IndexBusy):  # best effort: the error being raised is the one to report
            if self.head_tag(info.oid) == info.tag:
                index.complete(info.key, info.tag, entry_of(info), current=lambda: self.head_tag(info.oid) == info.tag)

    def _forget_quietly(self, intent: str) -> None:
        """Drop a GC intent whose write is done with; one left behind resolves itself when due."""
        with suppress(rados.Error):
            self.gc.forget(intent)

    def write_head(
        self, bucket: BucketInfo, info: ObjectState, head: bytes, condition: WriteCondition | None = None
    ) -> None:
        """Write the head in one op (data and every xattr): the moment ``info`` replaces the
        object's previous version, whose tails then go to the GC queue. With ``condition``, the
        object replaced must meet it (``WriteCondition.check`` raises), and the op asserts that
        the head is still the one checked."""
        oid = info.oid or head_oid(bucket.marker, info.key)
        attrs = _attrs(info)
        with self._data() as ioctx:
            for _ in range(HEAD_RETRIES):
                version = _head_version(ioctx, oid) if condition is not None else None
                old = _read_attrs(ioctx, oid)
                if condition is not None:
                    condition.check(_current_etag(old), f"{bucket.name}/{info.key}")
                with rados.WriteOpCtx() as op:
                    if condition is not None:  # the head checked above, or still none
                        if version is None:
                            op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
                        else:
                            op.assert_version(version)
                    op.write_full(head)
                    for name, value in attrs.items():
                        op.set_xattr(name, value)
                    for name in old.keys() - attrs.keys():
                        op.rm_xattr(name)
                    try:
                        ioctx.operate_write_op(op, oid)
                    except rados.NoData:  # a concurrent write changed the attributes: look again
                        continue
                    except rados.OSError as error:
                        if condition is None or error.errno not in HEAD_CHANGED:
                            raise
                        continue  # replaced, made or removed since it was checked: check again
                self._let_go(old, info)
                return
        raise rados.ObjectBusy(f"{oid}: concurrent writes kept changing it", errno=16)

    # -- reading -------------------------------------------------------------------

    def head_tag(self, oid: str) -> str | None:
        """The tag of the write that head ``oid`` is now; None if there is no such head."""
        with self._data() as data_ioctx:
            try:
                return data_ioctx.get_xattr(oid, IDTAG_ATTR).decode()
            except (rados.ObjectNotFound, rados.NoData):
                return None

    def stat(self, bucket: BucketInfo, key: str, oid: str | None = None, include_expired: bool = False) -> ObjectState:
        """The object's head record: ``<marker>_<key>``'s, or head ``oid``'s (a version's). An
        object past its delete-at time does not exist, unless ``include_expired``."""
        check_key(key)
        oid = oid or head_oid(bucket.marker, key)
        with self._data() as data_ioctx:
            attrs = _read_attrs(data_ioctx, oid)
        if not attrs or ATTR + "manifest" not in attrs:
            raise NoSuchKey(f"{bucket.name}/{key} does not exist")
        info = _info(key, attrs, oid)
        if info.delete_at is not None and info.delete_at <= time.time() and not include_expired:
            raise NoSuchKey(f"{bucket.name}/{key} has expired")
        return info

    def get(
        self, bucket: BucketInfo, key: str, byte_range: tuple[int, int] | None = None, oid: str | None = None
    ) -> ObjectReader:
        """A reader of the object (or of head ``oid``'s version), or of bytes ``first..last``
        (inclusive, as HTTP ``Range``)."""
        for _ in range(SNAPSHOT_RETRIES):
            info = self.stat(bucket, key, oid)
            first, last = _clip(byte_range, info.size)
            head_bytes = b""
            with self._data() as data_ioctx:
                if info.manifest.head_size and first < info.manifest.head_size and first <= last:
                    end = min(last + 1, info.manifest.head_size)
                    head_bytes = data_ioctx.read(info.oid, end - first, first)
                    if _read_attrs(data_ioctx, info.oid).get(IDTAG_ATTR) != info.tag.encode():
                        continue  # replaced while we read its head: read the new one
            self._repair_index(bucket, info)
            return ObjectReader(self.zone, info, first, last, head_bytes)
        raise rados.ObjectBusy(f"{bucket.name}/{key}: replaced again and again while being read", errno=16)

    def _repair_index(self, bucket: BucketInfo, info: ObjectState) -> None:
        """If the index entry of the object whose head is ``info`` does not say so (the write
        that made the head never completed it: its writer died, or its head write or
        ``complete`` failed), make it say so now. Only in a bucket never versioned: a versioned
        key's entry follows its versions (``Versions.index_entry``), which a listing consults."""
        if bucket.versioned or info.oid != head_oid(bucket.marker, info.key):
            return
        with self.indexes.open(bucket) as index:
            stored = index.stored(info.key)
            if not _disagrees(stored, info.tag):
                return
            index.suggest(entry_of(info), current=lambda: self.head_tag(info.oid) == info.tag)

    # -- deleting ------------------------------------------------------------------

    def remove_head(self, bucket: BucketInfo, oid: str) -> None:
        """Remove head ``oid`` (a version's) and queue its tails for GC; the index is the caller's."""
        with self._data() as data_ioctx:
            attrs = _read_attrs(data_ioctx, oid)
            _remove_quietly(data_ioctx, oid)
        self._let_go(attrs)

    def _let_go(self, attrs: dict[str, bytes], successor: ObjectState | None = None) -> None:
        """Queue the tails of the head whose xattrs are ``attrs`` for GC, as its tag lets go of
        them; those ``successor`` (the head replacing it) uses as well are handed to it instead
        (a copy onto itself, a multipart upload completed again)."""
        if ATTR + "manifest" not in attrs:
            return
        tag = attrs.get(IDTAG_ATTR, b"").decode()
        kept = set(successor.manifest.tail_oids()) if successor is not None else set()
        tails = Manifest.decode(attrs[ATTR + "manifest"]).tail_oids()
        self.gc.enqueue([oid for oid in tails if oid not in kept], tag)
        if successor is not None and kept:
            with self._data() as data_ioctx:
                move_refs(data_ioctx, [oid for oid in tails if oid in kept], tag, successor.tag)

    # -- copying -------------------------------------------------------------------

    def copy(
        self,
        source: CopySource,
        dst_bucket: BucketInfo,
        dst_key: str,
        request: WriteRequest,
        version_id: str = "",
    ) -> IndexEntry:
        """Server-side copy: the destination's head (the plain one, or version ``version_id``'s)
        gets the source's head data (at most 4 MiB) and a manifest pointing at the source's
        tails, which are shared, not copied. With ``request.metadata`` None the source's
        metadata, headers and content type are kept (S3's COPY directive), else they are
        replaced (REPLACE) by the request's. The copy is the request's owner's (the
        destination bucket's by default) with the request's ACL: an ACL is never copied, as
        in S3, so a copy onto itself that keeps them passes them. The tags are the source's
        with ``request.tags`` None (S3's tagging COPY directive), else those. The request's
        condition is on the object the copy replaces, as ``put``'s."""
        check_key(dst_key)
        check_headers(request.headers or {})
        check_tags(request.tags or {})
        for _ in range(SNAPSHOT_RETRIES):
            src = self.stat(source.bucket, source.key, source.oid or None)
            with self._data() as data_ioctx:
                head = data_ioctx.read(src.oid, src.manifest.head_size) if src.manifest.head_size else b""
                if _read_attrs(data_ioctx, src.oid).get(IDTAG_ATTR) == src.tag.encode():
                    break
            # replaced while we read it: read the new one
        else:
            raise rados.ObjectBusy(
                f"{source.bucket.name}/{source.key}: replaced again and again while being copied", errno=16
            )
        keep = request.metadata is None
        info = ObjectState(
            key=dst_key,
            size=src.size,
            etag=src.etag,
            mtime=time.time(),
            content_type=request.content_type or (src.content_type if keep else "binary/octet-stream"),
            owner=request.owner or dst_bucket.owner,
            metadata=dict(src.metadata if keep else request.metadata),
            manifest=src.manifest,
            tag=uuid.uuid4().hex,
            oid=instance_oid(dst_bucket.marker, dst_key, version_id),
            version_id=version_id,
            headers=dict(src.headers if keep else request.headers or {}),
            acl=request.acl,
            tags=dict(src.tags if request.tags is None else request.tags),
            delete_at=self._schedule(dst_bucket, dst_key, request.delete_at),
        )
        tails = src.manifest.tail_oids()
        intent = self.gc.intend(info.tag, info.oid, tails) if tails else ""  # its references go if its head never lands
        with self._data() as data_ioctx:
            add_refs(data_ioctx, tails, src.tag, info.tag)
        with self.indexes.open(dst_bucket) as index:
            entry = self.commit_head(index, dst_bucket, info, head, request.condition)
        if intent:
            self._forget_quietly(intent)
        return entry

    def set_acl(self, bucket: BucketInfo, key: str, acl: str, tag: str, oid: str | None = None) -> None:
        """Replace the ACL of the object whose write was ``tag`` (as ``stat`` gave it) with
        ``acl`` ("": none of its own); its data, metadata and mtime stay. ``NoSuchKey`` if
        that write is no longer the object (it was replaced or deleted meanwhile)."""
        self._replace_xattr(bucket, key, tag, oid, ATTR + "acl", acl.encode() if acl else None)

    def set_tags(self, bucket: BucketInfo, key: str, tags: dict[str, str], tag: str, oid: str | None = None) -> None:
        """Replace the tags of the object whose write was ``tag`` (as ``stat`` gave it) with
        ``tags``, as ``set_acl`` replaces its ACL: its data, ETag, mtime and index entry stay."""
        check_tags(tags)
        self._replace_xattr(bucket, key, tag, oid, ATTR + TAGS_ATTR, encode_tags(tags) if tags else None)

    def _replace_xattr(
        self, bucket: BucketInfo, key: str, tag: str, oid: str | None, name: str, value: bytes | None
    ) -> None:
        """Set xattr ``name`` of the head whose write was ``tag`` to ``value`` (None: remove it),
        asserting the head's rados version, so a head replaced meanwhile is never changed."""
        check_key(key)
        oid = oid or head_oid(bucket.marker, key)
        with self._data() as ioctx:
            for _ in range(HEAD_RETRIES):
                try:
                    ioctx.stat(oid)
                except rados.ObjectNotFound:
                    raise NoSuchKey(f"{bucket.name}/{key} does not exist") from None
                version = ioctx.get_last_version()
                attrs = _read_attrs(ioctx, oid)
                if attrs.get(IDTAG_ATTR) != tag.encode():
                    raise NoSuchKey(f"{bucket.name}/{key} was replaced or deleted meanwhile")
                with rados.WriteOpCtx() as op:
                    op.assert_version(version)
                    if value is not None:
                        op.set_xattr(name, value)
                    elif name in attrs:
                        op.rm_xattr(name)
                    try:
                        ioctx.operate_write_op(op, oid)
                    except rados.OSError as error:
                        if error.errno not in (errno.ENOENT, errno.ENODATA, errno.ERANGE, errno.EOVERFLOW):
                            raise
                        continue  # changed since we looked: look again
                return
        raise rados.ObjectBusy(f"{oid}: concurrent writes kept changing it", errno=16)

    def delete(self, bucket: BucketInfo, key: str, if_tag: str | None = None) -> bool:
        """Delete ``key``; its tails go to the GC queue. Deleting a missing key is no error (as
        S3). With ``if_tag``, only the head of that write (as ``stat`` gave it) goes: one
        replaced meanwhile stays, checked as the head is removed; the index entry is brought in
        line with the head either way (so one left by a delete that died goes too). Returns
        whether a head was removed."""
        check_key(key)
        tag = uuid.uuid4().hex
        with self.indexes.open(bucket) as index, self._data() as data_ioctx:
            index.prepare(key, tag, "delete")
            oid = head_oid(bucket.marker, key)
            removed = False
            for _ in range(HEAD_RETRIES):
                version = _head_version(data_ioctx, oid)
                attrs = _read_attrs(data_ioctx, oid)
                if version is None or (if_tag is not None and attrs.get(IDTAG_ATTR) != if_tag.encode()):
                    break
                removed = _remove_version(data_ioctx, oid, version)
                if removed:
                    self._let_go(attrs)
                    break
            index.complete(key, tag, None, current=lambda: self.head_tag(oid) is None)
        return removed


class ObjectReader(io.RawIOBase):
    """A readable stream of one object's bytes ``first..last``, with its metadata attached."""

    def __init__(self, zone: Zone, info: ObjectState, first: int, last: int, head: bytes) -> None:
        super().__init__()
        self._zone = zone
        self._head = head  # the head's share of the range, read already (see ObjectStore.get)
        self._head_oid = info.oid
        self._extents = list(info.manifest.extents(self._head_oid, first, last)) if first <= last else []
        self._fetched: deque[bytes] = deque()  # pieces read ahead (``prefetch``)
        self._pending = b""
        self.info = info
        self.size = info.size
        self.etag = info.etag
        self.metadata = info.metadata
        self.content_type = info.content_type
        self.mtime = info.mtime
        self.version_id = info.version_id
        self.first, self.last = first, last
        self.length = max(0, last - first + 1)

    def readable(self) -> bool:
        return True

    def prefetch(self) -> None:
        """Read the range's first tail stripe now (after the head's share, read already), so
        that a reader that cannot be served fails before a response has started, not midway."""
        while self._extents:
            in_head = self._extents[0][0] == self._head_oid
            self._fetched.append(self._next_piece())
            if not in_head:
                return

    def readinto(self, buffer) -> int:
        while not self._pending and (self._fetched or self._extents):
            self._pending = self._fetched.popleft() if self._fetched else self._next_piece()
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _next_piece(self) -> bytes:
        oid, offset, length = self._extents[0]
        if oid == self._head_oid:
            self._extents.pop(0)
            head, self._head = self._head, b""
            return head
        take = min(length, STRIPE_SIZE)
        with self._zone.client.open_ioctx(DATA_POOL) as data_ioctx:
            piece = data_ioctx.read(oid, take, offset)
        if len(piece) != take:
            raise rados.IOError(f"{oid}: {len(piece)} bytes where the manifest promises {take}", errno=5)
        if take == length:
            self._extents.pop(0)
        else:
            self._extents[0] = (oid, offset + take, length - take)
        return piece


def entry_of(info: ObjectState) -> IndexEntry:
    return IndexEntry(
        key=info.key,
        size=info.size,
        etag=info.etag,
        mtime=info.mtime,
        content_type=info.content_type,
        owner=info.owner,
        version_id=info.version_id,
        tag=info.tag,
        listed_etag=info.headers.get(LISTED_ETAG, ""),
    )


def _disagrees(stored: IndexEntry | None, tag: str) -> bool:
    """Does index entry ``stored`` fail to describe the head written by write ``tag``? An
    entry older than the entries' ``tag`` field (it has none) is taken at its word."""
    if stored is None or not stored.exists or tag in stored.pending:
        return True
    return bool(stored.tag) and stored.tag != tag


def _clip(byte_range: tuple[int, int] | None, size: int) -> tuple[int, int]:
    if byte_range is None:
        return 0, size - 1
    first, last = byte_range
    if first < 0 or last < first:
        raise InvalidRange(f"bad range {byte_range}")
    if first >= size:
        raise InvalidRange(f"range {byte_range} starts past the end of a {size}-byte object")
    return first, min(size - 1, last)


def _attrs(info: ObjectState) -> dict[str, bytes]:
    attrs = {
        ATTR + "manifest": info.manifest.encode(),
        ATTR + "etag": info.etag.encode(),
        ATTR + "content_type": info.content_type.encode(),
        IDTAG_ATTR: info.tag.encode(),
        ATTR + "mtime": repr(info.mtime).encode(),
        ATTR + "owner": info.owner.encode(),
    }
    if info.version_id:
        attrs[ATTR + "version_id"] = info.version_id.encode()
    if info.delete_at is not None:
        attrs[ATTR + "delete_at"] = repr(info.delete_at).encode()
    for name, value in info.metadata.items():
        attrs[ATTR + META_PREFIX + name.lower()] = value.encode()
    for name, value in info.headers.items():
        attrs[ATTR + name.replace("-", "_")] = value.encode()
    if info.acl:
        attrs[ATTR + "acl"] = info.acl.encode()
    if info.tags:
        attrs[ATTR + TAGS_ATTR] = encode_tags(info.tags)
    return attrs


def _info(key: str, attrs: dict[str, bytes], oid: str) -> ObjectState:
    manifest = Manifest.decode(attrs[ATTR + "manifest"])
    meta = {
        name[len(ATTR + META_PREFIX) :]: value.decode()
        for name, value in attrs.items()
        if name.startswith(ATTR + META_PREFIX)
    }
    return ObjectState(
        key=key,
        size=manifest.obj_size,
        etag=attrs[ATTR + "etag"].decode(),
        mtime=float(attrs[ATTR + "mtime"]),
        content_type=attrs[ATTR + "content_type"].decode(),
        owner=attrs[ATTR + "owner"].decode(),
        metadata=meta,
        manifest=manifest,
        tag=attrs[IDTAG_ATTR].decode(),
        oid=oid,
        version_id=attrs.get(ATTR + "version_id", b"").decode(),
        delete_at=float(attrs[ATTR + "delete_at"]) if ATTR + "delete_at" in attrs else None,
        headers={
            name: attrs[ATTR + name.replace("-", "_")].decode()
            for name in CONTENT_HEADERS
            if ATTR + name.replace("-", "_") in attrs
        },
        acl=attrs.get(ATTR + "acl", b"").decode(),
        tags=decode_tags(attrs.get(ATTR + TAGS_ATTR, b"")),
    )


def _head_version(data_ioctx: rados.Ioctx, oid: str) -> int | None:
    """The rados version of head ``oid``; None if there is no such head."""
    try:
        data_ioctx.stat(oid)
    except rados.ObjectNotFound:
        return None
    return data_ioctx.get_last_version()


def _current_etag(attrs: dict[str, bytes]) -> str | None:
    """The ETag of the object whose head has xattrs ``attrs``; None if there is none (no head,
    or one past its delete-at time, which ``stat`` says does not exist)."""
    if ATTR + "manifest" not in attrs:
        return None
    delete_at = attrs.get(ATTR + "delete_at")
    if delete_at is not None and float(delete_at) <= time.time():
        return None
    return attrs[ATTR + "etag"].decode()


def _read_attrs(data_ioctx: rados.Ioctx, oid: str) -> dict[str, bytes]:
    try:
        return dict(data_ioctx.get_xattrs(oid))
    except rados.ObjectNotFound:
        return {}


def _remove_version(data_ioctx: rados.Ioctx, oid: str, version: int) -> bool:
    """Remove head ``oid`` if it is still at rados version ``version``; whether it was."""
    with rados.WriteOpCtx() as op:
        op.assert_version(version)
        op.remove()
        try:
            data_ioctx.operate_write_op(op, oid)
        except rados.OSError as error:
            if error.errno not in HEAD_CHANGED:
                raise
            return False
    return True


def _remove_quietly(data_ioctx: rados.Ioctx, oid: str) -> None:
    try:
        data_ioctx.remove_object(oid)
    except rados.ObjectNotFound:
        pass


def _discard(data_ioctx: rados.Ioctx, oids: list[str]) -> bool:
    """Remove the tails of a write that failed before its head write, last first, so that
    what a failure here leaves is still numbered from 1 for its GC intent; True if all went."""
    for oid in reversed(oids):
        try:
            _remove_quietly(data_ioctx, oid)
        except rados.Error:
            return False  # the error being raised is the one to report
    return True
