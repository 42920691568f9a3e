"""The bucket configurations this filter serves as sub-resources: ``?tagging`` (of buckets and
objects, ``tagging.py``), ``?cors``, ``?lifecycle`` and ``?encryption`` (of buckets,
``cors.py``, ``lifecycle.py`` and ``encryption.py``). Each is one native sub-resource request
down the pipeline.

A PUT's document is read here, through the same checks as an upload's body
(``payload.py``: the signed payload hash, aws-chunked, ``x-amz-checksum-*``), at most
``MAX_BODY`` bytes, and checked against its ``Content-MD5`` (``BadDigest``) when it has one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from webob import Response

import librgw
from librgw.errors import NoSuchBucket

from . import cors, encryption, lifecycle, tagging
from .authenticate import chunk_signing_key
from .errors import S3Error
from .native import Native
from .object_headers import content_md5_hex
from .payload import BodyRejected, UploadBody, upload_body
from .s3_request import S3Request
from .signature import S3Credentials
from .xml_doc import MAX_BODY

READ_CHUNK = 64 * 1024
BUCKET_HANDLERS = {"cors": cors.handle, "lifecycle": lifecycle.handle, "encryption": encryption.handle}


def applies(s3: S3Request) -> bool:
    """Does ``s3`` address one of these sub-resources?"""
    return "tagging" in s3.params or any(name in s3.params for name in BUCKET_HANDLERS)


def handle(native: Native, rgw: librgw.RGW, s3: S3Request, claim: S3Credentials | None) -> Response:
    """The operation ``s3``, authenticated by ``claim``, asks for."""
    if "tagging" in s3.params:
        handler = tagging.handle
    else:
        name, handler = next((name, handler) for name, handler in BUCKET_HANDLERS.items() if name in s3.params)
        if s3.key:
            raise S3Error("NotImplemented", f"The {name} sub-resource is a bucket's; objects have none")
    try:
        owner = rgw.buckets.get(s3.bucket_entry).owner
    except NoSuchBucket:
        raise S3Error("NoSuchBucket", "The specified bucket does not exist", BucketName=s3.bucket) from None
    body = None
    if s3.request.method == "PUT":
        environ = s3.request.environ
        body = read_document(s3, lambda: upload_body(s3, claim, lambda: chunk_signing_key(rgw, claim, environ)))
    return handler(native, owner, s3, body)


def read_document(s3: S3Request, checked_body: Callable[[], UploadBody]) -> bytes:
    """A PUT's whole document, read from ``checked_body()``; ``MalformedXML`` past ``MAX_BODY`` bytes."""
    headers = s3.request.headers
    if "Content-Length" not in headers and "chunked" not in headers.get("Transfer-Encoding", "").lower():
        raise S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.")
    body = checked_body()
    chunks, size = [], 0
    try:
        while chunk := body.read(READ_CHUNK):
            size += len(chunk)
            if size > MAX_BODY:
                raise S3Error("MalformedXML", f"The XML you provided is larger than {MAX_BODY} bytes")
            chunks.append(chunk)
    except BodyRejected as refusal:
        raise refusal.error from None
    document = b"".join(chunks)
    md5 = content_md5_hex(s3)
    if md5 is not None and hashlib.md5(document).hexdigest() != md5:
        raise S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")
    return document
