"""The object expirer (Swift's ``object-expirer``): deletes the objects whose delete-at time
has come, as the expiry queue (``expiry.py``) lists them.

Apart from the queue, which the object store fills as it writes, so that the store and the
expirer, which deletes through the store, never import each other.

Safe to run several at once, and to kill: an object is deleted only if its head is still
the write that carried the entry's delete-at time (``ObjectStore.delete``'s ``if_tag``,
checked as the head is removed), so two expirers never both delete it, and one rewritten
since (with another time, or none) stays. Entries leave the queue a batch at a time, after
their objects; a run killed midway leaves the rest for the next. Like Swift's
``processes``/``process``, several expirers may also split the queue between them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

from librgw import rados

from .buckets import BucketStore
from .errors import NoSuchBucket, NoSuchKey
from .expiry import ExpiryEntry, ExpiryQueue
from .objects import ObjectStore

DEFAULT_BATCH_SIZE = 100  # entries dropped from the queue per write

DELETED, GONE, KEPT, FAILED = "deleted", "gone", "kept", "failed"


@dataclass
class ExpirerReport:
    """What one pass did: objects deleted, entries whose object was gone already (deleted by
    its user, or by another expirer), entries whose object was rewritten since (kept), and
    entries left queued for the next pass because deleting failed."""

    due: int = 0
    deleted: int = 0
    gone: int = 0
    kept: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.deleted + self.gone + self.kept + self.failed


@dataclass(frozen=True)
class ExpirerShare:
    """Which entries this expirer takes when ``processes`` share the queue: those whose
    object's name hashes to ``process`` (0 ``processes``: all), as Swift's expirer splits."""

    processes: int = 0
    process: int = 0

    def takes(self, entry: ExpiryEntry) -> bool:
        if self.processes <= 1:
            return True
        return zlib.crc32(f"{entry.bucket}/{entry.key}".encode()) % self.processes == self.process


class ObjectExpirer:
    """Deletes what the queue says is due, if it still carries that delete-at time."""

    def __init__(self, queue: ExpiryQueue, buckets: BucketStore, heads: ObjectStore) -> None:
        self.queue = queue
        self.buckets = buckets
        self.heads = heads

    def process(
        self,
        now: float | None = None,
        share: ExpirerShare | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Callable[[ExpirerReport], None] | None = None,
    ) -> ExpirerReport:
        """Deal with the entries that are due (this expirer's ``share`` of them), ``batch_size``
        at a time, calling ``progress`` after each batch; what it did."""
        share = share or ExpirerShare()
        entries = [entry for entry in self.queue.due(now) if share.takes(entry)]
        report = ExpirerReport(due=len(entries))
        for start in range(0, len(entries), batch_size):
            done = []
            for entry in entries[start : start + batch_size]:
                try:
                    outcome = self._expire(entry)
                except rados.Error:
                    outcome = FAILED  # the cluster could not do it now: the next pass tries again
                setattr(report, outcome, getattr(report, outcome) + 1)
                if outcome != FAILED:
                    done.append(entry)
            self.queue.remove(done)
            if progress is not None:
                progress(report)
        return report

    def _expire(self, entry: ExpiryEntry) -> str:
        try:
            bucket = self.buckets.get(entry.bucket)
        except NoSuchBucket:
            return GONE
        try:
            info = self.heads.stat(bucket, entry.key, include_expired=True)
        except NoSuchKey:
            # a delete that died may have left the index entry: bring it in line with no head
            self.heads.delete(bucket, entry.key, if_tag="")
            return GONE
        if info.delete_at != entry.delete_at:
            return KEPT  # overwritten, or given another time, since
        return DELETED if self.heads.delete(bucket, entry.key, if_tag=info.tag) else GONE
