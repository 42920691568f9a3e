"""``GET /``: ListBuckets, the buckets of the signed-in user's account: its own, or, for a
user of a tenant, the tenant's."""

from __future__ import annotations

import json

from webob import Response

from .errors import S3Error, from_native
from .native import Native
from .xml_doc import add, document, serialize, swift_listing_time


def list_buckets(native: Native, display_name: str) -> Response:
    if native.identity is None:
        raise S3Error("AccessDenied", "Anonymous users cannot list buckets")
    uid = native.identity.user_id
    answer = native.call("GET", uid, query={"format": "json"})
    if answer.status_int // 100 != 2:
        raise from_native(answer.status_int, answer.body, "NoSuchBucket")
    root = document("ListAllMyBucketsResult")
    owner = add(root, "Owner")
    add(owner, "ID", uid)
    add(owner, "DisplayName", display_name)
    buckets = add(root, "Buckets")
    for item in json.loads(answer.body or b"[]"):
        bucket = add(buckets, "Bucket")
        add(bucket, "Name", item["name"])
        add(bucket, "CreationDate", swift_listing_time(item["last_modified"]))
    return Response(body=serialize(root), content_type="application/xml")
