"""``librgw.connect``: open the gateway library on a cluster and make its zone on first use.

``RGW`` is where the core's stores are made and wired: each takes the zone and the stores
it uses, and none of them knows ``RGW``, so the core's modules import one another one way.
"""

from __future__ import annotations

from typing import BinaryIO

from librgw import rados

from .bucket_index import BucketIndexes, IndexEntry, ListPage
from .bucket_info import BucketInfo
from .buckets import BucketStore
from .expirer import ObjectExpirer
from .lifecycle import Lifecycle
from .multipart import MultipartUploads
from .object_ops import ObjectOps
from .objects import ObjectReader, ObjectStore
from .quotas import QuotaCheck
from .roles import RoleStore
from .sts import SessionStore
from .users import UserStore
from .versioning import Versions
from .write_request import WriteRequest
from .zone import Zone, ZoneParams, ensure_zone


class RGW:
    """The gateway library over one cluster: users, buckets and objects in RGW's layout.

    The high-level calls (``create_bucket``, ``put``, ``get``, ``delete``, ``list``) take
    bucket names; ``object_ops`` reads and writes objects as the gateway does, whatever the
    bucket's versioning; ``users``, ``buckets``, ``indexes``, ``objects`` (the heads),
    ``versions`` and ``multipart`` are the lower-level stores.
    """

    def __init__(self, client: rados.Rados, params: ZoneParams, owns_client: bool = True) -> None:
        self.client = client
        self.zone = Zone(client, params)
        self._owns_client = owns_client
        self.users = UserStore(self.zone)
        self.buckets = BucketStore(self.zone, self.users)
        self.indexes = BucketIndexes(self.zone, self.buckets, self._entry_of_head)
        self.objects = ObjectStore(self.zone, self.indexes)
        self.versions = Versions(self.zone, self.indexes, self.objects)
        self.multipart = MultipartUploads(self.zone, self.indexes, self.objects)
        self.object_ops = ObjectOps(
            self.objects, self.versions, self.multipart, QuotaCheck(self.users, self.buckets, self.indexes)
        )
        self.roles = RoleStore(self.zone)
        self.sessions = SessionStore(self.zone)
        self.lifecycle = Lifecycle(
            self.zone, self.buckets, self.indexes, self.object_ops, self.versions, self.multipart
        )
        self.expirer = ObjectExpirer(self.objects.expiry, self.buckets, self.objects, self.versions, self.lifecycle)

    def _entry_of_head(self, bucket: BucketInfo, key: str) -> IndexEntry | None:
        # the index resolves an expired pending operation against the versions, which write
        # through the index: given as a function, so that neither store holds the other
        return self.versions.index_entry(bucket, key)

    # -- the high-level API: "you just do GET and PUT" ------------------------------

    def create_bucket(self, uid: str, name: str) -> BucketInfo:
        return self.buckets.create(uid, name)

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | BinaryIO,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> str:
        """Store ``data`` (bytes, or a binary file object read to its end, streamed); returns the
        ETag. In a versioned bucket this makes a new version."""
        request = WriteRequest(metadata=metadata, content_type=content_type or "")
        return self.object_ops.put(self.buckets.get(bucket), key, data, request).entry.etag

    def get(
        self, bucket: str, key: str, byte_range: tuple[int, int] | None = None, version_id: str | None = None
    ) -> ObjectReader:
        """A readable file-like object with ``.size``, ``.etag``, ``.metadata``, ``.content_type``.

        ``byte_range=(first, last)`` is inclusive, as in HTTP ``Range``; ``version_id`` picks a version.
        """
        return self.object_ops.get(self.buckets.get(bucket), key, version_id, byte_range)

    def delete(self, bucket: str, key: str, version_id: str | None = None) -> None:
        """Delete ``key``: in a versioned bucket add a delete marker, or remove ``version_id`` for good."""
        self.object_ops.delete(self.buckets.get(bucket), key, version_id)

    def list(
        self, bucket: str, prefix: str = "", delimiter: str = "", marker: str = "", max_keys: int = 1000
    ) -> ListPage:
        """A page of keys: ``.objects`` (``.key``, ``.size``, ``.etag``, ``.mtime``), ``.prefixes``,
        ``.is_truncated`` and ``.next_marker``."""
        with self.indexes.open(self.buckets.get(bucket)) as index:
            return index.list(prefix, delimiter, marker, max_keys)

    def close(self) -> None:
        self.zone.close()
        if self._owns_client:
            self.client.shutdown()

    def __enter__(self) -> RGW:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(spec: str, data_pool_profile: str | None = None) -> RGW:
    """The gateway library on the cluster of ``spec``: an embedded cluster's ``cluster.conf``, or
    ``ceph:<path to ceph.conf>`` for a Ceph cluster (``ceph_backend.py``).

    On first use it creates RGW's pools and the default zone; ``data_pool_profile`` (an
    erasure-code profile name) makes a new data pool erasure-coded instead of replicated.
    """
    client = rados.Rados(conffile=spec)
    client.connect()
    try:
        params = ensure_zone(client, data_pool_profile)
    except BaseException:
        client.shutdown()
        raise
    return RGW(client, params)


def attach(client: rados.Rados, data_pool_profile: str | None = None) -> RGW:
    """The gateway library on an already connected ``Rados`` handle, which stays the caller's."""
    return RGW(client, ensure_zone(client, data_pool_profile), owns_client=False)
