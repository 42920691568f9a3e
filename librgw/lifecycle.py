"""Buckets' lifecycle rules (``lifecycle_rules.py``) where they are kept, the ``lc`` list of
buckets having some, and the agent applying them, as ``radosgw-admin lc process`` does.

**A bucket's rules** are its attribute ``lc`` (``LC_ATTR``, RGW's ``user.rgw.lc``), written by
``set`` and ``remove``; ``configuration_of`` reads them from a bucket record, parsing the
same text once per worker.

**Which buckets have one.** As RGW's ``lc`` list: the omap of ``lc.<n>`` (``LC_SHARDS``
objects, by the bucket name's CRC-32) in ``default.rgw.log`` namespace ``lc``, key
``:<bucket>:<marker>``, value the bucket's last run (``started``, ``status``: ``UNINITIAL``,
``PROCESSING``, ``COMPLETE`` or ``FAILED``). ``set`` registers a bucket before writing its
configuration and ``remove`` unregisters it after removing it, so a crash between the two
leaves an entry without a configuration, which the agent drops, never a configuration
nobody applies. An entry for a bucket deleted (or deleted and made again: another marker)
is dropped too.

**The agent** (``process``) walks each registered bucket's index (current objects), its
versions (in a versioned bucket) and its open uploads, once per run, and acts through the
core's API only: ``ObjectStore.delete`` (the tails go to the GC queue), ``Versions.delete``
(a delete marker for an expired current version in a versioned bucket; a version removed
for good) and ``MultipartUploads.abort``. Before deleting it reads the object's head again,
so an object overwritten since the listing is judged by its new time. It is idempotent: a
second run finds nothing more to do. A run holds a rados lock on each ``lc`` shard it works
on (for ``LC_LOCK_SECONDS``); an agent finding one held skips that shard, so two agents
share the work rather than doing it twice. The expirer (``expirer.py``, ``librgw expirer``)
runs it after each pass over the expiry queue, on its share of the shards, once per period.
"""

from __future__ import annotations

import functools
import json
import os
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from librgw import rados

from .bucket_index import BucketIndexes
from .bucket_info import BucketInfo
from .buckets import BucketStore
from .errors import NoSuchBucket, NoSuchKey, NoSuchUpload, NoSuchVersion, RGWError
from .lifecycle_rules import LifecycleConfiguration, LifecycleRule, after_days
from .multipart import MultipartUploads
from .object_ops import ObjectOps
from .omap_pages import omap_items
from .versioning import Version, Versions
from .zone import LOG_POOL, Zone

LC_ATTR = "lc"  # the bucket attribute holding the configuration (RGW's user.rgw.lc)
LC_NS = "lc"
LC_PREFIX = "lc."
LC_SHARDS = 32  # rgw_lc_max_objs
LC_LOCK = "lc_process"
LC_LOCK_SECONDS = 3600
PAGE = 1000
PARSED_CACHE = 256  # configurations kept parsed, by their text


def configuration_of(bucket: BucketInfo) -> LifecycleConfiguration | None:
    """The bucket's lifecycle configuration, from its attributes (no I/O); None without one.
    The same configuration is not parsed twice (a GET asks, for ``x-amz-expiration``): treat
    what this returns as read-only."""
    raw = bucket.attrs.get(LC_ATTR)
    return _parsed(raw) if raw else None


@functools.lru_cache(maxsize=PARSED_CACHE)
def _parsed(raw: str) -> LifecycleConfiguration:
    return LifecycleConfiguration.from_json(json.loads(raw))


@dataclass
class LCEntry:
    """A bucket in the ``lc`` list, and its last run, as ``radosgw-admin lc list`` shows it."""

    bucket: str
    marker: str
    started: float = 0.0
    status: str = "UNINITIAL"
    last_result: dict = field(default_factory=dict)

    @property
    def omap_key(self) -> str:
        return f":{self.bucket}:{self.marker}"

    def encode(self) -> bytes:
        return json.dumps({"started": self.started, "status": self.status, "last_result": self.last_result}).encode()

    @classmethod
    def decode(cls, omap_key: str, raw: bytes) -> LCEntry:
        head, _, marker = omap_key.rpartition(":")  # a container name may hold ':', a marker never does
        bucket = head[1:]
        doc = json.loads(raw) if raw else {}
        return cls(bucket, marker, doc.get("started", 0.0), doc.get("status", "UNINITIAL"), doc.get("last_result", {}))

    def to_json(self) -> dict:
        started = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(self.started))
        return {"bucket": self.omap_key, "started": started, "status": self.status, "last_result": self.last_result}


def _shard_number(bucket: str) -> int:
    return zlib.crc32(bucket.encode()) % LC_SHARDS


def _shard_oid(bucket: str) -> str:
    return f"{LC_PREFIX}{_shard_number(bucket)}"


@dataclass
class RunCounts:
    """What one run did to one bucket."""

    expired: int = 0  # current objects deleted, or (in a versioned bucket) hidden by a delete marker
    noncurrent_expired: int = 0  # noncurrent versions (and noncurrent delete markers) removed
    delete_markers_removed: int = 0  # expired object delete markers: the only version left of a key
    aborted_uploads: int = 0


class Lifecycle:
    """Buckets' lifecycle configurations, and the agent applying them."""

    def __init__(
        self,
        zone: Zone,
        buckets: BucketStore,
        indexes: BucketIndexes,
        ops: ObjectOps,
        versions: Versions,
        multipart: MultipartUploads,
    ) -> None:
        self.zone = zone
        self.buckets = buckets
        self.indexes = indexes
        self.ops = ops
        self.versions = versions
        self.multipart = multipart

    def _log(self) -> rados.Ioctx:
        ioctx = self.zone.client.open_ioctx(LOG_POOL)
        ioctx.set_namespace(LC_NS)
        return ioctx

    # -- configuration ----------------------------------------------------------------

    def get(self, bucket: str) -> LifecycleConfiguration | None:
        return configuration_of(self.buckets.get(bucket))

    def set(self, bucket: str, config: LifecycleConfiguration) -> BucketInfo:
        """Give the bucket ``config`` (replacing any it had) and register it for the agent."""
        self._register(LCEntry(bucket, self.buckets.get(bucket).marker))
        return self.buckets.update_attrs(bucket, {LC_ATTR: config.encode()})

    def remove(self, bucket: str) -> BucketInfo:
        info = self.buckets.update_attrs(bucket, {LC_ATTR: None})
        self._unregister(LCEntry(bucket, info.marker))
        return info

    def list(self) -> list[LCEntry]:
        """Every registered bucket, by name."""
        entries = []
        with self._log() as log:
            for n in range(LC_SHARDS):
                entries += [LCEntry.decode(k, v) for k, v in omap_items(log, f"{LC_PREFIX}{n}")]
        return sorted(entries, key=lambda e: (e.bucket, e.marker))

    def _register(self, entry: LCEntry) -> None:
        with self._log() as log, rados.WriteOpCtx() as op:
            log.set_omap(op, (entry.omap_key,), (entry.encode(),))
            log.operate_write_op(op, _shard_oid(entry.bucket))

    def _unregister(self, entry: LCEntry) -> None:
        with self._log() as log, rados.WriteOpCtx() as op:
            log.remove_omap_keys(op, (entry.omap_key,))
            try:
                log.operate_write_op(op, _shard_oid(entry.bucket))
            except rados.ObjectNotFound:
                pass

    # -- the agent --------------------------------------------------------------------

    def pending(
        self, bucket: str | None = None, shards: Callable[[int], bool] | None = None, period: float = 0.0
    ) -> dict[str, list[LCEntry]]:
        """The registered buckets a run works on (or only ``bucket``), by ``lc`` shard: those on
        the shards ``shards`` takes (by number; None: all), but for any whose last run
        completed less than ``period`` seconds ago."""
        numbers = [_shard_number(bucket)] if bucket is not None else range(LC_SHARDS)
        wall = time.time()
        found = {}
        with self._log() as log:
            for number in numbers:
                if shards is not None and not shards(number):
                    continue
                shard = f"{LC_PREFIX}{number}"
                entries = [LCEntry.decode(k, v) for k, v in omap_items(log, shard)]
                entries = [
                    e
                    for e in entries
                    if (bucket is None or e.bucket == bucket)
                    and not (e.status == "COMPLETE" and wall - e.started < period)
                ]
                if entries:
                    found[shard] = entries
        return found

    def process(
        self,
        now: float | None = None,
        bucket: str | None = None,
        shards: Callable[[int], bool] | None = None,
        period: float = 0.0,
        progress: Callable[[dict], None] | None = None,
    ) -> dict:
        """Apply the rules of the buckets ``pending`` gives (every registered one, by default)
        as of ``now``, calling ``progress`` with each bucket's result; a report of what was
        done, bucket by bucket, with totals."""
        now = time.time() if now is None else now
        report: dict = {"now": now, "buckets": [], "skipped_shards": 0}
        with self._log() as log:
            for shard, entries in self.pending(bucket, shards, period).items():
                cookie = uuid.uuid4().hex
                try:
                    log.lock_exclusive(shard, LC_LOCK, cookie, duration=LC_LOCK_SECONDS)
                except rados.ObjectBusy:
                    report["skipped_shards"] += 1  # another agent is on it
                    continue
                try:
                    for entry in entries:
                        result = self._process_entry(entry, now)
                        report["buckets"].append(result)
                        if progress is not None:
                            progress(result)
                finally:
                    try:
                        log.unlock(shard, LC_LOCK, cookie)
                    except rados.ObjectNotFound:
                        pass  # held past LC_LOCK_SECONDS: the lock has lapsed
        for name in RunCounts.__dataclass_fields__:
            report[name] = sum(b.get(name, 0) for b in report["buckets"])
        return report

    def _process_entry(self, entry: LCEntry, now: float) -> dict:
        try:
            info = self.buckets.get(entry.bucket)
        except NoSuchBucket:
            info = None
        config = configuration_of(info) if info is not None and info.marker == entry.marker else None
        if config is None:
            self._unregister(entry)
            return {"bucket": entry.bucket, "status": "REMOVED", "reason": "the bucket or its configuration is gone"}
        entry.started, entry.status = time.time(), "PROCESSING"
        self._register(entry)
        counts = RunCounts()
        try:
            _BucketRun(self, info, config.enabled, now, counts).run()
        except (RGWError, rados.Error) as error:
            entry.status, entry.last_result = "FAILED", {"error": str(error), **vars(counts)}
            self._register(entry)
            return {"bucket": entry.bucket, "status": "FAILED", "error": str(error), **vars(counts)}
        entry.status, entry.last_result = "COMPLETE", vars(counts)
        self._register(entry)
        return {"bucket": entry.bucket, "status": "COMPLETE", **vars(counts)}


class _BucketRun:
    """One pass of the agent over one bucket."""

    def __init__(self, lc: Lifecycle, bucket: BucketInfo, rules: list[LifecycleRule], now: float, counts: RunCounts):
        self.lc = lc
        self.bucket = bucket
        self.rules = rules
        self.now = now
        self.counts = counts
        self.versioned = bucket.versioning != "off"

    def run(self) -> None:
        expiring = [r for r in self.rules if r.expires_objects]
        if expiring:
            self._expire_current(expiring)
        if self.versioned and any(r.noncurrent_days or r.expired_object_delete_marker for r in self.rules):
            self._expire_versions()
        aborting = [r for r in self.rules if r.abort_days is not None]
        if aborting:
            self._abort_uploads(aborting)

    def _expire_current(self, rules: list[LifecycleRule]) -> None:
        prefix = os.path.commonprefix([r.filter.prefix for r in rules])
        marker = ""
        with self.lc.indexes.open(self.bucket) as index:
            while True:
                page = index.list(prefix, "", marker, PAGE)
                for entry in page.entries:
                    candidates = [r for r in rules if entry.key.startswith(r.filter.prefix)]
                    if any(r.expires_at(entry.mtime) <= self.now for r in candidates):  # by the listing
                        self._expire_if_due(entry.key, candidates)
                if not page.is_truncated:
                    return
                marker = page.next_marker

    def _expire_if_due(self, key: str, rules: list[LifecycleRule]) -> None:
        """Judge the object by its head (its time, size and tags now), and expire it if due."""
        try:
            info = self.lc.ops.stat(self.bucket, key)
        except NoSuchKey:  # gone, or its current version is a delete marker
            return
        due = any(r.filter.matches(key, info.size, info.tags) and r.expires_at(info.mtime) <= self.now for r in rules)
        if not due:
            return
        self.lc.ops.delete(self.bucket, key)  # versioned: a delete marker; the version stays, noncurrent
        self.counts.expired += 1

    def _expire_versions(self) -> None:
        noncurrent_rules = [r for r in self.rules if r.noncurrent_days is not None]
        marker_rules = [r for r in self.rules if r.expired_object_delete_marker]
        prefixes = [r.filter.prefix for r in noncurrent_rules + marker_rules]
        page = self.lc.versions.list(self.bucket, os.path.commonprefix(prefixes), max_keys=2**62)
        by_key: dict[str, list[Version]] = {}
        for version in page.versions:
            by_key.setdefault(version.key, []).append(version)
        for key, versions in by_key.items():
            left = self._expire_noncurrent(key, versions, noncurrent_rules)
            if len(left) == 1 and left[0].delete_marker and any(r.filter.matches(key, 0, {}) for r in marker_rules):
                if self._remove_version(key, left[0].version_id):
                    self.counts.delete_markers_removed += 1

    def _expire_noncurrent(self, key: str, versions: list[Version], rules: list[LifecycleRule]) -> list[Version]:
        """Remove the key's noncurrent versions that are due; the versions left, newest first."""
        left = versions[:1]
        for n, version in enumerate(versions[1:], 1):  # n: how many noncurrent versions are newer, plus one
            since = versions[n - 1].mtime  # it stopped being current when the next newer one came
            tags = self._version_tags(key, version) if any(r.filter.tags for r in rules) else {}
            due = any(
                r.filter.matches(key, version.size, tags)
                and after_days(since, r.noncurrent_days) <= self.now
                and (r.newer_noncurrent_versions is None or n > r.newer_noncurrent_versions)
                for r in rules
            )
            if due and self._remove_version(key, version.version_id):
                self.counts.noncurrent_expired += 1
            else:
                left.append(version)
        return left

    def _version_tags(self, key: str, version: Version) -> dict[str, str]:
        if version.delete_marker:
            return {}
        try:
            return self.lc.ops.stat(self.bucket, key, version.version_id).tags
        except (NoSuchKey, NoSuchVersion):  # removed meanwhile
            return {}

    def _remove_version(self, key: str, version_id: str) -> bool:
        try:
            self.lc.ops.delete(self.bucket, key, version_id)
        except NoSuchVersion:
            return False  # removed meanwhile
        return True

    def _abort_uploads(self, rules: list[LifecycleRule]) -> None:
        prefix = os.path.commonprefix([r.filter.prefix for r in rules])
        for upload in self.lc.multipart.list_uploads(self.bucket, prefix):
            due = any(
                upload.key.startswith(r.filter.prefix) and after_days(upload.initiated, r.abort_days) <= self.now
                for r in rules
            )
            if not due:
                continue
            try:
                self.lc.multipart.abort(self.bucket, upload.key, upload.upload_id)
            except NoSuchUpload:
                continue  # completed or aborted meanwhile
            self.counts.aborted_uploads += 1
