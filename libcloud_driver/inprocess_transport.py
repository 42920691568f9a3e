"""The in-process transport: one user's operations straight on the core (``librgw.connect``),
with no gateway and no HTTP in between.

It is the gateway without the wire: the same core entry points the gateway's controllers
call (``ObjectOps`` for an object's put, get, stat and delete, the bucket store, the bucket
index for listings, the multipart store), and the same authorization
(``librgw.authorization.decide``, asked with the bucket's ACL and policy and the object's
ACL, as the gateway asks it), so versioning, ACLs, bucket policies and expiry behave as
they do over HTTP. What the gateway's S3 layer adds to a write is added here too: an object
is its writer's, with S3's default ``private`` ACL; metadata names are lower-case.

The access key and secret are checked against the core's keys once, when the transport is
made (the secret compared in constant time, ``hmac.compare_digest``): a wrong pair, or a
suspended user, is ``InvalidCredentials``. A refusal is ``AccessDenied``; an object the
user may not read is refused, not reported missing, unless the user may list its bucket
(as S3 answers). Only a user's own S3 keys are accepted, not STS's temporary credentials.

The cluster is the ``spec`` ``librgw.connect`` takes (``data/cluster.conf``, or
``ceph:<ceph.conf>``); a process keeps one connection per spec, shared by every transport on
it (``cluster_connection``), made again in a forked child, as a gateway worker keeps one.
Make transports after a fork, though: librados connected before one can hang the child's.

Bodies are streamed: an upload's file goes to ``ObjectOps.put`` as it is (read to its end),
a download is the core's ``ObjectReader`` read in chunks. A presigned URL is for a gateway
to serve: ``gateway_url`` names it (``make run``'s is ``http://127.0.0.1:8080``), and the URL
is signed with the user's keys by botocore, as the HTTP transport signs its own.
"""

from __future__ import annotations

import datetime
import hmac
import math
import os
import threading
from collections.abc import Iterator
from typing import BinaryIO

import librgw
from librgw import acl as acls
from librgw import errors
from librgw.authorization import (
    CONTAINERS,
    LIST,
    READ,
    WRITE,
    Access,
    Identity,
    bucket_access,
    decide,
    native_s3_action,
)
from librgw.bucket_info import BucketInfo
from librgw.objects import CONTENT_HEADERS, ObjectReader, ObjectState
from librgw.tenants import bucket_entry, s3_bucket_entry, tenant_of
from librgw.write_request import WriteRequest

from .http_transport import s3_client
from .transport import (
    AccessDenied,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketEntry,
    BucketNotEmpty,
    ByteRange,
    InvalidBucketName,
    InvalidCredentials,
    NoGatewayURL,
    NoSuchBucket,
    NoSuchKey,
    ObjectEntry,
    Transport,
    WriteAttrs,
)

# Index entries a listing reads at a time, as an S3 ListObjects page.
LIST_PAGE = 1000
# What S3 gives an object written without an ACL: its writer's alone.
DEFAULT_OBJECT_ACL = "private"

_connections: dict[str, tuple[int, librgw.RGW]] = {}
_connections_lock = threading.Lock()


def cluster_connection(spec: str) -> librgw.RGW:
    """This process's connection to the cluster of ``spec``, made on first use (and again in
    a forked child, which must not use its parent's)."""
    with _connections_lock:
        pid, rgw = _connections.get(spec, (0, None))
        if rgw is None or pid != os.getpid():
            rgw = librgw.connect(spec)
            _connections[spec] = (os.getpid(), rgw)
        return rgw


def checked_identity(rgw: librgw.RGW, access_key: str, secret: str) -> Identity:
    """Who ``access_key`` is, once ``secret`` is its secret: its user, with the permission of
    the subuser the key belongs to (as the gateway's S3 authentication has it)."""
    try:
        key = rgw.users.lookup_key(access_key)
        user = rgw.users.get(key.user_id)
    except (errors.InvalidAccessKeyId, errors.NoSuchUser):
        raise InvalidCredentials("The access key you provided does not exist in our records.") from None
    if not hmac.compare_digest(key.secret_key.encode(), secret.encode()):
        raise InvalidCredentials("The secret key you provided does not match the access key's.")
    if user.suspended:
        raise InvalidCredentials(f"User {user.user_id!r} is suspended.")
    owner = f"{key.user_id}:{key.subuser}" if key.subuser else key.user_id
    permissions = next((s["permissions"] for s in user.subusers if s["id"] == owner), "full-control")
    return Identity(key.user_id, owner, math.inf, permissions, reseller_admin=bool(user.admin))


def utc(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


class InProcessTransport(Transport):
    """One user's operations on the cluster of ``cluster`` (``librgw.connect``'s spec), with
    the S3 key pair ``key``/``secret``; ``gateway_url``: the gateway presigned URLs are for."""

    def __init__(self, cluster: str, key: str, secret: str, gateway_url: str | None = None) -> None:
        self.rgw = cluster_connection(cluster)
        self.identity = checked_identity(self.rgw, key, secret)
        self.key, self.secret = key, secret
        self.gateway_url = gateway_url
        self._signer = None

    # -- authorization, as the gateway's controllers ask it ----------------------------

    def _authorize(
        self,
        action: str,
        bucket: BucketInfo,
        key: str | None = None,
        obj: ObjectState | None = None,
        s3_action: str | None = None,
        method: str = "GET",
    ) -> None:
        """AccessDenied unless the user may do ``action`` (by ``method``, or as ``s3_action``)
        in ``bucket``, to object ``key`` (whose ACL counts when its record ``obj`` is given)."""
        if s3_action is None:
            s3_action = native_s3_action(action, method, key is not None)
        access = bucket_access(bucket.owner, action, s3_action, bucket, key, obj.acl if obj is not None else None)
        if decide(self.identity, access) is not None:
            raise AccessDenied(f"Access to {bucket.name}/{key or ''} denied")

    def _bucket(self, name: str) -> BucketInfo:
        """The bucket ``name`` names as S3 would (``tenant:bucket``, else the user's tenant's)."""
        try:
            return self.rgw.buckets.get(s3_bucket_entry(name, tenant_of(self.identity.user_id)))
        except errors.NoSuchBucket as e:
            raise NoSuchBucket(str(e)) from None

    def _readable(self, bucket: BucketInfo, key: str) -> ObjectState:
        """The current object ``key`` once the user may read it. That it is missing is told
        only to who may list the bucket; others are refused as if it were there (as S3)."""
        try:
            state = self.rgw.object_ops.stat(bucket, key)
        except errors.NoSuchKey as e:  # a delete marker's CurrentIsDeleteMarker too
            try:
                self._authorize(READ, bucket, key)
            except AccessDenied:
                self._authorize(LIST, bucket)
            raise NoSuchKey(str(e)) from None
        self._authorize(READ, bucket, key, state)
        return state

    def _write_request(self, bucket: BucketInfo, attrs: WriteAttrs) -> WriteRequest:
        """What the gateway's S3 layer asks a PUT or an upload to keep: the lower-cased
        metadata, the content headers among ``attrs.headers``, the writer as the owner and
        S3's default ACL."""
        owner = self.identity.user_id
        headers = {name.lower(): value for name, value in attrs.headers.items()}
        return WriteRequest(
            metadata={name.lower(): value.strip() for name, value in attrs.meta_data.items() if value.strip()},
            content_type=attrs.content_type,
            headers={name: value for name, value in headers.items() if name in CONTENT_HEADERS},
            owner=owner,
            acl=acls.stored_object_acl(acls.canned(DEFAULT_OBJECT_ACL, owner, bucket.owner), bucket.owner),
        )

    # -- buckets -------------------------------------------------------------------

    def list_buckets(self) -> Iterator[BucketEntry]:
        uid = self.identity.user_id
        if decide(self.identity, Access(uid, LIST)) is not None:
            raise AccessDenied("Listing the account's buckets denied")
        buckets = []
        for name in self.rgw.buckets.list(uid):
            try:
                info = self.rgw.buckets.get(bucket_entry(tenant_of(uid), name))
                buckets.append(BucketEntry(name, utc(info.creation_time)))
            except errors.NoSuchBucket:  # deleted since it was listed
                continue
        return iter(buckets)

    def head_bucket(self, bucket: str) -> None:
        self._authorize(LIST, self._bucket(bucket))

    def create_bucket(self, bucket: str) -> None:
        uid = self.identity.user_id
        if decide(self.identity, Access(uid, CONTAINERS)) is not None:
            raise AccessDenied(f"Creating bucket {bucket!r} denied")
        try:
            self.rgw.buckets.create(uid, bucket)
        except errors.InvalidBucketName as e:
            raise InvalidBucketName(str(e)) from None
        except errors.BucketAlreadyOwnedByYou as e:
            raise BucketAlreadyOwnedByYou(str(e)) from None
        except errors.BucketAlreadyExists as e:
            raise BucketAlreadyExists(str(e)) from None

    def delete_bucket(self, bucket: str) -> None:
        info = self._bucket(bucket)
        self._authorize(CONTAINERS, info, method="DELETE")
        try:
            self.rgw.buckets.delete(info.name, info.owner)
        except errors.NoSuchBucket as e:
            raise NoSuchBucket(str(e)) from None
        except errors.BucketNotEmpty as e:
            raise BucketNotEmpty(str(e)) from None

    def list_objects(self, bucket: str, prefix: str | None = None) -> Iterator[ObjectEntry]:
        info = self._bucket(bucket)
        self._authorize(LIST, info)
        marker = ""
        while True:
            with self.rgw.indexes.open(info) as index:
                page = index.list(prefix or "", "", marker, LIST_PAGE)
            for entry in page.entries:
                yield ObjectEntry(entry.key, entry.size, entry.etag, utc(entry.mtime))
            if not page.is_truncated:
                return
            marker = page.next_marker

    # -- objects -------------------------------------------------------------------

    def head_object(self, bucket: str, key: str) -> ObjectEntry:
        state = self._readable(self._bucket(bucket), key)
        return ObjectEntry(key, state.size, state.etag, utc(state.mtime), state.content_type, dict(state.metadata))

    def get_object(self, bucket: str, key: str, byte_range: ByteRange | None, chunk_size: int) -> Iterator[bytes]:
        info = self._bucket(bucket)
        state = self._readable(info, key)
        if byte_range is None:
            if not state.size:
                return iter(())
            first, last = 0, state.size - 1
        else:
            if byte_range.start >= state.size:
                raise errors.InvalidRange(f"bytes {byte_range.start}- of {state.size} cannot be satisfied")
            first = byte_range.start
            last = state.size - 1 if byte_range.end is None else min(byte_range.end, state.size) - 1
        reader = self.rgw.object_ops.read(info, state, (first, last))
        if reader.etag != state.etag:  # replaced since it was authorized: the new head's ACL decides
            self._authorize(READ, info, key, reader.info)
        reader.prefetch()  # a reader that cannot be served fails here, not on the first chunk
        return read_chunks(reader, chunk_size)

    def put_object(self, bucket: str, key: str, body: BinaryIO, size: int, attrs: WriteAttrs) -> str:
        info = self._bucket(bucket)
        self._authorize(WRITE, info, key, method="PUT")
        return self.rgw.object_ops.put(info, key, body, self._write_request(info, attrs)).entry.etag

    def delete_object(self, bucket: str, key: str) -> None:
        info = self._bucket(bucket)
        self._authorize(WRITE, info, key, method="DELETE")
        self.rgw.object_ops.delete(info, key)

    # -- multipart uploads ---------------------------------------------------------

    def create_multipart_upload(self, bucket: str, key: str, attrs: WriteAttrs) -> str:
        info = self._bucket(bucket)
        self._authorize(WRITE, info, key, method="POST")
        return self.rgw.multipart.initiate(info, key, self._write_request(info, attrs))

    def upload_part(self, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> str:
        info = self._bucket(bucket)
        self._authorize(WRITE, info, key, method="PUT")
        return self.rgw.multipart.upload_part(info, key, upload_id, number, data).etag

    def complete_multipart_upload(self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]) -> str:
        info = self._bucket(bucket)
        self._authorize(WRITE, info, key, method="POST")
        return self.rgw.object_ops.complete_upload(info, key, upload_id, parts).entry.etag

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        info = self._bucket(bucket)
        self._authorize(WRITE, info, key, s3_action="s3:AbortMultipartUpload")
        self.rgw.multipart.abort(info, key, upload_id)

    # -- presigned URLs ------------------------------------------------------------

    def presigned_get_url(self, bucket: str, key: str, expires_in: int) -> str:
        if self.gateway_url is None:
            raise NoGatewayURL(
                "A presigned URL is for a gateway to serve: give the driver ex_gateway_url "
                "(make run's is http://127.0.0.1:8080)"
            )
        if self._signer is None:
            self._signer = s3_client(self.gateway_url, self.key, self.secret)
        return self._signer.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
        )


def read_chunks(reader: ObjectReader, chunk_size: int) -> Iterator[bytes]:
    """The reader's bytes in chunks of at most ``chunk_size``; closed when read, or when the
    iterator is dropped half-way."""
    with reader:
        while chunk := reader.read(chunk_size):
            yield chunk
