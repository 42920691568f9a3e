"""S3's errors: one exception, rendered as S3's XML error document, and the one mapping from
native (Swift API) statuses to S3 codes.

Every error carries ``x-amz-request-id`` (the request log's id) in its body and headers.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from webob import Response

STATUS = {
    "AccessDenied": 403,
    "AccessForbidden": 403,
    "AuthorizationHeaderMalformed": 400,
    "AuthorizationQueryParametersError": 400,
    "BadDigest": 400,
    "BadRequest": 400,
    "BucketAlreadyExists": 409,
    "BucketAlreadyOwnedByYou": 409,
    "BucketNotEmpty": 409,
    "EntityTooLarge": 400,
    "ExpiredToken": 400,
    "EntityTooSmall": 400,
    "IncompleteBody": 400,
    "InternalError": 500,
    "InvalidAccessKeyId": 403,
    "InvalidArgument": 400,
    "InvalidBucketName": 400,
    "InvalidDigest": 400,
    "InvalidPart": 400,
    "InvalidPartOrder": 400,
    "InvalidRange": 416,
    "InvalidToken": 400,
    "InvalidRequest": 400,
    "InvalidTag": 400,
    "KeyTooLongError": 400,
    "MalformedACLError": 400,
    "MalformedPolicy": 400,
    "MalformedXML": 400,
    "MetadataTooLarge": 400,
    "MethodNotAllowed": 405,
    "MissingContentLength": 411,
    "MissingSecurityHeader": 400,
    "NoSuchBucket": 404,
    "NoSuchBucketPolicy": 404,
    "NoSuchCORSConfiguration": 404,
    "NoSuchKey": 404,
    "NoSuchLifecycleConfiguration": 404,
    "NoSuchTagSet": 404,
    "NoSuchUpload": 404,
    "NoSuchVersion": 404,
    "NotImplemented": 501,
    "NotModified": 304,
    "OperationAborted": 409,
    "PreconditionFailed": 412,
    "QuotaExceeded": 403,
    "RequestTimeTooSkewed": 403,
    "ServerSideEncryptionConfigurationNotFoundError": 404,
    "ServiceUnavailable": 503,
    "SignatureDoesNotMatch": 403,
    "SlowDown": 503,
    "UnexpectedContent": 400,
    "UnresolvableGrantByEmailAddress": 400,
    "UserSuspended": 403,
    "XAmzContentSHA256Mismatch": 400,
}


class S3Error(Exception):
    """An S3 error response: ``code`` (S3's), its HTTP status and a message safe to send."""

    def __init__(self, code: str, message: str = "", status: int | None = None, **extra: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message or code
        self.status = status or STATUS.get(code, 400)
        self.extra = extra  # more fields for the document (BucketName, Key, ...)
        self.headers: list[tuple[str, str]] = []  # more headers for the response (x-amz-delete-marker, ...)

    def response(self, resource: str, request_id: str) -> Response:
        if self.status == 304:  # no body may follow a 304
            return Response(status=304, headerlist=[("x-amz-request-id", request_id), *self.headers])
        root = ET.Element("Error")
        for tag, text in (("Code", self.code), ("Message", self.message), *self.extra.items()):
            ET.SubElement(root, tag).text = text
        ET.SubElement(root, "Resource").text = resource
        ET.SubElement(root, "RequestId").text = request_id
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
        response = Response(status=self.status, body=body, headerlist=[("x-amz-request-id", request_id), *self.headers])
        response.content_type = "application/xml"
        return response


def from_native(status: int, body: bytes, not_found: str) -> S3Error:
    """The S3 error for a native response's failure status; ``not_found`` is the code a 404
    means here (``NoSuchBucket`` or ``NoSuchKey``)."""
    message = body.decode("utf-8", "replace").strip()[:512]
    if status == 404:
        return S3Error(not_found, message or "Not Found")
    code = {
        400: "InvalidArgument",
        401: "AccessDenied",
        403: "AccessDenied",
        405: "MethodNotAllowed",
        409: "BucketNotEmpty",
        411: "MissingContentLength",
        412: "PreconditionFailed",
        413: "EntityTooLarge",
        416: "InvalidRange",
        422: "BadDigest",
        499: "IncompleteBody",
        503: "SlowDown",
        507: "ServiceUnavailable",
    }.get(status)
    if code is None:
        return S3Error("InternalError", "We encountered an internal error. Please try again.", 500)
    return S3Error(code, message, 403 if status == 401 else None)


def native_failure(status: int, body: bytes, error_code: str, not_found: str) -> S3Error:
    """The S3 error for a failed native answer: the code its ``X-Librgw-Error`` names
    (``error_code``) when S3 has it, with the answer's own explanation; else ``from_native``'s."""
    if error_code not in STATUS:
        return from_native(status, body, not_found)
    paragraphs = [p.strip() for p in body.decode("utf-8", "replace").split("\n\n") if p.strip()]
    return S3Error(error_code, paragraphs[-1][:512] if paragraphs else error_code)
