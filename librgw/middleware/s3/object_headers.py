"""How an S3 request's object headers become a native request's.

``x-amz-meta-<name>`` is ``X-Object-Meta-<name>``; content headers (``Content-Type``,
``Content-Disposition``, ...) pass as they are; ``Content-MD5`` (base64) becomes the hex
digest the native ``ETag`` check takes, so a body that does not match is never stored.
"""

from __future__ import annotations

import base64
import binascii

from .errors import S3Error
from .s3_request import S3Request

META_IN = "x-amz-meta-"


def native_object_headers(s3: S3Request, names: tuple[str, ...]) -> dict[str, str]:
    """The request's headers among ``names``, and its metadata as ``X-Object-Meta-*``."""
    headers = {name: s3.request.headers[name] for name in names if name in s3.request.headers}
    for name, value in s3.request.headers.items():
        if name.lower().startswith(META_IN):
            headers["X-Object-Meta-" + name[len(META_IN) :]] = value
    return headers


def content_md5_hex(s3: S3Request) -> str | None:
    """The request's ``Content-MD5`` as hex; None without one, ``InvalidDigest`` if it is not an MD5."""
    value = s3.request.headers.get("Content-MD5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid")
    return digest.hex()


def digest_check(s3: S3Request) -> dict[str, str]:
    """The native header that has the body checked against the request's ``Content-MD5``."""
    md5 = content_md5_hex(s3)
    return {"ETag": md5} if md5 else {}


def upload_length(s3: S3Request) -> str | None:
    """The upload's ``Content-Length`` to pass on (None: chunked); ``MissingContentLength`` without either."""
    length = s3.request.headers.get("Content-Length")
    if length is None and "chunked" not in s3.request.headers.get("Transfer-Encoding", ""):
        raise S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.")
    return length
