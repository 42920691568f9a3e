"""``/v1/AUTH_<uid>``: an account is a user; its containers are the user's buckets.

HEAD and GET give ``X-Account-Container-Count``, ``X-Account-Object-Count`` and
``X-Account-Bytes-Used`` (summed from the buckets' index headers), the same three per
storage policy (``X-Account-Storage-Policy-<policy>-Object-Count``, ...), ``X-Timestamp``
and ``X-Put-Timestamp``, the account's metadata and, for GET, the listing of its containers
(``listing.py``: each with ``count``, ``bytes``, ``last_modified``, ``storage_policy``).
Swift makes an account's database with its first container, so these times are the oldest
container's creation (now, for an account without containers, as Swift's answer for an
account it has not made yet). POST sets metadata
(``X-Account-Meta-*``), which only a full-control user may do. Accounts are made and
removed with ``librgw admin user``, so PUT and DELETE are 405.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from webob import Response, exc

from librgw.authorization import ADMIN, LIST
from librgw.bucket_index import common_prefix
from librgw.bucket_info import BucketInfo

from . import metadata
from .constraints import check_metadata
from .context import Context
from .listing import ListingQuery, described, listing_format, listing_query, render
from .timestamps import normal, swift_time

KIND = "account"


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
    user = ctx.rgw.users.get(ctx.path.uid)
    names = ctx.rgw.buckets.list(user.user_id)
    items, created = [], []
    policies: dict[str, PolicyStats] = {}
    for name in names:
        info = ctx.rgw.buckets.get(name)
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
    timestamp = normal(min(created, default=time.time()))
    headers = [
        ("X-Account-Container-Count", str(len(names))),
        ("X-Account-Object-Count", str(sum(p.objects for p in policies.values()))),
        ("X-Account-Bytes-Used", str(sum(p.bytes_used for p in policies.values()))),
        ("X-Timestamp", timestamp),
        ("X-Put-Timestamp", timestamp),
        *_policy_headers(policies),
        *metadata.headers_of(metadata.stored_items(user.attrs, KIND), KIND),
    ]
    if query is None:
        return described(Response(status=204, headerlist=headers), fmt)
    return render(query, KIND, ctx.path.account, select(items, query), headers)


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
    user = ctx.rgw.users.get(ctx.path.uid)
    to_set, to_remove = metadata.requested_changes(ctx.request.headers, KIND)
    check_metadata(to_set, KIND, ctx.limits)
    items = {k: v for k, v in metadata.stored_items(user.attrs, KIND).items() if k not in to_remove}
    items.update(to_set)
    check_metadata(items, KIND, ctx.limits)
    ctx.rgw.users.set_attrs(user.user_id, metadata.with_items(user.attrs, KIND, items))
    return Response(status=204)
