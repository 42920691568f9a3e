"""Who may do what: the one place the gateway decides whether a request is allowed.

The ``auth`` filter (or the ``s3`` filter, from a signature) says who is asking
(``Identity``, or nobody); the gateway app says what is asked (``Access``: the account,
the kind of action, the S3 action it is, and the bucket's and object's ACLs and bucket
policy that apply) and calls ``decide``. S3 and Swift requests are decided alike, from
the same stored ACLs (``acl.py``: one form, of which Swift's container ACLs are a view) and
the same bucket policy (``policy.py``). A native request's S3 action is that of its method
(``native_s3_action``: GET of an object is ``s3:GetObject``, DELETE ``s3:DeleteObject``, ...);
the ``s3`` filter's requests name theirs.

In order, as RGW and AWS evaluate:

1. A reseller admin (a user with radosgw-admin's ``--admin``) may do anything anywhere.
2. A subuser may do only the kinds of action its permission allows, in its own account or
   through any grant: ``read`` (READ and LIST), ``write`` (WRITE: objects), ``readwrite``
   (both) or ``full-control`` (both, and CONTAINERS, ADMIN, READ_ACP and WRITE_ACP: making and
   deleting containers, setting and reading ACLs and policies, account metadata).
3. The bucket policy: a statement that denies the request refuses it, whoever asks, the
   bucket's owner too (except the owner's getting, setting and deleting the policy itself,
   so nobody locks themselves out).
4. The account's owner may do anything in its account, but read an object, or read or
   change its ACL, that someone else wrote through S3: that object's own ACL decides, as
   S3 has it (its writer owns it; ``bucket-owner-read`` and ``bucket-owner-full-control``
   are how a writer shares it with the bucket's owner). An object without an ACL of its
   own (written through Swift, or by the bucket's owner) is the bucket owner's, as in Swift.
   Whom the account's ACL (``AccountAcl``: Swift's ``X-Account-Access-Control``) names
   may do, in the account, what its level allows, as the owner does: ``admin`` anything
   (it is an owner, ``swift_owner``), ``read-write`` READ, LIST, WRITE and CONTAINERS
   (containers made and deleted, objects written; not the account's metadata or ACLs),
   ``read-only`` READ and LIST.
5. A statement of the bucket policy that allows the request allows it (what a policy may
   allow is ``POLICY_GRANTABLE``).
6. The ACLs: for an object's data or ACL, the object's ACL (or Swift's READ_OBJS on the
   bucket, for reads); for anything else in a bucket, the bucket's
   (``REQUIRED_PERMISSION``). An object's owner may always read and change its ACL.
7. Anything else is refused. Actions with no entry in ``POLICY_GRANTABLE`` (deleting a
   bucket, its metadata, its policy, its versioning, the account) are the owner's alone.

A request signed with a role's temporary credentials (STS ``AssumeRole``: ``Identity.role``)
acts as the role, not as its user, as in RGW: none of the above but this. A statement of the
role's permission policies or of the bucket policy that denies it refuses it; else one of
the role's permission policies must allow its S3 action on the bucket's or object's ARN.
Owning the account counts for nothing, and what has no S3 action (the account's listing and
metadata, creating buckets) is refused. The bucket policy is matched with the assumed
role's ARN as the requester, so only its ``"*"`` statements name a role.

How a subuser's permission maps to Swift's rights: a subuser acts in its user's account
with its permission as a mask (RGW's ``perm_mask``, checked before the account's ACL,
``verify_user_permission_no_policy``). ``full-control`` is the account's owner (tempauth's
``.admin``); as in Swift, a user without account-admin rights makes and deletes containers
only if the account's ACL grants it (``read-write``), so ``readwrite`` and ``write`` write
objects in the containers there are (RGW lets them make buckets too: issue 17 chose Swift's
model); account metadata and ACLs take ADMIN; ``read`` only reads.

A refusal is 401 for a request without credentials (log in, then ask again) and 403 for
one with them; the gateway sends it as such (``middleware/request_identity.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

from . import acl as acls
from .acl import Acl
from .bucket_info import BucketInfo
from .policy import ALLOW, DENY, OBJECT_ACTIONS, Policy, PolicyRequest, bucket_arn, stored_policy
from .tenants import account_of

READ, LIST, WRITE, ADMIN = "read", "list", "write", "admin"
READ_ACP, WRITE_ACP = "read_acp", "write_acp"
CONTAINERS = "containers"  # making and deleting the account's containers (buckets)
PERMISSION_ACTIONS = {
    "read": {READ, LIST},
    "write": {WRITE},
    "readwrite": {READ, LIST, WRITE},
    "full-control": {READ, LIST, WRITE, CONTAINERS, ADMIN, READ_ACP, WRITE_ACP},
}
ACCOUNT_PREFIX = "AUTH_"
# What each level of an account's ACL lets its grantees do in the account (Swift's tempauth).
ACCOUNT_ACL_ACTIONS = {
    "admin": PERMISSION_ACTIONS["full-control"],
    "read-write": {READ, LIST, WRITE, CONTAINERS},
    "read-only": {READ, LIST},
}
ACCOUNT_ACL_ATTR = "x-account-access-control"  # where a user's attrs keep its account's ACL

BUCKET, OBJECT = "bucket", "object"
# What an ACL must grant for an S3 action: on the bucket's ACL or the object's.
REQUIRED_PERMISSION = {
    "s3:GetObject": (OBJECT, acls.READ),
    "s3:GetObjectVersion": (OBJECT, acls.READ),
    "s3:GetObjectAcl": (OBJECT, acls.READ_ACP),
    "s3:GetObjectVersionAcl": (OBJECT, acls.READ_ACP),
    "s3:PutObjectAcl": (OBJECT, acls.WRITE_ACP),
    "s3:PutObjectVersionAcl": (OBJECT, acls.WRITE_ACP),
    "s3:PutObject": (BUCKET, acls.WRITE),
    "s3:DeleteObject": (BUCKET, acls.WRITE),
    "s3:AbortMultipartUpload": (BUCKET, acls.WRITE),
    "s3:ListMultipartUploadParts": (BUCKET, acls.WRITE),  # who may upload may resume an upload
    "s3:ListBucket": (BUCKET, acls.READ),
    "s3:ListBucketVersions": (BUCKET, acls.READ),
    "s3:ListBucketMultipartUploads": (BUCKET, acls.READ),
    "s3:GetBucketAcl": (BUCKET, acls.READ_ACP),
    "s3:PutBucketAcl": (BUCKET, acls.WRITE_ACP),
}
# What a bucket policy may allow others: what ACLs may, and removing versions for good (which
# an ACL gives nobody but the bucket's owner, as in S3).
POLICY_GRANTABLE = {*REQUIRED_PERMISSION, "s3:DeleteObjectVersion"}
POLICY_ACTIONS = ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy")


@dataclass
class Identity:
    """Who a token or signature belongs to, and the roles it carries."""

    user_id: str
    swift_user: str
    expires: float
    permissions: str = "full-control"  # the subuser's: read, write, readwrite, full-control
    reseller_admin: bool = False
    role: str = ""  # the assumed role's ARN (arn:aws:sts:::assumed-role/...), acting as the role
    role_policy: Policy | None = None  # then the role's permission policies, as one

    @property
    def account(self) -> str:
        """The Swift account of the user: ``AUTH_<tenant>``, or ``AUTH_<uid>`` without one."""
        return ACCOUNT_PREFIX + account_of(self.user_id)

    def names(self) -> set[str]:
        """What a user grant may call this requester: its user, Swift user or account."""
        return {self.user_id, self.swift_user, self.account}


@dataclass(frozen=True)
class AccountAcl:
    """An account's ACL: who may do what in it besides its owner (Swift's account ACL, v2).
    Grantees are names a requester goes by (``Identity.names``: a user, ``user:subuser``,
    ``AUTH_<user>``)."""

    admin: tuple[str, ...] = ()
    read_write: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()

    @classmethod
    def from_levels(cls, levels: dict[str, list[str]]) -> AccountAcl:
        """From Swift's document (``{"admin": [...], "read-write": [...], ...}``), checked by the caller."""
        return cls(**{f.name: tuple(levels.get(f.name.replace("_", "-"), ())) for f in fields(cls)})

    @classmethod
    def decode(cls, text: str) -> AccountAcl:
        return cls.from_levels(json.loads(text)) if text else cls()

    def encode(self) -> str:
        """Swift's document, as an account's HEAD shows it: the levels that name someone."""
        levels = {f.name.replace("_", "-"): list(getattr(self, f.name)) for f in fields(self)}
        return json.dumps({level: names for level, names in levels.items() if names}, separators=(",", ":"))

    def actions_of(self, identity: Identity) -> set[str]:
        """What the ACL lets ``identity`` do in the account."""
        names = identity.names()
        actions: set[str] = set()
        for f in fields(self):
            if names.intersection(getattr(self, f.name)):
                actions |= ACCOUNT_ACL_ACTIONS[f.name.replace("_", "-")]
        return actions


@dataclass
class Access:
    """What a request asks for."""

    account_uid: str  # who owns what is asked: the bucket's owner, or the account's user
    action: str  # READ, LIST, WRITE, ADMIN, READ_ACP or WRITE_ACP: what a subuser needs
    s3_action: str = ""  # what ACLs and policies grant ("s3:GetObject"); "": the owner's alone
    bucket: str = ""  # for requests inside a bucket, with its ACL and policy:
    bucket_acl: Acl | None = None
    policy: Policy | None = None
    key: str | None = None  # for requests on an object, with its ACL (None: not known)
    object_acl: Acl | None = None
    referrer: str = ""
    source_ip: str = ""
    secure: bool = False  # made over https
    account_acl: AccountAcl | None = None  # the account's, when the requester is not its owner


def bucket_access(
    account_uid: str,
    action: str,
    s3_action: str,
    bucket: BucketInfo,
    key: str | None = None,
    object_acl: str | None = None,
) -> Access:
    """A request doing ``action`` (as ``s3_action``) in ``bucket``, with the bucket's ACL and
    policy; to its object ``key``, whose stored ACL ``object_acl`` counts when known (None: not
    known). Where the request came from is the caller's to add (``dataclasses.replace``). A
    policy names the bucket as its tenant does (``arn:aws:s3:::photos``): it is the bucket's own."""
    return Access(
        account_uid,
        action,
        s3_action,
        bucket.local_name,
        acls.bucket_acl(bucket.attrs, bucket.owner),
        stored_policy(bucket.attrs, bucket.local_name),
        key,
        acls.object_acl(object_acl, bucket.owner) if object_acl is not None else None,
    )


def native_s3_action(action: str, method: str, on_object: bool, versions: bool = False) -> str:
    """The S3 action a native request of ``method`` doing ``action`` is (``versions``: one
    that names a version of the object, or lists the bucket's versions); "" for one only
    the account's owner may do."""
    if on_object:
        version = "Version" if versions else ""
        if action == WRITE:
            return f"s3:DeleteObject{version}" if method == "DELETE" else "s3:PutObject"
        names = {READ: "s3:GetObject{}", READ_ACP: "s3:GetObject{}Acl", WRITE_ACP: "s3:PutObject{}Acl"}
        return names[action].format(version) if action in names else ""
    if action == WRITE and method == "DELETE":
        return "s3:DeleteBucket"
    if action == LIST:
        return "s3:ListBucketVersions" if versions else "s3:ListBucket"
    return {READ_ACP: "s3:GetBucketAcl", WRITE_ACP: "s3:PutBucketAcl"}.get(action, "")


def decide(identity: Identity | None, access: Access) -> int | None:
    """None if ``identity`` (None: anonymous) may do ``access``; else the status to refuse it with."""
    refused = 401 if identity is None else 403
    if identity is not None and identity.role:
        return _role_decision(identity, access)
    if identity is not None:
        if identity.reseller_admin:
            return None
        if access.action not in PERMISSION_ACTIONS.get(identity.permissions, set()):
            return 403
    effect = _policy_effect(identity, access)
    if effect == DENY and access.s3_action not in POLICY_ACTIONS:
        return refused
    target = REQUIRED_PERMISSION.get(access.s3_action, ("",))[0]
    if identity is not None and _acts_as_owner(identity, access):
        if target != OBJECT or access.object_acl is None:
            return None
        owner = Identity(access.account_uid, access.account_uid, 0.0)
        if identity.user_id != access.account_uid and _acl_allows(owner, access):
            return None  # the account's ACL grants what the object's ACL gives the account's owner
    if effect == ALLOW and access.s3_action in POLICY_GRANTABLE:
        return None
    if target and _acl_allows(identity, access):
        return None
    return refused


def _acts_as_owner(identity: Identity, access: Access) -> bool:
    """Is ``identity`` the account's owner, or granted ``access.action`` by the account's ACL?"""
    if identity.user_id == access.account_uid:
        return True
    return access.account_acl is not None and access.action in access.account_acl.actions_of(identity)


def _role_decision(identity: Identity, access: Access) -> int | None:
    if not access.s3_action or not access.bucket or identity.role_policy is None:
        return 403
    request = _policy_request(identity.role, access)
    effect = identity.role_policy.evaluate(request)
    if effect == DENY or (access.policy is not None and access.policy.evaluate(request) == DENY):
        return 403
    return None if effect == ALLOW else 403


def _policy_effect(identity: Identity | None, access: Access) -> str | None:
    if access.policy is None or not access.s3_action or not access.bucket:
        return None
    return access.policy.evaluate(_policy_request(identity.user_id if identity is not None else None, access))


def _policy_request(user: str | None, access: Access) -> PolicyRequest:
    on_object = access.key is not None and access.s3_action in OBJECT_ACTIONS
    return PolicyRequest(
        user,
        access.s3_action,
        bucket_arn(access.bucket, access.key if on_object else None),
        access.source_ip,
        access.secure,
    )


def _acl_allows(identity: Identity | None, access: Access) -> bool:
    target, permission = REQUIRED_PERMISSION[access.s3_action]
    names = identity.names() if identity is not None else set()
    authenticated = identity is not None
    if target == OBJECT:
        if access.object_acl is not None:
            if permission in access.object_acl.granted(names, authenticated, access.referrer):
                return True
        if permission != acls.READ or access.bucket_acl is None:
            return False
        return acls.READ_OBJS in access.bucket_acl.granted(names, authenticated, access.referrer)
    if access.bucket_acl is None:
        return False
    return permission in access.bucket_acl.granted(names, authenticated, access.referrer)
