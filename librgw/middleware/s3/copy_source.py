"""``x-amz-copy-source`` for CopyObject and UploadPartCopy: which object, and its conditions.

The header is ``[/]bucket/key[?versionId=id]``, URL-encoded: the query is cut off before
decoding, so a ``%3F`` in a key stays part of the key. The bucket may be another tenant's,
``tenant:bucket`` (``librgw/tenants.py``), or another user's: the native copy names the
source's account (``X-Copy-From-Account``), which the ``s3`` filter finds from the source
bucket's owner, and the native API authorizes the read there. The ``x-amz-copy-source-if-*``
conditions are asked of the source with a native HEAD carrying the matching ``If-*``
headers; any that fails makes the copy ``PreconditionFailed``, as S3 answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote

from librgw.authorization import ACCOUNT_PREFIX
from librgw.tenants import S3_TENANT_SEP, account_of, s3_bucket_entry

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


@dataclass(frozen=True)
class CopySource:
    """The object an ``x-amz-copy-source`` names: ``bucket`` as named (``tenant:bucket`` for
    another tenant's), ``key``, and ``version_id`` ("": the current version)."""

    bucket: str
    key: str
    version_id: str = ""

    def bucket_entry(self, requester_tenant: str) -> str:
        """The source bucket's entry name, for a requester of ``requester_tenant``."""
        return s3_bucket_entry(self.bucket, requester_tenant)

    @property
    def local_bucket(self) -> str:
        """The source bucket's name within its tenant, as its account's native API calls it."""
        return self.bucket.rpartition(S3_TENANT_SEP)[2]

    def native_headers(self, owner: str) -> dict[str, str]:
        """``X-Copy-From`` and ``X-Copy-From-Account`` naming the source, in bucket owner
        ``owner``'s account."""
        return {
            "X-Copy-From": quote(f"/{self.local_bucket}/{self.key}"),
            "X-Copy-From-Account": ACCOUNT_PREFIX + account_of(owner),
        }


def parse_copy_source(value: str) -> CopySource:
    """The object an ``x-amz-copy-source`` value names."""
    raw, _, query = value.partition("?")
    source = unquote(raw).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: bucket/key")
    version = parse_qs(query).get("versionId", [""])[0]
    return CopySource(bucket, key, version)


def check_copy_conditions(native: Native, source: CopySource, s3: S3Request) -> None:
    """``PreconditionFailed`` unless the source (its version, if it names one) meets the
    request's copy-source conditions."""
    conditions = {
        native_name: s3.request.headers[name] for name, native_name in CONDITIONS.items() if name in s3.request.headers
    }
    if not conditions:
        return
    query = {VERSION_ID: source.version_id} if source.version_id else None
    answer = native.call("HEAD", s3.source_owner, source.local_bucket, source.key, conditions, query=query)
    if answer.status_int in (304, 412):
        raise S3Error(
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            Condition=next(iter(conditions)),
        )
    if answer.status_int // 100 != 2:
        raise from_native(answer.status_int, b"", "NoSuchKey")
