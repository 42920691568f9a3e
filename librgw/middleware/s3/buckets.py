"""Bucket operations: CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, and
ListObjects (v1) and ListObjectsV2 over the native container listing.

S3's bucket names are stricter than Swift's container names, so CreateBucket checks AWS's
rules before asking the native API. Listings ask for one entry more than ``max-keys`` to
know whether the page is truncated; V2's continuation token is the last name listed,
base64-encoded (opaque to clients, as S3's is). ``encoding-type=url`` URL-encodes keys
and prefixes in the answer.
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import quote

from webob import Response

from librgw.buckets import s3_name_problem
from librgw.tenants import tenant_of

from ..swift.errors import ERROR_HEADER
from . import acl
from .errors import S3Error, from_native, native_failure
from .native import Native
from .s3_request import S3Request
from .xml_doc import add, document, parse, serialize, swift_listing_time

MAX_KEYS = 1000
DEFAULT_REGION = "us-east-1"


def create_bucket(native: Native, s3: S3Request) -> Response:
    if native.identity is None:
        raise S3Error("AccessDenied", "Anonymous users cannot create buckets")
    if s3.tenant != tenant_of(native.identity.user_id):
        raise S3Error("AccessDenied", "A bucket can be created only in its owner's tenant")
    problem = s3_name_problem(s3.bucket)
    if problem:
        raise S3Error("InvalidBucketName", f"The specified bucket is not valid: it {problem}", BucketName=s3.bucket)
    body = s3.request.body_file.read(1024 * 1024 + 1)
    if body.strip():
        root = parse(body)
        if root.tag != "CreateBucketConfiguration":
            raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate")
    answer = native.call("PUT", native.identity.user_id, s3.bucket, headers=acl.requested_acl_headers(s3, False))
    if answer.status_int == 202:
        raise S3Error("BucketAlreadyOwnedByYou", "You already own this bucket", BucketName=s3.bucket)
    if answer.status_int == 409:
        raise S3Error("BucketAlreadyExists", "The requested bucket name is not available", BucketName=s3.bucket)
    if answer.status_int // 100 != 2:
        error_code = answer.headers.get(ERROR_HEADER, "")
        raise native_failure(answer.status_int, answer.body, error_code, "NoSuchBucket")
    return Response(status=200, headerlist=[("Location", "/" + s3.bucket)])


def head_bucket(native: Native, owner: str, s3: S3Request) -> Response:
    answer = native.call("HEAD", owner, s3.bucket)
    if answer.status_int // 100 != 2:
        raise from_native(answer.status_int, b"", "NoSuchBucket")
    return Response(status=200, headerlist=[("x-amz-bucket-region", DEFAULT_REGION)])


def delete_bucket(native: Native, owner: str, s3: S3Request) -> Response:
    answer = native.call("DELETE", owner, s3.bucket)
    if answer.status_int == 409:
        raise S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty", BucketName=s3.bucket)
    if answer.status_int // 100 != 2:
        raise from_native(answer.status_int, answer.body, "NoSuchBucket")
    return Response(status=204)


def get_location(native: Native, owner: str, s3: S3Request) -> Response:
    head_bucket(native, owner, s3)
    root = document("LocationConstraint")
    return Response(body=serialize(root), content_type="application/xml")


def _max_keys(s3: S3Request) -> int:
    text = s3.params.get("max-keys", str(MAX_KEYS))
    if not text.isdigit():
        raise S3Error("InvalidArgument", "max-keys must be a non-negative integer", ArgumentName="max-keys")
    return min(int(text), MAX_KEYS)


def list_objects(native: Native, owner: str, s3: S3Request, owner_name: str) -> Response:
    v2 = s3.params.get("list-type") == "2"
    max_keys = _max_keys(s3)
    prefix, delimiter = s3.params.get("prefix", ""), s3.params.get("delimiter", "")
    encoding = s3.params.get("encoding-type", "")
    if encoding and encoding != "url":
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", ArgumentName="encoding-type")
    if v2:
        token = s3.params.get("continuation-token")
        marker = _decode_token(token) if token is not None else s3.params.get("start-after", "")
    else:
        marker = s3.params.get("marker", "")
    query = {"format": "json", "prefix": prefix, "marker": marker, "limit": str(max_keys + 1)}
    if delimiter:
        if len(delimiter) > 1:
            raise S3Error("NotImplemented", "Only one-character delimiters are supported")
        query["delimiter"] = delimiter
    answer = native.call("GET", owner, s3.bucket, query=query)
    if answer.status_int // 100 != 2:
        raise from_native(answer.status_int, answer.body, "NoSuchBucket")
    items = json.loads(answer.body or b"[]") if answer.status_int == 200 else []
    truncated = len(items) > max_keys
    items = items[:max_keys]
    encode = (lambda text: quote(text, safe="/")) if encoding else (lambda text: text)

    root = document("ListBucketResult")
    add(root, "Name", s3.bucket)
    add(root, "Prefix", encode(prefix))
    if v2:
        if "continuation-token" in s3.params:
            add(root, "ContinuationToken", s3.params["continuation-token"])
        if "start-after" in s3.params:
            add(root, "StartAfter", encode(s3.params["start-after"]))
        add(root, "KeyCount", len(items))
    else:
        add(root, "Marker", encode(marker))
    add(root, "MaxKeys", max_keys)
    if delimiter:
        add(root, "Delimiter", encode(delimiter))
    if encoding:
        add(root, "EncodingType", "url")
    add(root, "IsTruncated", "true" if truncated else "false")
    if truncated and items:
        last = items[-1].get("name", items[-1].get("subdir"))
        if v2:
            add(root, "NextContinuationToken", base64.urlsafe_b64encode(last.encode()).decode())
        elif delimiter:
            add(root, "NextMarker", encode(last))
    fetch_owner = not v2 or s3.params.get("fetch-owner") == "true"
    for item in items:
        if "subdir" in item:
            continue
        contents = add(root, "Contents")
        add(contents, "Key", encode(item["name"]))
        add(contents, "LastModified", swift_listing_time(item["last_modified"]))
        add(contents, "ETag", f'"{item["hash"]}"')
        add(contents, "Size", item["bytes"])
        add(contents, "StorageClass", "STANDARD")
        if fetch_owner:
            who = add(contents, "Owner")
            add(who, "ID", owner)
            add(who, "DisplayName", owner_name)
    for item in items:
        if "subdir" in item:
            add(add(root, "CommonPrefixes"), "Prefix", encode(item["subdir"]))
    return Response(body=serialize(root), content_type="application/xml")


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise S3Error("InvalidArgument", "The continuation token provided is incorrect") from None
