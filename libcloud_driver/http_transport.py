"""The HTTP transport: the S3 protocol to a librgw gateway, through botocore.

botocore does the S3 protocol (SigV4 signing, XML, error parsing, presigned URLs, response
streaming), so this module only maps ``Transport``'s operations onto its calls and S3's error
codes onto ``transport``'s errors (in ``s3_errors``). Requests are path-style
(``http://host:port/bucket/key``), as a gateway on an IP address needs; checksums beyond
SigV4's payload hash are sent and checked only when S3 requires them (botocore's
``when_required``), which every S3 server understands.

Request headers the application passes through libcloud (``headers=``) ride on the request
as they are: botocore has no argument for arbitrary headers, so the call stashes them in the
request context (``before-parameter-build``) and a ``before-sign`` handler adds them, so they
are signed too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import BinaryIO

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from .transport import (
    AccessDenied,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketEntry,
    BucketNotEmpty,
    ByteRange,
    InvalidBucketName,
    InvalidCredentials,
    NoSuchBucket,
    NoSuchKey,
    ObjectEntry,
    Transport,
    TransportError,
    WriteAttrs,
)

# A gateway has one region; SigV4 needs a name for it, and librgw's is AWS's default.
DEFAULT_REGION = "us-east-1"
# Connections kept open to the gateway, shared by the driver's threads.
DEFAULT_MAX_POOL_CONNECTIONS = 16
EXTRA_HEADERS_PARAM = "LibrgwExtraHeaders"
EXTRA_HEADERS_CONTEXT = "librgw_extra_headers"

S3_ERRORS: dict[str, type[TransportError]] = {
    "NoSuchBucket": NoSuchBucket,
    "NoSuchKey": NoSuchKey,
    "BucketAlreadyOwnedByYou": BucketAlreadyOwnedByYou,
    "BucketAlreadyExists": BucketAlreadyExists,
    "BucketNotEmpty": BucketNotEmpty,
    "InvalidBucketName": InvalidBucketName,
    "InvalidAccessKeyId": InvalidCredentials,
    "SignatureDoesNotMatch": InvalidCredentials,
    "UserSuspended": InvalidCredentials,
    "AccessDenied": AccessDenied,
    "403": AccessDenied,  # a HEAD's: no body to say more
}


@contextlib.contextmanager
def s3_errors(not_found: type[TransportError] = NoSuchKey) -> Iterator[None]:
    """S3 error responses as ``transport`` errors; ``not_found`` for a bodiless 404 (a HEAD's)."""
    try:
        yield
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if code in S3_ERRORS:
            raise S3_ERRORS[code](str(e)) from e
        if code == "404":
            raise not_found(str(e)) from e
        raise
    except ParamValidationError as e:
        if "bucket name" in str(e).lower():
            raise InvalidBucketName(str(e)) from e
        raise


def endpoint_url(host: str, port: int | None, secure: bool) -> str:
    scheme = "https" if secure else "http"
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


def s3_client(url: str, key: str, secret: str, verify: bool | str | None = None, region: str = DEFAULT_REGION):
    """A botocore S3 client of the gateway at ``url``, signing with ``key``/``secret``."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1},
        max_pool_connections=DEFAULT_MAX_POOL_CONNECTIONS,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return botocore.session.get_session().create_client(
        "s3",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        verify=verify,
        config=config,
    )


class HTTPTransport(Transport):
    """One user's S3 client to the gateway at ``host:port``. ``verify``: check the gateway's
    TLS certificate (True), against a CA bundle file (a path), or not at all (False)."""

    def __init__(
        self,
        key: str,
        secret: str,
        host: str,
        port: int | None,
        secure: bool,
        verify: bool | str = True,
        region: str = DEFAULT_REGION,
    ) -> None:
        self.client = s3_client(endpoint_url(host, port, secure), key, secret, verify if secure else None, region)
        self.client.meta.events.register("before-parameter-build.s3", stash_extra_headers)
        self.client.meta.events.register("before-sign.s3", add_extra_headers)

    def list_buckets(self) -> Iterator[BucketEntry]:
        with s3_errors():
            response = self.client.list_buckets()
        return (BucketEntry(b["Name"], b["CreationDate"]) for b in response["Buckets"])

    def head_bucket(self, bucket: str) -> None:
        with s3_errors(not_found=NoSuchBucket):
            self.client.head_bucket(Bucket=bucket)

    def create_bucket(self, bucket: str) -> None:
        with s3_errors():
            self.client.create_bucket(Bucket=bucket)

    def delete_bucket(self, bucket: str) -> None:
        with s3_errors(not_found=NoSuchBucket):
            self.client.delete_bucket(Bucket=bucket)

    def list_objects(self, bucket: str, prefix: str | None = None) -> Iterator[ObjectEntry]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix or "")
        with s3_errors(not_found=NoSuchBucket):
            for page in pages:
                for entry in page.get("Contents", []):
                    yield ObjectEntry(entry["Key"], entry["Size"], entry["ETag"].strip('"'), entry["LastModified"])

    def head_object(self, bucket: str, key: str) -> ObjectEntry:
        try:
            with s3_errors():
                response = self.client.head_object(Bucket=bucket, Key=key)
        except NoSuchKey:
            self.head_bucket(bucket)  # NoSuchBucket if that is why
            raise
        return ObjectEntry(
            key,
            response["ContentLength"],
            response["ETag"].strip('"'),
            response["LastModified"],
            response.get("ContentType"),
            response.get("Metadata", {}),
        )

    def get_object(self, bucket: str, key: str, byte_range: ByteRange | None, chunk_size: int) -> Iterator[bytes]:
        params = {"Bucket": bucket, "Key": key}
        if byte_range is not None:
            last = "" if byte_range.end is None else str(byte_range.end - 1)
            params["Range"] = f"bytes={byte_range.start}-{last}"
        with s3_errors():
            body = self.client.get_object(**params)["Body"]
        return stream_body(body, chunk_size)

    def put_object(self, bucket: str, key: str, body: BinaryIO, size: int, attrs: WriteAttrs) -> str:
        with s3_errors(not_found=NoSuchBucket):
            response = self.client.put_object(
                Bucket=bucket, Key=key, Body=body, ContentLength=size, **write_params(attrs)
            )
        return response["ETag"].strip('"')

    def delete_object(self, bucket: str, key: str) -> None:
        with s3_errors():
            self.client.delete_object(Bucket=bucket, Key=key)

    def create_multipart_upload(self, bucket: str, key: str, attrs: WriteAttrs) -> str:
        with s3_errors():
            return self.client.create_multipart_upload(Bucket=bucket, Key=key, **write_params(attrs))["UploadId"]

    def upload_part(self, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> str:
        with s3_errors():
            response = self.client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
        return response["ETag"].strip('"')

    def complete_multipart_upload(self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]) -> str:
        upload = {"Parts": [{"PartNumber": number, "ETag": f'"{etag}"'} for number, etag in parts]}
        with s3_errors():
            response = self.client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload=upload
            )
        return response["ETag"].strip('"')

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        with s3_errors():
            self.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)

    def presigned_get_url(self, bucket: str, key: str, expires_in: int) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
        )


def write_params(attrs: WriteAttrs) -> dict:
    params = {"ContentType": attrs.content_type, "Metadata": attrs.meta_data}
    if attrs.headers:
        params[EXTRA_HEADERS_PARAM] = attrs.headers
    return params


def stream_body(body, chunk_size: int) -> Iterator[bytes]:
    """A response body's chunks; the connection goes back to the pool when they are read, or
    is closed when the iterator is dropped half-way."""
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()


def stash_extra_headers(params: dict, context: dict, **kwargs) -> None:
    headers = params.pop(EXTRA_HEADERS_PARAM, None)
    if headers:
        context[EXTRA_HEADERS_CONTEXT] = headers


def add_extra_headers(request, **kwargs) -> None:
    for name, value in request.context.get(EXTRA_HEADERS_CONTEXT, {}).items():
        request.headers[name] = value
