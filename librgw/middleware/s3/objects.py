"""Object operations: PutObject, GetObject, HeadObject, DeleteObject, CopyObject and
DeleteObjects, as native object requests.

Headers translate both ways: ``x-amz-meta-*`` is ``X-Object-Meta-*``; ``Content-MD5`` (base64)
becomes the native ``ETag`` check (hex), so a body that does not match is ``BadDigest`` and
is never stored; content headers pass as they are; GET's ``response-*`` query parameters
override the answer's headers. DeleteObject of a missing key succeeds, as in S3. Versions
(``versionId``, ``x-amz-version-id``, delete markers) are ``versioning.py``'s.

PutObject, CopyObject (of its destination) and CompleteMultipartUpload (``multipart.py``) may
be conditional writes, as S3's:
``If-None-Match: *`` stores only where no object is, ``If-Match: <ETag>`` (quoted or not)
replaces only the object with that ETag; the native PUT checks them with the write
(``swift/conditions.py``). A failed one is ``PreconditionFailed`` (412), and ``If-Match``
where there is no object ``NoSuchKey`` (404), as AWS answers.
"""

from __future__ import annotations

from webob import Response

from librgw.errors import QuotaExceeded

from ..swift.errors import ERROR_HEADER
from . import lifecycle, tagging, versioning
from .acl import requested_acl_headers
from .copy_source import check_copy_conditions, parse_copy_source
from .errors import S3Error, from_native
from .native import Native, StreamedBody, s3_etag
from .object_headers import META_IN, digest_check, native_object_headers, upload_length
from .s3_request import S3Request
from .xml_doc import add, document, parse, s3_time, serialize

CONTENT_HEADERS = (
    "Content-Type",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Cache-Control",
    "Expires",
)
PASSED_BACK = (
    *CONTENT_HEADERS,
    "Content-Length",
    "Content-Range",
    "ETag",
    "Last-Modified",
    "Accept-Ranges",
)
CONDITIONS = ("If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "Range")
WRITE_CONDITIONS = ("If-Match", "If-None-Match")
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
META_OUT = "x-object-meta-"
MAX_DELETE_KEYS = 1000


def put_object(native: Native, owner: str, s3: S3Request, stream: object) -> Response:
    if "x-amz-copy-source" in s3.request.headers:
        return copy_object(native, owner, s3)
    headers = native_object_headers(s3, (*CONTENT_HEADERS, *WRITE_CONDITIONS))
    headers.update(requested_acl_headers(s3, private_by_default=True))
    headers.update(tagging.object_tagging_headers(s3))
    headers.update(digest_check(s3))
    answer = native.call("PUT", owner, s3.bucket, s3.key, headers, body=StreamedBody(stream, upload_length(s3)))
    if answer.status_int == 422:
        raise S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")
    if answer.status_int // 100 != 2:
        raise write_failure(answer, s3)
    return Response(status=200, headerlist=[("ETag", s3_etag(answer)), *versioning.version_headers(answer)])


def write_conditions(s3: S3Request) -> dict[str, str]:
    """The request's ``WRITE_CONDITIONS``, for the native write that checks them."""
    return {name: s3.request.headers[name] for name in WRITE_CONDITIONS if name in s3.request.headers}


def write_failure(answer: Response, s3: S3Request) -> S3Error:
    """The S3 error for a failed native write of the object's data: a failed condition
    (``WRITE_CONDITIONS``) as S3's conditional writes answer it, a quota crossed (a 413 naming
    ``QuotaExceeded``) as RGW answers it, else ``from_native``'s."""
    if answer.headers.get(ERROR_HEADER) == QuotaExceeded.code:
        return S3Error("QuotaExceeded", answer.text.strip() or "QuotaExceeded")
    if answer.status_int != 412:
        return from_native(answer.status_int, answer.body, "NoSuchKey")
    if answer.headers.get(ERROR_HEADER) == "NoSuchKey":  # If-Match where there is no object
        return S3Error("NoSuchKey", "The specified key does not exist.", Key=s3.key)
    condition = next((name for name in WRITE_CONDITIONS if name in s3.request.headers), WRITE_CONDITIONS[0])
    return S3Error(
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", Condition=condition
    )


def get_object(native: Native, owner: str, s3: S3Request, head: bool) -> Response:
    conditions = {name: s3.request.headers[name] for name in CONDITIONS if name in s3.request.headers}
    query = versioning.version_query(s3)
    if "partNumber" in s3.params:
        query["part-number"] = s3.params["partNumber"]
    answer = native.call("HEAD" if head else "GET", owner, s3.bucket, s3.key, conditions, query=query)
    if answer.status_int == 304:
        raise S3Error("NotModified", "Not Modified")
    if answer.status_int == 416 and "partNumber" in s3.params:
        raise S3Error("InvalidPartNumber", "The requested partnumber is not satisfiable", 416)
    if answer.status_int // 100 != 2:
        raise versioning.object_failure(answer, s3)
    headers = [(name, answer.headers[name]) for name in PASSED_BACK if name in answer.headers]
    headers = [(name, s3_etag(answer) if name == "ETag" else value) for name, value in headers]
    headers += versioning.version_headers(answer)
    headers += tagging.count_header(answer) + lifecycle.expiration_header(answer)
    if "X-Parts-Count" in answer.headers:
        headers.append(("x-amz-mp-parts-count", answer.headers["X-Parts-Count"]))
    headers += [
        (META_IN + name[len(META_OUT) :].lower(), value)
        for name, value in answer.headers.items()
        if name.lower().startswith(META_OUT)
    ]
    response = Response(status=answer.status_int, headerlist=headers, app_iter=answer.app_iter)
    for param, header in RESPONSE_OVERRIDES.items():
        if param in s3.params:
            response.headers[header] = s3.params[param]
    if "Content-Length" in answer.headers:  # webob drops it when app_iter is set; HEAD needs it
        response.headers["Content-Length"] = answer.headers["Content-Length"]
    return response


def delete_object(native: Native, owner: str, s3: S3Request) -> Response:
    answer = native.call("DELETE", owner, s3.bucket, s3.key, query=versioning.version_query(s3))
    if answer.status_int // 100 != 2 and answer.status_int != 404:
        raise from_native(answer.status_int, answer.body, "NoSuchKey")
    return Response(status=204, headerlist=versioning.version_headers(answer))


def copy_object(native: Native, owner: str, s3: S3Request) -> Response:
    source = parse_copy_source(s3.request.headers["x-amz-copy-source"])
    version_id = source.version_id
    directive = s3.request.headers.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise S3Error("InvalidArgument", "Unknown metadata directive.", ArgumentName="x-amz-metadata-directive")
    same = (source.bucket_entry(s3.tenant), source.key) == (s3.bucket_entry, s3.key)
    if directive == "COPY" and same and not version_id:
        raise S3Error(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself without changing "
            "the object's metadata, storage class, website redirect location or encryption attributes.",
        )
    check_copy_conditions(native, source, s3)
    headers = {
        **source.native_headers(s3.source_owner),
        **versioning.copy_source_headers(version_id),
        **requested_acl_headers(s3, private_by_default=True),
    }
    if directive == "REPLACE":
        headers.update(native_object_headers(s3, CONTENT_HEADERS))
        headers["X-Fresh-Metadata"] = "true"
    headers.update(tagging.copy_tagging_headers(s3))
    headers.update(write_conditions(s3))
    answer = native.call("PUT", owner, s3.bucket, s3.key, headers)
    if answer.status_int == 412 or answer.headers.get(ERROR_HEADER) == QuotaExceeded.code:
        raise write_failure(answer, s3)
    if answer.status_int // 100 != 2:
        raise versioning.copy_failure(answer, s3, version_id)
    root = document("CopyObjectResult")
    add(root, "LastModified", s3_time(float(answer.headers["X-Timestamp"])))
    add(root, "ETag", s3_etag(answer))
    response = Response(body=serialize(root), content_type="application/xml")
    response.headerlist.extend(versioning.copy_version_headers(answer))
    return response


def delete_objects(native: Native, owner: str, s3: S3Request) -> Response:
    root = parse(s3.request.body_file.read(1024 * 1024 + 1))
    if root.tag != "Delete":
        raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate")
    quiet = (root.findtext("Quiet") or "").strip().lower() == "true"
    named = [(element.findtext("Key"), element.findtext("VersionId")) for element in root.findall("Object")]
    if not named or len(named) > MAX_DELETE_KEYS or any(not key for key, _ in named):
        raise S3Error("MalformedXML", f"A Delete names 1 to {MAX_DELETE_KEYS} objects, each with a Key")
    result = document("DeleteResult")
    for key, version_id in named:
        query = {versioning.VERSION_ID: version_id} if version_id else {}
        answer = native.call("DELETE", owner, s3.bucket, key, query=query)
        if answer.status_int // 100 == 2 or answer.status_int == 404:
            if not quiet:
                versioning.add_deleted(result, key, version_id, answer)
            continue
        error = from_native(answer.status_int, answer.body, "NoSuchKey")
        failed = add(result, "Error")
        add(failed, "Key", key)
        if version_id:
            add(failed, "VersionId", version_id)
        add(failed, "Code", error.code)
        add(failed, "Message", error.message)
    return Response(body=serialize(result), content_type="application/xml")
