"""Access control lists: the one stored form of what a bucket's or an object's grantees may do,
for S3 and Swift clients alike.

An ``Acl`` is an owner (a user id) and a list of ``Grant``: a grantee and one permission,
as S3 has them, and as RGW keeps them for both of its APIs.

Grantees (``Grant.type``, ``Grant.id``):

- ``user``: a user id, which is S3's canonical user ID. Swift ACLs may also name one Swift
  user (``alice:swift``) or an account (``AUTH_alice``); such a grant matches just that.
- ``group``: ``AllUsers`` (anyone, even without credentials) or ``AuthenticatedUsers``
  (anyone with a token or a signature), S3's groups ``GROUP_URIS``.
- ``referrer``: Swift's ``.r:<host>`` or ``.r:.<domain>``: requests whose ``Referer``
  names that host (or a host in that domain), with or without credentials.

Permissions: S3's ``READ``, ``WRITE``, ``READ_ACP``, ``WRITE_ACP`` and ``FULL_CONTROL`` (the
four others), which mean on a bucket: list it; create, replace and delete its objects; read
its ACL; change its ACL; and on an object: read it; -; read its ACL; change its ACL. And
one of RGW's that S3 cannot spell, ``READ_OBJS``: read every object of the bucket,
whatever the object's ACL, which is what Swift's ``X-Container-Read`` gives.

Swift's container ACLs are read and written as views of the bucket's ACL
(``swift_read_grants``, ``with_swift_grants``, ``swift_headers``):

- ``X-Container-Read: bob`` is READ and READ_OBJS for user ``bob`` (``*`` or ``*:*``: for
  AuthenticatedUsers); ``.r:*`` is READ_OBJS for AllUsers, ``.r:<host>`` for that
  referrer, and ``.rlistings`` adds READ to those. So an S3 grant of READ to AllUsers lets
  anyone list the bucket, as ``.rlistings`` does, but not read its objects: in S3 that takes
  the object's own READ grant (or the bucket policy), and so it does here.
- ``X-Container-Write: bob`` is WRITE for user ``bob`` (``*``: AuthenticatedUsers);
  referrers cannot write.

Setting ``X-Container-Read`` replaces every READ and READ_OBJS grant, ``X-Container-Write``
every WRITE grant; the other grants (S3's ACP and FULL_CONTROL ones) stay. A bucket's ACL
is shown to Swift clients as the two headers, so S3-only grants (FULL_CONTROL, ACP) are
not shown there, and READ_OBJS is not shown to S3 clients.

Stored as JSON (``encode``/``decode``), the bucket's under ``ATTR`` in its attributes, an
object's with its head (the core's ``ObjectState.acl``, xattr ``user.rgw.acl`` as in RGW)::

    {"owner": "alice", "grants": [{"type": "user", "id": "alice", "permission": "FULL_CONTROL"},
                                  {"type": "group", "id": "AllUsers", "permission": "READ"}]}

The native API's ``?acl`` sub-resources send and take the same document; an incoming one
may also name a grantee ``{"type": "email", "id": "bob@example.com"}``, which the gateway
resolves to the user before storing. A bucket or object without a stored ACL has the
default one: its bucket's owner has FULL_CONTROL, nobody else anything (``default_acl``).
Canned ACLs (S3's ``x-amz-acl``) are made by ``canned``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from urllib.parse import urlparse

READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL = "READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"
READ_OBJS = "READ_OBJS"
S3_PERMISSIONS = (READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL)
PERMISSIONS = (*S3_PERMISSIONS, READ_OBJS)
USER, GROUP, REFERRER, EMAIL = "user", "group", "referrer", "email"
ALL_USERS, AUTHENTICATED_USERS = "AllUsers", "AuthenticatedUsers"
GROUP_URIS = {
    ALL_USERS: "http://acs.amazonaws.com/groups/global/AllUsers",
    AUTHENTICATED_USERS: "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}
CANNED = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
)
ATTR = "acl"  # the bucket attribute that holds its ACL
LEGACY_SWIFT_ATTRS = ("x-container-read", "x-container-write")  # what buckets kept before ``ATTR``
MAX_GRANTS = 100  # as S3
SWIFT_REFERRER, SWIFT_LISTINGS, SWIFT_ANY_USER = ".r:", ".rlistings", ("*", "*:*")


class AclError(ValueError):
    """An ACL, canned name or grant a client should be told is malformed."""


@dataclass(frozen=True)
class Grant:
    type: str  # USER, GROUP or REFERRER (EMAIL only on the way in)
    id: str
    permission: str


@dataclass
class Acl:
    owner: str
    grants: list[Grant] = field(default_factory=list)

    def encode(self) -> str:
        return json.dumps({"owner": self.owner, "grants": [asdict(g) for g in self.grants]}, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> Acl:
        doc = json.loads(text)
        return cls(doc["owner"], [Grant(g["type"], g["id"], g["permission"]) for g in doc["grants"]])

    def granted(self, names: Iterable[str], authenticated: bool, referrer: str = "") -> set[str]:
        """The permissions this ACL gives a requester known by user ``names`` (its user id,
        Swift user and account; none when anonymous), sending ``Referer: referrer``.
        FULL_CONTROL is spelled out as the four it stands for; the owner may always read and
        change the ACL, as in S3."""
        names = set(names)
        host = (urlparse(referrer).hostname or "") if referrer else ""
        permissions = {g.permission for g in self.grants if _matches(g, names, authenticated, host)}
        if FULL_CONTROL in permissions:
            permissions |= {READ, WRITE, READ_ACP, WRITE_ACP}
        if self.owner in names:
            permissions |= {READ_ACP, WRITE_ACP}
        return permissions

    def s3_grants(self) -> list[Grant]:
        """The grants S3 can spell (not READ_OBJS, not referrers)."""
        return [g for g in self.grants if g.type in (USER, GROUP) and g.permission in S3_PERMISSIONS]

    def user_ids(self) -> set[str]:
        return {g.id for g in self.grants if g.type == USER}


def _matches(grant: Grant, names: set[str], authenticated: bool, host: str) -> bool:
    if grant.type == USER:
        return grant.id in names
    if grant.type == GROUP:
        return grant.id == ALL_USERS or (grant.id == AUTHENTICATED_USERS and authenticated)
    if grant.type == REFERRER:
        wanted = grant.id
        return wanted == "*" or wanted == host or (wanted.startswith(".") and host.endswith(wanted))
    return False


def default_acl(owner: str) -> Acl:
    """What a bucket or object without a stored ACL has: its owner's FULL_CONTROL."""
    return Acl(owner, [Grant(USER, owner, FULL_CONTROL)])


def canned(name: str, owner: str, bucket_owner: str) -> Acl:
    """S3's canned ACL ``name`` for something ``owner`` owns in ``bucket_owner``'s bucket
    (for a bucket, the two are one); ``AclError`` for a name S3 does not have or we do not serve."""
    acl = default_acl(owner)
    extra = {
        "private": [],
        "public-read": [Grant(GROUP, ALL_USERS, READ)],
        "public-read-write": [Grant(GROUP, ALL_USERS, READ), Grant(GROUP, ALL_USERS, WRITE)],
        "authenticated-read": [Grant(GROUP, AUTHENTICATED_USERS, READ)],
        "bucket-owner-read": [Grant(USER, bucket_owner, READ)] if bucket_owner != owner else [],
        "bucket-owner-full-control": [Grant(USER, bucket_owner, FULL_CONTROL)] if bucket_owner != owner else [],
    }.get(name)
    if extra is None:
        raise AclError(f"{name!r} is not a canned ACL: use one of {', '.join(CANNED)}")
    acl.grants += extra
    return acl


def from_document(doc: object, owner: str) -> Acl:
    """The ACL a client's JSON document (parsed) asks for, for something ``owner`` owns.
    The owner cannot be changed: a document naming another is refused. E-mail grantees
    are left for the caller to resolve (``resolve_emails``)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("grants"), list):
        raise AclError('an ACL is a JSON object {"owner": "<user id>", "grants": [...]}')
    if doc.get("owner", owner) != owner:
        raise AclError(f"the owner is {owner!r} and an ACL cannot change it")
    if len(doc["grants"]) > MAX_GRANTS:
        raise AclError(f"an ACL has at most {MAX_GRANTS} grants")
    grants = []
    for item in doc["grants"]:
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("type", "id", "permission")):
            raise AclError('a grant is {"type": "user|group|email|referrer", "id": "...", "permission": "..."}')
        grants.append(checked_grant(item["type"], item["id"], item["permission"]))
    return Acl(owner, grants)


def checked_grant(kind: str, grantee: str, permission: str) -> Grant:
    if permission not in PERMISSIONS:
        raise AclError(f"{permission!r} is not a permission: use one of {', '.join(PERMISSIONS)}")
    if kind == GROUP:
        by_uri = {uri: name for name, uri in GROUP_URIS.items()}
        grantee = by_uri.get(grantee, grantee)
        if grantee not in GROUP_URIS:
            raise AclError(f"{grantee!r} is not a group: use {' or '.join(GROUP_URIS.values())}")
    elif kind in (USER, EMAIL):
        if not grantee or any(c.isspace() or c == "," for c in grantee):
            raise AclError(f"{grantee!r} is not a {'user id' if kind == USER else 'e-mail address'}")
    elif kind == REFERRER:
        if not grantee or any(c.isspace() or c == "," for c in grantee):
            raise AclError(f"{grantee!r} is not a referrer host or .domain")
    else:
        raise AclError(f"{kind!r} is not a grantee type: use user, group, email or referrer")
    return Grant(kind, grantee, permission)


def resolve_emails(acl: Acl, uid_of_email) -> Acl:
    """``acl`` with its e-mail grantees replaced by their users (``uid_of_email`` raises
    for an address nobody has)."""
    return Acl(acl.owner, [Grant(USER, uid_of_email(g.id), g.permission) if g.type == EMAIL else g for g in acl.grants])


def from_header(value: str, owner: str, bucket_owner: str) -> Acl:
    """The ACL an ``X-Librgw-Acl`` header asks for: a canned name or a JSON document."""
    value = value.strip()
    if value.startswith("{"):
        try:
            doc = json.loads(value)
        except ValueError:
            raise AclError("X-Librgw-Acl is neither a canned ACL nor a JSON document") from None
        return from_document(doc, owner)
    return canned(value, owner, bucket_owner)


def bucket_acl(attrs: dict[str, str], owner: str) -> Acl:
    """A bucket's ACL, from its attributes (``owner`` is the bucket's)."""
    if ATTR in attrs:
        return Acl.decode(attrs[ATTR])
    acl = default_acl(owner)
    if any(name in attrs for name in LEGACY_SWIFT_ATTRS):  # written before buckets had one ACL
        acl = with_swift_grants(acl, attrs.get("x-container-read"), attrs.get("x-container-write"))
    return acl


def with_bucket_acl(attrs: dict[str, str], acl: Acl) -> dict[str, str]:
    """``attrs`` holding ``acl`` as the bucket's ACL."""
    changed = {name: value for name, value in attrs.items() if name not in LEGACY_SWIFT_ATTRS}
    changed[ATTR] = acl.encode()
    return changed


def object_acl(stored: str, bucket_owner: str) -> Acl:
    """An object's ACL from what its head keeps ("" for none: the bucket owner's)."""
    return Acl.decode(stored) if stored else default_acl(bucket_owner)


def stored_object_acl(acl: Acl, bucket_owner: str) -> str:
    """What an object's head keeps for ``acl``: nothing for the default one."""
    return "" if acl == default_acl(bucket_owner) else acl.encode()


# -- Swift's container ACL headers -------------------------------------------------------


def parse_swift_acl(value: str) -> list[str]:
    """The entries of an ``X-Container-Read`` or ``-Write`` header; ``AclError`` for one a
    client should be told is malformed."""
    entries = [e.strip() for e in value.split(",") if e.strip()]
    for entry in entries:
        if entry.startswith(SWIFT_REFERRER) and len(entry) == len(SWIFT_REFERRER):
            raise AclError(f"the referrer grant {entry!r} names no host")
        if any(c.isspace() for c in entry) or (
            entry.startswith(".") and not entry.startswith((SWIFT_REFERRER, SWIFT_LISTINGS))
        ):
            raise AclError(f"{entry!r} is not a grant: use a user, .r:<referrer> or .rlistings")
    return entries


def swift_read_grants(value: str) -> list[Grant]:
    """The grants ``X-Container-Read: value`` stands for."""
    entries = parse_swift_acl(value)
    listings = SWIFT_LISTINGS in entries
    grants: list[Grant] = []
    for entry in entries:
        if entry == SWIFT_LISTINGS:
            continue
        if entry.startswith(SWIFT_REFERRER):
            host = entry[len(SWIFT_REFERRER) :]
            grantee = (GROUP, ALL_USERS) if host == "*" else (REFERRER, host)
            grants += [Grant(*grantee, READ_OBJS)] + ([Grant(*grantee, READ)] if listings else [])
        else:
            grantee = (GROUP, AUTHENTICATED_USERS) if entry in SWIFT_ANY_USER else (USER, entry)
            grants += [Grant(*grantee, READ), Grant(*grantee, READ_OBJS)]
    return _unique(grants)


def swift_write_grants(value: str) -> list[Grant]:
    """The grants ``X-Container-Write: value`` stands for (referrers cannot write)."""
    grants = []
    for entry in parse_swift_acl(value):
        if entry.startswith(".") or entry.startswith(SWIFT_REFERRER):
            continue
        grantee = (GROUP, AUTHENTICATED_USERS) if entry in SWIFT_ANY_USER else (USER, entry)
        grants.append(Grant(*grantee, WRITE))
    return _unique(grants)


def with_swift_grants(acl: Acl, read: str | None, write: str | None) -> Acl:
    """``acl`` with its read side replaced by ``X-Container-Read: read`` and its write side by
    ``X-Container-Write: write`` (None: that side unchanged)."""
    replaced = ({READ, READ_OBJS} if read is not None else set()) | ({WRITE} if write is not None else set())
    kept = [g for g in acl.grants if g.permission not in replaced]
    added = (swift_read_grants(read) if read is not None else []) + (
        swift_write_grants(write) if write is not None else []
    )
    return Acl(acl.owner, _unique(kept + added))


def swift_headers(acl: Acl) -> dict[str, str]:
    """``X-Container-Read`` and ``X-Container-Write`` as Swift spells ``acl`` (only those set);
    grants Swift cannot spell are left out."""
    readers = {(g.type, g.id) for g in acl.grants if g.permission == READ_OBJS}
    listers = {(g.type, g.id) for g in acl.grants if g.permission == READ}
    read = list(dict.fromkeys(_swift_name(g) for g in acl.grants if g.permission == READ_OBJS))
    if any(kind == REFERRER or (kind, name) == (GROUP, ALL_USERS) for kind, name in readers & listers):
        read.append(SWIFT_LISTINGS)
    write = [
        _swift_name(g)
        for g in acl.grants
        if g.permission == WRITE and g.type != REFERRER and (g.type, g.id) != (GROUP, ALL_USERS)
    ]
    headers = {}
    if read:
        headers["X-Container-Read"] = ",".join(read)
    if write:
        headers["X-Container-Write"] = ",".join(dict.fromkeys(write))
    return headers


def _swift_name(grant: Grant) -> str:
    if grant.type == REFERRER:
        return SWIFT_REFERRER + grant.id
    if grant.type == GROUP:
        return SWIFT_REFERRER + "*" if grant.id == ALL_USERS else "*"
    return grant.id


def _unique(grants: list[Grant]) -> list[Grant]:
    return list(dict.fromkeys(grants))
