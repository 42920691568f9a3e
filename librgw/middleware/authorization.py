"""Who may do what: the one place the gateway decides whether a request is allowed.

The ``auth`` filter says who is asking (``Identity``, or nobody); the gateway app says what
is asked (``Access``: the account, the container and its ACLs, the kind of action) and
calls ``decide``. The rules, as Swift's tempauth and RGW's subusers have them:

- A reseller admin (a user with radosgw-admin's ``--admin``) may do anything anywhere.
- In its own account a Swift user may do what its subuser permission allows:
  ``read`` (read and list), ``write`` (create, change, delete), ``readwrite`` (both) or
  ``full-control`` (both, and set ACLs and account metadata: Swift's account admin).
- Elsewhere only container ACLs grant access. ``X-Container-Read`` lets its grantees read
  objects and list the container; ``.r:*`` (or ``.r:<host>``, ``.r:.<domain>`` by
  ``Referer``) lets anyone, even without a token, read objects, and with ``.rlistings``
  also list them. ``X-Container-Write`` lets its grantees create, change and delete objects.
  A grantee is a user id (``alice``), a Swift user (``alice:swift``), an account
  (``AUTH_alice``) or ``*`` / ``*:*`` (any authenticated user).

A refusal is 401 for a request without a token (log in, then ask again) and 403 for one
with a token. ``parse_acl`` checks an ACL header's syntax before it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from webob import exc

READ, LIST, WRITE, ADMIN = "read", "list", "write", "admin"
PERMISSION_ACTIONS = {
    "read": {READ, LIST},
    "write": {WRITE},
    "readwrite": {READ, LIST, WRITE},
    "full-control": {READ, LIST, WRITE, ADMIN},
}
ANY_USER = {"*", "*:*"}
REFERRER = ".r:"
LISTINGS = ".rlistings"
ACCOUNT_PREFIX = "AUTH_"
IDENTITY_KEY = "librgw.identity"  # where the auth filter puts the Identity in the WSGI environ


@dataclass
class Identity:
    """Who a token belongs to, and the roles it carries."""

    user_id: str
    swift_user: str
    expires: float
    permissions: str = "full-control"  # the subuser's: read, write, readwrite, full-control
    reseller_admin: bool = False

    @property
    def account(self) -> str:
        return ACCOUNT_PREFIX + self.user_id


@dataclass
class Access:
    """What a request asks for."""

    account_uid: str  # the user whose account the path names
    action: str  # READ, LIST, WRITE or ADMIN
    read_acl: str = ""  # the container's X-Container-Read, for requests inside a container
    write_acl: str = ""
    referrer: str = ""


def parse_acl(value: str) -> list[str]:
    """The grants of an ACL header; ValueError for one a client should be told is malformed."""
    grants = [g.strip() for g in value.split(",") if g.strip()]
    for grant in grants:
        if grant.startswith(REFERRER) and len(grant) == len(REFERRER):
            raise ValueError(f"the referrer grant {grant!r} names no host")
        if any(c.isspace() for c in grant) or (grant.startswith(".") and not grant.startswith((REFERRER, LISTINGS))):
            raise ValueError(f"{grant!r} is not a grant: use a user, .r:<referrer> or .rlistings")
    return grants


def _names(identity: Identity) -> set[str]:
    return {identity.user_id, identity.swift_user, identity.account, *ANY_USER}


def _referrer_allowed(grants: list[str], referrer: str) -> bool:
    host = urlparse(referrer).hostname or ""
    for grant in grants:
        if not grant.startswith(REFERRER):
            continue
        wanted = grant[len(REFERRER) :]
        if wanted == "*" or wanted == host or (wanted.startswith(".") and host.endswith(wanted)):
            return True
    return False


def _acl_allows(identity: Identity | None, access: Access) -> bool:
    if access.action in (READ, LIST):
        grants = _safe_grants(access.read_acl)
        if identity is not None and _names(identity) & set(grants):
            return True
        if access.action == LIST and LISTINGS not in grants:
            return False
        return _referrer_allowed(grants, access.referrer)
    if access.action == WRITE and identity is not None:
        return bool(_names(identity) & set(_safe_grants(access.write_acl)))
    return False


def _safe_grants(value: str) -> list[str]:
    try:
        return parse_acl(value)
    except ValueError:
        return []  # a stored ACL is never malformed; if it were, it would grant nothing


def refusal(identity: Identity | None, access: Access) -> exc.HTTPException | None:
    """``decide``'s answer as the response to send: None, 401 or 403."""
    status = decide(identity, access)
    if status is None:
        return None
    if status == 401:
        return exc.HTTPUnauthorized("Unauthorized: this needs a token (X-Auth-Token)")
    return exc.HTTPForbidden("Forbidden: your token does not allow this")


def decide(identity: Identity | None, access: Access) -> int | None:
    """None if ``identity`` (None: no token) may do ``access``; else the status to refuse it with."""
    if identity is not None:
        if identity.reseller_admin:
            return None
        if identity.user_id == access.account_uid:
            return None if access.action in PERMISSION_ACTIONS.get(identity.permissions, set()) else 403
    if _acl_allows(identity, access):
        return None
    return 401 if identity is None else 403
