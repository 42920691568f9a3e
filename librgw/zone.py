"""The zone: which pools hold what, and the zone record in ``.rgw.root``, made on first use.

Pool names and namespaces are those of a default Ceph RGW zone (``reference/003``):

- ``.rgw.root``: realm, zonegroup and zone records (here one zone, ``default``);
- ``default.rgw.meta``: users (ns ``users.uid``), their keys (``users.keys``), Swift names
  (``users.swift``), e-mails (``users.email``), bucket entrypoints and instances (``root``);
- ``default.rgw.buckets.index``: bucket index shards (replicated: they live in omap);
- ``default.rgw.buckets.data``: object heads and tails (replicated, or erasure-coded);
- ``default.rgw.log``: GC and expiry queues.

Records are JSON, not Ceph's binary encoding: the object names, pools and namespaces are
RGW's, the bytes inside are ours.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field

from librgw import rados, request_memo

ROOT_POOL = ".rgw.root"
META_POOL = "default.rgw.meta"
INDEX_POOL = "default.rgw.buckets.index"
DATA_POOL = "default.rgw.buckets.data"
LOG_POOL = "default.rgw.log"
RGW_APPLICATION = "rgw"
REPLICATED_POOLS = (ROOT_POOL, META_POOL, INDEX_POOL, LOG_POOL)
ZONE_NAME = "default"
ZONE_NAMES_OBJECT = f"zone_names.{ZONE_NAME}"


@dataclass
class ZoneParams:
    """RGW's zone record (``RGWZoneParams``), the fields librgw uses."""

    id: str
    name: str = ZONE_NAME
    domain_root: str = f"{META_POOL}:root"
    user_keys_pool: str = f"{META_POOL}:users.keys"
    user_email_pool: str = f"{META_POOL}:users.email"
    user_swift_pool: str = f"{META_POOL}:users.swift"
    user_uid_pool: str = f"{META_POOL}:users.uid"
    gc_pool: str = f"{LOG_POOL}:gc"
    log_pool: str = LOG_POOL
    placement_pools: list[dict] = field(
        default_factory=lambda: [
            {
                "key": "default-placement",
                "val": {"index_pool": INDEX_POOL, "data_pool": DATA_POOL, "data_extra_pool": INDEX_POOL},
            }
        ]
    )

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> ZoneParams:
        return cls(**json.loads(raw))


def ensure_zone(client: rados.Rados, data_pool_profile: str | None = None) -> ZoneParams:
    """Create the RGW pools and the zone record unless they exist; returns the zone.

    ``data_pool_profile`` names an erasure-code profile for a new data pool; None keeps it
    replicated. An existing data pool is left as it is.
    """
    for name in REPLICATED_POOLS:
        if not client.pool_exists(name):
            create_pool(client, name)
    if not client.pool_exists(DATA_POOL):
        create_pool(client, DATA_POOL, data_pool_profile)
    with client.open_ioctx(ROOT_POOL) as root:
        try:
            zone_id = json.loads(root.read(ZONE_NAMES_OBJECT))["obj_id"]
            return ZoneParams.decode(root.read(f"zone_info.{zone_id}", 1 << 20))
        except rados.ObjectNotFound:
            zone = ZoneParams(id=str(uuid.uuid4()))
            root.write_full(f"zone_info.{zone.id}", zone.encode())
            with rados.WriteOpCtx() as op:
                op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
                op.write_full(json.dumps({"obj_id": zone.id}).encode())
                try:
                    root.operate_write_op(op, ZONE_NAMES_OBJECT)
                except rados.ObjectExists:  # another process made it first: use theirs
                    root.remove_object(f"zone_info.{zone.id}")
                    return ensure_zone(client, data_pool_profile)
            return zone


def create_pool(client: rados.Rados, name: str, profile: str | None = None, size: int | None = None) -> None:
    """Create an RGW pool unless it exists: erasure-coded with the erasure-code ``profile``, or
    replicated with ``size`` copies (None: the cluster's default), tagged with RGW's application."""
    cmd: dict[str, object] = {"prefix": "osd pool create", "pool": name}
    if profile:
        cmd.update(pool_type="erasure", erasure_code_profile=profile)
    elif size is not None:
        cmd.update(size=size)
    ret, _, outs = client.mon_command(json.dumps(cmd), b"")
    if ret != 0 and not client.pool_exists(name):  # losing a race to another process is fine
        raise rados.Error(f"creating pool {name}: {outs}", errno=-ret)
    with client.open_ioctx(name) as ioctx:
        ioctx.application_enable(RGW_APPLICATION)  # as RGW does; Ceph warns about untagged pools


class Zone:
    """The zone as the core's stores use it: the cluster handle, the zone record, and I/O
    contexts on ``default.rgw.meta`` by namespace, each opened once and kept until ``close``.

    Each store takes the zone and the other stores it uses, never the whole ``RGW``, so the
    core's modules import one another one way only (``connection.py`` wires them)."""

    def __init__(self, client: rados.Rados, params: ZoneParams) -> None:
        self.client = client
        self.params = params
        self._meta: dict[str, rados.Ioctx] = {}

    def meta(self, namespace: str) -> rados.Ioctx:
        """An I/O context on ``default.rgw.meta`` in ``namespace`` (``users.uid``, ``root``, ...);
        inside a request, one that reads each record once (``request_memo``)."""
        ioctx = self._meta.get(namespace)
        if ioctx is None:
            ioctx = self._meta[namespace] = self.client.open_ioctx(META_POOL)
            ioctx.set_namespace(namespace)
        return request_memo.meta_ioctx(ioctx, (self.params.id, namespace))

    def close(self) -> None:
        for ioctx in self._meta.values():
            ioctx.close()
        self._meta.clear()
