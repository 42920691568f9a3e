"""The user and bucket quotas ``librgw admin quota set`` stores, enforced on every write (RGW's
``check_quota``), by ``ObjectOps`` before it writes.

A write is refused with ``QuotaExceeded`` if the object it adds (one more object, its size more
bytes) would take past its limits:

- the bucket's quota (``BucketInfo.quota``) if enabled, else the owner's default bucket quota
  (``UserInfo.bucket_quota``) if enabled, against the bucket's index stats;
- the owner's user quota (``UserInfo.user_quota``) if enabled, against the stats of every
  bucket it owns, summed.

As in RGW, an overwrite counts in full (the stats are not reduced by what it replaces). A
write whose size is known (bytes, a copy's source, a multipart upload's parts) is checked
before anything is written; one streamed from a file object of unknown size is given
through ``AllowanceReader``, which raises ``QuotaExceeded`` from the read that crosses the
limit, so the write fails as for a client gone away and stores nothing.

Reading the owner's record costs one read per write (two more per bucket for a user quota's
stats); RGW caches them, which this leaves for later.
"""

from __future__ import annotations

from typing import BinaryIO

from .bucket_index import BucketIndexes
from .bucket_info import BucketInfo
from .buckets import BucketStore
from .errors import NoSuchBucket, NoSuchUser, QuotaExceeded
from .tenants import bucket_entry, tenant_of
from .users import Quota, UserStore


class AllowanceReader:
    """A file object that gives at most ``allowance`` bytes of ``stream``, then raises ``QuotaExceeded``."""

    def __init__(self, stream: BinaryIO, allowance: int, message: str) -> None:
        self._stream = stream
        self._left = allowance
        self._message = message

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._left -= len(data)
        if self._left < 0:
            raise QuotaExceeded(self._message)
        return data


class QuotaCheck:
    """Whether a write into a bucket stays within its bucket's and its owner's quotas."""

    def __init__(self, users: UserStore, buckets: BucketStore, indexes: BucketIndexes) -> None:
        self.users = users
        self.buckets = buckets
        self.indexes = indexes

    def allowance(self, bucket: BucketInfo) -> int | None:
        """The bytes one more object may add to ``bucket`` (None: no limit); raises ``QuotaExceeded``
        if no object may be added at all."""
        try:
            owner = self.users.get(bucket.owner)
        except NoSuchUser:
            owner = None
        limits: list[tuple[Quota, tuple[int, int], str]] = []
        bucket_quota = bucket.quota if bucket.quota.enabled else owner.bucket_quota if owner else None
        if bucket_quota is not None and bucket_quota.enabled:
            limits.append((bucket_quota, self.indexes.open(bucket).stats(), f"bucket {bucket.name}"))
        if owner is not None and owner.user_quota.enabled:
            limits.append((owner.user_quota, self._user_stats(owner.user_id), f"user {owner.user_id}"))
        allowance = None
        for quota, (objects, size), whose in limits:
            if quota.max_objects >= 0 and objects + 1 > quota.max_objects:
                raise QuotaExceeded(f"the {whose} quota allows {quota.max_objects} objects")
            if quota.max_size >= 0:
                left = quota.max_size - size
                if left < 0:
                    raise QuotaExceeded(f"the {whose} quota allows {quota.max_size} bytes")
                allowance = left if allowance is None else min(allowance, left)
        return allowance

    def check(self, bucket: BucketInfo, size: int) -> None:
        """Raise ``QuotaExceeded`` unless an object of ``size`` bytes may be added to ``bucket``."""
        allowance = self.allowance(bucket)
        if allowance is not None and size > allowance:
            raise QuotaExceeded(f"{size} more bytes exceed the quota of {bucket.name} or of its owner")

    def limit(self, bucket: BucketInfo, data: bytes | BinaryIO) -> bytes | BinaryIO:
        """``data`` to write into ``bucket``: checked now if bytes, else cut off past the quota."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            self.check(bucket, len(data))
            return data
        allowance = self.allowance(bucket)
        if allowance is None:
            return data
        return AllowanceReader(data, allowance, f"the upload exceeds the quota of {bucket.name} or of its owner")

    def _user_stats(self, uid: str) -> tuple[int, int]:
        """(objects, bytes) of every bucket ``uid`` owns."""
        objects = size = 0
        for name in self.buckets.list(uid):
            try:
                info = self.buckets.get(bucket_entry(tenant_of(uid), name))
            except NoSuchBucket:  # deleted since it was listed
                continue
            count, used = self.indexes.open(info).stats()
            objects, size = objects + count, size + used
        return objects, size
