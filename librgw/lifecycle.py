"""Lifecycle rules: a bucket's LifecycleConfiguration (S3's), and the agent that applies it,
as ``radosgw-admin lc process`` does.

**Configuration.** ``LifecycleConfiguration`` is a list of rules, each with an ``id``, a
``status`` (``Enabled`` or ``Disabled``), what it applies to (a ``filter`` of ``prefix``,
``tags`` and object sizes, all of which must match; or S3's older top-level ``prefix``) and
its actions: ``expiration`` (``days`` after an object was written, a ``date``, or
``expired_object_delete_marker``), ``noncurrent_version_expiration`` (``noncurrent_days``
after a version stopped being current, keeping ``newer_noncurrent_versions`` of them) and
``abort_incomplete_multipart_upload`` (``days_after_initiation``). It is stored as JSON in
the bucket attribute ``lc`` (``to_json``; the native API's ``?lifecycle`` body) and checked
by ``from_json`` as S3 checks it: ``InvalidArgument`` for bad values, ``InvalidRequest``
for a rule with no action or a tag filter on an action that cannot have one.

**Which buckets have one.** As RGW's ``lc`` list: the omap of ``lc.<n>`` (``LC_SHARDS``
objects, by the bucket name's CRC-32) in ``default.rgw.log`` namespace ``lc``, key
``:<bucket>:<marker>``, value the bucket's last run (``started``, ``status``: ``UNINITIAL``,
``PROCESSING``, ``COMPLETE`` or ``FAILED``). ``set`` registers a bucket before writing its
configuration and ``remove`` unregisters it after removing it, so a crash between the two
leaves an entry without a configuration, which the agent drops, never a configuration
nobody applies. An entry for a bucket deleted (or deleted and made again: another marker)
is dropped too.

**Times**, as S3 computes them: an object expires ``days`` after it was written, rounded up
to the next midnight UTC, or at ``date`` (a midnight UTC); a noncurrent version
``noncurrent_days`` after the version that replaced it was written, likewise rounded; an
upload ``days_after_initiation`` after it started.

**The agent** (``process``) walks each registered bucket's index (current objects), its
versions (in a versioned bucket) and its open uploads, once per run, and acts through the
core's API only: ``ObjectStore.delete`` (the tails go to the GC queue), ``Versions.delete``
(a delete marker for an expired current version in a versioned bucket; a version removed
for good) and ``MultipartUploads.abort``. Before deleting it reads the object's head again,
so an object overwritten since the listing is judged by its new time. It is idempotent: a
second run finds nothing more to do. A run holds a rados lock on each ``lc`` shard it works
on (for ``LC_LOCK_SECONDS``); an agent finding one held skips that shard, so two agents
share the work rather than doing it twice.
"""

from __future__ import annotations

import functools
import json
import math
import os
import secrets
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from librgw import rados

from .bucket_index import BucketIndexes
from .bucket_info import BucketInfo
from .buckets import BucketStore
from .errors import InvalidArgument, InvalidRequest, NoSuchBucket, NoSuchKey, NoSuchUpload, NoSuchVersion, RGWError
from .multipart import MultipartUploads
from .object_ops import ObjectOps
from .omap_pages import omap_items
from .tagging import MAX_OBJECT_TAGS, check_tags
from .versioning import Version, Versions
from .zone import LOG_POOL, Zone

LC_ATTR = "lc"  # the bucket attribute holding the configuration (RGW's user.rgw.lc)
LC_NS = "lc"
LC_PREFIX = "lc."
LC_SHARDS = 32  # rgw_lc_max_objs
LC_LOCK = "lc_process"
LC_LOCK_SECONDS = 3600
DAY = 86400
MAX_RULES = 1000
MAX_ID_LENGTH = 255
PAGE = 1000
PARSED_CACHE = 256  # configurations kept parsed, by their text
STATUSES = ("Enabled", "Disabled")
RULE_FIELDS = {
    "id",
    "status",
    "prefix",
    "filter",
    "expiration",
    "noncurrent_version_expiration",
    "abort_incomplete_multipart_upload",
}
FILTER_FIELDS = {"prefix", "tags", "object_size_greater_than", "object_size_less_than"}


def after_days(start: float, days: int) -> float:
    """When something ``days`` after ``start`` is due: that moment rounded up to midnight UTC."""
    return math.ceil((start + days * DAY) / DAY) * DAY


def parse_date(text: str) -> float:
    """An expiration ``Date`` (ISO 8601, a midnight UTC) as seconds since the epoch."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InvalidArgument(f"invalid Date {str(text)[:40]!r}: use ISO 8601, 2030-01-01T00:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0):
        raise InvalidArgument("'Date' must be at midnight GMT")
    return moment.timestamp()


def format_date(when: float) -> str:
    """A ``Date`` as S3 writes it back: ``2030-01-01T00:00:00.000Z``."""
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _positive(doc: dict, name: str, what: str) -> int:
    value = doc.get(name)
    if type(value) is not int or value < 1:
        raise InvalidArgument(f"'{what}' must be a positive integer")
    return value


def _fields(doc: object, allowed: set[str], what: str) -> dict:
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{what} must be a JSON object")
    unknown = doc.keys() - allowed
    if unknown:
        raise InvalidArgument(f"{what} has unknown fields: {sorted(unknown)[:5]}")
    return doc


@dataclass
class RuleFilter:
    """What a rule applies to: every condition given must hold."""

    prefix: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    size_greater_than: int | None = None
    size_less_than: int | None = None

    def matches(self, key: str, size: int, tags: dict[str, str]) -> bool:
        if not key.startswith(self.prefix):
            return False
        if self.size_greater_than is not None and not size > self.size_greater_than:
            return False
        if self.size_less_than is not None and not size < self.size_less_than:
            return False
        return all(tags.get(k) == v for k, v in self.tags.items())

    @property
    def needs_more_than_prefix(self) -> bool:
        return bool(self.tags) or self.size_greater_than is not None or self.size_less_than is not None

    @classmethod
    def from_json(cls, doc: object) -> RuleFilter:
        doc = _fields(doc, FILTER_FIELDS, "a rule's filter")
        prefix = doc.get("prefix", "")
        tags = doc.get("tags", {})
        if not isinstance(prefix, str):
            raise InvalidArgument("a filter's prefix must be text")
        if not isinstance(tags, dict):
            raise InvalidArgument("a filter's tags must be a JSON object")
        check_tags(tags, MAX_OBJECT_TAGS)
        sizes = []
        for name in ("object_size_greater_than", "object_size_less_than"):
            value = doc.get(name)
            if value is not None and (type(value) is not int or value < 0):
                raise InvalidArgument(f"'{name}' must be a non-negative integer")
            sizes.append(value)
        if None not in sizes and sizes[0] >= sizes[1]:
            raise InvalidArgument("ObjectSizeGreaterThan must be less than ObjectSizeLessThan")
        return cls(prefix, dict(tags), *sizes)

    def to_json(self) -> dict:
        doc: dict = {"prefix": self.prefix} if self.prefix else {}
        if self.tags:
            doc["tags"] = dict(self.tags)
        if self.size_greater_than is not None:
            doc["object_size_greater_than"] = self.size_greater_than
        if self.size_less_than is not None:
            doc["object_size_less_than"] = self.size_less_than
        return doc


@dataclass
class LifecycleRule:
    id: str
    enabled: bool
    filter: RuleFilter
    legacy_prefix: bool = False  # given as a top-level prefix (S3's older form), not a filter
    expiration_days: int | None = None
    expiration_date: float | None = None
    expired_object_delete_marker: bool = False
    noncurrent_days: int | None = None
    newer_noncurrent_versions: int | None = None
    abort_days: int | None = None

    def expires_at(self, mtime: float) -> float | None:
        """When a current object written at ``mtime`` expires by this rule; None if never."""
        if self.expiration_days is not None:
            return after_days(mtime, self.expiration_days)
        return self.expiration_date

    @classmethod
    def from_json(cls, doc: object) -> LifecycleRule:
        doc = _fields(doc, RULE_FIELDS, "a rule")
        rule_id = doc.get("id") or secrets.token_hex(16)  # S3 names a rule given without one
        if not isinstance(rule_id, str) or len(rule_id) > MAX_ID_LENGTH:
            raise InvalidArgument(f"a rule's ID must be text of at most {MAX_ID_LENGTH} characters")
        if doc.get("status") not in STATUSES:
            raise InvalidArgument("a rule's status must be Enabled or Disabled")
        if "prefix" in doc and "filter" in doc:
            raise InvalidArgument("a rule has a prefix or a filter, not both")
        legacy = "prefix" in doc
        if legacy:
            if not isinstance(doc["prefix"], str):
                raise InvalidArgument("a rule's prefix must be text")
            rule_filter = RuleFilter(doc["prefix"])
        else:
            rule_filter = RuleFilter.from_json(doc.get("filter", {}))
        rule = cls(rule_id, doc["status"] == "Enabled", rule_filter, legacy)
        if "expiration" in doc:
            rule._expiration(_fields(doc["expiration"], {"days", "date", "expired_object_delete_marker"}, "expiration"))
        if "noncurrent_version_expiration" in doc:
            noncurrent = _fields(
                doc["noncurrent_version_expiration"],
                {"noncurrent_days", "newer_noncurrent_versions"},
                "noncurrent_version_expiration",
            )
            rule.noncurrent_days = _positive(noncurrent, "noncurrent_days", "NoncurrentDays")
            if noncurrent.get("newer_noncurrent_versions") is not None:
                rule.newer_noncurrent_versions = _positive(
                    noncurrent, "newer_noncurrent_versions", "NewerNoncurrentVersions"
                )
        if "abort_incomplete_multipart_upload" in doc:
            abort = _fields(
                doc["abort_incomplete_multipart_upload"],
                {"days_after_initiation"},
                "abort_incomplete_multipart_upload",
            )
            rule.abort_days = _positive(abort, "days_after_initiation", "DaysAfterInitiation")
            if rule.filter.needs_more_than_prefix:
                raise InvalidRequest("AbortIncompleteMultipartUpload cannot be specified with tags or object sizes")
        if not rule.has_action:
            raise InvalidRequest("At least one action needs to be specified in a rule")
        return rule

    def _expiration(self, doc: dict) -> None:
        given = [name for name in ("days", "date", "expired_object_delete_marker") if name in doc]
        if len(given) != 1:
            raise InvalidArgument("an expiration has one of days, date or expired_object_delete_marker")
        if "days" in doc:
            self.expiration_days = _positive(doc, "days", "Days")
        elif "date" in doc:
            if not isinstance(doc["date"], str):
                raise InvalidArgument("an expiration's date must be text (ISO 8601)")
            self.expiration_date = parse_date(doc["date"])
        else:
            if not isinstance(doc["expired_object_delete_marker"], bool):
                raise InvalidArgument("expired_object_delete_marker must be true or false")
            self.expired_object_delete_marker = doc["expired_object_delete_marker"]
            if self.filter.tags:
                raise InvalidRequest("ExpiredObjectDeleteMarker cannot be specified with tags")

    @property
    def expires_objects(self) -> bool:
        """Does the rule expire current objects (by days or date)?"""
        return self.expiration_days is not None or self.expiration_date is not None

    @property
    def has_action(self) -> bool:
        return (
            self.expires_objects
            or self.expired_object_delete_marker
            or self.noncurrent_days is not None
            or self.abort_days is not None
        )

    def to_json(self) -> dict:
        doc: dict = {"id": self.id, "status": "Enabled" if self.enabled else "Disabled"}
        if self.legacy_prefix:
            doc["prefix"] = self.filter.prefix
        else:
            doc["filter"] = self.filter.to_json()
        if self.expiration_days is not None:
            doc["expiration"] = {"days": self.expiration_days}
        elif self.expiration_date is not None:
            doc["expiration"] = {"date": format_date(self.expiration_date)}
        elif self.expired_object_delete_marker:
            doc["expiration"] = {"expired_object_delete_marker": True}
        if self.noncurrent_days is not None:
            noncurrent: dict = {"noncurrent_days": self.noncurrent_days}
            if self.newer_noncurrent_versions is not None:
                noncurrent["newer_noncurrent_versions"] = self.newer_noncurrent_versions
            doc["noncurrent_version_expiration"] = noncurrent
        if self.abort_days is not None:
            doc["abort_incomplete_multipart_upload"] = {"days_after_initiation": self.abort_days}
        return doc


@dataclass
class LifecycleConfiguration:
    rules: list[LifecycleRule]

    @classmethod
    def from_json(cls, doc: object) -> LifecycleConfiguration:
        """The configuration of a JSON document ``{"rules": [...]}``, checked as S3 checks one."""
        rules = _fields(doc, {"rules"}, "a lifecycle configuration").get("rules")
        if not isinstance(rules, list) or not 1 <= len(rules) <= MAX_RULES:
            raise InvalidArgument(f"a lifecycle configuration has 1 to {MAX_RULES} rules")
        parsed = [LifecycleRule.from_json(rule) for rule in rules]
        ids = [rule.id for rule in parsed]
        if len(set(ids)) != len(ids):
            raise InvalidArgument("Rule ID must be unique. Found same ID for more than one rule")
        return cls(parsed)

    def to_json(self) -> dict:
        return {"rules": [rule.to_json() for rule in self.rules]}

    def encode(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)

    @property
    def enabled(self) -> list[LifecycleRule]:
        return [rule for rule in self.rules if rule.enabled]

    def expiration(self, key: str, mtime: float, size: int, tags: dict[str, str]) -> tuple[float, str] | None:
        """(when, rule id) the current object ``key`` expires by the earliest rule that
        applies to it (S3's ``x-amz-expiration``); None if none does."""
        due = [
            (when, rule.id)
            for rule in self.enabled
            if rule.filter.matches(key, size, tags) and (when := rule.expires_at(mtime)) is not None
        ]
        return min(due) if due else None


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


def _shard_oid(bucket: str) -> str:
    return f"{LC_PREFIX}{zlib.crc32(bucket.encode()) % LC_SHARDS}"


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

    def process(self, now: float | None = None, bucket: str | None = None) -> dict:
        """Apply every registered bucket's rules (or only ``bucket``'s) as of ``now``; a report
        of what was done, bucket by bucket, with totals."""
        now = time.time() if now is None else now
        report: dict = {"now": now, "buckets": [], "skipped_shards": 0}
        shards = [_shard_oid(bucket)] if bucket is not None else [f"{LC_PREFIX}{n}" for n in range(LC_SHARDS)]
        with self._log() as log:
            for shard in shards:
                entries = [LCEntry.decode(k, v) for k, v in omap_items(log, shard)]
                entries = [e for e in entries if bucket is None or e.bucket == bucket]
                if not entries:
                    continue
                cookie = uuid.uuid4().hex
                try:
                    log.lock_exclusive(shard, LC_LOCK, cookie, duration=LC_LOCK_SECONDS)
                except rados.ObjectBusy:
                    report["skipped_shards"] += 1  # another agent is on it
                    continue
                try:
                    for entry in entries:
                        report["buckets"].append(self._process_entry(entry, now))
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
