"""``s3``: the S3 protocol in front of the native Swift API, as Swift's ``s3api`` does it.

Every request that is not for the native API (``/v1/``, ``/auth/``) or an open path is
S3's: path-style (``/<bucket>/<key>``), or virtual-hosted (``<bucket>.<storage_domain>``)
when ``storage_domain`` is set. The filter checks its signature (SigV2 or SigV4, header or
presigned; ``authenticate.py``), then turns the operation into native requests down the
pipeline (``native.py``), so authorization, limits and logging are the native API's, in
one place. Answers are S3's: XML documents, S3 error codes, ``x-amz-request-id``; a cluster
that cannot serve now is ``ServiceUnavailable`` (503), any other failure ``InternalError``
(500, its traceback logged as ``catch_errors`` logs it).

Served so far: ListBuckets; CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
ListObjects and ListObjectsV2; PutObject (``Content-MD5`` checked), GetObject and
HeadObject (ranges, conditions, ``response-*``), DeleteObject, CopyObject (COPY and
REPLACE), DeleteObjects; multipart uploads (``multipart.py``); versioning
(``versioning.py``); bucket and object ACLs, canned and granted (``acl.py``), and bucket
policies (``policy.py``); bucket and object tagging, CORS with preflight requests, lifecycle
configuration (``subresources.py``). Other sub-resources answer ``NotImplemented``, and so does
any request asking for server-side encryption, which is not offered (``encryption.py``).

A request whose ``Transfer-Encoding`` is anything but ``chunked`` (``gzip, chunked``) is
``NotImplemented`` (501) at once, as s3api answers it, before any of its body is read.

A request's body is read through ``payload.ServerInput``: one the server cannot read whole (a
broken chunk, chunks or a ``Content-Length`` cut short) is ``IncompleteBody`` (400), whatever
the operation reading it.

Settings (``[filter:s3]``):

- ``cluster``: as the gateway's (``$LIBRGW_CLUSTER`` overrides it); the filter reads users'
  keys and buckets' owners from the core.
- ``storage_domain`` (default empty: path-style only): the domain under which
  ``<bucket>.<domain>`` hosts address buckets.

Building the filter registers ``s3api`` in ``/info`` (``registry.py``) with the settings Swift's
``s3api`` publishes (``max_bucket_listing``, ``max_upload_part_num``, ``min_segment_size``, ...).

``paste.ini``::

    [filter:s3]
    use = egg:librgw#s3
    storage_domain = s3.localhost
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from webob import Request, Response

from librgw.errors import NoSuchBucket, cluster_busy
from librgw.multipart import MIN_PART_SIZE
from librgw.tenants import tenant_of

from ..catch_errors import ERROR_LOG
from ..core_connection import WorkerConnection, cluster_spec
from ..registry import register_swift_info
from ..request_log import TRANS_ID_KEY
from ..swift.multipart import MAX_LISTED
from ..swift.request_body import transfer_coding_refusal
from . import (
    acl,
    buckets,
    cors,
    encryption,
    multipart,
    objects,
    payload,
    policy,
    post_object,
    service,
    sts,
    subresources,
    versioning,
)
from .authenticate import chunk_signing_key, identity_of
from .copy_source import parse_copy_source
from .errors import S3Error
from .native import Native
from .s3_request import S3Request, is_s3, parse_request
from .signature import SignatureError, parse_s3_auth

UNSUPPORTED_HEADER = "A header you provided implies functionality that is not implemented"
# Bucket sub-resources this filter does not serve yet: refused, never mistaken for a listing.
UNSERVED = (
    "website", "logging", "notification", "replication", "object-lock", "accelerate",
    "requestPayment", "inventory", "analytics", "metrics", "ownershipControls", "publicAccessBlock",
    "retention", "legal-hold", "restore", "torrent", "attributes", "select",
)  # fmt: skip


class S3:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.core = WorkerConnection(cluster_spec(conf))
        self.storage_domain = conf.get("storage_domain", "").lower().strip(".")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not is_s3(environ):
            return self.app(environ, start_response)
        environ["wsgi.input"] = payload.ServerInput.of(environ)
        request = Request(environ)
        request_id = environ.get(TRANS_ID_KEY, "-")
        resource, s3 = "/", None
        try:
            s3 = parse_request(request, self.storage_domain)
            resource = s3.resource
            response = self.handle(s3)
        except S3Error as error:
            response = error.response(resource, request_id)
        except payload.BodyRejected as refusal:  # a body read here, not by an upload (``payload.ServerInput``)
            response = refusal.error.response(resource, request_id)
        except SignatureError as error:
            response = S3Error(error.code, error.message, error.status).response(resource, request_id)
        except Exception as error:
            if cluster_busy(error):
                failure = S3Error("ServiceUnavailable", "Please reduce your request rate.", 503)
            else:  # S3's own answer to what catch_errors would answer in plain text
                ERROR_LOG.exception("unhandled error in %s %s (%s)", request.method, request.path_info, request_id)
                failure = S3Error("InternalError", "We encountered an internal error. Please try again.", 500)
            response = failure.response(resource, request_id)
        response.headers["x-amz-request-id"] = request_id
        if s3 is not None and "HTTP_ORIGIN" in environ:  # a cross-origin request (cors.py)
            cors.add_response_headers(self.core.rgw, s3, response)
        return response(environ, start_response)

    def handle(self, s3: S3Request) -> Response:
        rgw = self.core.rgw
        if sts.is_sts(s3):
            return sts.handle(rgw, s3, s3.request.environ.get(TRANS_ID_KEY, "-"))
        if s3.request.method == "OPTIONS":  # a CORS preflight: no authentication (cors.py)
            s3.address("")
            return cors.preflight(rgw, s3)
        if transfer_coding_refusal(s3.request.environ) is not None:  # s3api's answer to Swift's 400 and 501
            raise S3Error("NotImplemented", UNSUPPORTED_HEADER, Header="Transfer-Encoding")
        claim = parse_s3_auth(s3.request.environ, bucket_in_host=s3.host_bucket)
        identity = identity_of(rgw, claim, s3.request.environ)
        encryption.refuse_requested_encryption(s3)
        native = Native(self.app, s3.request.environ, identity)
        method = s3.request.method
        if not s3.bucket:
            if method != "GET":
                raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")
            name = rgw.users.get(identity.user_id).display_name if identity else ""
            return service.list_buckets(native, name)
        requester_tenant = tenant_of(identity.user_id) if identity is not None else ""
        s3.address(requester_tenant)
        unserved = [name for name in UNSERVED if name in s3.params]
        if unserved:
            raise S3Error("NotImplemented", f"The {unserved[0]} sub-resource is not supported yet")
        if subresources.applies(s3):  # ?tagging, ?cors, ?lifecycle, ?encryption
            return subresources.handle(native, rgw, s3, claim)
        access_control = acl.applies(s3) or policy.applies(s3)
        if method == "PUT" and not s3.key and not versioning.applies(s3) and not access_control:
            return buckets.create_bucket(native, s3)
        try:
            owner = rgw.buckets.get(s3.bucket_entry).owner
        except NoSuchBucket:
            raise S3Error("NoSuchBucket", "The specified bucket does not exist", BucketName=s3.bucket) from None
        if access_control:  # ?acl and ?policy (acl.py, policy.py)
            return acl.handle(native, owner, s3, rgw.users) if acl.applies(s3) else policy.handle(native, owner, s3)
        if method == "PUT" and s3.key and "x-amz-copy-source" in s3.request.headers:  # CopyObject, UploadPartCopy
            source = parse_copy_source(s3.request.headers["x-amz-copy-source"])
            try:
                s3.source_owner = rgw.buckets.get(source.bucket_entry(requester_tenant)).owner
            except NoSuchBucket:
                raise S3Error("NoSuchBucket", "The specified bucket does not exist", BucketName=source.bucket) from None
        if method == "PUT" and s3.key:  # PutObject, UploadPart: the body checked and decoded (payload.py)
            body = payload.upload_body(s3, claim, lambda: chunk_signing_key(rgw, claim, s3.request.environ))
            with body.refusals():
                if multipart.applies(s3):
                    return multipart.handle(native, owner, body.s3, body, rgw.users)
                return objects.put_object(native, owner, body.s3, body)
        if multipart.applies(s3):
            return multipart.handle(native, owner, s3, s3.request.environ["wsgi.input"], rgw.users)
        if post_object.is_post_object(s3):
            return post_object.post_object(rgw, lambda who: Native(self.app, s3.request.environ, who), owner, s3)
        if versioning.applies(s3):
            return versioning.handle(native, owner, s3, rgw.users)
        if not s3.key:
            return self.bucket_operation(native, owner, s3)
        if method in ("GET", "HEAD"):
            return objects.get_object(native, owner, s3, head=method == "HEAD")
        if method == "DELETE":
            return objects.delete_object(native, owner, s3)
        raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")

    def bucket_operation(self, native: Native, owner: str, s3: S3Request) -> Response:
        method = s3.request.method
        if method == "GET" and "location" in s3.params:
            return buckets.get_location(native, owner, s3)
        if method == "GET":
            name = self.core.rgw.users.get(owner).display_name
            return buckets.list_objects(native, owner, s3, name)
        if method == "HEAD":
            return buckets.head_bucket(native, owner, s3)
        if method == "DELETE":
            return buckets.delete_bucket(native, owner, s3)
        if method == "POST" and "delete" in s3.params:
            return objects.delete_objects(native, owner, s3)
        raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    register_swift_info(  # what Swift's s3api says of itself in /info, with this filter's values
        "s3api",
        max_bucket_listing=buckets.MAX_KEYS,
        max_parts_listing=MAX_LISTED,
        max_upload_part_num=multipart.MAX_PART_NUMBER,
        max_multi_delete_objects=objects.MAX_DELETE_KEYS,
        allow_multipart_uploads=True,
        min_segment_size=MIN_PART_SIZE,
        s3_acl=True,
    )
    return lambda app: S3(app, conf)
