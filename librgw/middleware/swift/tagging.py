"""Tags in the native API: the ``?tagging`` sub-resource of objects and containers, and the
``X-Object-Tagging`` header of object writes.

Swift has no tags; S3 has, and the core keeps them (``librgw/tagging.py``: S3's limits, and
where they are stored). They are offered here so the ``s3`` middleware reaches them down the
pipeline like every other operation (DESIGN §3); a native client may use them too.

On ``/v1/AUTH_<uid>/<container>/<object>``:

- ``PUT`` (and a multipart upload's ``POST ?uploads``) with ``X-Object-Tagging: k1=v1&k2=v2``
  (URL-encoded, as S3's ``x-amz-tagging``) stores the object with those tags; without the
  header it has none.
- A copy (``PUT`` with ``X-Copy-From``, or ``COPY``) keeps the source's tags; with
  ``X-Object-Tagging`` (empty: none) it has those instead. ``POST`` (metadata) leaves them.
- ``GET`` and ``HEAD`` of a tagged object answer ``X-Object-Tagging-Count: <n>``.
- ``GET ?tagging``: 200, ``{"<key>": "<value>", ...}`` (``{}`` when untagged).
- ``PUT ?tagging`` with such a JSON object replaces the tags (204); the data, ETag and
  ``Last-Modified`` stay as they were. ``DELETE ?tagging`` removes them (204). 409 with
  ``X-Librgw-Error: OperationAborted`` if the object was replaced meanwhile.
- In a versioned container these address the current version, or with ``&version-id=<id>``
  that version, and answer its ``X-Object-Version-Id`` (``versions.py``).

On ``/v1/AUTH_<uid>/<container>``: ``GET ?tagging`` (200 and the JSON object, or 404 with
``X-Librgw-Error: NoSuchTagSet`` for a container without tags), ``PUT ?tagging`` (204; an
empty object removes them) and ``DELETE ?tagging`` (204).

Authorization (``authorization.py``): reading tags takes READ, changing them WRITE, and
each request is S3's action (``s3:GetObjectTagging``, ``s3:PutObjectTagging``,
``s3:DeleteObjectTagging``, their ``Version`` forms; ``s3:GetBucketTagging``,
``s3:PutBucketTagging``), which neither ACLs nor bucket policies grant to others: tags
are the account's, though a bucket policy may deny them.

A tag set beyond S3's limits (10 tags on an object, 50 on a container, keys of 1 to 128
characters, values of at most 256, a key given twice) is 400 with ``X-Librgw-Error:
InvalidTag``.

Example::

    curl -X PUT -H "X-Auth-Token: $T" -d '{"project": "blue"}' "$URL/photos/cat.jpg?tagging"
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from webob import Request, Response, exc

from librgw.authorization import READ, WRITE
from librgw.errors import InvalidTag, NoSuchKey
from librgw.objects import ObjectState
from librgw.tagging import MAX_BUCKET_TAGS, MAX_OBJECT_TAGS, TAGS_ATTR, decode_tags, encode_tags, tags_from_pairs

from . import metadata, versions
from .context import Context
from .errors import ERROR_HEADER
from .json_doc import json_response, read_json

TAGGING = "tagging"
TAGGING_HEADER = "X-Object-Tagging"
COUNT_HEADER = "X-Object-Tagging-Count"
# S3's actions, which bucket policies name ("{}": "Version" for a request naming a version)
OBJECT_ACTIONS = {"GET": "s3:GetObject{}Tagging", "PUT": "s3:PutObject{}Tagging", "DELETE": "s3:DeleteObject{}Tagging"}
BUCKET_ACTIONS = {"GET": "s3:GetBucketTagging", "PUT": "s3:PutBucketTagging", "DELETE": "s3:PutBucketTagging"}


class _Pairs(list):
    """A JSON object's (key, value) pairs, in order and with any key given twice."""


def is_tagging_request(request: Request) -> bool:
    """Does the request address the ``?tagging`` sub-resource?"""
    return TAGGING in request.environ.get("QUERY_STRING", "") and TAGGING in request.GET


def tags_of_header(value: str, max_tags: int = MAX_OBJECT_TAGS) -> dict[str, str]:
    """The tags of an ``X-Object-Tagging`` (or S3 ``x-amz-tagging``) value: ``k1=v1&k2=v2``,
    URL-encoded UTF-8. ``InvalidTag`` for one that does not decode or is beyond the limits."""
    try:
        pairs = parse_qsl(metadata.from_wsgi(value), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InvalidTag("the tagging header is not URL-encoded UTF-8") from None
    return tags_from_pairs(pairs, max_tags)


def requested_tags(ctx: Context) -> dict[str, str] | None:
    """The tags an object write's ``X-Object-Tagging`` asks for; None without the header."""
    value = ctx.request.headers.get(TAGGING_HEADER)
    return None if value is None else tags_of_header(value)


def count_headers(info: ObjectState) -> list[tuple[str, str]]:
    """``X-Object-Tagging-Count`` of a tagged object's GET or HEAD."""
    return [(COUNT_HEADER, str(len(info.tags)))] if info.tags else []


def _requested_document(ctx: Context, max_tags: int) -> dict[str, str]:
    doc = read_json(ctx.request, object_pairs_hook=_Pairs)
    if not isinstance(doc, _Pairs):
        raise exc.HTTPBadRequest('The body must be a JSON object of tags: {"<key>": "<value>", ...}')
    return tags_from_pairs(doc, max_tags)


def handle_object(ctx: Context) -> Response:
    bucket = ctx.bucket()
    method = ctx.request.method
    if method not in OBJECT_ACTIONS:
        raise exc.HTTPMethodNotAllowed(headers={"Allow": "GET, PUT, DELETE"})
    version_id = versions.requested_version(ctx.request)
    s3_action = OBJECT_ACTIONS[method].format("Version" if version_id is not None else "")
    action = READ if method == "GET" else WRITE
    info = ctx.authorized_object(action, bucket, s3_action=s3_action, version_id=version_id)
    headers = versions.read_headers(bucket, info)
    if method == "GET":
        return json_response(info.tags, headers=headers)
    tags = _requested_document(ctx, MAX_OBJECT_TAGS) if method == "PUT" else {}
    try:
        ctx.rgw.object_ops.set_tags(bucket, info, tags)
    except NoSuchKey:
        raise exc.HTTPConflict(
            "The object was replaced or deleted meanwhile; try again", headers=[(ERROR_HEADER, "OperationAborted")]
        ) from None
    return Response(status=204, headerlist=headers)


def handle_container(ctx: Context) -> Response:
    bucket = ctx.configured_bucket(BUCKET_ACTIONS)
    method = ctx.request.method
    if method == "GET":
        if TAGS_ATTR not in bucket.attrs:
            raise exc.HTTPNotFound("The container has no tags", headers=[(ERROR_HEADER, "NoSuchTagSet")])
        return json_response(decode_tags(bucket.attrs[TAGS_ATTR]))
    tags = _requested_document(ctx, MAX_BUCKET_TAGS) if method == "PUT" else {}
    ctx.rgw.buckets.update_attrs(bucket.name, {TAGS_ATTR: encode_tags(tags).decode() if tags else None})
    return Response(status=204)
