"""Lifecycle rules: a bucket's LifecycleConfiguration (S3's), checked, encoded and evaluated.

Pure: no I/O. Where a bucket's rules are kept, the ``lc`` list of buckets having some and
the agent applying them are ``lifecycle.py``'s.

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

**Times**, as S3 computes them: an object expires ``days`` after it was written, rounded up
to the next midnight UTC, or at ``date`` (a midnight UTC); a noncurrent version
``noncurrent_days`` after the version that replaced it was written, likewise rounded; an
upload ``days_after_initiation`` after it started.
"""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .errors import InvalidArgument, InvalidRequest
from .tagging import MAX_OBJECT_TAGS, check_tags

DAY = 86400
MAX_RULES = 1000
MAX_ID_LENGTH = 255
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
