"""The object expirer (Swift's ``object-expirer``): deletes the objects whose delete-at time
has come, as the expiry queue (``expiry.py``) lists them.

Apart from the queue, which the object store fills as it writes, so that the store and the
expirer, which deletes through the store, never import each other.
"""

from __future__ import annotations

from .buckets import BucketStore
from .errors import NoSuchBucket, NoSuchKey
from .expiry import ExpiryEntry, ExpiryQueue
from .objects import ObjectStore


class ObjectExpirer:
    """Deletes what the queue says is due, if it still carries that delete-at time."""

    def __init__(self, queue: ExpiryQueue, buckets: BucketStore, heads: ObjectStore) -> None:
        self.queue = queue
        self.buckets = buckets
        self.heads = heads

    def process(self, now: float | None = None) -> int:
        """Delete the objects that are due and still carry that delete-at time; returns how many."""
        return self.queue.drain(self._expire, now)

    def _expire(self, entry: ExpiryEntry) -> bool:
        try:
            bucket = self.buckets.get(entry.bucket)
            info = self.heads.stat(bucket, entry.key, include_expired=True)
        except (NoSuchBucket, NoSuchKey):
            return False
        if info.delete_at != entry.delete_at:
            return False  # overwritten, or given another time, since
        self.heads.delete(bucket, entry.key)
        return True
