"""Multipart uploads, as S3 defines them and RGW stores them.

- ``initiate`` gives an upload id; the content type, metadata, content headers, ACL and
  tags it is given become the object's on ``complete``. The upload's record is the omap of
  ``<marker>__multipart_<key>.<upload>.meta`` in the index pool (it needs omap, and the data
  pool may be erasure-coded): key ``""`` holds the upload (owner, content type, metadata, headers),
  key ``part.<nnnnn>`` each uploaded part (size, ETag, the rados objects holding it). The
  bucket's open uploads are listed in the omap of ``<marker>__multipart_uploads``.
- ``upload_part`` streams part ``n`` (1..10,000) into ``<marker>__multipart_<key>.<upload>.<n>``
  (its first 4 MiB) and ``<marker>__shadow_<key>.<upload>.<n>_<m>`` (the rest, 4 MiB each).
  Uploading a part number again replaces it; the old objects go to the GC queue. With
  ``expected_md5`` a part whose MD5 differs raises ``BadDigest`` and is not recorded.
- ``complete`` checks the part list (ascending, every ETag matching, each part but the last
  at least 5 MiB) and writes a head with no data whose manifest lists the parts' objects in
  order: the data is not copied. The ETag is S3's: the MD5 of the parts' binary MD5s, a
  dash, and the part count. Parts uploaded but not listed go to the GC queue. A completion
  whose head write fails leaves the upload open, to retry or abort; a retry replaces a head
  that landed all the same without letting go of the parts they share.
- ``abort`` removes the parts and the record.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from librgw import rados

from .bucket_index import BucketIndexes, IndexEntry
from .bucket_info import BucketInfo
from .errors import BadDigest, EntityTooSmall, InvalidArgument, InvalidPart, InvalidPartOrder, NoSuchUpload
from .manifest import Manifest, Part, instance_oid
from .objects import ObjectState, ObjectStore, Stripes, check_headers, check_key, chunks, write_stripes
from .omap_keys import entry_key, escaped
from .omap_pages import omap_items, omap_values
from .tagging import check_tags
from .write_condition import WriteCondition
from .write_request import WriteRequest
from .zone import DATA_POOL, INDEX_POOL, Zone

MULTIPART = "__multipart_"
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000
UPLOAD_KEY = ""


@dataclass
class UploadedPart:
    number: int
    size: int
    etag: str
    mtime: float
    objects: list[Part]

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> UploadedPart:
        doc = json.loads(raw)
        doc["objects"] = [Part(**p) for p in doc["objects"]]
        return cls(**doc)


@dataclass
class Upload:
    key: str
    upload_id: str
    owner: str
    initiated: float
    content_type: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # of objects.CONTENT_HEADERS, lower-case names
    acl: str = ""  # the object's ACL to be (``ObjectState.acl``)
    tags: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Upload:
        return cls(**json.loads(raw))


def multipart_etag(part_etags: list[str]) -> str:
    """S3's ETag of a completed upload: MD5 of the concatenated binary part MD5s, ``-N``."""
    digest = hashlib.md5(b"".join(bytes.fromhex(e) for e in part_etags)).hexdigest()
    return f"{digest}-{len(part_etags)}"


UPLOAD_ID_RE = re.compile("[0-9a-f]{32}")


class MultipartUploads:
    def __init__(self, zone: Zone, indexes: BucketIndexes, heads: ObjectStore) -> None:
        self.zone = zone
        self.indexes = indexes
        self.heads = heads

    def _meta_oid(self, bucket: BucketInfo, key: str, upload_id: str) -> str:
        # only ids we make (hex, no dots), so no other key's upload can be named by a crafted id
        if not UPLOAD_ID_RE.fullmatch(upload_id):
            raise NoSuchUpload(f"upload {upload_id[:64]!r} of {key!r} does not exist")
        return f"{bucket.marker}{MULTIPART}{key}.{upload_id}.meta"

    def _list_oid(self, bucket: BucketInfo) -> str:
        return f"{bucket.marker}{MULTIPART}uploads"

    def initiate(self, bucket: BucketInfo, key: str, request: WriteRequest) -> str:
        """Open an upload into ``key``; the content type, metadata, content headers, owner,
        ACL and tags of ``request`` become the object's when it completes. Its upload id."""
        check_key(key)
        check_headers(request.headers or {})
        check_tags(request.tags or {})
        upload = Upload(
            key=key,
            upload_id=uuid.uuid4().hex,
            owner=request.owner or bucket.owner,
            initiated=time.time(),
            content_type=request.content_type,
            metadata=dict(request.metadata or {}),
            headers=dict(request.headers or {}),
            acl=request.acl,
            tags=dict(request.tags or {}),
        )
        with self.zone.client.open_ioctx(INDEX_POOL) as index:
            with rados.WriteOpCtx() as op:
                index.set_omap(op, (UPLOAD_KEY,), (upload.encode(),))
                index.operate_write_op(op, self._meta_oid(bucket, key, upload.upload_id))
            with rados.WriteOpCtx() as op:
                index.set_omap(op, (entry_key(key, upload.upload_id),), (upload.encode(),))
                index.operate_write_op(op, self._list_oid(bucket))
        return upload.upload_id

    def get(self, bucket: BucketInfo, key: str, upload_id: str) -> Upload:
        raw = self._omap(bucket, key, upload_id, (UPLOAD_KEY,))
        if UPLOAD_KEY not in raw:
            raise NoSuchUpload(f"upload {upload_id!r} of {key!r} does not exist")
        return Upload.decode(raw[UPLOAD_KEY])

    def upload_part(
        self,
        bucket: BucketInfo,
        key: str,
        upload_id: str,
        number: int,
        data: bytes | BinaryIO,
        expected_md5: str | None = None,
    ) -> UploadedPart:
        """Store part ``number`` of the upload; with ``expected_md5`` (hex) a part whose MD5
        differs raises ``BadDigest`` and leaves the upload as it was."""
        if not 1 <= number <= MAX_PARTS:
            raise InvalidArgument(f"part number must be 1 to {MAX_PARTS}, not {number}")
        self.get(bucket, key, upload_id)
        first = f"{bucket.marker}{MULTIPART}{key}.{upload_id}.{number}"
        prefix = f"{bucket.marker}__shadow_{key}.{upload_id}.{number}"
        stamp = uuid.uuid4().hex[:8]  # a re-upload of this number must not overwrite parts a reader may use
        objects: list[Part] = []
        md5 = hashlib.md5()
        with self.zone.client.open_ioctx(DATA_POOL) as data_ioctx:
            try:
                write_stripes(
                    data_ioctx,
                    Stripes(chunks(data)),
                    lambda n: f"{first}.{stamp}" if n == 1 else f"{prefix}.{stamp}_{n - 1}",
                    md5,
                    objects,
                )
                if expected_md5 is not None and expected_md5.lower() != md5.hexdigest():
                    raise BadDigest(f"the part's MD5 is {md5.hexdigest()}, not the {expected_md5} the request gave")
            except BaseException:
                for obj in objects:
                    try:
                        data_ioctx.remove_object(obj.oid)
                    except rados.ObjectNotFound:
                        pass
                raise
        part = UploadedPart(
            number=number, size=sum(p.size for p in objects), etag=md5.hexdigest(), mtime=time.time(), objects=objects
        )
        old = self._omap(bucket, key, upload_id, (f"part.{number:05d}",))
        with self.zone.client.open_ioctx(INDEX_POOL) as index, rados.WriteOpCtx() as op:
            index.set_omap(op, (f"part.{number:05d}",), (part.encode(),))
            index.operate_write_op(op, self._meta_oid(bucket, key, upload_id))
        for raw in old.values():
            self.heads.gc.enqueue([p.oid for p in UploadedPart.decode(raw).objects])
        return part

    def list_parts(self, bucket: BucketInfo, key: str, upload_id: str) -> list[UploadedPart]:
        self.get(bucket, key, upload_id)
        return [UploadedPart.decode(v) for k, v in sorted(self._omap(bucket, key, upload_id).items()) if k]

    def list_uploads(self, bucket: BucketInfo, prefix: str = "") -> list[Upload]:
        """The bucket's open uploads of keys starting with ``prefix``, by key."""
        with self.zone.client.open_ioctx(INDEX_POOL) as index:
            return [
                Upload.decode(v) for _, v in omap_items(index, self._list_oid(bucket), filter_prefix=escaped(prefix))
            ]

    def complete(
        self,
        bucket: BucketInfo,
        key: str,
        upload_id: str,
        parts: list[tuple[int, str]],
        version_id: str = "",
        condition: WriteCondition | None = None,
    ) -> IndexEntry:
        """Join ``parts`` ((number, ETag) in order, as the client lists them) into ``key``: into
        its head, or into the head of version ``version_id`` (``Versions.write``).
        With ``condition``, the object it replaces must meet it (``ObjectStore.write_head``);
        if it does not, the upload stays as it was."""
        upload = self.get(bucket, key, upload_id)
        uploaded = {p.number: p for p in self.list_parts(bucket, key, upload_id)}
        if not parts:
            raise InvalidPart("a multipart upload needs at least one part")
        numbers = [n for n, _ in parts]
        if numbers != sorted(set(numbers)):
            raise InvalidPartOrder("parts must be listed in ascending order, each once")
        chosen = []
        for n, etag in parts:
            part = uploaded.get(n)
            if part is None or part.etag != etag.strip('"'):
                raise InvalidPart(f"part {n} was not uploaded with ETag {etag}")
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_SIZE:
                raise EntityTooSmall(f"part {part.number} is {part.size} bytes; all but the last need 5 MiB")
        manifest = Manifest(
            sum(p.size for p in chosen), 0, [o for p in chosen for o in p.objects], [p.size for p in chosen]
        )
        info = ObjectState(
            key=key,
            size=manifest.obj_size,
            etag=multipart_etag([p.etag for p in chosen]),
            mtime=time.time(),
            content_type=upload.content_type or "binary/octet-stream",
            owner=upload.owner,
            metadata=upload.metadata,
            manifest=manifest,
            tag=uuid.uuid4().hex,
            oid=instance_oid(bucket.marker, key, version_id),
            version_id=version_id,
            headers=dict(upload.headers),
            acl=upload.acl,
            tags=dict(upload.tags),
        )
        with self.indexes.open(bucket) as index:
            entry = self.heads.commit_head(index, bucket, info, b"", condition)
        unused = [o.oid for n, p in uploaded.items() if n not in numbers for o in p.objects]
        self.heads.gc.enqueue(unused)
        self._forget(bucket, key, upload_id)
        return entry

    def abort(self, bucket: BucketInfo, key: str, upload_id: str) -> None:
        parts = self.list_parts(bucket, key, upload_id)
        with self.zone.client.open_ioctx(DATA_POOL) as data_ioctx:
            for part in parts:
                for obj in part.objects:
                    try:
                        data_ioctx.remove_object(obj.oid)
                    except rados.ObjectNotFound:
                        pass
        self._forget(bucket, key, upload_id)

    def _forget(self, bucket: BucketInfo, key: str, upload_id: str) -> None:
        with self.zone.client.open_ioctx(INDEX_POOL) as index:
            try:
                index.remove_object(self._meta_oid(bucket, key, upload_id))
            except rados.ObjectNotFound:
                pass
            with rados.WriteOpCtx() as op:
                index.remove_omap_keys(op, (entry_key(key, upload_id),))
                index.operate_write_op(op, self._list_oid(bucket))

    def _omap(self, bucket: BucketInfo, key: str, upload_id: str, keys: tuple[str, ...] | None = None) -> dict:
        """The upload record's omap: every entry, or just ``keys``."""
        with self.zone.client.open_ioctx(INDEX_POOL) as index:
            oid = self._meta_oid(bucket, key, upload_id)
            return omap_values(index, oid, keys) if keys is not None else dict(omap_items(index, oid))
