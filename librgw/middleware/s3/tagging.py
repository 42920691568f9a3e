"""Tagging: Put/Get/DeleteBucketTagging, Put/Get/DeleteObjectTagging, and the tagging
headers of object writes and reads, over the native ``?tagging`` sub-resource and the
``X-Object-Tagging`` header (``swift/tagging.py``).

- ``PUT ?tagging`` takes S3's document and answers 204 (bucket) or 200 (object)::

      <Tagging><TagSet><Tag><Key>project</Key><Value>blue</Value></Tag></TagSet></Tagging>

  ``GET ?tagging`` answers it; a bucket without tags is ``NoSuchTagSet``, an object without
  them has an empty ``TagSet``. ``DELETE ?tagging`` is 204.
- ``x-amz-tagging: k1=v1&k2=v2`` (URL-encoded) on PutObject and CreateMultipartUpload tags
  the new object; CopyObject copies the source's tags unless ``x-amz-tagging-directive:
  REPLACE`` (then the header's, or none).
- GetObject and HeadObject of a tagged object answer ``x-amz-tagging-count``.

S3's limits (10 tags on an object, 50 on a bucket, keys of 1 to 128 characters, values of
at most 256, no key twice) are ``InvalidTag``, checked here before anything is sent down,
and again by the core. With ``versionId`` the object operations address that version, and
they answer ``x-amz-version-id`` in a versioned bucket.
"""

from __future__ import annotations

import json

from webob import Response

from librgw.errors import InvalidTag
from librgw.tagging import MAX_BUCKET_TAGS, MAX_OBJECT_TAGS, tags_from_pairs

from ..swift.errors import ERROR_HEADER
from ..swift.tagging import COUNT_HEADER, TAGGING, TAGGING_HEADER, tags_of_header
from . import versioning
from .errors import S3Error, native_failure
from .native import Native
from .s3_request import S3Request
from .xml_doc import add, document, parse, serialize

REQUEST_HEADER = "x-amz-tagging"
DIRECTIVE_HEADER = "x-amz-tagging-directive"
DIRECTIVES = ("COPY", "REPLACE")
JSON_HEADERS = {"Content-Type": "application/json"}


def _checked_header(value: str) -> dict[str, str]:
    try:
        return tags_of_header(value)
    except InvalidTag as error:
        raise S3Error("InvalidTag", error.message) from None


def object_tagging_headers(s3: S3Request) -> dict[str, str]:
    """The native ``X-Object-Tagging`` for a PutObject's or CreateMultipartUpload's ``x-amz-tagging``."""
    value = s3.request.headers.get(REQUEST_HEADER)
    if value is None:
        return {}
    _checked_header(value)
    return {TAGGING_HEADER: value}


def copy_tagging_headers(s3: S3Request) -> dict[str, str]:
    """What a CopyObject's tagging directive asks of the native copy: nothing (COPY: the
    source's tags) or ``X-Object-Tagging`` (REPLACE: ``x-amz-tagging``'s tags, or none)."""
    directive = s3.request.headers.get(DIRECTIVE_HEADER, "COPY").upper()
    if directive not in DIRECTIVES:
        raise S3Error("InvalidArgument", "Unknown tagging directive.", ArgumentName=DIRECTIVE_HEADER)
    if directive == "COPY":
        return {}
    value = s3.request.headers.get(REQUEST_HEADER, "")
    _checked_header(value)
    return {TAGGING_HEADER: value}


def count_header(answer: Response) -> list[tuple[str, str]]:
    """``x-amz-tagging-count`` of a GetObject's or HeadObject's answer, from the native one."""
    return [("x-amz-tagging-count", answer.headers[COUNT_HEADER])] if COUNT_HEADER in answer.headers else []


def requested_tags(body: bytes, max_tags: int) -> dict[str, str]:
    """The tags of a ``Tagging`` document; ``MalformedXML`` unless it is one, ``InvalidTag``
    beyond the limits."""
    root = parse(body)
    tag_set = root.find("TagSet")
    if root.tag != "Tagging" or tag_set is None:
        raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate")
    pairs = []
    for tag in tag_set.findall("Tag"):
        key, value = tag.find("Key"), tag.find("Value")
        if key is None or value is None:
            raise S3Error("MalformedXML", "Each Tag needs a Key and a Value")
        pairs.append((key.text or "", value.text or ""))
    try:
        return tags_from_pairs(pairs, max_tags)
    except InvalidTag as error:
        raise S3Error("InvalidTag", error.message) from None


def tagging_document(tags: dict[str, str]) -> bytes:
    root = document("Tagging")
    tag_set = add(root, "TagSet")
    for key, value in tags.items():
        tag = add(tag_set, "Tag")
        add(tag, "Key", key)
        add(tag, "Value", value)
    return serialize(root)


def handle(native: Native, owner: str, s3: S3Request, body: bytes | None) -> Response:
    """The tagging operation ``s3`` asks for; ``body`` is a PUT's document."""
    method = s3.request.method
    if method not in ("GET", "PUT", "DELETE"):
        raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")
    query = {TAGGING: "", **(versioning.version_query(s3) if s3.key else {})}
    headers, doc = {}, None
    if method == "PUT":
        tags = requested_tags(body or b"", MAX_OBJECT_TAGS if s3.key else MAX_BUCKET_TAGS)
        headers, doc = JSON_HEADERS, json.dumps(tags).encode()
    answer = native.call(method, owner, s3.bucket, s3.key, headers, query=query, body=doc)
    if answer.status_int // 100 != 2:
        raise _failure(answer, s3)
    versions = versioning.version_headers(answer)
    if method == "GET":
        response = Response(body=tagging_document(json.loads(answer.body)), headerlist=versions)
        response.content_type = "application/xml"
        return response
    return Response(status=200 if method == "PUT" and s3.key else 204, headerlist=versions)


def _failure(answer: Response, s3: S3Request) -> S3Error:
    if s3.key and answer.status_int == 404:
        return versioning.object_failure(answer, s3)  # NoSuchKey, NoSuchVersion, a delete marker
    return native_failure(answer.status_int, answer.body, answer.headers.get(ERROR_HEADER, ""), "NoSuchBucket")
