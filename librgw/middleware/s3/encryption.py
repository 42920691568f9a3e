"""Server-side encryption, which librgw does not offer: every request that asks for it is
refused, so no client ever has its data stored in plaintext believing it encrypted.

- A request with any ``x-amz-server-side-encryption*`` or
  ``x-amz-copy-source-server-side-encryption*`` header (SSE-S3, SSE-KMS and its context and
  bucket key, SSE-C's algorithm, key and key MD5, and a copy source's SSE-C), or such a query
  parameter (a presigned URL may carry them there), is ``NotImplemented`` (501), whatever the
  operation: PutObject, CopyObject, CreateMultipartUpload, UploadPart, UploadPartCopy,
  GetObject, HeadObject... PostObject's form fields of the same names likewise
  (``post_object.py``). The refusal comes after authentication and before anything is read
  or written; it names the header, never its value (an SSE-C key is a secret).
- ``?encryption`` of a bucket (through the native ``?encryption``, ``swift/encryption.py``,
  which authorizes it as S3 does): PutBucketEncryption is ``NotImplemented``;
  GetBucketEncryption is ``ServerSideEncryptionConfigurationNotFoundError`` (404), S3's
  answer for a bucket without a configuration (AWS now reports a default SSE-S3 one; that
  would be a lie here); DeleteBucketEncryption is 204, as S3 answers it whether or not there
  was one: there is nothing to remove, and answering it promises nothing, so clients that
  reset a bucket's configuration keep working.
"""

from __future__ import annotations

from collections.abc import Iterable

from webob import Response

from ..swift.encryption import ENCRYPTION, NOT_FOUND
from ..swift.errors import ERROR_HEADER
from .errors import S3Error, native_failure
from .native import Native
from .s3_request import S3Request

HEADER_PREFIXES = ("x-amz-server-side-encryption", "x-amz-copy-source-server-side-encryption")
ENVIRON_PREFIXES = tuple("HTTP_" + prefix.upper().replace("-", "_") for prefix in HEADER_PREFIXES)
NOT_IMPLEMENTED = "A header you provided implies functionality that is not implemented: server-side encryption"


def asked_for(names: Iterable[str]) -> str | None:
    """The first of ``names`` (header, query or form field names) that asks for encryption, lower-cased."""
    return next((name.lower() for name in names if name.lower().startswith(HEADER_PREFIXES)), None)


def refuse_requested_encryption(s3: S3Request) -> None:
    """``NotImplemented`` if the request asks for server-side encryption in a header or the query."""
    if any(key.startswith(ENVIRON_PREFIXES) for key in s3.request.environ):  # the cheap look first
        refuse(asked_for(s3.request.headers.keys()) or HEADER_PREFIXES[0])
    if (name := asked_for(s3.params)) is not None:
        refuse(name)


def refuse(name: str) -> None:
    """``NotImplemented`` for the header or field ``name``: its name only, never its value."""
    raise S3Error("NotImplemented", f"{NOT_IMPLEMENTED} ({name[:64]}).", Header=name[:64])


def handle(native: Native, owner: str, s3: S3Request, body: bytes | None) -> Response:
    """Put, Get or Delete the bucket's encryption configuration; a PUT's ``body`` is not looked at."""
    method = s3.request.method
    if method not in ("GET", "PUT", "DELETE"):
        raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")
    answer = native.call(method, owner, s3.bucket, query={ENCRYPTION: ""})
    if answer.status_int // 100 == 2:
        return Response(status=204)
    error = native_failure(answer.status_int, answer.body, answer.headers.get(ERROR_HEADER, ""), "NoSuchBucket")
    if error.code == NOT_FOUND:
        raise S3Error(NOT_FOUND, "The server side encryption configuration was not found", BucketName=s3.bucket)
    if error.code == "NotImplemented":
        raise S3Error("NotImplemented", "Server-side encryption is not supported: objects are stored unencrypted.")
    raise error
