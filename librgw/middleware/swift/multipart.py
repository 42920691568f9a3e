"""Multipart uploads in the native API: sub-resources of an object and of a container.

Swift has no multipart uploads; S3 has, and the core keeps them (``librgw.multipart``).
They are offered here so the ``s3`` middleware reaches them down the pipeline like every
other operation (DESIGN §3), authorized and logged in the same place; a native client may
use them too. Answers are JSON; times are written as listings write them
(``2026-11-21T18:00:00.123456``, UTC).

On ``/v1/AUTH_<uid>/<container>/<object>``:

- ``POST ?uploads``: start an upload. ``X-Object-Meta-*``, ``Content-Type`` (guessed from the
  name when absent) and the content headers are read as a PUT reads them and become the
  object's when the upload completes. 200, ``{"upload_id": "<id>"}``.
- ``PUT ?upload-id=<id>&part-number=<n>``: part ``n`` (1 to 10000) from the body, read as a
  PUT's (``Content-Length`` or chunked, at most ``max_file_size``); an ``ETag`` header is
  checked against the part's MD5 (422, and the part is not kept). Uploading a number again
  replaces that part. 201 with the part's ``ETag``, ``X-Timestamp`` and ``Last-Modified``.
- the same with ``X-Copy-From: /<container>/<object>`` (URL-encoded; in the account
  ``X-Copy-From-Account`` names, if given): the part is the object's bytes, or with
  ``X-Copy-From-Range: bytes=<first>-<last>`` those bytes of it
  (400 if the header is not of that form, 416 if they are not all in the object). The
  bytes are read and written again (parts are stored per upload). 201 as above, plus
  ``X-Copied-From`` and ``X-Copied-From-Last-Modified``. ``X-Copy-From-Version-Id`` copies
  a version of the source (``versions.py``).
- ``GET ?upload-id=<id>[&part-number-marker=<n>][&max-parts=<m>]``: the upload and its parts
  numbered above ``n``, at most ``m`` (default and most ``MAX_LISTED``)::

      {"upload_id": "...", "object": "...", "owner": "alice", "initiated": "...",
       "content_type": "...", "part_number_marker": 0, "max_parts": 1000,
       "is_truncated": false, "next_part_number_marker": 3,
       "parts": [{"part_number": 1, "etag": "<md5>", "size": 5242880, "last_modified": "..."}]}

- ``POST ?upload-id=<id>`` with a JSON body ``[{"part_number": 1, "etag": "<md5>"}, ...]``:
  complete: the listed parts, in ascending order, each ETag matching, all but the last at
  least 5 MiB, become the object (the data is not copied). 201,
  ``{"etag": "<md5 of the parts' md5s>-<count>", "size": ..., "last_modified": "..."}``, and
  the object's ``ETag``. A body that is not such a list is 400. In a versioned container
  the object is a new version, named in ``X-Object-Version-Id``. ``If-Match`` and
  ``If-None-Match: *`` are conditions on the object it replaces, as a PUT's
  (``conditions.py``; 412, and the upload stays).
- ``DELETE ?upload-id=<id>``: abort; the parts go. 204.

On ``/v1/AUTH_<uid>/<container>``:

- ``GET ?uploads[&prefix=][&delimiter=][&key-marker=][&upload-id-marker=][&max-uploads=]``:
  the container's open uploads, by object name then upload id (S3's order), after
  ``key-marker`` (and, for that very name, after ``upload-id-marker``); with a delimiter,
  names sharing a prefix up to it roll up into one entry of ``prefixes``. At most
  ``max-uploads`` uploads and prefixes (default and most ``MAX_LISTED``)::

      {"uploads": [{"object": "...", "upload_id": "...", "owner": "alice", "initiated": "..."}],
       "prefixes": ["photos/"], "max_uploads": 1000, "is_truncated": false,
       "next_key_marker": "...", "next_upload_id_marker": "..."}

  The core lists a container's uploads by prefix only, so each page reads every open upload
  under ``prefix``.

Authorization is the objects': starting, uploading (and copying, which also takes READ of
the source object), completing and aborting take WRITE on the container; listing parts takes
READ, listing uploads LIST. ``X-Librgw-Acl`` on ``POST ?uploads`` is the object's ACL to be
(``access_control.py``). Errors are the core's, mapped in ``errors.py``: an unknown
upload id is 404 and ``InvalidPart``, ``InvalidPartOrder`` and ``EntityTooSmall`` are 400,
each named in ``X-Librgw-Error``.

Example::

    curl -X POST -H "X-Auth-Token: $T" "$URL/photos/big.iso?uploads"
    curl -X PUT -H "X-Auth-Token: $T" -T part1 "$URL/photos/big.iso?upload-id=$ID&part-number=1"
    curl -X POST -H "X-Auth-Token: $T" -d '[{"part_number": 1, "etag": "..."}]' \\
        "$URL/photos/big.iso?upload-id=$ID"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote

from webob import Request, Response, exc

from librgw.authorization import LIST, READ, WRITE
from librgw.bucket_info import BucketInfo
from librgw.multipart import Upload, UploadedPart
from librgw.write_request import WriteRequest

from . import access_control, versions
from .conditions import write_condition
from .context import Context
from .object_request import content_headers, content_type_of, copy_account, object_path, requested_metadata
from .ranges import byte_position
from .request_body import upload_body
from .tagging import requested_tags
from .timestamps import swift_time, timestamp_headers

UPLOADS = "uploads"
UPLOAD_ID = "upload-id"
PART_NUMBER = "part-number"
MAX_LISTED = 1000  # parts or uploads in one listing, as S3
MAX_COMPLETE_BODY = 2 * 1024 * 1024  # 10,000 parts listed in JSON take about 600 KB
READ_CHUNK = 64 * 1024
COPY_RANGE_RE = re.compile(r"bytes=([0-9]+)-([0-9]+)")


def _query(request: Request) -> dict[str, str]:
    try:
        return dict(request.GET)  # webob decodes the query as UTF-8
    except UnicodeDecodeError:
        raise exc.HTTPBadRequest("The query string is not UTF-8") from None


def is_upload_request(request: Request) -> bool:
    """Does an object request address an upload (``?uploads`` or ``?upload-id``)?"""
    if "upload" not in request.environ.get("QUERY_STRING", ""):
        return False  # most requests: no parsing
    params = _query(request)
    return UPLOADS in params or UPLOAD_ID in params


def is_uploads_listing(request: Request) -> bool:
    """Does a container request address its uploads (``?uploads``)?"""
    return "upload" in request.environ.get("QUERY_STRING", "") and UPLOADS in _query(request)


def handle_object(ctx: Context) -> Response:
    params = _query(ctx.request)
    method = ctx.request.method
    if UPLOAD_ID not in params:
        if method == "POST":
            return _initiate(ctx)
        raise exc.HTTPMethodNotAllowed(headers={"Allow": "POST"})
    upload_id = params[UPLOAD_ID]
    if method == "PUT":
        number = _part_number(params)
        if "X-Copy-From" in ctx.request.headers:
            return _copy_part(ctx, upload_id, number)
        return _upload_part(ctx, upload_id, number)
    if method == "GET":
        return _list_parts(ctx, upload_id, params)
    if method == "POST":
        return _complete(ctx, upload_id)
    if method == "DELETE":
        bucket = ctx.bucket()
        ctx.authorize(WRITE, bucket, s3_action="s3:AbortMultipartUpload")
        ctx.rgw.multipart.abort(bucket, ctx.path.obj, upload_id)
        return Response(status=204)
    raise exc.HTTPMethodNotAllowed(headers={"Allow": "GET, PUT, POST, DELETE"})


def handle_container(ctx: Context) -> Response:
    if ctx.request.method != "GET":
        raise exc.HTTPMethodNotAllowed(headers={"Allow": "GET"})
    params = _query(ctx.request)
    bucket = ctx.bucket()
    ctx.authorize(LIST, bucket, s3_action="s3:ListBucketMultipartUploads")
    query = UploadsQuery(
        params.get("prefix", ""),
        params.get("delimiter", ""),
        params.get("key-marker", ""),
        params.get("upload-id-marker", ""),
        _count(params, "max-uploads"),
    )
    page = select_uploads(ctx.rgw.multipart.list_uploads(bucket, query.prefix), query)
    return _json(page)


# -- helpers ---------------------------------------------------------------------------


def _json(doc: dict, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    response = Response(status=status, body=json.dumps(doc).encode(), headerlist=list(headers or []))
    response.content_type, response.charset = "application/json", "utf-8"  # webob skips them given a headerlist
    return response


def _count(params: dict[str, str], name: str) -> int:
    """A listing size parameter: at most ``MAX_LISTED`` (and that by default); 400 if not a number."""
    text = params.get(name, str(MAX_LISTED))
    if not (text.isascii() and text.isdigit()):
        raise exc.HTTPBadRequest(f"{name} must be a non-negative integer")
    return min(int(text), MAX_LISTED)


def _part_number(params: dict[str, str]) -> int:
    text = params.get(PART_NUMBER, "")
    if not (text.isascii() and text.isdigit()):
        raise exc.HTTPBadRequest(f"Uploading a part takes {PART_NUMBER}=<1 to 10000>")
    return int(text)


def _owner(ctx: Context, bucket: BucketInfo) -> str:
    return ctx.identity.user_id if ctx.identity else bucket.owner


# -- object sub-resources --------------------------------------------------------------


def _initiate(ctx: Context) -> Response:
    bucket = ctx.bucket()
    ctx.authorize(WRITE, bucket)
    request = WriteRequest(
        metadata=requested_metadata(ctx),
        content_type=content_type_of(ctx, ctx.path.obj),
        headers=content_headers(ctx),
        owner=_owner(ctx, bucket),
        acl=access_control.new_object_acl(ctx, bucket),
        tags=requested_tags(ctx),
    )
    upload_id = ctx.rgw.multipart.initiate(bucket, ctx.path.obj, request)
    return _json({"upload_id": upload_id})


def _part_response(part: UploadedPart, extra: list[tuple[str, str]] | None = None) -> Response:
    response = Response(
        status=201, headerlist=[("ETag", f'"{part.etag}"'), *(extra or []), *timestamp_headers(part.mtime)]
    )
    response.content_type = None
    return response


def _upload_part(ctx: Context, upload_id: str, number: int) -> Response:
    bucket = ctx.bucket()
    ctx.authorize(WRITE, bucket)
    body = upload_body(ctx.request, ctx.limits.max_file_size)
    etag = ctx.request.headers.get("ETag", "").strip().strip('"') or None
    part = ctx.rgw.multipart.upload_part(bucket, ctx.path.obj, upload_id, number, body, expected_md5=etag)
    return _part_response(part)


def copy_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range ``X-Copy-From-Range`` asks for (None: the whole object); 400
    if it is not ``bytes=<first>-<last>``, 416 if those bytes are not all in the object."""
    if header is None:
        return None
    match = COPY_RANGE_RE.fullmatch(header.strip())
    if not match:
        raise exc.HTTPBadRequest("X-Copy-From-Range must be bytes=<first>-<last>")
    first, last = byte_position(match.group(1)), byte_position(match.group(2))
    if first > last or last >= size:
        raise exc.HTTPRequestRangeNotSatisfiable(
            f"{header.strip()[:64]} is not within the source's {size} bytes",
            headers={"Content-Range": f"bytes */{size}"},
        )
    return first, last


def _copy_part(ctx: Context, upload_id: str, number: int) -> Response:
    container, name = object_path(ctx.request.headers["X-Copy-From"], "X-Copy-From")
    src_bucket, bucket = ctx.bucket(container, copy_account(ctx, "X-Copy-From-Account")), ctx.bucket()
    version_id = versions.copy_source_version(ctx.request)
    source = ctx.authorized_object(
        READ,
        src_bucket,
        name,
        s3_action="s3:GetObjectVersion" if version_id else "s3:GetObject",
        version_id=version_id,
    )
    ctx.authorize(WRITE, bucket)
    ctx.rgw.multipart.get(bucket, ctx.path.obj, upload_id)  # 404 before reading anything
    byte_range = copy_range(ctx.request.headers.get("X-Copy-From-Range"), source.size)
    with ctx.rgw.object_ops.read(src_bucket, source, byte_range) as reader:
        part = ctx.rgw.multipart.upload_part(bucket, ctx.path.obj, upload_id, number, reader)
    copied = [
        ("X-Copied-From", quote(f"{container}/{name}")),
        ("X-Copied-From-Last-Modified", timestamp_headers(source.mtime)[1][1]),
        *versions.copied_version_headers(src_bucket, source),
    ]
    return _part_response(part, copied)


def _list_parts(ctx: Context, upload_id: str, params: dict[str, str]) -> Response:
    bucket = ctx.bucket()
    ctx.authorize(READ, bucket, s3_action="s3:ListMultipartUploadParts")
    marker_text = params.get("part-number-marker", "0") or "0"
    if not (marker_text.isascii() and marker_text.isdigit()):
        raise exc.HTTPBadRequest("part-number-marker must be a non-negative integer")
    marker, max_parts = int(marker_text), _count(params, "max-parts")
    upload = ctx.rgw.multipart.get(bucket, ctx.path.obj, upload_id)
    after = [p for p in ctx.rgw.multipart.list_parts(bucket, ctx.path.obj, upload_id) if p.number > marker]
    listed = after[:max_parts]
    return _json(
        {
            **_upload_doc(upload),
            "content_type": upload.content_type,
            "part_number_marker": marker,
            "max_parts": max_parts,
            "is_truncated": len(after) > max_parts,
            "next_part_number_marker": listed[-1].number if listed else marker,
            "parts": [
                {"part_number": p.number, "etag": p.etag, "size": p.size, "last_modified": swift_time(p.mtime)}
                for p in listed
            ],
        }
    )


def requested_parts(body: bytes) -> list[tuple[int, str]]:
    """The (number, ETag) pairs of a complete request's JSON body; 400 if it is not a list of
    ``{"part_number": <int>, "etag": <str>}``."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        doc = None
    if not isinstance(doc, list):
        raise exc.HTTPBadRequest("The body must be a JSON list of parts")
    parts = []
    for item in doc:
        if (
            not isinstance(item, dict)
            or type(item.get("part_number")) is not int
            or not isinstance(item.get("etag"), str)
        ):
            raise exc.HTTPBadRequest('Each part must be {"part_number": <integer>, "etag": <string>}')
        parts.append((item["part_number"], item["etag"]))
    return parts


def _complete(ctx: Context, upload_id: str) -> Response:
    bucket = ctx.bucket()
    ctx.authorize(WRITE, bucket)
    condition = write_condition(ctx.request)
    ctx.rgw.object_ops.check_condition(bucket, ctx.path.obj, condition)  # before the body is read
    body = upload_body(ctx.request, MAX_COMPLETE_BODY)  # 413 past the limit, as it reads
    chunks = []
    while chunk := body.read(READ_CHUNK):
        chunks.append(chunk)
    parts = requested_parts(b"".join(chunks))
    result = ctx.rgw.object_ops.complete_upload(bucket, ctx.path.obj, upload_id, parts, condition)
    entry = result.entry
    doc = {"etag": entry.etag, "size": entry.size, "last_modified": swift_time(entry.mtime)}
    headers = [("ETag", f'"{entry.etag}"'), *timestamp_headers(entry.mtime), *versions.written_headers(result)]
    return _json(doc, 201, headers)


# -- the container's uploads -----------------------------------------------------------


@dataclass
class UploadsQuery:
    prefix: str
    delimiter: str
    key_marker: str
    upload_id_marker: str
    max_uploads: int


def _upload_doc(upload: Upload) -> dict:
    return {
        "object": upload.key,
        "upload_id": upload.upload_id,
        "owner": upload.owner,
        "initiated": swift_time(upload.initiated),
    }


def _after_markers(upload: Upload, query: UploadsQuery) -> bool:
    if upload.key != query.key_marker:
        return upload.key > query.key_marker
    return bool(query.upload_id_marker) and upload.upload_id > query.upload_id_marker


def select_uploads(uploads: list[Upload], query: UploadsQuery) -> dict:
    """The listing page ``query`` asks for, of ``uploads`` sorted by (key, upload id) and all
    starting with ``query.prefix``."""
    listed: list[Upload] = []
    prefixes: list[str] = []
    truncated = False
    next_key = next_upload_id = ""
    for upload in uploads:
        if not _after_markers(upload, query):
            continue
        rolled = ""
        if query.delimiter:
            at = upload.key.find(query.delimiter, len(query.prefix))
            rolled = upload.key[: at + len(query.delimiter)] if at >= 0 else ""
        if rolled and (rolled in prefixes or rolled <= query.key_marker):
            continue  # listed already, on this page or an earlier one
        if len(listed) + len(prefixes) == query.max_uploads:
            truncated = True
            break
        if rolled:
            prefixes.append(rolled)
            next_key, next_upload_id = rolled, ""
        else:
            listed.append(upload)
            next_key, next_upload_id = upload.key, upload.upload_id
    return {
        "uploads": [_upload_doc(u) for u in listed],
        "prefixes": prefixes,
        "max_uploads": query.max_uploads,
        "is_truncated": truncated,
        "next_key_marker": next_key if truncated else "",
        "next_upload_id_marker": next_upload_id if truncated else "",
    }
