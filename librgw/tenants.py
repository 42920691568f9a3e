"""Tenants, as RGW's multitenancy names them: users ``tenant$uid``, buckets ``tenant/bucket``.

A user may belong to a tenant: its id is then ``<tenant>$<uid>`` (``users.uid/testx$tester``),
and the buckets it makes live in the tenant's namespace, their entrypoints named
``<tenant>/<bucket>`` in ``root``, so two tenants can each have a bucket ``photos``. A user
without a tenant (the "legacy" tenant, whose name is empty) keeps plain names: data written
before tenants reads as it always did. Tenants have no record of their own: one exists
while a user of it does. Tenant names are letters, digits and underscores, as RGW allows.

How the protocols name a tenant's bucket:

- Swift: the account ``AUTH_<tenant>`` is the tenant's (``AUTH_<uid>`` that of a user without
  a tenant), its containers the tenant's buckets. A tenant and a user without one may not
  share a name, so an account names one or the other (``users.UserStore`` refuses the clash).
- S3: a user's own tenant's buckets by their plain name; another tenant's as
  ``<tenant>:<bucket>`` (path-style only: a host name cannot hold ``:``), and a legacy
  bucket as ``:<bucket>`` from inside a tenant, as RGW reads them.
"""

from __future__ import annotations

import re

from .errors import InvalidArgument

TENANT_SEP = "$"  # in a user id
BUCKET_SEP = "/"  # in a bucket's entry name (neither S3 nor Swift allow it in a bucket name)
S3_TENANT_SEP = ":"  # in an S3 bucket name
TENANT_RE = re.compile(r"[A-Za-z0-9_]{1,128}")


def tenant_problem(tenant: str) -> str | None:
    """Why ``tenant`` cannot name a tenant, or None."""
    if not TENANT_RE.fullmatch(tenant):
        return "may hold only letters, digits and underscores (1 to 128 of them)"
    return None


def split_user_id(uid: str) -> tuple[str, str]:
    """(tenant, id) of a user id: ``("testx", "tester")`` for ``testx$tester``, ``("", uid)``
    for a user without a tenant."""
    tenant, sep, name = uid.partition(TENANT_SEP)
    return (tenant, name) if sep else ("", uid)


def user_id(tenant: str, uid: str) -> str:
    """The user id of ``uid`` in ``tenant`` ("": none), as ``radosgw-admin --tenant`` makes it.
    A ``uid`` that names a tenant already must name the same one."""
    if not tenant:
        return uid
    named, name = split_user_id(uid)
    if named and named != tenant:
        raise InvalidArgument(f"user id {uid!r} names tenant {named!r}, not {tenant!r}")
    return f"{tenant}{TENANT_SEP}{name}"


def tenant_of(uid: str) -> str:
    """The tenant of a user ("" for none)."""
    return split_user_id(uid)[0]


def account_of(uid: str) -> str:
    """The Swift account (what follows ``AUTH_``) a user's buckets are in: its tenant, or
    the user itself without one."""
    return tenant_of(uid) or uid


def bucket_entry(tenant: str, name: str) -> str:
    """The entry name (the entrypoint's object name) of bucket ``name`` of ``tenant``."""
    return f"{tenant}{BUCKET_SEP}{name}" if tenant else name


def split_bucket_entry(entry: str) -> tuple[str, str]:
    """(tenant, bucket name) of a bucket's entry name."""
    tenant, sep, name = entry.partition(BUCKET_SEP)
    return (tenant, name) if sep else ("", entry)


def s3_bucket_entry(s3_name: str, tenant: str) -> str:
    """The entry name of the bucket an S3 request names: ``<tenant>:<bucket>`` explicitly,
    a plain name in ``tenant`` (the requester's)."""
    named, sep, name = s3_name.partition(S3_TENANT_SEP)
    return bucket_entry(named, name) if sep else bucket_entry(tenant, s3_name)
