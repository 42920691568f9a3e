"""``/v1/AUTH_<tenant or uid>``: an account is a tenant's, or a user's without one; its
containers are the tenant's buckets, or the user's.

HEAD and GET give ``X-Account-Container-Count``, ``X-Account-Object-Count`` and
``X-Account-Bytes-Used`` (summed from the buckets' index headers), the account's metadata
and, for GET, the listing of its containers (``listing.py``). POST sets metadata
(``X-Account-Meta-*``), which only a full-control user of the account may do. Accounts
are made and removed with ``librgw admin user``, so PUT and DELETE are 405.
"""

from __future__ import annotations

from webob import Response, exc

from librgw.authorization import ADMIN, LIST
from librgw.bucket_info import BucketInfo
from librgw.tenants import bucket_entry

from . import metadata
from .constraints import check_metadata
from .context import Context
from .listing import ListingQuery, listing_query, render, swift_time

KIND = "account"


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
    ctx.authorize(LIST)
    account = ctx.account()
    if account.tenant:
        names = ctx.rgw.buckets.list_tenant(account.tenant)
    else:
        names = ctx.rgw.buckets.list(account.name)
    items, objects, size = [], 0, 0
    for name in names:
        info = ctx.rgw.buckets.get(bucket_entry(account.tenant, name))
        count, used = container_stats(ctx, info)
        objects, size = objects + count, size + used
        items.append({"name": name, "count": count, "bytes": used, "last_modified": swift_time(info.creation_time)})
    headers = [
        ("X-Account-Container-Count", str(len(names))),
        ("X-Account-Object-Count", str(objects)),
        ("X-Account-Bytes-Used", str(size)),
        *metadata.headers_of(metadata.stored_items(ctx.rgw.users.account_attrs(account), KIND), KIND),
    ]
    if query is None:
        return Response(status=204, headerlist=headers)
    return render(query.format, KIND, ctx.path.account, select(items, query), headers)


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
        if query.delimiter:
            at = name.find(query.delimiter, len(query.prefix))
            if at >= 0:
                subdir = name[: at + 1]
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
    ctx.rgw.users.set_account_attrs(account, metadata.with_items(attrs, KIND, items))
    return Response(status=204)
