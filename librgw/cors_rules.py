"""A bucket's CORS rules (S3's CORSConfiguration): their JSON form, their checks, and which
rule lets a cross-origin request in.

Stored as JSON in the bucket attribute ``cors`` (RGW's ``user.rgw.cors``) by the native
``?cors`` sub-resource (``middleware/swift/cors.py``); read by the ``s3`` middleware to answer
preflight requests and to add ``Access-Control-*`` headers to actual ones (``middleware/s3/cors.py``).
A rule, in JSON::

    {"id": "web", "allowed_origins": ["https://*.example.com"], "allowed_methods": ["GET", "PUT"],
     "allowed_headers": ["*"], "expose_headers": ["ETag"], "max_age_seconds": 3000}

S3's checks: 1 to ``MAX_RULES`` rules, each with at least one origin and one method; methods
are ``GET``, ``PUT``, ``HEAD``, ``POST`` and ``DELETE`` (as written: ``get`` is refused);
an origin or allowed header holds at most one ``*`` wildcard. A refusal is ``CORSConfigError``
with S3's code (``InvalidRequest`` for those, ``InvalidArgument`` for a document of the
wrong shape).

Matching, as S3 does it: the first rule whose origins match the request's ``Origin``
(``*`` standing for any run of characters; case matters), whose methods include the
method asked for, and whose allowed headers match every header asked for (case does not
matter) applies.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field

CORS_ATTR = "cors"
MAX_RULES = 100
MAX_ID_LENGTH = 255
METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
PARSED_CACHE = 256  # configurations kept parsed, by their text
RULE_FIELDS = {"id", "allowed_origins", "allowed_methods", "allowed_headers", "expose_headers", "max_age_seconds"}


class CORSConfigError(ValueError):
    """A CORS configuration S3 would refuse; ``code`` is S3's error code for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def wildcard_match(pattern: str, text: str) -> bool:
    """Does ``text`` match ``pattern``, whose one ``*`` (if any) stands for any characters?"""
    if "*" not in pattern:
        return pattern == text
    head, _, tail = pattern.partition("*")
    return len(text) >= len(head) + len(tail) and text.startswith(head) and text.endswith(tail)


@dataclass
class CORSRule:
    allowed_origins: list[str]
    allowed_methods: list[str]
    allowed_headers: list[str] = field(default_factory=list)
    expose_headers: list[str] = field(default_factory=list)
    max_age_seconds: int | None = None
    id: str = ""

    def origin_pattern(self, origin: str) -> str | None:
        """The first of the rule's origins that ``origin`` matches, or None."""
        return next((p for p in self.allowed_origins if wildcard_match(p, origin)), None)

    def allows_headers(self, headers: list[str]) -> bool:
        allowed = [h.lower() for h in self.allowed_headers]
        return all(any(wildcard_match(p, h.lower()) for p in allowed) for h in headers)

    def allows(self, origin: str, method: str, headers: list[str]) -> bool:
        return (
            self.origin_pattern(origin) is not None and method in self.allowed_methods and self.allows_headers(headers)
        )

    @classmethod
    def from_json(cls, doc: object) -> CORSRule:
        if not isinstance(doc, dict) or doc.keys() - RULE_FIELDS:
            raise CORSConfigError(
                "InvalidArgument", f"a CORS rule is a JSON object with the fields {sorted(RULE_FIELDS)}"
            )
        lists = {}
        for name in ("allowed_origins", "allowed_methods", "allowed_headers", "expose_headers"):
            value = doc.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise CORSConfigError("InvalidArgument", f"a CORS rule's {name} must be a list of text")
            lists[name] = value
        if not lists["allowed_origins"] or not lists["allowed_methods"]:
            raise CORSConfigError("InvalidArgument", "a CORS rule needs an allowed origin and an allowed method")
        for method in lists["allowed_methods"]:
            if method not in METHODS:
                raise CORSConfigError(
                    "InvalidRequest", f"Found unsupported HTTP method in CORS config. Unsupported method is {method}"
                )
        for kind, values in (("AllowedOrigin", lists["allowed_origins"]), ("AllowedHeader", lists["allowed_headers"])):
            for value in values:
                if value.count("*") > 1:
                    raise CORSConfigError("InvalidRequest", f'{kind} "{value}" can not have more than one wildcard.')
        max_age = doc.get("max_age_seconds")
        if max_age is not None and (type(max_age) is not int or max_age < 0):
            raise CORSConfigError("InvalidArgument", "MaxAgeSeconds must be a non-negative integer")
        rule_id = doc.get("id", "")
        if not isinstance(rule_id, str) or len(rule_id) > MAX_ID_LENGTH:
            raise CORSConfigError("InvalidArgument", f"a CORS rule's ID is text of at most {MAX_ID_LENGTH} characters")
        return cls(**lists, max_age_seconds=max_age, id=rule_id)

    def to_json(self) -> dict:
        doc = {name: value for name, value in asdict(self).items() if value not in (None, "", [])}
        return doc


def rules_from_json(doc: object) -> list[CORSRule]:
    """The rules of a configuration's JSON form (a list of rules); ``CORSConfigError`` if S3 would refuse it."""
    if not isinstance(doc, list) or not 1 <= len(doc) <= MAX_RULES:
        raise CORSConfigError("InvalidArgument", f"a CORS configuration is a list of 1 to {MAX_RULES} rules")
    return [CORSRule.from_json(rule) for rule in doc]


def encode_rules(rules: list[CORSRule]) -> str:
    return json.dumps([rule.to_json() for rule in rules], sort_keys=True)


def rules_of(attrs: dict[str, str]) -> list[CORSRule] | None:
    """The rules kept in a bucket's attributes; None if it has no CORS configuration. The
    same rules are not parsed twice (every cross-origin request asks): treat them as read-only."""
    raw = attrs.get(CORS_ATTR)
    return list(_parsed(raw)) if raw else None


@functools.lru_cache(maxsize=PARSED_CACHE)
def _parsed(raw: str) -> tuple[CORSRule, ...]:
    return tuple(CORSRule.from_json(rule) for rule in json.loads(raw))


def matching_rule(rules: list[CORSRule], origin: str, method: str, headers: list[str]) -> CORSRule | None:
    """The rule that lets a request from ``origin`` use ``method`` with ``headers``, or None."""
    return next((rule for rule in rules if rule.allows(origin, method, headers)), None)


def requested_headers(value: str) -> list[str]:
    """The header names of an ``Access-Control-Request-Headers`` value."""
    return [name.strip() for name in value.split(",") if name.strip()]


def allow_headers(rule: CORSRule, origin: str) -> list[tuple[str, str]]:
    """The ``Access-Control-*`` headers that say ``rule`` lets ``origin`` in (S3's, for an
    actual request and a preflight alike)."""
    wildcard = rule.origin_pattern(origin) == "*"
    headers = [
        ("Access-Control-Allow-Origin", "*" if wildcard else origin),
        ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods)),
    ]
    if not wildcard:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if rule.expose_headers:
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule.expose_headers)))
    if rule.max_age_seconds is not None:
        headers.append(("Access-Control-Max-Age", str(rule.max_age_seconds)))
    return headers
