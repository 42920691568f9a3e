"""What every Swift controller works with: the core, the limits, the parsed path and the asker.

``parse_path`` reads ``/v1/<account>[/<container>[/<object>]]`` from the raw WSGI path:
bytes that are not UTF-8, or a NUL, are 412 (Swift's "Invalid UTF8 or contains NULL"); an
account is ``AUTH_<tenant>``, or ``AUTH_<user id>`` for a user without a tenant
(``librgw/tenants.py``). Object names are opaque keys: ``..`` or ``//`` in them are
just characters, as in Swift and S3; nothing maps a name to a file path.

A container of the account is found by name without asking what the account is: the bucket
of that name without a tenant if the account's user owns it, else the tenant's bucket
``<account>/<name>``; so requests to accounts without a tenant cost what they did before
tenants. What the account is (``Account``) is read only for requests on the account itself
and for creating containers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from webob import Request, exc
from webob.multidict import MultiDict

import librgw
from librgw.authorization import (
    ACCOUNT_ACL_ATTR,
    ACCOUNT_PREFIX,
    ADMIN,
    LIST,
    PERMISSION_ACTIONS,
    READ,
    WRITE,
    Access,
    AccountAcl,
    Identity,
    bucket_access,
    native_s3_action,
)
from librgw.bucket_info import BucketInfo
from librgw.errors import DeleteMarkerRead, NoSuchBucket, NoSuchKey
from librgw.objects import ObjectState
from librgw.tenants import bucket_entry, split_user_id, tenant_problem
from librgw.users import Account

from ..request_identity import IDENTITY_KEY, OWNER_KEY, request_refusal
from .constraints import Limits

# Set by a filter whose HEAD of an account or container wants its metadata alone (quota limits,
# a versions location): the answer then leaves out the object and byte counts, whose sums read
# every index shard of the container (of every container, for an account). A Swift proxy
# ignores it and answers in full.
SKIP_USAGE = "librgw.skip_usage"


@dataclass
class SwiftPath:
    account: str  # as in the path: AUTH_<tenant or uid>
    container: str | None = None
    obj: str | None = None

    @property
    def account_name(self) -> str:
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


VERSION_ID, VERSIONS = "version-id", "versions"  # versions.py's: a version of an object, the versions listing


@dataclass
class Context:
    """One request to the Swift API."""

    rgw: librgw.RGW
    limits: Limits
    request: Request
    path: SwiftPath
    _account: Account | None = field(default=None, init=False, repr=False)

    @property
    def skips_usage(self) -> bool:
        """Whether the asker wants no usage counts (``SKIP_USAGE``)."""
        return self.request.environ.get(SKIP_USAGE) is True

    @property
    def identity(self) -> Identity | None:
        return self.request.environ.get(IDENTITY_KEY)

    def authorize(
        self,
        action: str,
        bucket: BucketInfo | None = None,
        account_uid: str | None = None,
        *,
        key: str | None = None,
        obj: ObjectState | None = None,
        s3_action: str | None = None,
    ) -> None:
        """Raise 401/403 unless the asker may do ``action`` in this account: in ``bucket``,
        whose ACL and policy then count, to object ``key`` (the path's by default), whose ACL
        counts when its record ``obj`` is given. ``s3_action`` is what S3 calls the request,
        by default what its method is (``native_s3_action``)."""
        if bucket is not None and key is None:
            key = self.path.obj
        denied = request_refusal(
            self.request, self.identity, self.access(action, bucket, account_uid, key, obj, s3_action)
        )
        if denied is not None:
            raise denied

    def access(
        self,
        action: str,
        bucket: BucketInfo | None,
        account_uid: str | None = None,
        key: str | None = None,
        obj: ObjectState | None = None,
        s3_action: str | None = None,
    ) -> Access:
        """What this request asks for, as ``authorization.decide`` takes it: in ``bucket``, its
        owner's; else the account's (``account_owner``)."""
        if bucket is None:
            account_uid = account_uid if account_uid is not None else self.account_owner()
            return Access(account_uid, action, account_acl=self.account_acl(account_uid))
        account_uid = account_uid if account_uid is not None else bucket.owner
        if s3_action is None:
            on_object = key is not None
            versions = self._asks_for_versions(VERSION_ID if on_object else VERSIONS)
            s3_action = native_s3_action(action, self.request.method, on_object, versions)
        environ = self.request.environ
        return replace(
            bucket_access(account_uid, action, s3_action, bucket, key, obj.acl if obj is not None else None),
            referrer=self.request.headers.get("Referer", ""),
            source_ip=environ.get("REMOTE_ADDR", ""),
            secure=environ.get("wsgi.url_scheme") == "https",
            account_acl=self.account_acl(account_uid),
        )

    def account_acl(self, account_uid: str) -> AccountAcl | None:
        """The ACL of ``account_uid``'s account, for a requester who may be granted by it (not
        its owner, not anonymous: an owner needs no grant, and the ACL grants no one
        anonymous); None for others, at the cost of no read."""
        identity = self.identity
        if identity is None or identity.user_id == account_uid or identity.reseller_admin or identity.role:
            return None
        tenant, _ = split_user_id(account_uid)
        account = Account(tenant, tenant) if tenant else Account(account_uid)
        return AccountAcl.decode(self.rgw.users.account_attrs(account).get(ACCOUNT_ACL_ATTR, ""))

    def _asks_for_versions(self, param: str) -> bool:
        query = self.request.environ.get("QUERY_STRING", "")
        return param in query and param in self.request.GET

    def authorized_object(
        self,
        action: str,
        bucket: BucketInfo,
        key: str | None = None,
        s3_action: str | None = None,
        version_id: str | None = None,
    ) -> ObjectState:
        """The record of object ``key`` (the path's by default) of ``bucket``, or of its
        version ``version_id``, as the core's ``ObjectOps.stat`` gives it, once the asker may do
        ``action`` to it, its ACL counting. That an object is missing (404, a delete marker's
        too) is told only to who may list the bucket or may do ``action`` whatever the
        object's ACL says; others are refused (401/403) as if it were there, as S3 does."""
        key = key if key is not None else self.path.obj
        try:
            info = self.rgw.object_ops.stat(bucket, key, version_id)
        except (NoSuchKey, DeleteMarkerRead):
            denied = request_refusal(
                self.request, self.identity, self.access(action, bucket, None, key, None, s3_action)
            )
            listing = self.access(LIST, bucket, None, None)
            if denied is not None and request_refusal(self.request, self.identity, listing) is not None:
                raise denied from None
            raise
        self.authorize(action, bucket, key=key, obj=info, s3_action=s3_action)
        return info

    def is_owner(self, bucket: BucketInfo | None = None) -> bool:
        """May the asker see and set the bucket's private details (ACLs), or, with no bucket,
        the account's (its metadata keys and ACL)?"""
        if self.request.environ.get(OWNER_KEY):
            return True
        identity = self.identity
        if identity is None or identity.role:  # a role acts as the role, never as the account's owner
            return False
        owner = bucket.owner if bucket is not None else self.account_owner()
        if identity.reseller_admin or (
            identity.user_id == owner and ADMIN in PERMISSION_ACTIONS.get(identity.permissions, ())
        ):
            return True  # a subuser of less than full control is not the account's admin
        acl = self.account_acl(owner)
        return acl is not None and ADMIN in acl.actions_of(identity)  # an admin of the account's ACL

    def account(self) -> Account:
        """The path's account (404 if there is none), read once per request."""
        if self._account is None:
            self._account = self.rgw.users.account(self.path.account_name)
        return self._account

    def account_owner(self) -> str:
        """The user the account's own resources (its listing, metadata, new containers) count
        as owned by for this request: the account's user; in a tenant's, the asker if it is
        one of the tenant's users, else the tenant's first."""
        account = self.account()
        if not account.tenant:
            return account.name
        identity = self.identity
        if identity is not None and account.holds(identity.user_id):
            return identity.user_id
        return self.rgw.users.tenant_users(account.tenant)[0]

    def find_bucket(self, name: str, account_name: str | None = None) -> BucketInfo | None:
        """The container ``name`` of account ``account_name`` (the path's by default), or None."""
        account_name = account_name if account_name is not None else self.path.account_name
        try:
            info = self.rgw.buckets.get(name)
            if info.owner == account_name:  # a bucket of the user without a tenant
                return info
        except NoSuchBucket:
            pass
        if tenant_problem(account_name) is not None:
            return None
        try:
            return self.rgw.buckets.get(bucket_entry(account_name, name))
        except NoSuchBucket:
            return None

    def bucket(self, name: str | None = None, account: str | None = None) -> BucketInfo:
        """The container ``name`` (the path's by default) of ``account`` (``AUTH_<...>``, the
        path's by default): 404 if it is not one."""
        name = name or self.path.container
        account = account or self.path.account
        info = (
            self.find_bucket(name, account.removeprefix(ACCOUNT_PREFIX)) if account.startswith(ACCOUNT_PREFIX) else None
        )
        if info is None:
            raise exc.HTTPNotFound(f"No container {name!r} in account {account}")
        return info

    def configured_bucket(self, s3_actions: dict[str, str]) -> BucketInfo:
        """The container, for a GET (READ), PUT or DELETE (WRITE) of one of its configurations
        (``?cors``, ``?lifecycle``, ``?tagging``), authorized as ``s3_actions[method]``."""
        bucket = self.bucket()
        method = self.request.method
        if method not in s3_actions:
            raise exc.HTTPMethodNotAllowed(headers={"Allow": "GET, PUT, DELETE"})
        self.authorize(READ if method == "GET" else WRITE, bucket, s3_action=s3_actions[method])
        return bucket
