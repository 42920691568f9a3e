"""``/v1/AUTH_<account>/<container>/<object>``: objects, read and written through the core.

- **PUT** streams the body into the core (``request_body.py``: ``Content-Length`` or
  chunked; 411 without either, 413 over ``max_file_size``); an ``ETag`` header is checked
  against the body's MD5 before the object becomes visible (422 if it differs);
  ``If-None-Match: *`` refuses to overwrite and ``If-Match`` to replace another object than
  the one named (412, ``conditions.py``). ``X-Copy-From: <container>/<object>`` makes it a
  server-side copy (its conditions are the destination's), from the account
  ``X-Copy-From-Account`` names (``AUTH_<...>``) if given. ``Content-Type`` (guessed from
  the name when absent), ``Content-Disposition``, ``Content-Encoding`` and the other
  ``CONTENT_HEADERS``, and ``X-Object-Meta-*`` are kept with the object.
- **GET/HEAD** answer with them, ``ETag``, ``Last-Modified`` and ``X-Timestamp``
  (``timestamps.py``); ``Range``
  (one range or several, ``ranges.py``) and the conditional headers (``conditions.py``);
  ``?part-number=N`` reads part N of an object made by a multipart upload (206, with
  ``X-Parts-Count``; any other object is one part). A GET reads the head's share and the
  first tail stripe before it answers, so an object the cluster cannot serve now is a 503
  (a damaged one a 500) rather than a 200; a read that fails once the body has started
  aborts the connection, so the client sees fewer bytes than ``Content-Length`` promised.
- **POST** replaces the metadata and content headers (202); **DELETE** removes (204); both
  404 for a missing object.
- ``X-Delete-At`` (which the ``expiration`` filter checks, and makes of ``X-Delete-After``)
  on a PUT, COPY or POST is when the object expires (a copy without it keeps the source's
  and answers it, a POST without it removes it, as in Swift); GET and HEAD answer it. An
  expired object is 404 at once (the core's ``stat``).
- **COPY** with ``Destination: <container>/<object>`` copies, into
  the account ``Destination-Account`` names if given. A copy needs READ of the source and
  WRITE of the destination, whichever accounts they are in, and answers with
  ``X-Copied-From``, ``X-Copied-From-Account`` and ``X-Copied-From-Last-Modified``, as Swift's
  copy middleware does.

An ``ETag`` header is the bare MD5, unquoted, as Swift's proxy sends it (on PUT, COPY, GET,
HEAD, 304 and 412 alike); an object joined from a multipart upload, whose ETag is no MD5
(``<md5 of the parts' md5s>-<parts>``), gets it quoted, as Swift quotes a large object's.
S3 quotes every ETag; the ``s3`` filter adds the quotes.

A copy shares the source's tail objects, so it costs one head write, whatever the size.
Segmented objects are the ``slo`` and ``dlo`` filters' (``../slo.py``, ``../dlo.py``): here a
manifest is an object like any other, which keeps ``X-Object-Manifest`` and
``X-Static-Large-Object`` (among the core's ``CONTENT_HEADERS``) for them to read.

``?uploads`` and ``?upload-id`` address S3-style multipart uploads (``multipart.py``), ``?acl``
the object's ACL (``access_control.py``, which also says what ``X-Librgw-Acl`` on a PUT or
copy does), ``?tagging`` and ``X-Object-Tagging`` its tags (``tagging.py``). Reading an
object takes READ as its ACL and its container's decide; a copy is its writer's, with the
ACL the request gives (a copy never takes its source's ACL, as in S3), while POST keeps the
object's owner and ACL.
Every operation goes through the core's ``ObjectOps``, which decides what it does in a
versioned container; ``?version-id`` and the version headers are ``versions.py``'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from webob import Response, exc

from librgw.authorization import READ, WRITE
from librgw.bucket_info import BucketInfo
from librgw.errors import NoSuchKey
from librgw.objects import ObjectReader, ObjectState
from librgw.write_request import WriteRequest

from ..request_identity import NATIVE_S3_KEY
from . import access_control, lifecycle, metadata, multipart, tagging, versions
from .answer_bodies import about_object, bodiless_answer
from .conditions import check_read_conditions, write_condition
from .constraints import check_container_name, check_metadata, check_object_name
from .context import Context
from .object_request import (
    content_headers,
    content_type_of,
    copy_account,
    object_path,
    requested_content_type,
    requested_delete_at,
    requested_metadata,
)
from .ranges import multipart_body, satisfiable_ranges
from .request_body import upload_body
from .timestamps import http_date, timestamp_headers

KIND = "object"
READ_CHUNK = 1024 * 1024


def handle(ctx: Context) -> Response:
    check_container_name(ctx.path.container, ctx.limits)
    check_object_name(ctx.path.obj, ctx.limits)
    if multipart.is_upload_request(ctx.request):
        return multipart.handle_object(ctx)
    if access_control.is_sub_resource(ctx.request):
        return access_control.handle_object(ctx)
    if tagging.is_tagging_request(ctx.request):
        return tagging.handle_object(ctx)
    method = ctx.request.method
    if method in ("GET", "HEAD"):
        return _get(ctx, head=method == "HEAD")
    if method == "PUT":
        versions.refuse_version_on_write(ctx.request)
        if "X-Copy-From" in ctx.request.headers:
            source = (
                copy_account(ctx, "X-Copy-From-Account"),
                *object_path(ctx.request.headers["X-Copy-From"], "X-Copy-From"),
            )
            destination = (ctx.path.account, ctx.path.container, ctx.path.obj)
            return _copy(ctx, source, destination, versions.copy_source_version(ctx.request))
        return _put(ctx)
    if method == "COPY":
        source = (ctx.path.account, ctx.path.container, ctx.path.obj)
        destination = (
            copy_account(ctx, "Destination-Account"),
            *object_path(ctx.request.headers.get("Destination", ""), "Destination"),
        )
        return _copy(ctx, source, destination, versions.requested_version(ctx.request))
    if method == "POST":
        versions.refuse_version_on_write(ctx.request)
        return _post(ctx)
    if method == "DELETE":
        return _delete(ctx)
    raise exc.HTTPMethodNotAllowed(headers={"Allow": "GET, HEAD, PUT, POST, DELETE, COPY"})


def etag_header(etag: str) -> str:
    """An object's ``ETag`` header: bare, or quoted for a multipart object's (which is no MD5)."""
    return f'"{etag}"' if "-" in etag else etag


def object_headers(info: ObjectState) -> list[tuple[str, str]]:
    return [
        ("ETag", etag_header(info.etag)),
        ("Accept-Ranges", "bytes"),
        *timestamp_headers(info.mtime),
        *[(name.title(), metadata.to_wsgi(value)) for name, value in sorted(info.headers.items())],
        *metadata.headers_of(info.metadata, KIND),
        *([("X-Delete-At", str(int(info.delete_at)))] if info.delete_at is not None else []),
    ]


def _get(ctx: Context, head: bool) -> Response:
    bucket = ctx.bucket()
    version_id = versions.requested_version(ctx.request)
    info = ctx.authorized_object(READ, bucket, version_id=version_id)
    shown_type = metadata.split_swift_bytes(info.content_type)[0]  # as Swift's proxy answers it
    headers = object_headers(info) + versions.read_headers(bucket, info)
    headers += tagging.count_headers(info) + lifecycle.expiration_headers(bucket, info)
    try:
        check_read_conditions(ctx.request, info.etag, info.mtime, etag_header(info.etag))
        ranges = _part_ranges(ctx, info, headers) or satisfiable_ranges(ctx.request.headers.get("Range"), info.size)
    except (exc.HTTPNotModified, exc.HTTPPreconditionFailed, exc.HTTPRequestRangeNotSatisfiable) as refusal:
        if refusal.code == 412:  # Swift's names the object but not its type or its ranges
            raise about_object(refusal, [h for h in headers if h[0] != "Accept-Ranges"], None) from None
        raise about_object(refusal, headers, metadata.to_wsgi(shown_type)) from None
    if ranges is None:
        status, length, content_type = 200, info.size, shown_type
        body = None if head or not info.size else _stream(_reader(ctx, bucket, info, 0, info.size - 1))
    elif len(ranges) == 1:
        (first, last), status, content_type = ranges[0], 206, shown_type
        headers.append(("Content-Range", f"bytes {first}-{last}/{info.size}"))
        length = last - first + 1
        body = None if head else _stream(_reader(ctx, bucket, info, first, last))
    else:
        status = 206
        opened = {} if head else {ranges[0]: _reader(ctx, bucket, info, *ranges[0])}
        content_type, length, body = multipart_body(
            ranges,
            info.size,
            shown_type,
            lambda first, last: _stream(opened.pop((first, last), None) or _reader(ctx, bucket, info, first, last)),
        )
        body = None if head else body
    response = Response(status=status, headerlist=headers, app_iter=body if body is not None else [b""])
    # after the body: webob forgets a Content-Length set before app_iter, and HEAD sends none
    response.headers["Content-Type"] = metadata.to_wsgi(content_type)
    response.content_length = length
    return response


def _part_ranges(ctx: Context, info: ObjectState, headers: list) -> list[tuple[int, int]] | None:
    """With ``?part-number=N``: the bytes of part N of a multipart object (any other object is
    one part), and ``X-Parts-Count``; 416 for a part it does not have."""
    number = ctx.request.GET.get("part-number")
    if number is None:
        return None
    part = info.manifest.part_range(int(number)) if number.isascii() and number.isdigit() else None
    if part is None:
        raise exc.HTTPRequestRangeNotSatisfiable(f"The object has no part {number[:16]}")
    headers.append(("X-Parts-Count", str(len(info.manifest.multipart_sizes) or 1)))
    return [part]


def _reader(ctx: Context, bucket: BucketInfo, info: ObjectState, first: int, last: int) -> ObjectReader:
    """A reader of bytes ``first..last`` of the object as stat'ed, its first stripe read already:
    an object that cannot be read now is an error answer, not a body cut short."""
    reader = ctx.rgw.object_ops.read(bucket, info, (first, last))
    if reader.etag != info.etag:  # replaced since it was stat'ed; never mix two versions
        raise exc.HTTPServiceUnavailable("The object changed while being read")
    reader.prefetch()
    return reader


def _stream(reader: ObjectReader) -> Iterator[bytes]:
    """The reader's bytes, a stripe at a time when asked for. A read that fails now raises
    through the server, which aborts the connection: the client sees a body shorter than its
    Content-Length, never a complete-looking one."""
    with reader:
        while chunk := reader.read(READ_CHUNK):
            yield chunk


def _put(ctx: Context) -> Response:
    bucket = ctx.bucket()
    ctx.authorize(WRITE, bucket)
    items = requested_metadata(ctx)
    condition = write_condition(ctx.request)
    ctx.rgw.object_ops.check_condition(bucket, ctx.path.obj, condition)  # before the body is read
    body = upload_body(ctx.request, ctx.limits.max_file_size)
    request = WriteRequest(
        metadata=items,
        content_type=content_type_of(ctx, ctx.path.obj),
        headers=content_headers(ctx),
        owner=ctx.identity.user_id if ctx.identity else bucket.owner,
        acl=access_control.new_object_acl(ctx, bucket),
        tags=tagging.requested_tags(ctx),
        expected_md5=ctx.request.headers.get("ETag", "").strip().strip('"') or None,
        delete_at=requested_delete_at(ctx),
        condition=condition,
    )
    result = ctx.rgw.object_ops.put(bucket, ctx.path.obj, body, request)
    entry = result.entry
    headerlist = [("ETag", etag_header(entry.etag)), *_written_at(ctx, entry.mtime)]
    return bodiless_answer(201, [*headerlist, *versions.written_headers(result)])


def _written_at(ctx: Context, mtime: float) -> list[tuple[str, str]]:
    """When a write made its object: ``Last-Modified``, as Swift answers; and for the s3
    filter, which needs the time to the microsecond, ``X-Timestamp`` too."""
    if ctx.request.environ.get(NATIVE_S3_KEY):
        return timestamp_headers(mtime)
    return [("Last-Modified", http_date(mtime))]


def _copy(
    ctx: Context, source: tuple[str, str, str], destination: tuple[str, str, str], version_id: str | None = None
) -> Response:
    """Copy ``source`` (its version ``version_id``, if given) to ``destination``, each
    (account, container, object)."""
    src_account, src_container, src_key = source
    dst_account, dst_container, dst_key = destination
    src_bucket, dst_bucket = ctx.bucket(src_container, src_account), ctx.bucket(dst_container, dst_account)
    src = ctx.authorized_object(
        READ,
        src_bucket,
        src_key,
        s3_action="s3:GetObjectVersion" if version_id else "s3:GetObject",
        version_id=version_id,
    )
    ctx.authorize(WRITE, dst_bucket, key=dst_key, s3_action="s3:PutObject")
    check_object_name(dst_key, ctx.limits)
    # a PUT's conditions are its target's, the destination; a COPY's target is the source
    condition = write_condition(ctx.request) if ctx.request.method == "PUT" else None
    ctx.rgw.object_ops.check_condition(dst_bucket, dst_key, condition)
    fresh = ctx.request.headers.get("X-Fresh-Metadata", "").lower() in ("true", "1", "yes")
    items = {} if fresh else dict(src.metadata)
    items.update(requested_metadata(ctx))
    check_metadata(items, KIND, ctx.limits)
    headers = {} if fresh else dict(src.headers)
    headers.update(content_headers(ctx))
    delete_at = requested_delete_at(ctx)
    delete_at = src.delete_at if delete_at is None else delete_at  # kept, as Swift's copy keeps it
    request = WriteRequest(
        metadata=items,
        content_type=requested_content_type(ctx) or src.content_type,
        headers=headers,
        owner=ctx.identity.user_id if ctx.identity else dst_bucket.owner,
        acl=access_control.new_object_acl(ctx, dst_bucket),
        tags=tagging.requested_tags(ctx),
        delete_at=delete_at,
        condition=condition,
    )
    result = ctx.rgw.object_ops.copy(src_bucket, src, dst_bucket, dst_key, request)
    entry = result.entry
    return bodiless_answer(
        201,
        [
            ("ETag", etag_header(entry.etag)),
            ("X-Copied-From", quote(f"{src_container}/{src_key}")),
            ("X-Copied-From-Account", quote(src_account)),
            ("X-Copied-From-Last-Modified", http_date(src.mtime)),
            *_written_at(ctx, entry.mtime),
            *metadata.headers_of(items, KIND),  # Swift's copy answers with the copy's metadata
            *versions.written_headers(result),
            *([("X-Delete-At", str(int(delete_at)))] if delete_at is not None else []),
        ],
    )


def _post(ctx: Context) -> Response:
    """Replace the object's metadata and content headers; its data stays (a copy onto itself)."""
    bucket = ctx.bucket()
    ctx.authorize(WRITE, bucket)
    request = WriteRequest(
        metadata=requested_metadata(ctx),
        content_type=requested_content_type(ctx),
        headers=content_headers(ctx),
        delete_at=requested_delete_at(ctx),
    )
    result = ctx.rgw.object_ops.update_metadata(bucket, ctx.path.obj, request)
    return bodiless_answer(202, versions.written_headers(result))


def _delete(ctx: Context) -> Response:
    """Delete the object, or the version ``?version-id`` names: 404 if there was no object to
    delete (in a versioned container a delete marker is added all the same, and named)."""
    bucket = ctx.bucket()
    ctx.authorize(WRITE, bucket)
    result = ctx.rgw.object_ops.delete(bucket, ctx.path.obj, versions.requested_version(ctx.request))
    headers = versions.deleted_headers(result)
    if not result.existed:
        if result.version_id is None:
            raise NoSuchKey(f"{bucket.name}/{ctx.path.obj} does not exist")
        raise exc.HTTPNotFound(headers=headers)
    return bodiless_answer(204, headers)
