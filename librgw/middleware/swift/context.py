"""What every Swift controller works with: the core, the limits, the parsed path and the asker.

``parse_path`` reads ``/v1/<account>[/<container>[/<object>]]`` from the raw WSGI path:
bytes that are not UTF-8, or a NUL, are 412 (Swift's "Invalid UTF8 or contains NULL"); an
account is ``AUTH_<user id>``. Object names are opaque keys: ``..`` or ``//`` in them are
just characters, as in Swift and S3; nothing maps a name to a file path.
"""

from __future__ import annotations

from dataclasses import dataclass

from webob import Request, exc
from webob.multidict import MultiDict

import librgw
from librgw.buckets import BucketInfo

from ..authorization import ACCOUNT_PREFIX, IDENTITY_KEY, Access, Identity, refusal
from .constraints import Limits


@dataclass
class SwiftPath:
    account: str  # as in the path: AUTH_<uid>
    container: str | None = None
    obj: str | None = None

    @property
    def uid(self) -> str:
        return self.account[len(ACCOUNT_PREFIX) :]


def parse_path(environ: dict) -> SwiftPath:
    try:
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise exc.HTTPPreconditionFailed("Invalid UTF8 or contains NULL") from None
    if "\x00" in path:
        raise exc.HTTPPreconditionFailed("Invalid UTF8 or contains NULL")
    parts = path.split("/", 4)  # "", "v1", account, container, object
    account = parts[2] if len(parts) > 2 else ""
    if not account.startswith(ACCOUNT_PREFIX) or len(account) == len(ACCOUNT_PREFIX):
        raise exc.HTTPNotFound(f"No account {account[:64]!r}: accounts are AUTH_<user id>")
    container = parts[3] if len(parts) > 3 and parts[3] else None
    obj = parts[4] if len(parts) > 4 and parts[4] and container else None
    return SwiftPath(account, container, obj)


def query_params(request: Request) -> MultiDict:
    """The parsed query; 400 for one that is not UTF-8 (webob fails on it wherever it is read,
    so the gateway asks once, first)."""
    try:
        return request.GET
    except UnicodeDecodeError:
        raise exc.HTTPBadRequest("The query string is not URL-encoded UTF-8") from None


@dataclass
class Context:
    """One request to the Swift API."""

    rgw: librgw.RGW
    limits: Limits
    request: Request
    path: SwiftPath

    @property
    def identity(self) -> Identity | None:
        return self.request.environ.get(IDENTITY_KEY)

    def authorize(self, action: str, bucket: BucketInfo | None = None, account_uid: str | None = None) -> None:
        """Raise 401/403 unless the asker may do ``action`` in this account (in ``bucket``,
        whose ACLs then count)."""
        attrs = bucket.attrs if bucket is not None else {}
        access = Access(
            account_uid if account_uid is not None else self.path.uid,
            action,
            attrs.get("x-container-read", ""),
            attrs.get("x-container-write", ""),
            self.request.headers.get("Referer", ""),
        )
        denied = refusal(self.identity, access)
        if denied is not None:
            raise denied

    def is_owner(self) -> bool:
        """May the asker see and set the account's private details (ACLs)?"""
        identity = self.identity
        return identity is not None and (identity.reseller_admin or identity.user_id == self.path.uid)

    def bucket(self, name: str | None = None) -> BucketInfo:
        """The container ``name`` (the path's by default) of this account: 404 if it is not one."""
        name = name or self.path.container
        info = self.rgw.buckets.get(name)
        if info.owner != self.path.uid:
            raise exc.HTTPNotFound(f"No container {name!r} in account {self.path.account}")
        return info
