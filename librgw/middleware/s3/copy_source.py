"""``x-amz-copy-source`` for CopyObject and UploadPartCopy: which object, and its conditions.

The header is ``[/]bucket/key[?versionId=id]``, URL-encoded: the query is cut off before
decoding, so a ``%3F`` in a key stays part of the key. The ``x-amz-copy-source-if-*``
conditions are asked of the source with a native HEAD carrying the matching ``If-*``
headers; any that fails makes the copy ``PreconditionFailed``, as S3 answers.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote

from ..swift.versions import VERSION_ID
from .errors import S3Error, from_native
from .native import Native
from .s3_request import S3Request

CONDITIONS = {
    "x-amz-copy-source-if-match": "If-Match",
    "x-amz-copy-source-if-none-match": "If-None-Match",
    "x-amz-copy-source-if-modified-since": "If-Modified-Since",
    "x-amz-copy-source-if-unmodified-since": "If-Unmodified-Since",
}


def parse_copy_source(value: str) -> tuple[str, str, str]:
    """(bucket, key, version id or "") of an ``x-amz-copy-source`` value."""
    raw, _, query = value.partition("?")
    source = unquote(raw).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: bucket/key")
    version = parse_qs(query).get("versionId", [""])[0]
    return bucket, key, version


def check_copy_conditions(
    native: Native, owner: str, bucket: str, key: str, s3: S3Request, version_id: str = ""
) -> None:
    """``PreconditionFailed`` unless the source (its version ``version_id``, if given) meets the
    request's copy-source conditions."""
    conditions = {
        native_name: s3.request.headers[name] for name, native_name in CONDITIONS.items() if name in s3.request.headers
    }
    if not conditions:
        return
    answer = native.call("HEAD", owner, bucket, key, conditions, query={VERSION_ID: version_id} if version_id else None)
    if answer.status_int in (304, 412):
        raise S3Error(
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            Condition=next(iter(conditions)),
        )
    if answer.status_int // 100 != 2:
        raise from_native(answer.status_int, b"", "NoSuchKey")
