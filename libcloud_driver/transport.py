"""What the librgw storage driver needs from a way of reaching the cluster: the ``Transport``
interface, the records it returns, and the errors it raises.

The driver (``driver.py``) speaks libcloud; a transport speaks to librgw. Each transport
implements every abstract method of ``Transport`` with the semantics written on it and
raises only the ``TransportError`` subclasses below for the outcomes the driver turns into
libcloud's exceptions (in one place, ``driver.translated_errors``); anything else it raises
reaches the application as it is. There are two: HTTP to a gateway (``http_transport.py``)
and in-process, straight to the core (``inprocess_transport.py``).

Bodies never sit whole in memory: uploads take a readable binary file (read to its end) or
one part's bytes, downloads return an iterator of chunks that holds the response open.
"""

from __future__ import annotations

import abc
import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO


class TransportError(Exception):
    """An outcome of a request that the driver maps to a libcloud exception."""


class NoSuchBucket(TransportError):
    pass


class NoSuchKey(TransportError):
    pass


class BucketAlreadyOwnedByYou(TransportError):
    pass


class BucketAlreadyExists(TransportError):
    """The name is taken by another user."""


class BucketNotEmpty(TransportError):
    pass


class InvalidBucketName(TransportError):
    pass


class InvalidCredentials(TransportError):
    """The access key is unknown, the secret is not its secret, or its user is suspended."""


class AccessDenied(TransportError):
    """The user may not do this (the bucket's or object's ACL, or its policy, say so)."""


class NoGatewayURL(TransportError):
    """A presigned URL was asked for, and the transport knows no gateway to sign it for."""


@dataclass(frozen=True)
class BucketEntry:
    name: str
    created: datetime.datetime


@dataclass(frozen=True)
class ObjectEntry:
    """An object as a listing or a HEAD shows it. A listing fills name, size, etag and
    last_modified; a HEAD fills content_type and meta_data too (None and {} in a listing)."""

    name: str
    size: int
    etag: str  # without quotes: the md5 hex digest, or ``<md5 of part md5s>-<parts>`` for multipart
    last_modified: datetime.datetime  # aware, UTC
    content_type: str | None = None
    meta_data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteAttrs:
    """What a new object carries besides its bytes. ``headers`` are protocol headers the
    application passed through libcloud's ``headers=`` argument (``Cache-Control``,
    ``x-amz-server-side-encryption``); a transport applies those it can express."""

    content_type: str
    meta_data: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` up to ``end`` (exclusive, libcloud's convention), or to the end of the object."""

    start: int
    end: int | None = None


class Transport(abc.ABC):
    """The operations of one user (the credentials the transport was made with) on the cluster.
    Any of them raises InvalidCredentials for credentials the cluster does not accept, and
    AccessDenied for what the user may not do."""

    @abc.abstractmethod
    def list_buckets(self) -> Iterator[BucketEntry]:
        """The user's buckets, in name order."""

    @abc.abstractmethod
    def head_bucket(self, bucket: str) -> None:
        """Nothing if the bucket exists and the user may read it; NoSuchBucket if not."""

    @abc.abstractmethod
    def create_bucket(self, bucket: str) -> None:
        """InvalidBucketName, BucketAlreadyOwnedByYou or BucketAlreadyExists when it cannot."""

    @abc.abstractmethod
    def delete_bucket(self, bucket: str) -> None:
        """NoSuchBucket, or BucketNotEmpty while it holds objects."""

    @abc.abstractmethod
    def list_objects(self, bucket: str, prefix: str | None = None) -> Iterator[ObjectEntry]:
        """Every object (no delimiter) whose name starts with ``prefix``, in name order,
        fetched page by page as the iterator is consumed; NoSuchBucket before the first."""

    @abc.abstractmethod
    def head_object(self, bucket: str, key: str) -> ObjectEntry:
        """NoSuchKey if the object is missing, NoSuchBucket if its bucket is."""

    @abc.abstractmethod
    def get_object(self, bucket: str, key: str, byte_range: ByteRange | None, chunk_size: int) -> Iterator[bytes]:
        """The object's bytes (those of ``byte_range``) in chunks of at most ``chunk_size``.
        The request is made before this returns, so NoSuchKey/NoSuchBucket are raised here,
        not on the first ``next``."""

    @abc.abstractmethod
    def put_object(self, bucket: str, key: str, body: BinaryIO, size: int, attrs: WriteAttrs) -> str:
        """Store ``size`` bytes read from ``body`` (a file positioned at the start of
        them); the new object's etag."""

    @abc.abstractmethod
    def delete_object(self, bucket: str, key: str) -> None:
        """Remove the object; nothing if it is already gone (as S3's DELETE)."""

    @abc.abstractmethod
    def create_multipart_upload(self, bucket: str, key: str, attrs: WriteAttrs) -> str:
        """A new upload's id."""

    @abc.abstractmethod
    def upload_part(self, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Part ``number`` (from 1); its etag. Every part but the last is at least 5 MiB."""

    @abc.abstractmethod
    def complete_multipart_upload(self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]) -> str:
        """Join the parts, ``(number, etag)`` in order, into the object; its etag."""

    @abc.abstractmethod
    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Discard the upload and its parts."""

    @abc.abstractmethod
    def presigned_get_url(self, bucket: str, key: str, expires_in: int) -> str:
        """A URL anyone can GET the object with for ``expires_in`` seconds, no credentials,
        from the gateway; NoGatewayURL if the transport knows none."""
