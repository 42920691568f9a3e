"""Versioning: PutBucketVersioning, GetBucketVersioning and ListObjectVersions, and the
version parts of the object operations, over the native API's versioning
(``swift/versions.py`` has its contract).

- PutBucketVersioning (``PUT ?versioning``, a ``VersioningConfiguration`` with ``Status``
  ``Enabled`` or ``Suspended``, else ``MalformedXML``) is a container POST with
  ``X-Versions-Enabled: true|false``; GetBucketVersioning reads that header from a HEAD.
  ``MfaDelete`` ``Enabled`` is refused with ``NotImplemented``.
- ListObjectVersions (``GET ?versions``, with ``prefix``, ``delimiter``, ``key-marker``,
  ``version-id-marker``, ``max-keys`` and ``encoding-type``) is the native ``?versions``
  listing (``marker`` and ``version_marker``), asked for one entry more than ``max-keys`` to
  know whether the page is truncated. A delete marker is the entry with Swift's delete
  marker content type.
- ``versionId`` on GetObject, HeadObject and DeleteObject is the native ``?version-id``;
  in DeleteObjects each ``Object``'s ``VersionId``; in a copy source (``x-amz-copy-source:
  /bucket/key?versionId=<id>``, CopyObject and UploadPartCopy, parsed by ``copy_source.py``)
  the native ``X-Copy-From-Version-Id``.
- Answers carry ``x-amz-version-id`` (native ``X-Object-Version-Id``),
  ``x-amz-delete-marker: true`` (``X-Object-Delete-Marker``) and, for copies,
  ``x-amz-copy-source-version-id`` (``X-Copied-From-Version-Id``). A GET or HEAD that
  reaches a delete marker is ``NoSuchKey`` (404), or ``MethodNotAllowed`` (405) when the
  request named the marker's version, with those headers, as S3 answers.

Authorization is the native operations': changing versioning takes what changing the
container's metadata takes, reading it and listing versions what a listing takes.
"""

from __future__ import annotations

import json
from urllib.parse import quote
from xml.etree.ElementTree import Element

from webob import Response

from librgw.users import UserStore

from ..swift.errors import ERROR_HEADER
from ..swift.versions import (
    COPIED_VERSION_HEADER,
    COPY_VERSION_HEADER,
    DELETE_MARKER_CONTENT_TYPE,
    DELETE_MARKER_HEADER,
    ENABLED_HEADER,
    VERSION_HEADER,
    VERSION_ID,
)
from .errors import S3Error, from_native
from .native import Native
from .s3_request import S3Request
from .xml_doc import add, document, parse, serialize, swift_listing_time

VERSIONING, VERSIONS = "versioning", "versions"
MAX_KEYS = 1000
STATES = {"Enabled": "true", "Suspended": "false"}
STATUS_OF = {value: name for name, value in STATES.items()}
NOT_ALLOWED = "The specified method is not allowed against this resource."


def applies(s3: S3Request) -> bool:
    """Is this a bucket's versioning operation (``?versioning`` or ``?versions``)?"""
    return not s3.key and (VERSIONING in s3.params or VERSIONS in s3.params)


def handle(native: Native, owner: str, s3: S3Request, users: UserStore) -> Response:
    """The operation for ``s3`` on ``owner``'s bucket; ``users`` gives the owner's display name."""
    method = s3.request.method
    if VERSIONING in s3.params:
        if method == "PUT":
            return put_versioning(native, owner, s3)
        if method == "GET":
            return get_versioning(native, owner, s3)
    elif method == "GET":
        return list_versions(native, owner, s3, users.get(owner).display_name)
    raise S3Error("MethodNotAllowed", NOT_ALLOWED)


# -- the bucket's versioning -----------------------------------------------------------


def requested_state(body: bytes) -> str:
    """``Enabled`` or ``Suspended``, as a ``VersioningConfiguration`` document asks."""
    root = parse(body)
    if root.tag != "VersioningConfiguration":
        raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate")
    if (root.findtext("MfaDelete") or "").strip() == "Enabled":
        raise S3Error("NotImplemented", "MFA delete is not supported")
    status = (root.findtext("Status") or "").strip()
    if status not in STATES:
        raise S3Error("MalformedXML", "The versioning Status must be Enabled or Suspended")
    return status


def put_versioning(native: Native, owner: str, s3: S3Request) -> Response:
    status = requested_state(s3.request.body_file.read(1024 * 1024 + 1))
    answer = native.call("POST", owner, s3.bucket, headers={ENABLED_HEADER: STATES[status]})
    if answer.status_int // 100 != 2:
        raise from_native(answer.status_int, answer.body, "NoSuchBucket")
    return Response(status=200)


def get_versioning(native: Native, owner: str, s3: S3Request) -> Response:
    answer = native.call("HEAD", owner, s3.bucket)
    if answer.status_int // 100 != 2:
        raise from_native(answer.status_int, b"", "NoSuchBucket")
    root = document("VersioningConfiguration")
    status = STATUS_OF.get(answer.headers.get(ENABLED_HEADER, ""))
    if status:
        add(root, "Status", status)
    return Response(body=serialize(root), content_type="application/xml")


# -- ListObjectVersions ----------------------------------------------------------------


def _max_keys(s3: S3Request) -> int:
    text = s3.params.get("max-keys", str(MAX_KEYS))
    if not (text.isascii() and text.isdigit()):
        raise S3Error("InvalidArgument", "max-keys must be a non-negative integer", ArgumentName="max-keys")
    return min(int(text), MAX_KEYS)


def list_versions(native: Native, owner: str, s3: S3Request, owner_name: str) -> Response:
    max_keys = _max_keys(s3)
    prefix, delimiter = s3.params.get("prefix", ""), s3.params.get("delimiter", "")
    key_marker, version_marker = s3.params.get("key-marker", ""), s3.params.get("version-id-marker", "")
    encoding = s3.params.get("encoding-type", "")
    if encoding and encoding != "url":
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", ArgumentName="encoding-type")
    if version_marker and not key_marker:
        raise S3Error(
            "InvalidArgument",
            "A version-id marker cannot be specified without a key marker.",
            ArgumentName="version-id-marker",
        )
    if len(delimiter) > 1:
        raise S3Error("NotImplemented", "Only one-character delimiters are supported")
    query = {VERSIONS: "", "format": "json", "prefix": prefix, "limit": str(max_keys + 1)}
    query.update({"marker": key_marker} if key_marker else {})
    query.update({"version_marker": version_marker} if version_marker else {})
    query.update({"delimiter": delimiter} if delimiter else {})
    answer = native.call("GET", owner, s3.bucket, query=query)
    if answer.status_int // 100 != 2:
        raise from_native(answer.status_int, answer.body, "NoSuchBucket")
    items = json.loads(answer.body or b"[]") if answer.status_int == 200 else []
    page = items[:max_keys]
    return Response(
        body=serialize(versions_document(s3, page, len(items) > max_keys, max_keys, owner, owner_name)),
        content_type="application/xml",
    )


def next_markers(last: dict) -> tuple[str, str]:
    """(NextKeyMarker, NextVersionIdMarker) after a page ending with the native entry ``last``."""
    if "subdir" in last:
        return last["subdir"], ""
    return last["name"], last["version_id"]


def versions_document(
    s3: S3Request, items: list[dict], truncated: bool, max_keys: int, owner: str, owner_name: str
) -> Element:
    """The ``ListVersionsResult`` of a page of native ``?versions`` entries."""
    encode = (lambda text: quote(text, safe="/")) if s3.params.get("encoding-type") else (lambda text: text)
    root = document("ListVersionsResult")
    add(root, "Name", s3.bucket)
    add(root, "Prefix", encode(s3.params.get("prefix", "")))
    add(root, "KeyMarker", encode(s3.params.get("key-marker", "")))
    add(root, "VersionIdMarker", s3.params.get("version-id-marker", ""))
    if truncated and items:
        next_key, next_version = next_markers(items[-1])
        add(root, "NextKeyMarker", encode(next_key))
        if next_version:
            add(root, "NextVersionIdMarker", next_version)
    add(root, "MaxKeys", max_keys)
    if s3.params.get("delimiter"):
        add(root, "Delimiter", encode(s3.params["delimiter"]))
    if s3.params.get("encoding-type"):
        add(root, "EncodingType", "url")
    add(root, "IsTruncated", "true" if truncated else "false")
    for item in items:
        if "subdir" in item:
            continue
        marker = item["content_type"] == DELETE_MARKER_CONTENT_TYPE
        entry = add(root, "DeleteMarker" if marker else "Version")
        add(entry, "Key", encode(item["name"]))
        add(entry, "VersionId", item["version_id"])
        add(entry, "IsLatest", "true" if item["is_latest"] else "false")
        add(entry, "LastModified", swift_listing_time(item["last_modified"]))
        if not marker:
            add(entry, "ETag", f'"{item["hash"]}"')
            add(entry, "Size", item["bytes"])
            add(entry, "StorageClass", "STANDARD")
        who = add(entry, "Owner")
        add(who, "ID", owner)
        add(who, "DisplayName", owner_name)
    for item in items:
        if "subdir" in item:
            add(add(root, "CommonPrefixes"), "Prefix", encode(item["subdir"]))
    return root


# -- versions in object operations -----------------------------------------------------


def version_query(s3: S3Request) -> dict[str, str]:
    """The native query naming the version the request's ``versionId`` asks for (none without)."""
    version_id = s3.params.get("versionId")
    if version_id is None:
        return {}
    if not version_id:
        raise S3Error("InvalidArgument", "Version id cannot be the empty string", ArgumentName="versionId")
    return {VERSION_ID: version_id}


def version_headers(answer: Response) -> list[tuple[str, str]]:
    """``x-amz-version-id`` and ``x-amz-delete-marker`` of a native answer that names a version."""
    headers = []
    if VERSION_HEADER in answer.headers:
        headers.append(("x-amz-version-id", answer.headers[VERSION_HEADER]))
    if answer.headers.get(DELETE_MARKER_HEADER) == "true":
        headers.append(("x-amz-delete-marker", "true"))
    return headers


def copy_version_headers(answer: Response) -> list[tuple[str, str]]:
    """A copy's ``x-amz-version-id`` (the new version) and ``x-amz-copy-source-version-id``."""
    headers = version_headers(answer)
    if COPIED_VERSION_HEADER in answer.headers:
        headers.append(("x-amz-copy-source-version-id", answer.headers[COPIED_VERSION_HEADER]))
    return headers


def object_failure(answer: Response, s3: S3Request, named: bool | None = None) -> S3Error:
    """The S3 error for a failed native object answer. A delete marker reached is
    ``NoSuchKey``, or ``MethodNotAllowed`` when the request named its version (``named``:
    whether it did; by default, whether it has a ``versionId``); a missing version is
    ``NoSuchVersion``."""
    if named is None:
        named = "versionId" in s3.params
    if answer.status_int == 404 and answer.headers.get(DELETE_MARKER_HEADER) == "true":
        if named:
            error = S3Error("MethodNotAllowed", NOT_ALLOWED)
        else:
            error = S3Error("NoSuchKey", "The specified key does not exist.", Key=s3.key)
        error.headers = version_headers(answer)
        if "Last-Modified" in answer.headers:
            error.headers.append(("Last-Modified", answer.headers["Last-Modified"]))
        return error
    if answer.status_int == 404 and answer.headers.get(ERROR_HEADER) == "NoSuchVersion":
        return S3Error("NoSuchVersion", "The specified version does not exist.", Key=s3.key)
    return from_native(answer.status_int, answer.body, "NoSuchKey")


def copy_source_headers(version_id: str | None) -> dict[str, str]:
    """The native headers naming the copy source's version."""
    return {COPY_VERSION_HEADER: version_id} if version_id else {}


def copy_failure(answer: Response, s3: S3Request, version_id: str | None) -> S3Error:
    """The S3 error for a failed native copy; a source version that is a delete marker is
    ``InvalidRequest``, as S3 answers."""
    if version_id and answer.status_int == 404 and answer.headers.get(DELETE_MARKER_HEADER) == "true":
        return S3Error("InvalidRequest", "The source of a copy request may not specifically refer to a delete marker")
    return object_failure(answer, s3, named=False)


def add_deleted(result: Element, key: str, version_id: str | None, answer: Response) -> None:
    """DeleteObjects' ``Deleted`` entry for ``key`` (its version ``version_id``, if named)."""
    deleted = add(result, "Deleted")
    add(deleted, "Key", key)
    if version_id:
        add(deleted, "VersionId", version_id)
    if answer.headers.get(DELETE_MARKER_HEADER) == "true":
        add(deleted, "DeleteMarker", "true")
        add(deleted, "DeleteMarkerVersionId", answer.headers.get(VERSION_HEADER, ""))
