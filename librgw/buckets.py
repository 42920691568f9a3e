"""Buckets as RGW stores them: an entrypoint, an instance with a marker, index shards, the owner's list.

- ``default.rgw.meta`` ns ``root``, object ``<bucket>``: the entrypoint, naming the
  bucket's current instance (its ``marker``) and owner. Created exclusively, so two users
  can never both create one name. A tenant's bucket is ``<tenant>/<bucket>`` (its entry
  name, ``tenants.py``), which is what the methods here take as a bucket's ``name``.
- ``root`` / ``.bucket.meta.<bucket>:<marker>``: the instance (``BucketInfo``): owner,
  creation time, index shard count, versioning state, quota and attributes (user
  metadata, ACL, CORS, tags).
- ``default.rgw.buckets.index`` / ``.dir.<marker>.<shard>``: the index shards, made here
  with an empty header; their omap holds the entries (``bucket_index.py``). A reshard moves
  the index to generation ``index_gen`` > 0, objects ``.dir.<marker>.<gen>.<shard>`` as RGW's
  layout generations name them.
- ``users.uid`` / ``<uid>.buckets``: the owner's bucket list, one omap key per bucket, by its
  name within the owner's tenant.

The marker is ``<zone id>.<instance>.<n>``, as RGW writes it, so a bucket deleted and made
again gets new index and data object names and cannot see the old ones.

Names: S3 rules (``s3_name_problem``) for buckets made through S3 and by default; Swift's
looser rules (``swift_name_problem``) for containers. Both are spelled out here.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
import time

from librgw import rados

from .bucket_index import init_shard
from .bucket_info import DEFAULT_SHARDS, BucketInfo
from .errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidArgument,
    InvalidBucketName,
    NoSuchBucket,
    TooManyBuckets,
    UserSuspended,
)
from .omap_pages import omap_first, omap_items
from .record_lock import locked
from .tenants import bucket_entry, split_bucket_entry, tenant_of
from .users import BUCKETS_SUFFIX, UID_NS, UserStore
from .versioning import holds_versions, remove_version_shards
from .zone import INDEX_POOL, Zone

ROOT_NS = "root"
INSTANCE_PREFIX = ".bucket.meta."
MAX_RECORD = 1 << 20
VERSIONING_STATES = ("off", "enabled", "suspended")
S3_NAME_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
SWIFT_NAME_MAX = 256


def s3_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid S3 bucket name (AWS's rules), or None."""
    if not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters long"
    if not S3_NAME_RE.fullmatch(name):
        return "may hold only lowercase letters, digits, dots and hyphens, and start and end with a letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "may not hold two adjacent dots, or a dot next to a hyphen"
    try:
        ipaddress.IPv4Address(name)
        return "may not look like an IP address"
    except ValueError:
        pass
    if name.startswith("xn--") or name.endswith("-s3alias"):
        return "may not start with xn-- or end with -s3alias"
    return None


def swift_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid Swift container name, or None: 1 to 256 bytes of UTF-8, no '/'."""
    if not name or len(name.encode()) > SWIFT_NAME_MAX:
        return f"must be 1 to {SWIFT_NAME_MAX} bytes long"
    if "/" in name:
        return "may not hold '/'"
    return None


class BucketStore:
    """Create, find, change and delete buckets."""

    def __init__(self, zone: Zone, users: UserStore) -> None:
        self.zone = zone
        self.users = users

    def create(self, uid: str, local_name: str, swift: bool = False, num_shards: int = DEFAULT_SHARDS) -> BucketInfo:
        """Bucket ``local_name`` of ``uid``, in its tenant's namespace."""
        problem = swift_name_problem(local_name) if swift else s3_name_problem(local_name)
        if problem:
            raise InvalidBucketName(f"bucket name {local_name!r} {problem}")
        name = bucket_entry(tenant_of(uid), local_name)
        if num_shards < 1:
            raise InvalidArgument("a bucket needs at least one index shard")
        user = self.users.get(uid)
        if user.suspended:
            raise UserSuspended(f"user {uid!r} is suspended")
        if user.max_buckets >= 0 and len(self.list(uid)) >= user.max_buckets:
            raise TooManyBuckets(f"user {uid!r} already owns {user.max_buckets} buckets")
        info = BucketInfo(name, self._new_marker(), uid, time.time(), num_shards)
        entrypoint = json.dumps({"bucket": name, "marker": info.marker, "owner": uid}).encode()
        root = self.zone.meta(ROOT_NS)
        with rados.WriteOpCtx() as op:
            op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
            op.write_full(entrypoint)
            try:
                root.operate_write_op(op, name)
            except rados.ObjectExists:
                if self._entrypoint_owner(name) == uid:
                    raise BucketAlreadyOwnedByYou(f"you already own bucket {name!r}") from None
                raise BucketAlreadyExists(f"bucket {name!r} belongs to another user") from None
        root.write_full(INSTANCE_PREFIX + f"{name}:{info.marker}", info.encode())
        with self.zone.client.open_ioctx(INDEX_POOL) as index:
            for shard in info.index_objects():
                init_shard(index, shard)
        users = self.zone.meta(UID_NS)
        with rados.WriteOpCtx() as op:
            users.set_omap(op, (local_name,), (json.dumps({"creation_time": info.creation_time}).encode(),))
            users.operate_write_op(op, uid + BUCKETS_SUFFIX)
        return info

    def _entrypoint_owner(self, name: str) -> str | None:
        """The owner the entrypoint names (its instance may not be written yet)."""
        try:
            return json.loads(self.zone.meta(ROOT_NS).read(name, MAX_RECORD))["owner"]
        except rados.ObjectNotFound:
            return None

    def get(self, name: str) -> BucketInfo:
        root = self.zone.meta(ROOT_NS)
        try:
            marker = json.loads(root.read(name, MAX_RECORD))["marker"]
            return BucketInfo.decode(root.read(INSTANCE_PREFIX + f"{name}:{marker}", MAX_RECORD))
        except rados.ObjectNotFound:
            raise NoSuchBucket(f"bucket {name!r} does not exist") from None

    def list(self, uid: str) -> list[str]:
        """The names (within its tenant) of the buckets ``uid`` owns, sorted."""
        return [name for name, _ in omap_items(self.zone.meta(UID_NS), uid + BUCKETS_SUFFIX)]

    def list_all(self) -> list[str]:
        """Every bucket's entry name, sorted (``radosgw-admin bucket list`` without ``--uid``)."""
        names = (o.key for o in self.zone.meta(ROOT_NS).list_objects())
        return sorted(n for n in names if not n.startswith(INSTANCE_PREFIX))

    def list_tenant(self, tenant: str) -> list[str]:
        """The names (within it) of the buckets of ``tenant`` ("": the buckets of no tenant), sorted."""
        split = (split_bucket_entry(name) for name in self.list_all())
        return [name for named, name in split if named == tenant]

    def list_instances(self) -> list[str]:
        """Every bucket instance as ``<bucket>:<marker>``, sorted (``metadata list bucket.instance``)."""
        names = (o.key for o in self.zone.meta(ROOT_NS).list_objects())
        return sorted(n[len(INSTANCE_PREFIX) :] for n in names if n.startswith(INSTANCE_PREFIX))

    def get_instance(self, instance: str) -> BucketInfo:
        """A bucket instance by ``<bucket>:<marker>``, current or not."""
        try:
            return BucketInfo.decode(self.zone.meta(ROOT_NS).read(INSTANCE_PREFIX + instance, MAX_RECORD))
        except rados.ObjectNotFound:
            raise NoSuchBucket(f"bucket instance {instance!r} does not exist") from None

    def set_versioning(self, name: str, state: str) -> BucketInfo:
        """``enabled`` or ``suspended`` (S3 cannot turn versioning back ``off``)."""
        if state not in VERSIONING_STATES[1:]:
            raise InvalidArgument(f"versioning must be enabled or suspended, not {state!r}")
        return self._change(name, versioning=state)

    def set_quota(
        self, name: str, max_objects: int | None = None, max_size: int | None = None, enabled: bool | None = None
    ) -> BucketInfo:
        quota = self.get(name).quota
        quota.update(max_objects, max_size, enabled)
        return self._change(name, quota=quota)

    def set_attrs(self, name: str, attrs: dict[str, str]) -> BucketInfo:
        """Replace the bucket's attributes (user metadata, ACL, CORS, tags)."""
        return self._change(name, attrs=dict(attrs))

    def update_attrs(self, name: str, changes: dict[str, str | None]) -> BucketInfo:
        """Set the attributes ``changes`` names (removing those it maps to None) and keep the
        others: read, changed and written back under the record's lock, so two requests
        changing different attributes (CORS, tags, lifecycle, metadata) both take effect."""

        def changed(attrs: dict[str, str]) -> dict[str, str]:
            kept = {k: v for k, v in attrs.items() if k not in changes}
            return {**kept, **{k: v for k, v in changes.items() if v is not None}}

        return self._change(name, attrs=changed)

    def set_index_layout(self, name: str, num_shards: int, index_gen: int) -> BucketInfo:
        """Point the instance at another set of index shards (the last step of a reshard)."""
        return self._change(name, num_shards=num_shards, index_gen=index_gen)

    def delete(self, name: str, uid: str | None = None) -> None:
        """Delete an empty bucket (``uid``, if given, must own it): no objects, and no object
        versions or delete markers either."""
        info = self.get(name)
        if uid is not None and info.owner != uid:
            raise NoSuchBucket(f"bucket {name!r} is not yours")
        with self.zone.client.open_ioctx(INDEX_POOL) as index:
            for shard in info.index_objects():
                if omap_first(index, shard) is not None:  # the header, key "", is not listed after ""
                    raise BucketNotEmpty(f"bucket {name!r} is not empty")
            if info.versioned and holds_versions(index, info):
                raise BucketNotEmpty(f"bucket {name!r} still holds object versions or delete markers")
            users = self.zone.meta(UID_NS)
            with rados.WriteOpCtx() as op:
                users.remove_omap_keys(op, (info.local_name,))
                try:
                    users.operate_write_op(op, info.owner + BUCKETS_SUFFIX)
                except rados.ObjectNotFound:
                    pass
            root = self.zone.meta(ROOT_NS)
            root.remove_object(name)  # first: from here on the name is free and nothing finds the rest
            root.remove_object(INSTANCE_PREFIX + f"{name}:{info.marker}")
            for shard in info.index_objects():
                try:
                    index.remove_object(shard)
                except rados.ObjectNotFound:
                    pass
            if info.versioned:
                remove_version_shards(index, info)

    def _change(self, name: str, **fields) -> BucketInfo:
        """Set fields of the bucket's instance record, under the record's lock; a callable
        value computes the field's new value from its current one."""
        record = INSTANCE_PREFIX + f"{name}:{self.get(name).marker}"
        root = self.zone.meta(ROOT_NS)
        with locked(root, record):
            raw = root.read(record, MAX_RECORD)
            if not raw:  # deleted meanwhile; our lock re-created it empty
                root.remove_object(record)
                raise NoSuchBucket(f"bucket {name!r} does not exist")
            info = BucketInfo.decode(raw)
            for key, value in fields.items():
                setattr(info, key, value(getattr(info, key)) if callable(value) else value)
            root.write_full(record, info.encode())
        return info

    def _new_marker(self) -> str:
        return f"{self.zone.params.id}.{secrets.randbelow(10**10)}.1"
