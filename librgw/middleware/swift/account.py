"""``/v1/AUTH_<tenant or uid>``: an account is a tenant's, or a user's without one; its
containers are the tenant's buckets, or the user's.

HEAD and GET give ``X-Account-Container-Count``, ``X-Account-Object-Count`` and
``X-Account-Bytes-Used`` (summed from the buckets' index headers), the same three per
storage policy (``X-Account-Storage-Policy-<policy>-Object-Count``, ...), ``X-Timestamp``,
the account's metadata and, for GET, the listing of its containers
(``listing.py``: each with ``count``, ``bytes``, ``last_modified``, ``storage_policy``).
Swift makes an account's database with its first container, so these times are the oldest
container's creation (now, for an account without containers, as Swift's answer for an
account it has not made yet). POST sets metadata
(``X-Account-Meta-*``), which only a full-control user of the account may do. Accounts
are made and removed with ``librgw admin user``, so PUT and DELETE are 405.

``X-Account-Access-Control`` on POST sets the account's ACL, Swift's (tempauth's) v2
document: ``{"admin": [...], "read-write": [...], "read-only": [...]}``, each a list of
the names a requester goes by (``bob``, ``bob:swift``, ``AUTH_bob``); what each level
allows is ``librgw/authorization.py``'s. An empty value or ``{}`` removes it. A document
that is not one is 400 with tempauth's message ("Syntax error in input (...)", "Key 'x'
not recognized", ...). Only an owner (a full-control user, a reseller admin, an ``admin``
of the ACL) may set it, and only an owner sees it on HEAD and GET.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from webob import Response, exc

from librgw.authorization import ACCOUNT_ACL_ACTIONS, ACCOUNT_ACL_ATTR, ADMIN, LIST, AccountAcl
from librgw.bucket_index import common_prefix
from librgw.bucket_info import BucketInfo
from librgw.tenants import bucket_entry
from librgw.users import Account

from . import metadata
from .answer_bodies import bodiless_answer
from .constraints import check_metadata
from .context import Context
from .listing import ListingQuery, described, listing_format, listing_query, render
from .timestamps import normal, swift_time

KIND = "account"
ACL_HEADER = "X-Account-Access-Control"


@dataclass
class PolicyStats:
    """An account's containers in one storage policy, and their objects and bytes."""

    containers: int = 0
    objects: int = 0
    bytes_used: int = 0

    def add(self, objects: int, bytes_used: int) -> None:
        self.containers += 1
        self.objects += objects
        self.bytes_used += bytes_used


def container_stats(ctx: Context, info: BucketInfo) -> tuple[int, int]:
    """(objects, bytes) of a bucket, from its index shards' headers."""
    with ctx.rgw.indexes.open(info) as index:
        return index.stats()


def handle(ctx: Context) -> Response:
    method = ctx.request.method
    if method in ("GET", "HEAD"):
        return _get(ctx, listing=method == "GET")
    if method == "POST":
        return _post(ctx)
    raise exc.HTTPMethodNotAllowed(headers={"Allow": "GET, HEAD, POST"})


def _get(ctx: Context, listing: bool) -> Response:
    query = listing_query(ctx.request, ctx.limits.account_listing_limit) if listing else None
    fmt = query.format if query else listing_format(ctx.request)
    ctx.authorize(LIST)
    account = ctx.account()
    items, usage, policies = ([], [], {}) if ctx.skips_usage and query is None else _containers(ctx, account)
    attrs, owner = ctx.rgw.users.account_attrs(account), ctx.is_owner()
    headers = [
        *usage,
        ("Accept-Ranges", "bytes"),
        *_policy_headers(policies),
        *metadata.headers_of(metadata.owners_view(metadata.stored_items(attrs, KIND), owner), KIND),
    ]
    if attrs.get(ACCOUNT_ACL_ATTR) and owner:
        headers.append((ACL_HEADER, AccountAcl.decode(attrs[ACCOUNT_ACL_ATTR]).encode()))
    if query is None:
        return described(Response(status=204, headerlist=headers), fmt)
    return render(query, KIND, ctx.path.account, select(items, query), headers)


def _containers(ctx: Context, account: Account) -> tuple[list[dict], list[tuple[str, str]], dict[str, PolicyStats]]:
    """The account's containers as listed, its usage headers and its usage per storage policy:
    a read of each container and of each of its index shards."""
    if account.tenant:
        names = ctx.rgw.buckets.list_tenant(account.tenant)
    else:
        names = ctx.rgw.buckets.list(account.name)
    items, created = [], []
    policies: dict[str, PolicyStats] = {}
    for name in names:
        info = ctx.rgw.buckets.get(bucket_entry(account.tenant, name))
        count, used = container_stats(ctx, info)
        policies.setdefault(info.placement_rule, PolicyStats()).add(count, used)
        created.append(info.creation_time)
        items.append(
            {
                "name": name,
                "count": count,
                "bytes": used,
                "last_modified": swift_time(info.creation_time),
                "storage_policy": info.placement_rule,
            }
        )
    headers = [
        ("X-Account-Container-Count", str(len(names))),
        ("X-Account-Object-Count", str(sum(p.objects for p in policies.values()))),
        ("X-Account-Bytes-Used", str(sum(p.bytes_used for p in policies.values()))),
        ("X-Timestamp", normal(min(created, default=time.time()))),
    ]
    return items, headers, policies


def _policy_headers(policies: dict[str, PolicyStats]) -> list[tuple[str, str]]:
    """Swift's per-policy account stats, ``X-Account-Storage-Policy-<policy>-<stat>``."""
    headers = []
    for policy, stats in sorted(policies.items()):
        prefix = f"X-Account-Storage-Policy-{policy.title()}"
        headers += [
            (f"{prefix}-Container-Count", str(stats.containers)),
            (f"{prefix}-Object-Count", str(stats.objects)),
            (f"{prefix}-Bytes-Used", str(stats.bytes_used)),
        ]
    return headers


def select(items: list[dict], query: ListingQuery) -> list[dict]:
    """The listing page ``query`` asks for, of items sorted by name (with ``delimiter``, names
    sharing a prefix up to it roll up into one ``subdir``)."""
    low, high = (query.end_marker, query.marker) if query.reverse else (query.marker, query.end_marker)
    chosen: list[dict] = []
    seen_prefixes: set[str] = set()
    for item in items:
        name = item["name"]
        if not name.startswith(query.prefix) or (low and name <= low) or (high and name >= high):
            continue
        subdir = common_prefix(name, query.prefix, query.delimiter)
        if subdir:
            if subdir not in seen_prefixes:
                seen_prefixes.add(subdir)
                chosen.append({"subdir": subdir})
            continue
        chosen.append(item)
    if query.reverse:
        chosen.reverse()
    return chosen[: query.limit]


def _post(ctx: Context) -> Response:
    ctx.authorize(ADMIN)
    account = ctx.account()
    attrs = ctx.rgw.users.account_attrs(account)
    to_set, to_remove = metadata.requested_changes(ctx.request.headers, KIND)
    check_metadata(to_set, KIND, ctx.limits)
    items = {k: v for k, v in metadata.stored_items(attrs, KIND).items() if k not in to_remove}
    items.update(to_set)
    check_metadata(items, KIND, ctx.limits)
    attrs = metadata.with_items(attrs, KIND, items)
    if ACL_HEADER in ctx.request.headers:
        acl = requested_account_acl(ctx.request.headers[ACL_HEADER])
        attrs = {k: v for k, v in attrs.items() if k != ACCOUNT_ACL_ATTR}
        if acl != AccountAcl():
            attrs[ACCOUNT_ACL_ATTR] = acl.encode()
    ctx.rgw.users.set_account_attrs(account, attrs)
    return bodiless_answer(204)


def requested_account_acl(value: str) -> AccountAcl:
    """The ACL an ``X-Account-Access-Control`` value asks for; 400 with tempauth's message if it
    is not a v2 document of tempauth's levels."""
    text = metadata.from_wsgi(value).strip()
    try:
        doc = json.loads(text) if text else {}
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise exc.HTTPBadRequest(f"Syntax error in input ({text!r})")
    for level, grantees in doc.items():
        if level not in ACCOUNT_ACL_ACTIONS:
            raise exc.HTTPBadRequest(f"Key {level!r} not recognized")
        if not isinstance(grantees, list):
            raise exc.HTTPBadRequest(f"Value for key {level!r} must be a list")
        if not all(isinstance(grantee, str) for grantee in grantees):
            raise exc.HTTPBadRequest(f"Elements of {level!r} list must be strings")
    return AccountAcl.from_levels(doc)
