"""Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy, ListParts,
ListMultipartUploads, CompleteMultipartUpload and AbortMultipartUpload.

Each becomes one request to the native API's upload sub-resources (``swift/multipart.py``
has their contract): ``?uploads`` and ``?uploadId=&partNumber=`` turn into ``?uploads`` and
``?upload-id=&part-number=``, the part list of a complete request from S3's XML into JSON,
and the native JSON answers into S3's XML documents. A part's ``Content-MD5`` becomes the
native ``ETag`` check, as for PutObject; ``x-amz-copy-source`` and
``x-amz-copy-source-range`` become ``X-Copy-From`` and ``X-Copy-From-Range`` (a source's
``?versionId=`` becomes ``X-Copy-From-Version-Id``, ``versioning.py``).

Several of S3's multipart errors share a native status (``InvalidPart``,
``InvalidPartOrder`` and ``EntityTooSmall`` are all 400), so the code comes from the native
answer's ``X-Librgw-Error`` header (``swift/errors.py``), with S3's own message.

UploadPartCopy checks the ``x-amz-copy-source-if-*`` conditions as CopyObject does
(``copy_source.py``). CompleteMultipartUpload takes ``If-Match`` and ``If-None-Match: *`` as
PutObject does (``objects.py``); when one fails the upload stays, to be completed again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

from webob import Response

from librgw.users import UserStore

from ..swift.errors import ERROR_HEADER
from . import tagging, versioning
from .acl import display_names, requested_acl_headers
from .copy_source import check_copy_conditions, parse_copy_source
from .errors import STATUS, S3Error, from_native
from .native import Native, StreamedBody
from .object_headers import digest_check, native_object_headers, upload_length
from .objects import CONTENT_HEADERS, write_conditions, write_failure
from .s3_request import S3Request
from .xml_doc import MAX_BODY, add, document, parse, s3_time, schema_int, serialize, swift_listing_time

MAX_PART_NUMBER = 10_000
MESSAGES = {
    "NoSuchUpload": "The specified upload does not exist. The upload ID may be invalid, "
    "or the upload may have been aborted or completed.",
    "InvalidPart": "One or more of the specified parts could not be found. The part may not have been "
    "uploaded, or the specified entity tag may not match the part's entity tag.",
    "InvalidPartOrder": "The list of parts was not in ascending order. Parts must be ordered by part number.",
    "EntityTooSmall": "Your proposed upload is smaller than the minimum allowed object size.",
}
LISTING_PARAMS = ("prefix", "delimiter", "key-marker", "upload-id-marker", "max-uploads")  # S3's names are native


def applies(s3: S3Request) -> bool:
    """Is this a multipart upload operation (``?uploads`` or ``?uploadId``)?"""
    return "uploads" in s3.params or "uploadId" in s3.params


def handle(native: Native, owner: str, s3: S3Request, stream: object, users: UserStore) -> Response:
    """The operation for ``s3`` on ``owner``'s bucket; ``stream`` is an upload's body,
    ``users`` gives the display names of listings."""
    method = s3.request.method
    display_name = display_names(users)
    if not s3.key:
        if method == "GET" and "uploads" in s3.params:
            return list_uploads(native, owner, s3, display_name)
    elif "uploadId" in s3.params:
        if method == "PUT":
            if "x-amz-copy-source" in s3.request.headers:
                return upload_part_copy(native, owner, s3)
            return upload_part(native, owner, s3, stream)
        if method == "GET":
            return list_parts(native, owner, s3, display_name)
        if method == "POST":
            return complete_upload(native, owner, s3)
        if method == "DELETE":
            return abort_upload(native, owner, s3)
    elif method == "POST":
        return create_upload(native, owner, s3)
    raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")


def _failure(answer: Response, s3: S3Request, not_found: str = "NoSuchKey") -> S3Error:
    """The S3 error for a failed native answer: the core's code when it names one S3 knows."""
    error = from_native(answer.status_int, answer.body, not_found)
    code = answer.headers.get(ERROR_HEADER, "")
    if code not in STATUS:
        return error
    extra = {"UploadId": s3.params["uploadId"]} if code in MESSAGES and "uploadId" in s3.params else {}
    return S3Error(code, MESSAGES.get(code, error.message), **extra)


def _upload_query(s3: S3Request) -> dict[str, str]:
    return {"upload-id": s3.params["uploadId"]}


def _xml(root) -> Response:
    return Response(body=serialize(root), content_type="application/xml")


def _add_user(parent, tag: str, uid: str, display_name: Callable[[str], str]) -> None:
    who = add(parent, tag)
    add(who, "ID", uid)
    add(who, "DisplayName", display_name(uid))


def create_upload(native: Native, owner: str, s3: S3Request) -> Response:
    headers = {**native_object_headers(s3, CONTENT_HEADERS), **requested_acl_headers(s3, private_by_default=True)}
    headers.update(tagging.object_tagging_headers(s3))
    answer = native.call("POST", owner, s3.bucket, s3.key, headers, query={"uploads": ""})
    if answer.status_int // 100 != 2:
        raise _failure(answer, s3)
    root = document("InitiateMultipartUploadResult")
    add(root, "Bucket", s3.bucket)
    add(root, "Key", s3.key)
    add(root, "UploadId", json.loads(answer.body)["upload_id"])
    return _xml(root)


def _part_query(s3: S3Request) -> dict[str, str]:
    text = s3.params.get("partNumber", "")
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PART_NUMBER:
        raise S3Error(
            "InvalidArgument",
            f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=text,
        )
    return {**_upload_query(s3), "part-number": str(int(text))}


def upload_part(native: Native, owner: str, s3: S3Request, stream: object) -> Response:
    query = _part_query(s3)
    headers = digest_check(s3)
    answer = native.call(
        "PUT", owner, s3.bucket, s3.key, headers, query=query, body=StreamedBody(stream, upload_length(s3))
    )
    if answer.status_int // 100 != 2:
        raise _failure(answer, s3)
    return Response(status=200, headerlist=[("ETag", answer.headers["ETag"])])


def upload_part_copy(native: Native, owner: str, s3: S3Request) -> Response:
    query = _part_query(s3)
    source = parse_copy_source(s3.request.headers["x-amz-copy-source"])
    version_id = source.version_id
    check_copy_conditions(native, source, s3)
    headers = {**source.native_headers(s3.source_owner), **versioning.copy_source_headers(version_id)}
    if "x-amz-copy-source-range" in s3.request.headers:
        headers["X-Copy-From-Range"] = s3.request.headers["x-amz-copy-source-range"]
    answer = native.call("PUT", owner, s3.bucket, s3.key, headers, query=query)
    if answer.status_int // 100 != 2:
        if answer.headers.get(ERROR_HEADER) in MESSAGES:
            raise _failure(answer, s3)
        raise versioning.copy_failure(answer, s3, version_id)
    root = document("CopyPartResult")
    add(root, "LastModified", s3_time(float(answer.headers["X-Timestamp"])))
    add(root, "ETag", answer.headers["ETag"])
    response = _xml(root)
    response.headerlist.extend(versioning.copy_version_headers(answer))
    return response


def list_parts(native: Native, owner: str, s3: S3Request, display_name: Callable[[str], str]) -> Response:
    query = _upload_query(s3)
    for name in ("part-number-marker", "max-parts"):
        if name in s3.params:
            query[name] = s3.params[name]
    answer = native.call("GET", owner, s3.bucket, s3.key, query=query)
    if answer.status_int // 100 != 2:
        raise _failure(answer, s3)
    doc = json.loads(answer.body)
    root = document("ListPartsResult")
    add(root, "Bucket", s3.bucket)
    add(root, "Key", s3.key)
    add(root, "UploadId", doc["upload_id"])
    _add_user(root, "Initiator", doc["owner"], display_name)
    _add_user(root, "Owner", doc["owner"], display_name)
    add(root, "StorageClass", "STANDARD")
    add(root, "PartNumberMarker", doc["part_number_marker"])
    add(root, "NextPartNumberMarker", doc["next_part_number_marker"])
    add(root, "MaxParts", doc["max_parts"])
    add(root, "IsTruncated", "true" if doc["is_truncated"] else "false")
    for part in doc["parts"]:
        element = add(root, "Part")
        add(element, "PartNumber", part["part_number"])
        add(element, "LastModified", swift_listing_time(part["last_modified"]))
        add(element, "ETag", f'"{part["etag"]}"')
        add(element, "Size", part["size"])
    return _xml(root)


def list_uploads(native: Native, owner: str, s3: S3Request, display_name: Callable[[str], str]) -> Response:
    encoding = s3.params.get("encoding-type", "")
    if encoding and encoding != "url":
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", ArgumentName="encoding-type")
    query = {"uploads": ""}
    for name in LISTING_PARAMS:
        if s3.params.get(name):
            query[name] = s3.params[name]
    answer = native.call("GET", owner, s3.bucket, query=query)
    if answer.status_int // 100 != 2:
        raise _failure(answer, s3, "NoSuchBucket")
    doc = json.loads(answer.body)
    encode = (lambda text: quote(text, safe="/")) if encoding else (lambda text: text)

    root = document("ListMultipartUploadsResult")
    add(root, "Bucket", s3.bucket)
    add(root, "KeyMarker", encode(s3.params.get("key-marker", "")))
    add(root, "UploadIdMarker", s3.params.get("upload-id-marker", ""))
    add(root, "NextKeyMarker", encode(doc["next_key_marker"]))
    add(root, "NextUploadIdMarker", doc["next_upload_id_marker"])
    if s3.params.get("delimiter"):
        add(root, "Delimiter", encode(s3.params["delimiter"]))
    add(root, "Prefix", encode(s3.params.get("prefix", "")))
    add(root, "MaxUploads", doc["max_uploads"])
    if encoding:
        add(root, "EncodingType", "url")
    add(root, "IsTruncated", "true" if doc["is_truncated"] else "false")
    for upload in doc["uploads"]:
        element = add(root, "Upload")
        add(element, "Key", encode(upload["object"]))
        add(element, "UploadId", upload["upload_id"])
        _add_user(element, "Initiator", upload["owner"], display_name)
        _add_user(element, "Owner", upload["owner"], display_name)
        add(element, "StorageClass", "STANDARD")
        add(element, "Initiated", swift_listing_time(upload["initiated"]))
    for prefix in doc["prefixes"]:
        add(add(root, "CommonPrefixes"), "Prefix", encode(prefix))
    return _xml(root)


def requested_parts(body: bytes) -> list[dict]:
    """The part list of a CompleteMultipartUpload document, as the native API takes it;
    ``MalformedXML`` unless it is one, with at least one part."""
    root = parse(body)
    if root.tag != "CompleteMultipartUpload":
        raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate")
    parts = []
    for element in root.findall("Part"):
        number = schema_int(element.findtext("PartNumber") or "")
        etag = element.findtext("ETag")
        if number is None or number < 0 or etag is None:
            raise S3Error("MalformedXML", "Each Part needs a PartNumber and an ETag")
        parts.append({"part_number": number, "etag": etag.strip().strip('"')})
    if not parts:
        raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate")
    return parts


def complete_upload(native: Native, owner: str, s3: S3Request) -> Response:
    parts = requested_parts(s3.request.body_file.read(MAX_BODY + 1))
    headers = {"Content-Type": "application/json", **write_conditions(s3)}
    answer = native.call(
        "POST", owner, s3.bucket, s3.key, headers, query=_upload_query(s3), body=json.dumps(parts).encode()
    )
    if answer.status_int == 412:
        raise write_failure(answer, s3)
    if answer.status_int // 100 != 2:
        raise _failure(answer, s3)
    path = "/" + quote(s3.key) if s3.host_bucket else f"/{quote(s3.bucket)}/{quote(s3.key)}"
    root = document("CompleteMultipartUploadResult")
    add(root, "Location", s3.request.host_url + path)
    add(root, "Bucket", s3.bucket)
    add(root, "Key", s3.key)
    add(root, "ETag", f'"{json.loads(answer.body)["etag"]}"')
    return _xml(root)


def abort_upload(native: Native, owner: str, s3: S3Request) -> Response:
    answer = native.call("DELETE", owner, s3.bucket, s3.key, query=_upload_query(s3))
    if answer.status_int // 100 != 2:
        raise _failure(answer, s3)
    return Response(status=204)
