"""``librgw.connect``: open the gateway library on a cluster and make its zone on first use."""

from __future__ import annotations

from typing import BinaryIO

from librgw import rados

from .bucket_index import BucketIndex, ListPage
from .buckets import BucketInfo, BucketStore
from .lifecycle import Lifecycle
from .multipart import MultipartUploads
from .objects import ObjectReader, ObjectStore
from .roles import RoleStore
from .sts import SessionStore
from .users import UserStore
from .versioning import Versions
from .zone import META_POOL, ZoneParams, ensure_zone


class RGW:
    """The gateway library over one cluster: users, buckets and objects in RGW's layout.

    The high-level calls (``create_bucket``, ``put``, ``get``, ``delete``, ``list``) take
    bucket names; ``users``, ``buckets`` and ``objects`` are the lower-level stores.
    """

    def __init__(self, client: rados.Rados, zone: ZoneParams, owns_client: bool = True) -> None:
        self.client = client
        self.zone = zone
        self._owns_client = owns_client
        self._meta: dict[str, rados.Ioctx] = {}
        self.users = UserStore(self)
        self.buckets = BucketStore(self)
        self.objects = ObjectStore(self)
        self.multipart = MultipartUploads(self, self.objects)
        self.versions = Versions(self, self.objects)
        self.roles = RoleStore(self)
        self.sessions = SessionStore(self)
        self.lifecycle = Lifecycle(self)

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
        info = self.buckets.get(bucket)
        if info.versioning != "off":
            return self.versions.put(info, key, data, metadata, content_type or "")[1].etag
        return self.objects.put(info, key, data, metadata, content_type or "").etag

    def get(
        self, bucket: str, key: str, byte_range: tuple[int, int] | None = None, version_id: str | None = None
    ) -> ObjectReader:
        """A readable file-like object with ``.size``, ``.etag``, ``.metadata``, ``.content_type``.

        ``byte_range=(first, last)`` is inclusive, as in HTTP ``Range``; ``version_id`` picks a version.
        """
        info = self.buckets.get(bucket)
        if info.versioning != "off" or version_id is not None:
            return self.versions.get(info, key, version_id, byte_range)
        return self.objects.get(info, key, byte_range)

    def delete(self, bucket: str, key: str, version_id: str | None = None) -> None:
        """Delete ``key``: in a versioned bucket add a delete marker, or remove ``version_id`` for good."""
        info = self.buckets.get(bucket)
        if info.versioning != "off" or version_id is not None:
            self.versions.delete(info, key, version_id)
        else:
            self.objects.delete(info, key)

    def list(
        self, bucket: str, prefix: str = "", delimiter: str = "", marker: str = "", max_keys: int = 1000
    ) -> ListPage:
        """A page of keys: ``.objects`` (``.key``, ``.size``, ``.etag``, ``.mtime``), ``.prefixes``,
        ``.is_truncated`` and ``.next_marker``."""
        with BucketIndex(self, self.buckets.get(bucket)) as index:
            return index.list(prefix, delimiter, marker, max_keys)

    def meta(self, namespace: str) -> rados.Ioctx:
        """An I/O context on ``default.rgw.meta`` in ``namespace`` (``users.uid``, ``root``, ...)."""
        ioctx = self._meta.get(namespace)
        if ioctx is None:
            ioctx = self._meta[namespace] = self.client.open_ioctx(META_POOL)
            ioctx.set_namespace(namespace)
        return ioctx

    def close(self) -> None:
        for ioctx in self._meta.values():
            ioctx.close()
        self._meta.clear()
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
        zone = ensure_zone(client, data_pool_profile)
    except BaseException:
        client.shutdown()
        raise
    return RGW(client, zone)


def attach(client: rados.Rados, data_pool_profile: str | None = None) -> RGW:
    """The gateway library on an already connected ``Rados`` handle, which stays the caller's."""
    return RGW(client, ensure_zone(client, data_pool_profile), owns_client=False)
