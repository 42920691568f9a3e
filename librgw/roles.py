"""Roles, as RGW's IAM has them: what temporary credentials from STS ``AssumeRole`` act as.

A role (``Role``) has a name, a path, an ARN (``arn:aws:iam:::role/<name>``), an id, a
creation date, a maximum session duration (3600 seconds unless set, 3600 to 43200), a trust
policy saying who may assume it, and named permission policies saying what its sessions
may do. Each is one JSON record in ``default.rgw.meta``, namespace ``roles``, named by the
role's name; it is changed under a rados exclusive lock (``record_lock``), so two admins
putting policies lose neither.

The trust policy (``assume_role_policy_document``) is checked here (``parse_trust_policy``)::

    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam:::user/alice"]},
                    "Action": "sts:AssumeRole"}]}

``Principal`` is ``"*"`` or ``{"AWS": <one or a list>}`` of ``"*"``, user ARNs or user
ids; ``Action`` is ``sts:AssumeRole``. ``TrustPolicy.allows`` is true when a statement
allows the user and none denies it: an explicit deny wins. Permission policies are bucket
policies' grammar without a principal (``policy.py``'s
``parse_identity_policy``, with which the gateway and the CLI check them before they are
stored; here only that a document is a JSON object).
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from librgw import rados

from .errors import DeleteConflict, EntityAlreadyExists, InvalidArgument, MalformedPolicyDocument, NoSuchEntity
from .record_lock import locked
from .zone import Zone

ROLES_NS = "roles"
ARN_PREFIX = "arn:aws:iam:::role/"
ASSUMED_ROLE_PREFIX = "arn:aws:sts:::assumed-role/"
DEFAULT_MAX_SESSION_DURATION = 3600
MIN_MAX_SESSION_DURATION, MAX_MAX_SESSION_DURATION = 3600, 43200  # IAM's bounds
MAX_RECORD = 1 << 20
MAX_POLICY_BYTES = 10 * 1024  # IAM's limit on a role's policy documents
ROLE_NAME_RE = re.compile(r"[\w+=,.@-]{1,64}")
POLICY_NAME_RE = re.compile(r"[\w+=,.@-]{1,128}")
PATH_RE = re.compile(r"/(?:[\x21-\x7e]*/)?")
USER_ARN_RE = re.compile(r"arn:aws:iam::(?::user/(?P<user>[^:/*]+)|(?P<root>[^:/*]+):root)")
ASSUME_ROLE = "sts:AssumeRole"
ALLOW, DENY = "Allow", "Deny"
ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class TrustStatement:
    effect: str
    principals: frozenset[str] | None  # user ids; None: any user


@dataclass(frozen=True)
class TrustPolicy:
    statements: tuple[TrustStatement, ...]

    def allows(self, user_id: str) -> bool:
        """May ``user_id`` assume the role? An explicit deny wins over any allow."""
        effects = {s.effect for s in self.statements if s.principals is None or user_id in s.principals}
        return ALLOW in effects and DENY not in effects


@dataclass
class Role:
    """A role's record, as ``radosgw-admin role get`` prints it."""

    name: str
    path: str
    arn: str
    id: str
    create_date: str  # ISO 8601, UTC
    max_session_duration: int
    assume_role_policy_document: str
    permission_policies: dict[str, str] = field(default_factory=dict)  # name: policy document

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Role:
        return cls(**json.loads(raw))

    def to_json(self) -> dict:
        """What ``role get`` shows: the record without its permission policies."""
        shown = {k: v for k, v in asdict(self).items() if k != "permission_policies"}
        shown["assume_role_policy_document"] = json.loads(self.assume_role_policy_document)
        return shown

    @property
    def trust_policy(self) -> TrustPolicy:
        return parse_trust_policy(self.assume_role_policy_document)


def assumed_role_arn(role: str, session_name: str) -> str:
    """Who a role's session is: ``arn:aws:sts:::assumed-role/<role>/<session name>``."""
    return f"{ASSUMED_ROLE_PREFIX}{role}/{session_name}"


def role_name_of_arn(arn: str) -> str | None:
    """The role name an ARN ``arn:aws:iam:::role/[<path>/]<name>`` names; None if it is not one."""
    if not arn.startswith(ARN_PREFIX):
        return None
    name = arn[len(ARN_PREFIX) :].rsplit("/", 1)[-1]
    return name if ROLE_NAME_RE.fullmatch(name) else None


def parse_trust_policy(text: str | bytes) -> TrustPolicy:
    """The trust policy ``text`` holds; ``MalformedPolicyDocument`` if it is not one."""
    doc = _json_object(text)
    unknown = doc.keys() - {"Version", "Id", "Statement"}
    if unknown:
        raise MalformedPolicyDocument(f"Unknown field {sorted(unknown)[0]}")
    raw = doc.get("Statement")
    raw = [raw] if isinstance(raw, dict) else raw
    if not isinstance(raw, list) or not raw:
        raise MalformedPolicyDocument("Statement must be a statement or a non-empty list of them")
    return TrustPolicy(tuple(_trust_statement(s) for s in raw))


def _json_object(text: str | bytes) -> dict:
    if len(text) > MAX_POLICY_BYTES:
        raise MalformedPolicyDocument(f"Policy documents must be at most {MAX_POLICY_BYTES} bytes")
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict):
        raise MalformedPolicyDocument("The policy document must be a JSON object")
    return doc


def _trust_statement(raw: object) -> TrustStatement:
    if not isinstance(raw, dict):
        raise MalformedPolicyDocument("A statement must be a JSON object")
    unknown = raw.keys() - {"Sid", "Effect", "Principal", "Action"}
    if unknown:
        raise MalformedPolicyDocument(f"Unsupported field {sorted(unknown)[0]} in a trust policy")
    if raw.get("Effect") not in (ALLOW, DENY):
        raise MalformedPolicyDocument("Effect must be Allow or Deny")
    actions = raw.get("Action")
    actions = [actions] if isinstance(actions, str) else actions
    if not isinstance(actions, list) or not actions or any(a != ASSUME_ROLE for a in actions):
        raise MalformedPolicyDocument(f"The Action of a trust policy must be {ASSUME_ROLE}")
    return TrustStatement(raw["Effect"], _principals(raw.get("Principal")))


def _principals(value: object) -> frozenset[str] | None:
    if value == "*":
        return None
    names = value.get("AWS") if isinstance(value, dict) and value.keys() == {"AWS"} else None
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise MalformedPolicyDocument('Invalid principal: use "*" or {"AWS": [user ARNs]}')
    users = set()
    for name in names:
        if name == "*":
            return None
        match = USER_ARN_RE.fullmatch(name)
        if match is not None:
            users.add(match["user"] or match["root"])
        elif name and not any(c in name for c in "*?:/ "):
            users.add(name)
        else:
            raise MalformedPolicyDocument(f"Invalid principal: {name}")
    return frozenset(users)


class RoleStore:
    def __init__(self, zone: Zone) -> None:
        self.zone = zone

    def get(self, name: str) -> Role:
        try:
            raw = self.zone.meta(ROLES_NS).read(name, MAX_RECORD) if ROLE_NAME_RE.fullmatch(name) else b""
        except rados.ObjectNotFound:
            raw = b""
        if not raw:
            raise NoSuchEntity(f"role {name!r} does not exist")
        return Role.decode(raw)

    def list(self) -> list[Role]:
        names = sorted(o.key for o in self.zone.meta(ROLES_NS).list_objects())
        roles = []
        for name in names:
            try:
                roles.append(self.get(name))
            except NoSuchEntity:  # deleted meanwhile
                pass
        return roles

    def create(
        self,
        name: str,
        assume_role_policy_document: str,
        path: str = "/",
        max_session_duration: int = DEFAULT_MAX_SESSION_DURATION,
    ) -> Role:
        if not ROLE_NAME_RE.fullmatch(name):
            raise InvalidArgument("A role name is 1 to 64 letters, digits and +=,.@_-")
        if not PATH_RE.fullmatch(path) or len(path) > 512:
            raise InvalidArgument("A role path begins and ends with /")
        if not MIN_MAX_SESSION_DURATION <= max_session_duration <= MAX_MAX_SESSION_DURATION:
            raise InvalidArgument(
                f"MaxSessionDuration must be from {MIN_MAX_SESSION_DURATION} to {MAX_MAX_SESSION_DURATION}"
            )
        parse_trust_policy(assume_role_policy_document)
        role = Role(
            name,
            path,
            ARN_PREFIX + name,
            "".join(secrets.choice(ID_ALPHABET) for _ in range(21)),
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            max_session_duration,
            assume_role_policy_document,
        )
        with rados.WriteOpCtx() as op:
            op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
            op.write_full(role.encode())
            try:
                self.zone.meta(ROLES_NS).operate_write_op(op, name)
            except rados.ObjectExists:
                raise EntityAlreadyExists(f"role {name!r} already exists") from None
        return role

    def delete(self, name: str) -> None:
        """Remove a role; ``DeleteConflict`` while it has permission policies."""
        ioctx = self.zone.meta(ROLES_NS)
        with self._changing(name) as role:
            if role.permission_policies:
                raise DeleteConflict(f"role {name!r} has permission policies: delete them first")
            ioctx.remove_object(name)

    def put_policy(self, name: str, policy_name: str, document: str) -> Role:
        """Set the role's permission policy ``policy_name`` (its document already checked
        against the gateway's grammar by the caller; here, that it is a JSON object)."""
        if not POLICY_NAME_RE.fullmatch(policy_name):
            raise InvalidArgument("A policy name is 1 to 128 letters, digits and +=,.@_-")
        _json_object(document)
        with self._changing(name) as role:
            role.permission_policies[policy_name] = document
        return role

    def get_policy(self, name: str, policy_name: str) -> str:
        policies = self.get(name).permission_policies
        if policy_name not in policies:
            raise NoSuchEntity(f"role {name!r} has no policy {policy_name!r}")
        return policies[policy_name]

    def list_policies(self, name: str) -> list[str]:
        return sorted(self.get(name).permission_policies)

    def delete_policy(self, name: str, policy_name: str) -> Role:
        with self._changing(name) as role:
            if role.permission_policies.pop(policy_name, None) is None:
                raise NoSuchEntity(f"role {name!r} has no policy {policy_name!r}")
        return role

    @contextmanager
    def _changing(self, name: str) -> Iterator[Role]:
        """The role's record, saved on clean exit (unless removed); under its lock meanwhile."""
        ioctx = self.zone.meta(ROLES_NS)
        self.get(name)  # NoSuchEntity before the lock: locking a missing object would create it
        with locked(ioctx, name):
            try:
                raw = ioctx.read(name, MAX_RECORD)
            except rados.ObjectNotFound:
                raw = b""
            if not raw:  # deleted meanwhile; our lock re-created it empty
                ioctx.remove_object(name)
                raise NoSuchEntity(f"role {name!r} does not exist")
            role = Role.decode(raw)
            yield role
            try:
                ioctx.stat(name)
            except rados.ObjectNotFound:
                return  # the block removed it
            ioctx.write_full(name, role.encode())
