"""The object expirer (Swift's ``object-expirer``): deletes the objects whose delete-at time
has come, as the expiry queue (``expiry.py``) lists them, then applies the buckets' S3
lifecycle rules (``lifecycle.py``: expiration of current objects by days or date, of
noncurrent versions and of expired delete markers, and aborting stale uploads), so one agent
does both.

In a versioned bucket (versioning enabled or suspended) an object's time coming hides it
behind a delete marker, as S3's expiration of a current version does, rather than removing
the version as RGW's expirer does: the object answered 404 from that time on, and still does
once reaped, where removing the version would bring an older one back. The version stays,
noncurrent, for a ``NoncurrentVersionExpiration`` rule or a ``DELETE ?version-id`` to remove.
It is hidden only if it is still the key's current version and carries the entry's time
(``Versions.expire_current``, under the key's lock), so a version written since stays current.

Apart from the queue, which the object store fills as it writes, so that the store and the
expirer, which deletes through the store, never import each other.

Safe to run several at once, and to kill: an object is deleted only if its head is still
the write that carried the entry's delete-at time (``ObjectStore.delete``'s ``if_tag``,
checked as the head is removed), so two expirers never both delete it, and one rewritten
since (with another time, or none) stays. Entries leave the queue a batch at a time, after
their objects; a run killed midway leaves the rest for the next. Like Swift's
``processes``/``process``, several expirers may also split the queue between them, and the
lifecycle's ``lc`` shards: each takes the shards whose number is its ``process`` modulo
``processes``, and holds each one's lock while on it (as ``radosgw-admin lc process``
does), so an agent run by hand meanwhile skips it. A bucket's rules are applied once per
``lifecycle_period`` (they are day-granular: S3 rounds every expiry to a midnight UTC), not
at every pass of the queue; a bucket whose rules were set since its last run goes at once.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from librgw import rados

from .buckets import BucketStore
from .errors import NoSuchBucket, NoSuchKey
from .expiry import ExpiryEntry, ExpiryQueue
from .lifecycle import Lifecycle, RunCounts
from .objects import ObjectStore
from .versioning import Versions

DEFAULT_BATCH_SIZE = 100  # entries dropped from the queue per write
DEFAULT_LIFECYCLE_PERIOD = 3600.0  # seconds between two lifecycle runs over one bucket

DELETED, GONE, KEPT, FAILED = "deleted", "gone", "kept", "failed"


@dataclass
class ExpirerReport:
    """What one pass did: objects deleted, entries whose object was gone already (deleted by
    its user, or by another expirer), entries whose object was rewritten since (kept), and
    entries left queued for the next pass because deleting failed; then the buckets whose
    lifecycle rules it applied (those failing are tried again next pass) and what they did."""

    due: int = 0
    deleted: int = 0
    gone: int = 0
    kept: int = 0
    failed: int = 0
    buckets_due: int = 0
    buckets_done: int = 0
    buckets_failed: int = 0
    lifecycle: RunCounts = field(default_factory=RunCounts)

    @property
    def done(self) -> int:
        return self.deleted + self.gone + self.kept + self.failed

    def add_bucket(self, result: dict) -> None:
        """Count one bucket's lifecycle run, as ``Lifecycle.process`` reports it."""
        self.buckets_done += 1
        self.buckets_failed += result["status"] == "FAILED"
        for name in (f.name for f in fields(RunCounts)):
            setattr(self.lifecycle, name, getattr(self.lifecycle, name) + result.get(name, 0))


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

    def takes_shard(self, number: int) -> bool:
        """Does this expirer take lifecycle shard ``number`` (``lc.<number>``)?"""
        return self.processes <= 1 or number % self.processes == self.process


class ObjectExpirer:
    """Deletes what the queue says is due, if it still carries that delete-at time, and
    applies the lifecycle rules."""

    def __init__(
        self, queue: ExpiryQueue, buckets: BucketStore, heads: ObjectStore, versions: Versions, lifecycle: Lifecycle
    ) -> None:
        self.queue = queue
        self.buckets = buckets
        self.heads = heads
        self.versions = versions
        self.lifecycle = lifecycle

    def process(
        self,
        now: float | None = None,
        share: ExpirerShare | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Callable[[ExpirerReport], None] | None = None,
        lifecycle_period: float = DEFAULT_LIFECYCLE_PERIOD,
    ) -> ExpirerReport:
        """Deal with the entries that are due (this expirer's ``share`` of them), ``batch_size``
        at a time, calling ``progress`` after each batch, then with the buckets whose lifecycle
        rules were not applied for ``lifecycle_period`` seconds (on this expirer's share of the
        ``lc`` shards), calling ``progress`` after each bucket; what it did."""
        share = share or ExpirerShare()
        entries = [entry for entry in self.queue.due(now) if share.takes(entry)]
        pending = self.lifecycle.pending(shards=share.takes_shard, period=lifecycle_period)
        report = ExpirerReport(
            due=len(entries), buckets_due=sum(len(bucket_entries) for bucket_entries in pending.values())
        )
        self._expire_queued(entries, report, batch_size, progress)

        def bucket_done(result: dict) -> None:
            report.add_bucket(result)
            if progress is not None:
                progress(report)

        self.lifecycle.process(now, shards=share.takes_shard, period=lifecycle_period, progress=bucket_done)
        return report

    def _expire_queued(
        self,
        entries: list[ExpiryEntry],
        report: ExpirerReport,
        batch_size: int,
        progress: Callable[[ExpirerReport], None] | None,
    ) -> None:
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

    def _expire(self, entry: ExpiryEntry) -> str:
        try:
            bucket = self.buckets.get(entry.bucket)
        except NoSuchBucket:
            return GONE
        if bucket.versioned:
            hidden = self.versions.expire_current(bucket, entry.key, entry.delete_at)
            return GONE if hidden is None else DELETED if hidden else KEPT
        try:
            info = self.heads.stat(bucket, entry.key, include_expired=True)
        except NoSuchKey:
            # a delete that died may have left the index entry: bring it in line with no head
            self.heads.delete(bucket, entry.key, if_tag="")
            return GONE
        if info.delete_at != entry.delete_at:
            return KEPT  # overwritten, or given another time, since
        return DELETED if self.heads.delete(bucket, entry.key, if_tag=info.tag) else GONE
