"""``/v1/AUTH_<account>/<container>``: a container is a bucket of the account's user, or of
its tenant (``librgw/tenants.py``), whose users share one namespace: each may make
containers in it, and owns the ones it makes.

PUT creates it (201), or updates an existing one's metadata (202); DELETE removes an
empty one (204; 409 while it holds objects); POST changes metadata (204); HEAD and GET give
``X-Container-Object-Count``, ``X-Container-Bytes-Used``, the metadata and, to the
account's owner, the ACLs; GET also lists the objects (``listing.py``).

Container metadata is ``X-Container-Meta-*``; the ACLs are ``X-Container-Read`` and
``X-Container-Write``, Swift's view of the bucket's one ACL (``acl.py`` says what they
grant; ``access_control.py`` serves the whole ACL, S3's grants too, and the bucket policy
as ``?acl`` and ``?policy``). Setting an ACL takes a full-control user; anything else
about the container, a user who may write the account.
Listings page through the sharded bucket index in key order; ``reverse`` gathers the
requested key range first, so it costs as much as listing that range.

``GET ?uploads`` lists the container's open multipart uploads instead (``multipart.py``).
``X-Versions-Enabled`` on PUT and POST turns versioning on or suspends it, and ``GET
?versions`` lists the objects' versions (``versions.py``); ``X-Versions-Location`` and
``X-History-Location`` (Swift's legacy versioning, which the ``versioned_writes`` filter does)
are kept and answered here. ``?tagging``, ``?cors``,
``?lifecycle`` and ``?encryption`` are S3's bucket configurations (``subresources.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

from webob import Response, exc

from librgw.authorization import ADMIN, CONTAINERS, LIST, WRITE
from librgw.bucket_index import IndexEntry
from librgw.bucket_info import BucketInfo
from librgw.errors import BucketAlreadyOwnedByYou, BucketNotEmpty

from . import access_control, metadata, multipart, subresources, versions
from .account import container_stats
from .answer_bodies import bodiless_answer
from .constraints import check_container_name, check_metadata
from .context import Context
from .listing import ListingQuery, described, listing_format, listing_query, render
from .timestamps import swift_time, timestamp_headers

KIND = "container"
PAGE = 1000


def handle(ctx: Context) -> Response:
    method = ctx.request.method
    check_container_name(ctx.path.container, ctx.limits)
    if multipart.is_uploads_listing(ctx.request):
        return multipart.handle_container(ctx)
    if access_control.is_sub_resource(ctx.request):
        return access_control.handle_container(ctx)
    if (subresource := subresources.container_handler(ctx.request)) is not None:  # S3's bucket configurations
        return subresource(ctx)
    if method == "PUT":
        return _put(ctx)
    if method in ("GET", "HEAD"):
        return _get(ctx, listing=method == "GET")
    if method == "POST":
        return _post(ctx)
    if method == "DELETE":
        return _delete(ctx)
    raise exc.HTTPMethodNotAllowed(headers={"Allow": "GET, HEAD, PUT, POST, DELETE"})


def _requested_attrs(ctx: Context, info: BucketInfo | None) -> dict[str, str] | None:
    """The attributes of container ``info`` (None: one this request creates) after this
    request's metadata and ACL headers; None if it asks for no change. Authorizes the change
    (an ACL takes ``ADMIN``)."""
    creating = info is None
    attrs = info.attrs if info is not None else {}
    to_set, to_remove = metadata.requested_changes(ctx.request.headers, KIND)
    sets_acl = _sets_acl(ctx, creating)
    sets_keys = bool((to_set.keys() | to_remove) & metadata.OWNER_ONLY)
    # a new container is the account's to make (CONTAINERS); an existing one's metadata, its owner's
    ctx.authorize(ADMIN if sets_acl or sets_keys else CONTAINERS if creating else WRITE, info)
    located = versions.with_legacy_location(attrs, ctx.request.headers)
    if not to_set and not to_remove and not sets_acl and located is None:
        return None
    attrs = located if located is not None else attrs
    if sets_acl:
        owner = info.owner if info is not None else ctx.account_owner()
        attrs = access_control.container_attrs(ctx, attrs, owner, creating)
    check_metadata(to_set, KIND, ctx.limits)
    items = {k: v for k, v in metadata.stored_items(attrs, KIND).items() if k not in to_remove}
    items.update(to_set)
    check_metadata(items, KIND, ctx.limits)
    return metadata.with_items(attrs, KIND, items)


def _sets_acl(ctx: Context, creating: bool) -> bool:
    headers = ctx.request.headers
    return any(name in headers for name in access_control.SWIFT_ACL_HEADERS) or (
        creating and access_control.ACL_HEADER in headers
    )


def _put(ctx: Context) -> Response:
    name = ctx.path.container
    info = ctx.find_bucket(name)  # (users without a tenant share one namespace: 409 from the core)
    state = versions.requested_state(ctx.request)
    attrs = _requested_attrs(ctx, info)
    status = 202
    if info is None:
        try:
            info = ctx.rgw.buckets.create(ctx.account_owner(), name, swift=True)
            status = 201
        except BucketAlreadyOwnedByYou:
            info = ctx.bucket()  # made by a concurrent PUT
    if attrs is not None:
        ctx.rgw.buckets.set_attrs(info.name, attrs)
    if state is not None:
        ctx.rgw.buckets.set_versioning(info.name, state)
    return bodiless_answer(status)


def _post(ctx: Context) -> Response:
    info = ctx.bucket()
    state = versions.requested_state(ctx.request)
    attrs = _requested_attrs(ctx, info)
    if attrs is not None:
        ctx.rgw.buckets.set_attrs(info.name, attrs)
    if state is not None:
        ctx.rgw.buckets.set_versioning(info.name, state)
    return bodiless_answer(204)


def _delete(ctx: Context) -> Response:
    """Delete an empty container: 409 while it holds objects; entries that interrupted writes
    left without an object do not count (``BucketIndex.holds_objects`` drops them)."""
    info = ctx.bucket()
    ctx.authorize(CONTAINERS, info)  # the owner's (an account admin's) alone, unless the bucket policy denies it
    try:
        ctx.rgw.buckets.delete(info.name, info.owner)
    except BucketNotEmpty:
        with ctx.rgw.indexes.open(info) as index:
            if index.holds_objects():
                raise
        ctx.rgw.buckets.delete(info.name, info.owner)
    return bodiless_answer(204)


def container_headers(ctx: Context, info: BucketInfo) -> list[tuple[str, str]]:
    owner = ctx.is_owner(info)
    headers = []
    if not ctx.skips_usage:
        count, used = container_stats(ctx, info)
        headers += [("X-Container-Object-Count", str(count)), ("X-Container-Bytes-Used", str(used))]
    headers += [
        ("X-Storage-Policy", info.placement_rule),
        *versions.state_headers(info),
        *versions.legacy_location_headers(info),
        *timestamp_headers(info.creation_time),
        ("Accept-Ranges", "bytes"),
        *metadata.headers_of(metadata.owners_view(metadata.stored_items(info.attrs, KIND), owner), KIND),
    ]
    if owner:
        headers += access_control.swift_acl_headers(info)
    return headers


def _get(ctx: Context, listing: bool) -> Response:
    query = listing_query(ctx.request, ctx.limits.container_listing_limit) if listing else None
    fmt = query.format if query else listing_format(ctx.request)
    info = ctx.bucket()
    ctx.authorize(LIST, info)
    headers = container_headers(ctx, info)
    if query is None:
        return described(Response(status=204, headerlist=headers), fmt)
    if versions.is_versions_listing(ctx.request):
        items = versions.listed_versions(ctx, info, query)
    else:
        items = [_item(entry) for entry in listed(ctx, info, query)]
    return render(query, KIND, info.local_name, items, headers)


def _item(entry: IndexEntry | str) -> dict:
    if isinstance(entry, str):
        return {"subdir": entry}
    content_type, large_object_size = metadata.split_swift_bytes(entry.content_type)
    return {  # the container server's order
        "bytes": entry.size if large_object_size is None else large_object_size,
        "hash": entry.listed_etag or entry.etag,  # as Swift's container server, its override if any
        "name": entry.key,
        "content_type": content_type,
        "last_modified": swift_time(entry.mtime),
    }


def listed(ctx: Context, info: BucketInfo, query: ListingQuery) -> list[IndexEntry | str]:
    """The entries (and common prefixes, as strings) of one listing page."""
    if not query.reverse:
        return _take(_walk(ctx, info, query, query.marker, query.end_marker), query.limit)
    everything = list(_walk(ctx, info, query, query.end_marker, query.marker))
    everything.reverse()
    return everything[: query.limit]


def _take(items: Iterator, limit: int) -> list:
    taken = []
    for item in items:
        if len(taken) == limit:
            break
        taken.append(item)
    return taken


def _walk(ctx: Context, info: BucketInfo, query: ListingQuery, after: str, before: str) -> Iterator[IndexEntry | str]:
    """Entries and common prefixes in key order, strictly between ``after`` and ``before`` ("": unbounded)."""
    marker = after
    with ctx.rgw.indexes.open(info) as index:
        while True:
            page = index.list(query.prefix, query.delimiter, marker, PAGE)
            merged = sorted([*page.entries, *page.prefixes], key=lambda e: e if isinstance(e, str) else e.key)
            for item in merged:
                name = item if isinstance(item, str) else item.key
                if before and name >= before:
                    return
                yield item
            if not page.is_truncated:
                return
            marker = page.next_marker
