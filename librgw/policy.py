"""Bucket policies: S3's JSON access policies on a bucket, checked when set and evaluated by
``authorization.py``.

A policy is checked as S3 checks it, before it is stored (``parse_policy``):
``MalformedPolicy`` for anything that is not a policy document of this bucket, and
``UnsupportedPolicy`` (S3's ``NotImplemented``) for the parts of the language not served::

    {"Version": "2012-10-17",
     "Statement": [{"Sid": "ReadForBob", "Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam:::user/bob"]},
                    "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::photos/*"}]}

- ``Version``: ``2012-10-17`` or ``2008-10-17`` (or none); ``Id`` and ``Sid``: text, each
  ``Sid`` once. ``Statement``: one statement or a non-empty list of them.
- ``Effect``: ``Allow`` or ``Deny``.
- ``Principal``: ``"*"`` (anyone, even anonymous) or ``{"AWS": <one or a list>}`` of ``"*"``,
  a user id, ``arn:aws:iam:::user/<uid>`` or ``arn:aws:iam::<uid>:root``; or
  ``{"CanonicalUser": <user ids>}``. ``policy_users`` lists the users named, which the
  gateway checks exist (S3's "Invalid principal in policy").
- ``Action``: ``s3:<Name>`` or ``*``, case-insensitive, with ``*`` and ``?`` wildcards; each
  must match an S3 action (``OBJECT_ACTIONS``, ``BUCKET_ACTIONS``) and apply to at least one
  of the statement's resources (S3's "Action does not apply to any resource(s) in statement").
- ``Resource``: ``arn:aws:s3:::<bucket>`` (the bucket) or ``arn:aws:s3:::<bucket>/<key
  pattern>`` (its objects), case-sensitive, with wildcards; none may name another bucket.
- ``Condition``: the operators ``IpAddress`` and ``NotIpAddress`` with ``aws:SourceIp``
  (CIDR blocks; the address is the connection's, so behind a proxy the proxy's), and
  ``Bool`` with ``aws:SecureTransport`` (was the request made over https?). Other
  operators and keys, and ``NotPrincipal``, ``NotAction`` and ``NotResource``, are
  refused with ``UnsupportedPolicy``, never ignored.

``Policy.evaluate`` answers ``DENY`` if a matching statement denies, else ``ALLOW`` if one
allows, else None, as AWS evaluates: an explicit deny always wins. A statement matches a
request when its principal names the requester, an action pattern the request's S3 action,
a resource pattern the bucket's or object's ARN, and every condition holds.

A stored policy is parsed once per worker and text (``stored_policy``, a small LRU cache),
so a request pays a dictionary lookup for it.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

ATTR = "iam-policy"  # the bucket attribute that holds its policy, RGW's name for it
MAX_POLICY_BYTES = 20 * 1024  # as S3
VERSIONS = ("2012-10-17", "2008-10-17")
ALLOW, DENY = "Allow", "Deny"
ARN_PREFIX = "arn:aws:s3:::"
USER_ARN_RE = re.compile(r"arn:aws:iam::(?::user/(?P<user>[^:/*]+)|(?P<root>[^:/*]+):root)")
CACHED_POLICIES = 256
KNOWN_FIELDS = {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
UNSERVED_FIELDS = {"NotPrincipal", "NotAction", "NotResource"}

# S3's actions, by what they apply to, so a statement can be checked as S3 checks it.
OBJECT_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:BypassGovernanceRetention",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectAttributes",
    "s3:GetObjectLegalHold",
    "s3:GetObjectRetention",
    "s3:GetObjectTagging",
    "s3:GetObjectTorrent",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionAttributes",
    "s3:GetObjectVersionTagging",
    "s3:GetObjectVersionTorrent",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionAcl",
    "s3:PutObjectVersionTagging",
    "s3:RestoreObject",
)
BUCKET_ACTIONS = (
    "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:DeleteBucketWebsite",
    "s3:GetAccelerateConfiguration", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLocation",
    "s3:GetBucketLogging", "s3:GetBucketNotification", "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy", "s3:GetBucketPolicyStatus",
    "s3:GetBucketPublicAccessBlock", "s3:GetBucketRequestPayment", "s3:GetBucketTagging",
    "s3:GetBucketVersioning", "s3:GetBucketWebsite", "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:ListBucket",
    "s3:ListBucketMultipartUploads", "s3:ListBucketVersions", "s3:PutAccelerateConfiguration",
    "s3:PutBucketAcl", "s3:PutBucketCORS", "s3:PutBucketLogging", "s3:PutBucketNotification",
    "s3:PutBucketObjectLockConfiguration", "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock", "s3:PutBucketRequestPayment", "s3:PutBucketTagging",
    "s3:PutBucketVersioning", "s3:PutBucketWebsite", "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration",
)  # fmt: skip


class MalformedPolicy(ValueError):
    """Not a policy document of this bucket (S3's ``MalformedPolicy``)."""


class UnsupportedPolicy(ValueError):
    """A policy using what this gateway does not evaluate (S3's ``NotImplemented``)."""


@dataclass(frozen=True)
class PolicyRequest:
    """What a statement is matched against."""

    user: str | None  # the requester's user id; None: anonymous
    action: str  # "s3:GetObject"
    resource: str  # "arn:aws:s3:::photos/cat.jpg"
    source_ip: str = ""
    secure: bool = False


@dataclass(frozen=True)
class Condition:
    operator: str  # IpAddress, NotIpAddress or Bool
    key: str  # aws:sourceip or aws:securetransport (lower-case)
    values: tuple  # networks, or booleans

    def holds(self, request: PolicyRequest) -> bool:
        if self.key == "aws:securetransport":
            return request.secure in self.values
        try:
            address = ipaddress.ip_address(request.source_ip)
        except ValueError:
            return self.operator == "NotIpAddress"
        inside = any(address.version == net.version and address in net for net in self.values)
        return inside if self.operator == "IpAddress" else not inside


@dataclass(frozen=True)
class Statement:
    effect: str
    principals: frozenset[str] | None  # user ids; None: anyone
    actions: re.Pattern
    resources: re.Pattern
    conditions: tuple[Condition, ...] = ()

    def matches(self, request: PolicyRequest) -> bool:
        if self.principals is not None and request.user not in self.principals:
            return False
        if not self.actions.fullmatch(request.action) or not self.resources.fullmatch(request.resource):
            return False
        return all(condition.holds(request) for condition in self.conditions)


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    users: frozenset[str] = field(default_factory=frozenset)  # every user a principal names

    def evaluate(self, request: PolicyRequest) -> str | None:
        """DENY, ALLOW or None (the policy says nothing about this request)."""
        effects = {s.effect for s in self.statements if s.matches(request)}
        if DENY in effects:
            return DENY
        return ALLOW if ALLOW in effects else None


def bucket_arn(bucket: str, key: str | None = None) -> str:
    return ARN_PREFIX + bucket + ("/" + key if key is not None else "")


def parse_policy(text: str | bytes, bucket: str) -> Policy:
    """The policy ``text`` holds for ``bucket``; ``MalformedPolicy`` or ``UnsupportedPolicy``."""
    statements = tuple(_statement(s, bucket) for s in _raw_statements(text))
    users = frozenset(u for s in statements for u in (s.principals or ()))
    return Policy(statements, users)


def parse_identity_policy(text: str | bytes) -> Policy:
    """A permission policy of a role (``librgw/roles.py``): the grammar of a bucket policy, but
    with no ``Principal`` (it is whoever holds the role) and resources in any bucket."""
    return Policy(tuple(_statement(s, None) for s in _raw_statements(text)))


def _raw_statements(text: str | bytes) -> list:
    if len(text) > MAX_POLICY_BYTES:
        raise MalformedPolicy(f"Policies must be less than {MAX_POLICY_BYTES // 1024} KB")
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise MalformedPolicy("Policies must be valid JSON and the first byte must be '{'") from None
    if not isinstance(doc, dict):
        raise MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
    unknown = doc.keys() - {"Version", "Id", "Statement"}
    if unknown:
        raise MalformedPolicy(f"Unknown field {sorted(unknown)[0]}")
    if doc.get("Version", VERSIONS[0]) not in VERSIONS:
        raise MalformedPolicy(f"The policy Version must be one of {', '.join(VERSIONS)}")
    if not isinstance(doc.get("Id", ""), str):
        raise MalformedPolicy("Id must be a string")
    if "Statement" not in doc:
        raise MalformedPolicy("Missing required field Statement")
    raw = doc["Statement"]
    raw = [raw] if isinstance(raw, dict) else raw
    if not isinstance(raw, list) or not raw:
        raise MalformedPolicy("Statement must be a statement or a non-empty list of them")
    sids = [s.get("Sid") for s in raw if isinstance(s, dict) and "Sid" in s]
    if len(sids) != len(set(map(str, sids))):
        raise MalformedPolicy("Statement IDs (SID) in a single policy must be unique")
    return raw


@lru_cache(maxsize=CACHED_POLICIES)
def _cached(text: str, bucket: str) -> Policy | None:
    try:
        return parse_policy(text, bucket)
    except ValueError:
        return None  # never stored so; if it were, it would allow and deny nothing


@lru_cache(maxsize=CACHED_POLICIES)
def cached_identity_policy(text: str) -> Policy | None:
    """``parse_identity_policy`` of a stored role policy, parsed once per worker; None if
    it is not one (never stored so)."""
    try:
        return parse_identity_policy(text)
    except ValueError:
        return None


def stored_policy(attrs: dict[str, str], bucket: str) -> Policy | None:
    """The bucket's policy, from its attributes; None without one."""
    text = attrs.get(ATTR)
    return _cached(text, bucket) if text else None


def _strings(value: object, name: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise MalformedPolicy(f"{name} must be a string or a non-empty list of strings")
    return values


def _statement(raw: object, bucket: str | None) -> Statement:
    """A bucket policy's statement; with ``bucket`` None, a role policy's."""
    if not isinstance(raw, dict):
        raise MalformedPolicy("A statement must be a JSON object")
    unserved = raw.keys() & UNSERVED_FIELDS
    if unserved:
        raise UnsupportedPolicy(f"{sorted(unserved)[0]} is not supported; use Principal, Action and Resource")
    unknown = raw.keys() - KNOWN_FIELDS
    if unknown:
        raise MalformedPolicy(f"Unknown field {sorted(unknown)[0]}")
    if not isinstance(raw.get("Sid", ""), str):
        raise MalformedPolicy("Sid must be a string")
    effect = raw.get("Effect")
    if effect not in (ALLOW, DENY):
        raise MalformedPolicy("Invalid effect: Effect must be Allow or Deny")
    if bucket is None and "Principal" in raw:
        raise MalformedPolicy("Policy document should not specify a principal")
    for required in ("Principal", "Action", "Resource") if bucket is not None else ("Action", "Resource"):
        if required not in raw:
            raise MalformedPolicy(f"Missing required field {required}")
    principals = _principals(raw["Principal"]) if bucket is not None else None
    actions = _strings(raw["Action"], "Action")
    resources = _strings(raw["Resource"], "Resource")
    for resource in resources:
        if bucket is not None:
            _check_resource(resource, bucket)
        elif resource != "*" and not resource.startswith(ARN_PREFIX):
            raise MalformedPolicy(f"Policy has invalid resource: {resource} is not an S3 ARN")
    for action in actions:
        _check_action(action, resources, bucket)
    return Statement(
        effect,
        principals,
        re.compile("|".join(_glob(a) for a in actions), re.IGNORECASE | re.DOTALL),
        re.compile("|".join(_glob(r) for r in resources), re.DOTALL),
        _conditions(raw.get("Condition", {})),
    )


def _principals(value: object) -> frozenset[str] | None:
    if value == "*":
        return None
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy('Invalid principal in policy: use "*" or {"AWS": [...]}')
    users: set[str] = set()
    for kind, names in value.items():
        if kind not in ("AWS", "CanonicalUser"):
            raise MalformedPolicy(f"Invalid principal in policy: {kind} principals are not supported")
        for name in _strings(names, "Principal"):
            if name == "*" and kind == "AWS":
                return None
            users.add(_principal_user(name) if kind == "AWS" else name)
    return frozenset(users)


def _principal_user(name: str) -> str:
    if name.startswith("arn:"):
        match = USER_ARN_RE.fullmatch(name)
        if match is None:
            raise MalformedPolicy(f"Invalid principal in policy: {name}")
        return match["user"] or match["root"]
    if any(c in name for c in "*?:/ "):
        raise MalformedPolicy(f"Invalid principal in policy: {name}")
    return name


def _literal_prefix(pattern: str) -> str:
    return re.split(r"[*?]", pattern, maxsplit=1)[0]


def _check_resource(resource: str, bucket: str) -> None:
    """``MalformedPolicy`` unless ``resource`` can only name this bucket or its objects."""
    base = bucket_arn(bucket)
    prefix = _literal_prefix(resource)
    if prefix == resource:  # no wildcard
        valid = resource == base or resource.startswith(base + "/")
    else:
        valid = prefix.startswith(base + "/") or (base + "/").startswith(prefix)
    if not valid:
        raise MalformedPolicy(f"Policy has invalid resource: {resource} is not bucket {bucket} or in it")


def _check_action(action: str, resources: list[str], bucket: str | None) -> None:
    if action != "*" and not action.lower().startswith("s3:"):
        raise MalformedPolicy(f"Policy has invalid action: {action}")
    pattern = re.compile(_glob(action), re.IGNORECASE)
    on_objects = any(pattern.fullmatch(a) for a in OBJECT_ACTIONS)
    on_bucket = any(pattern.fullmatch(a) for a in BUCKET_ACTIONS)
    if not on_objects and not on_bucket:
        raise MalformedPolicy(f"Policy has invalid action: {action}")
    if bucket is None:
        return
    base = bucket_arn(bucket)
    names_bucket = any(re.fullmatch(_glob(r), base, re.DOTALL) for r in resources)
    names_objects = any(_may_name_objects(r, base) for r in resources)
    if not ((on_bucket and names_bucket) or (on_objects and names_objects)):
        raise MalformedPolicy(f"Action does not apply to any resource(s) in statement: {action}")


def _may_name_objects(resource: str, base: str) -> bool:
    prefix = _literal_prefix(resource)
    if prefix == resource:  # no wildcard
        return resource.startswith(base + "/") and len(resource) > len(base) + 1
    return prefix.startswith(base + "/") or (base + "/").startswith(prefix)


def _glob(pattern: str) -> str:
    """A policy pattern (``*`` any run of characters, ``?`` any one) as a regular expression."""
    return "(?:" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + ")"


def _conditions(raw: object) -> tuple[Condition, ...]:
    if not isinstance(raw, dict):
        raise MalformedPolicy("Condition must be a JSON object of operators")
    conditions = []
    for operator, tests in raw.items():
        if operator not in ("IpAddress", "NotIpAddress", "Bool"):
            raise UnsupportedPolicy(f"The condition operator {operator} is not supported")
        if not isinstance(tests, dict) or not tests:
            raise MalformedPolicy(f"Condition {operator} must map keys to values")
        for key, values in tests.items():
            key = key.lower()
            wanted = "aws:securetransport" if operator == "Bool" else "aws:sourceip"
            if key != wanted:
                raise UnsupportedPolicy(f"The condition key {key} is not supported with {operator}")
            values = values if isinstance(values, list) else [values]
            conditions.append(Condition(operator, key, tuple(_condition_value(operator, v) for v in values)))
    return tuple(conditions)


def _condition_value(operator: str, value: object):
    if operator == "Bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise MalformedPolicy(f"Invalid Condition value {value!r} for Bool: use true or false")
    try:
        return ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError):
        raise MalformedPolicy(f"Invalid Condition value {value!r}: not an IP address or CIDR block") from None
