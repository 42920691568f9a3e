"""Users, their S3 keys, Swift subusers and quotas, stored as RGW stores them in ``default.rgw.meta``.

- ``users.uid/<uid>``: the user record (``UserInfo``, the JSON ``radosgw-admin user info``
  prints); ``users.uid/<uid>.buckets`` holds the user's bucket list in its omap.
- ``users.keys/<access key>``: the key's owner, secret and subuser, so authenticating a
  request is one read.
- ``users.swift/<uid:subuser>``: the Swift user's owner and secret.
- ``users.email/<email>``: the owner of an e-mail address.
- ``tenants/<tenant>``: the metadata of a tenant's Swift account (``X-Account-Meta-*``; a user
  without a tenant keeps its account's in its record's ``attrs``).

A user of a tenant is ``<tenant>$<uid>`` (``tenants.py``); a tenant and a user without one
may not share a name, as both would be the Swift account ``AUTH_<name>``. That is checked
when either is made (two admins racing to make both could still make the pair).

A user record is changed under a rados exclusive lock on its object, so two admins
changing one user lose neither change. Index objects (keys, Swift names, e-mails) are
created exclusively before the record that names them is saved, so two users can never
claim one key; one left behind by a crash points at a user that does not hold it, and is
taken over by the next user who asks for that key.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from librgw import rados

from .errors import (
    EmailExists,
    InvalidAccessKeyId,
    InvalidArgument,
    KeyExists,
    NoSuchUser,
    SubuserExists,
    UserAlreadyExists,
)
from .omap_pages import omap_first
from .record_lock import locked
from .tenants import TENANT_SEP, split_user_id, tenant_problem
from .zone import Zone

UID_NS, KEYS_NS, SWIFT_NS, EMAIL_NS = "users.uid", "users.keys", "users.swift", "users.email"
TENANTS_NS = "tenants"
BUCKETS_SUFFIX = ".buckets"
ACCESS_KEY_LEN = 20  # as RGW generates them: 20 upper-case letters and digits
SECRET_KEY_LEN = 40
DEFAULT_MAX_BUCKETS = 1000
MAX_RECORD = 1 << 20
MAX_RADOS_NAME = 2048  # Ceph's osd_max_object_name_len
UID_RE = re.compile(r"[A-Za-z0-9_.@-][A-Za-z0-9_.@+=-]{0,254}")  # within its tenant
SUBUSER_PERMISSIONS = ("read", "write", "readwrite", "full-control")


@dataclass
class Quota:
    """``max_size`` in bytes and ``max_objects``; -1 means no limit, as radosgw-admin prints it."""

    enabled: bool = False
    check_on_raw: bool = False
    max_size: int = -1
    max_size_kb: int = 0
    max_objects: int = -1

    def update(self, max_objects: int | None, max_size: int | None, enabled: bool | None) -> None:
        """Change the limits given (a negative one means no limit) and whether it is enforced."""
        if max_objects is not None:
            self.max_objects = max_objects if max_objects >= 0 else -1
        if max_size is not None:
            self.max_size = max_size if max_size >= 0 else -1
            self.max_size_kb = max(0, self.max_size) // 1024
        if enabled is not None:
            self.enabled = enabled


@dataclass
class UserInfo:
    """One user, field for field as ``radosgw-admin user info`` shows it."""

    user_id: str
    display_name: str = ""
    email: str = ""
    suspended: int = 0
    max_buckets: int = DEFAULT_MAX_BUCKETS
    subusers: list[dict] = field(default_factory=list)  # {"id": "uid:sub", "permissions": ...}
    keys: list[dict] = field(default_factory=list)  # {"user": uid or uid:sub, "access_key", "secret_key"}
    swift_keys: list[dict] = field(default_factory=list)  # {"user": "uid:sub", "secret_key"}
    caps: list[dict] = field(default_factory=list)
    op_mask: str = "read, write, delete"
    default_placement: str = ""
    placement_tags: list[str] = field(default_factory=list)
    bucket_quota: Quota = field(default_factory=Quota)
    user_quota: Quota = field(default_factory=Quota)
    temp_url_keys: list[str] = field(default_factory=list)
    type: str = "rgw"
    admin: int = 0  # radosgw-admin's --admin: the gateway's reseller admin, over every account
    attrs: dict[str, str] = field(default_factory=dict)  # account metadata (Swift's X-Account-Meta-*)

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> UserInfo:
        doc = json.loads(raw)
        doc["bucket_quota"] = Quota(**doc["bucket_quota"])
        doc["user_quota"] = Quota(**doc["user_quota"])
        return cls(**doc)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class AccessKey:
    """What ``users.keys/<access key>`` holds: enough to check a request's signature in one read."""

    user_id: str
    access_key: str
    secret_key: str
    subuser: str = ""

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> AccessKey:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class Account:
    """A Swift account (``AUTH_<name>``): tenant ``tenant``'s, or, ``tenant`` empty, that of the
    user ``name``, who has none."""

    name: str
    tenant: str = ""

    def holds(self, uid: str) -> bool:
        """Is user ``uid`` one of the account's (the user itself, or one of the tenant)?"""
        return split_user_id(uid)[0] == self.tenant if self.tenant else uid == self.name


def generate_access_key() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(ACCESS_KEY_LEN))


def generate_secret_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(SECRET_KEY_LEN))


class UserStore:
    """Create, read, change and remove users and their credentials."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone

    # -- reading ---------------------------------------------------------------

    def _record(self, namespace: str, name: str) -> bytes | None:
        """The record ``name`` of ``namespace``; None if there is none, or can be none: a name
        longer than RADOS takes (Ceph refuses it with ENAMETOOLONG) names nothing."""
        if len(name.encode()) > MAX_RADOS_NAME:
            return None
        try:
            return self.zone.meta(namespace).read(name, MAX_RECORD)
        except rados.ObjectNotFound:
            return None

    def get(self, uid: str) -> UserInfo:
        raw = self._record(UID_NS, uid)
        if raw is None:
            raise NoSuchUser(f"user {uid!r} does not exist")
        return UserInfo.decode(raw)

    def exists(self, uid: str) -> bool:
        return self._record(UID_NS, uid) is not None

    def lookup_key(self, access_key: str) -> AccessKey:
        """The owner and secret of an S3 access key: one read."""
        raw = self._record(KEYS_NS, access_key)
        if raw is None:
            raise InvalidAccessKeyId(f"access key {access_key!r} does not exist")
        return AccessKey.decode(raw)

    def get_by_access_key(self, access_key: str) -> UserInfo:
        return self.get(self.lookup_key(access_key).user_id)

    def get_by_email(self, email: str) -> UserInfo:
        raw = self._record(EMAIL_NS, email)
        if raw is None:
            raise NoSuchUser(f"no user has e-mail {email!r}")
        return self.get(raw.decode())

    def lookup_swift(self, swift_user: str) -> tuple[UserInfo, str]:
        """(owner, secret key) of a Swift user ``uid:subuser``."""
        raw = self._record(SWIFT_NS, swift_user)
        if raw is None:
            raise NoSuchUser(f"swift user {swift_user!r} does not exist")
        doc = json.loads(raw)
        return self.get(doc["user_id"]), doc["secret_key"]

    def list(self) -> list[str]:
        """Every user id, sorted."""
        names = (o.key for o in self.zone.meta(UID_NS).list_objects())
        return sorted(n for n in names if not n.endswith(BUCKETS_SUFFIX))

    def tenant_users(self, tenant: str) -> list[str]:
        """The ids of the users of ``tenant``, sorted."""
        return [uid for uid in self.list() if uid.startswith(tenant + TENANT_SEP)]

    def account(self, name: str) -> Account:
        """The Swift account ``AUTH_<name>``: the user ``name``'s if it has no tenant, else
        tenant ``name``'s while it has users; NoSuchUser if neither."""
        if name and TENANT_SEP not in name:
            if self.exists(name):
                return Account(name)
            if tenant_problem(name) is None and self.tenant_users(name):
                return Account(name, name)
        raise NoSuchUser(f"no account {name!r}")

    def account_attrs(self, account: Account) -> dict[str, str]:
        """The account's attributes (the metadata Swift shows)."""
        if not account.tenant:
            return self.get(account.name).attrs
        raw = self._record(TENANTS_NS, account.tenant)
        return json.loads(raw)["attrs"] if raw else {}

    def set_account_attrs(self, account: Account, attrs: dict[str, str]) -> None:
        """Replace the account's attributes."""
        if not account.tenant:
            self.set_attrs(account.name, attrs)
            return
        self.zone.meta(TENANTS_NS).write_full(account.tenant, json.dumps({"attrs": attrs}, sort_keys=True).encode())

    # -- creating and changing -------------------------------------------------

    def create(
        self,
        uid: str,
        display_name: str,
        email: str = "",
        access_key: str | None = None,
        secret_key: str | None = None,
        generate_key: bool = True,
        max_buckets: int = DEFAULT_MAX_BUCKETS,
    ) -> UserInfo:
        """A new user, with an S3 key pair (the one given, else a generated one unless
        ``generate_key`` is false)."""
        self._check_new_id(uid)
        if not display_name:
            raise InvalidArgument("a user needs a display name")
        user = UserInfo(user_id=uid, display_name=display_name, email=email, max_buckets=max_buckets)
        with rados.WriteOpCtx() as op:
            op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
            op.write_full(user.encode())
            try:
                self.zone.meta(UID_NS).operate_write_op(op, uid)
            except rados.ObjectExists:
                raise UserAlreadyExists(f"user {uid!r} already exists") from None
        try:
            if email:
                self._claim_email(email, uid)
            if access_key or secret_key or generate_key:
                return self.create_key(uid, access_key=access_key, secret_key=secret_key)
        except BaseException:
            self._forget(uid, user)
            raise
        return user

    def _check_new_id(self, uid: str) -> None:
        """InvalidArgument unless ``uid`` can name a new user: ``<uid>`` or ``<tenant>$<uid>``,
        and neither a tenant named as a user without one nor the reverse."""
        tenant, name = split_user_id(uid)
        if not UID_RE.fullmatch(name) or uid.startswith(TENANT_SEP):
            raise InvalidArgument(f"invalid user id {uid!r}")
        if tenant:
            problem = tenant_problem(tenant)
            if problem:
                raise InvalidArgument(f"invalid tenant {tenant!r}: a tenant name {problem}")
            if self.exists(tenant):
                raise InvalidArgument(f"tenant {tenant!r} would share its Swift account with user {tenant!r}")
        elif self.tenant_users(uid):
            raise InvalidArgument(f"user {uid!r} would share its Swift account with tenant {uid!r}")

    def modify(
        self,
        uid: str,
        display_name: str | None = None,
        email: str | None = None,
        max_buckets: int | None = None,
        suspended: bool | None = None,
        admin: bool | None = None,
    ) -> UserInfo:
        with self._changing(uid) as user:
            if admin is not None:
                user.admin = int(admin)
            if display_name is not None:
                if not display_name:
                    raise InvalidArgument("a user needs a display name")
                user.display_name = display_name
            if max_buckets is not None:
                user.max_buckets = max_buckets
            if suspended is not None:
                user.suspended = int(suspended)
            if email is not None and email != user.email:
                if email:
                    self._claim_email(email, uid)
                if user.email:
                    self._release(EMAIL_NS, user.email, uid)
                user.email = email
        return user

    def set_attrs(self, uid: str, attrs: dict[str, str]) -> UserInfo:
        """Replace the user's attributes (the account metadata Swift shows)."""
        with self._changing(uid) as user:
            user.attrs = dict(attrs)
        return user

    def suspend(self, uid: str) -> UserInfo:
        return self.modify(uid, suspended=True)

    def enable(self, uid: str) -> UserInfo:
        return self.modify(uid, suspended=False)

    def remove(self, uid: str) -> None:
        """Remove a user and every key, Swift name and e-mail pointing at it. A user who
        still owns buckets cannot be removed (as ``radosgw-admin user rm`` without
        ``--purge-data``)."""
        user = self.get(uid)
        if self._owns_buckets(uid):
            raise InvalidArgument(f"user {uid!r} still owns buckets; remove them first")
        self._forget(uid, user)
        tenant = split_user_id(uid)[0]
        if tenant and not self.tenant_users(tenant):  # the tenant's last user: its account goes too
            self._remove_quietly(TENANTS_NS, tenant)

    def create_key(
        self,
        uid: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        key_type: str = "s3",
        subuser: str = "",
    ) -> UserInfo:
        """Add an S3 key (``key_type="s3"``), or set a subuser's Swift key (``"swift"``)."""
        if key_type == "swift":
            return self._set_swift_key(uid, subuser, secret_key)
        if key_type != "s3":
            raise InvalidArgument(f"key type must be s3 or swift, not {key_type!r}")
        access_key = access_key or generate_access_key()
        secret_key = secret_key or generate_secret_key()
        owner = f"{uid}:{subuser}" if subuser else uid
        with self._changing(uid) as user:
            if subuser and not any(s["id"] == owner for s in user.subusers):
                raise InvalidArgument(f"user {uid!r} has no subuser {subuser!r}")
            self._claim(KEYS_NS, access_key, AccessKey(uid, access_key, secret_key, subuser).encode(), uid)
            user.keys = [k for k in user.keys if k["access_key"] != access_key]
            user.keys.append({"user": owner, "access_key": access_key, "secret_key": secret_key})
        return user

    def remove_key(self, uid: str, access_key: str) -> UserInfo:
        with self._changing(uid) as user:
            if not any(k["access_key"] == access_key for k in user.keys):
                raise InvalidAccessKeyId(f"user {uid!r} has no access key {access_key!r}")
            user.keys = [k for k in user.keys if k["access_key"] != access_key]
            self._release(KEYS_NS, access_key, uid)
        return user

    def create_subuser(
        self, uid: str, subuser: str, access: str = "full-control", secret_key: str | None = None
    ) -> UserInfo:
        """A Swift subuser ``uid:subuser`` with a generated (or the given) Swift key."""
        if access == "full":
            access = "full-control"
        if access not in SUBUSER_PERMISSIONS:
            raise InvalidArgument(f"subuser access must be one of {SUBUSER_PERMISSIONS}, not {access!r}")
        if not subuser or ":" in subuser:
            raise InvalidArgument(f"invalid subuser name {subuser!r}")
        with self._changing(uid) as user:
            swift_user = f"{uid}:{subuser}"
            if any(s["id"] == swift_user for s in user.subusers):
                raise SubuserExists(f"subuser {swift_user!r} already exists")
            user.subusers.append({"id": swift_user, "permissions": access})
        return self._set_swift_key(uid, subuser, secret_key)

    def set_quota(
        self,
        uid: str,
        scope: str,
        max_objects: int | None = None,
        max_size: int | None = None,
        enabled: bool | None = None,
    ) -> UserInfo:
        """Set the ``user`` quota (all of a user's buckets) or the ``bucket`` quota (each of them)."""
        if scope not in ("user", "bucket"):
            raise InvalidArgument(f"quota scope must be user or bucket, not {scope!r}")
        with self._changing(uid) as user:
            (user.user_quota if scope == "user" else user.bucket_quota).update(max_objects, max_size, enabled)
        return user

    # -- internals ---------------------------------------------------------------

    def _set_swift_key(self, uid: str, subuser: str, secret_key: str | None) -> UserInfo:
        swift_user = f"{uid}:{subuser}"
        secret_key = secret_key or generate_secret_key()
        with self._changing(uid) as user:
            if not any(s["id"] == swift_user for s in user.subusers):
                raise InvalidArgument(f"user {uid!r} has no subuser {subuser!r}")
            record = json.dumps({"user_id": uid, "secret_key": secret_key}).encode()
            self.zone.meta(SWIFT_NS).write_full(swift_user, record)
            user.swift_keys = [k for k in user.swift_keys if k["user"] != swift_user]
            user.swift_keys.append({"user": swift_user, "secret_key": secret_key})
        return user

    @contextmanager
    def _changing(self, uid: str) -> Iterator[UserInfo]:
        """The user's record, saved on clean exit; under the record's lock meanwhile."""
        ioctx = self.zone.meta(UID_NS)
        self.get(uid)  # NoSuchUser before the lock: locking a missing object would create it
        with locked(ioctx, uid):
            raw = ioctx.read(uid, MAX_RECORD)
            if not raw:  # removed meanwhile; our lock re-created it empty
                ioctx.remove_object(uid)
                raise NoSuchUser(f"user {uid!r} does not exist")
            user = UserInfo.decode(raw)
            yield user
            ioctx.write_full(uid, user.encode())

    def _claim_email(self, email: str, uid: str) -> None:
        if "@" not in email:
            raise InvalidArgument(f"invalid e-mail address {email!r}")
        try:
            self._claim(EMAIL_NS, email, uid.encode(), uid)
        except KeyExists:
            raise EmailExists(f"e-mail {email!r} belongs to another user") from None

    def _claim(self, namespace: str, name: str, record: bytes, uid: str) -> None:
        """Create index object ``name`` for ``uid``; KeyExists if a live user holds it."""
        ioctx = self.zone.meta(namespace)
        with rados.WriteOpCtx() as op:
            op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
            op.write_full(record)
            try:
                ioctx.operate_write_op(op, name)
                return
            except rados.ObjectExists:
                pass
        if self._holder(namespace, name) not in (None, uid):
            raise KeyExists(f"{name!r} is already in use")
        ioctx.write_full(name, record)  # left by a crash, or ours already: take it over

    def _holder(self, namespace: str, name: str) -> str | None:
        """The user who really holds index entry ``name``, or None if it is stale."""
        raw = self.zone.meta(namespace).read(name, MAX_RECORD)
        uid = raw.decode() if namespace == EMAIL_NS else json.loads(raw)["user_id"]
        try:
            user = self.get(uid)
        except NoSuchUser:
            return None
        held = {
            EMAIL_NS: [user.email],
            KEYS_NS: [k["access_key"] for k in user.keys],
            SWIFT_NS: [k["user"] for k in user.swift_keys],
        }[namespace]
        return uid if name in held else None

    def _release(self, namespace: str, name: str, uid: str) -> None:
        try:
            if self._holder(namespace, name) in (None, uid):
                self.zone.meta(namespace).remove_object(name)
        except rados.ObjectNotFound:
            pass

    def _forget(self, uid: str, user: UserInfo) -> None:
        for key in user.keys:
            self._remove_quietly(KEYS_NS, key["access_key"])
        for key in user.swift_keys:
            self._remove_quietly(SWIFT_NS, key["user"])
        if user.email:
            self._remove_quietly(EMAIL_NS, user.email)
        self._remove_quietly(UID_NS, uid + BUCKETS_SUFFIX)
        self._remove_quietly(UID_NS, uid)

    def _remove_quietly(self, namespace: str, name: str) -> None:
        try:
            self.zone.meta(namespace).remove_object(name)
        except rados.ObjectNotFound:
            pass

    def _owns_buckets(self, uid: str) -> bool:
        return omap_first(self.zone.meta(UID_NS), uid + BUCKETS_SUFFIX) is not None
