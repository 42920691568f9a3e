"""``librgw.connect``: open the gateway library on a cluster and make its zone on first use."""

from __future__ import annotations

from librgw import rados

from .buckets import BucketStore
from .errors import InvalidArgument
from .users import UserStore
from .zone import META_POOL, ZoneParams, ensure_zone

CEPH_PREFIX = "ceph:"


class RGW:
    """The gateway library over one cluster: users and buckets (objects next) in RGW's layout."""

    def __init__(self, client: rados.Rados, zone: ZoneParams, owns_client: bool = True) -> None:
        self.client = client
        self.zone = zone
        self._owns_client = owns_client
        self._meta: dict[str, rados.Ioctx] = {}
        self.users = UserStore(self)
        self.buckets = BucketStore(self)

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
    """The gateway library on the cluster of ``spec``: an embedded cluster's ``cluster.conf``.

    On first use it creates RGW's pools and the default zone; ``data_pool_profile`` (an
    erasure-code profile name) makes a new data pool erasure-coded instead of replicated.
    """
    if spec.startswith(CEPH_PREFIX):
        raise InvalidArgument(f"{spec}: the ceph: backend is not available yet; pass an embedded cluster.conf")
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
