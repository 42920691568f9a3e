"""``LibrgwStorageDriver``: Apache libcloud's StorageDriver interface over a ``Transport``.

The driver is thin: it turns libcloud's calls into the transport's operations
(``transport.py``), the transport's records into libcloud ``Container`` and ``Object``s filled
as libcloud's S3 driver fills them, and the transport's errors into libcloud's exceptions, in
one place (``translated_errors``). Choosing the transport is the constructor's business:
``key``, ``secret``, ``host``, ``port`` and ``secure``, as libcloud's other drivers take them,
reach a gateway over HTTP (the S3 protocol); ``ex_cluster`` (a ``cluster.conf``, or
``ceph:<ceph.conf>``) with ``key`` and ``secret`` goes in-process, straight to the core with
no gateway (``inprocess_transport.py``). Credentials the cluster refuses, and what the user
may not do, are libcloud's ``InvalidCredsError`` (as libcloud's S3 driver has a 401 or 403).

Uploads are streamed: ``upload_object`` reads the file once to hash it and again to send it;
``upload_object_via_stream`` sends a stream that ends within the first multipart chunk
(``ex_multipart_chunk_size``, 5 MiB by default) as one PUT and a longer one as a multipart
upload, one chunk in memory at a time; ``ex_multipart_upload_object`` always uploads in parts.
A multipart object's hash is S3's multipart ETag (``<md5 of the parts' md5s>-<parts>``), which
``verify_hash`` computes locally to compare.

``get_object_cdn_url`` is a presigned S3 GET URL, valid ``ex_expiry`` hours (the
``ex_cdn_url_expiry_hours`` constructor option, 24 by default as libcloud's S3 driver), for
the gateway (in-process: the one ``ex_gateway_url`` names, or a ``LibcloudError`` without it).
Such a URL needs nothing enabled on the container, so ``enable_container_cdn`` has nothing
to turn on and says so by returning True.
"""

from __future__ import annotations

import contextlib
import datetime
import email.utils
import hashlib
import io
import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from libcloud.common.types import InvalidCredsError, LibcloudError
from libcloud.storage.base import Container, Object, StorageDriver
from libcloud.storage.types import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidContainerNameError,
    ObjectDoesNotExistError,
    ObjectHashMismatchError,
)

from . import transport as t
from .http_transport import HTTPTransport
from .inprocess_transport import InProcessTransport

PROVIDER = "librgw"
# S3's smallest part (but the last); libcloud's S3 driver streams in parts of this size too.
DEFAULT_MULTIPART_CHUNK_SIZE = 5 * 1024 * 1024
# As libcloud's S3 driver (S3_CDN_URL_EXPIRY_HOURS).
DEFAULT_CDN_URL_EXPIRY_HOURS = 24.0
# The tutorial's chunk size for ex_multipart_upload_object.
DEFAULT_EX_MULTIPART_CHUNK_SIZE = 32 * 1024 * 1024
HTTP_PORTS = {True: 443, False: 80}
# Downloads yield chunks of this size unless asked otherwise; files are hashed in reads of it.
READ_CHUNK_SIZE = 64 * 1024


@contextlib.contextmanager
def translated_errors(
    driver: StorageDriver, container_name: str | None = None, object_name: str | None = None
) -> Iterator[None]:
    """The transport's errors as libcloud's, naming the container or object concerned."""
    try:
        yield
    except t.NoSuchBucket as e:
        raise ContainerDoesNotExistError(str(e), driver, container_name) from e
    except t.NoSuchKey as e:
        raise ObjectDoesNotExistError(str(e), driver, object_name) from e
    except t.BucketAlreadyOwnedByYou as e:
        raise ContainerAlreadyExistsError(str(e), driver, container_name) from e
    except (t.BucketAlreadyExists, t.InvalidBucketName) as e:
        # As libcloud's S3 driver: a name another user holds is one this user cannot have.
        raise InvalidContainerNameError(str(e), driver, container_name) from e
    except t.BucketNotEmpty as e:
        raise ContainerIsNotEmptyError(str(e), driver, container_name) from e
    except (t.InvalidCredentials, t.AccessDenied) as e:
        raise InvalidCredsError(str(e), driver) from e
    except t.NoGatewayURL as e:
        raise LibcloudError(str(e), driver) from e


def http_date(when: datetime.datetime) -> str:
    """``Last-Modified``'s format, as a HEAD answers it (libcloud's S3 driver keeps it so)."""
    return email.utils.format_datetime(when.astimezone(datetime.UTC), usegmt=True)


def listing_date(when: datetime.datetime) -> str:
    """An S3 listing's ``LastModified`` format (``2026-12-07T10:17:28.000Z``), as libcloud's S3 driver keeps it."""
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def multipart_etag(part_md5s: list[bytes]) -> str:
    """The ETag S3 gives an object joined from parts with these md5 digests."""
    return f"{hashlib.md5(b''.join(part_md5s)).hexdigest()}-{len(part_md5s)}"


class LibrgwStorageDriver(StorageDriver):
    """libcloud's StorageDriver for librgw. ``key``/``secret``: an S3 key pair of a librgw
    user; ``host``/``port``/``secure``: the gateway (``make run`` serves
    ``host="127.0.0.1", port=8080, secure=False``). ``ex_verify``: check the gateway's TLS
    certificate (True), against a CA bundle (a path), or not (False). ``ex_cluster``: reach
    the cluster of that spec (``data/cluster.conf``, ``ceph:<ceph.conf>``) in-process instead,
    ``host`` and the like unused; ``ex_gateway_url`` is then the gateway its presigned URLs
    are for (``http://127.0.0.1:8080``)."""

    name = "librgw"
    hash_type = "md5"
    supports_chunked_encoding = False

    def __init__(
        self,
        key: str,
        secret: str | None = None,
        secure: bool = True,
        host: str = "127.0.0.1",
        port: int | None = None,
        ex_verify: bool | str = True,
        ex_multipart_chunk_size: int = DEFAULT_MULTIPART_CHUNK_SIZE,
        ex_cdn_url_expiry_hours: float = DEFAULT_CDN_URL_EXPIRY_HOURS,
        ex_cluster: str | None = None,
        ex_gateway_url: str | None = None,
        **kwargs,
    ) -> None:
        port = port or HTTP_PORTS[secure]
        super().__init__(key, secret=secret, secure=secure, host=host, port=port, **kwargs)
        self.multipart_chunk_size = ex_multipart_chunk_size
        self.cdn_url_expiry_hours = ex_cdn_url_expiry_hours
        self.transport: t.Transport
        if ex_cluster is None:
            self.transport = HTTPTransport(key, secret or "", host, port, secure, verify=ex_verify)
        else:
            with translated_errors(self):
                self.transport = InProcessTransport(ex_cluster, key, secret or "", ex_gateway_url)

    # -- containers ------------------------------------------------------------------------

    def iterate_containers(self) -> Iterator[Container]:
        with translated_errors(self):
            buckets = list(self.transport.list_buckets())
        for bucket in buckets:
            yield Container(bucket.name, {"creation_date": listing_date(bucket.created)}, self)

    def get_container(self, container_name: str) -> Container:
        with translated_errors(self, container_name):
            self.transport.head_bucket(container_name)
        return Container(container_name, None, self)

    def create_container(self, container_name: str) -> Container:
        with translated_errors(self, container_name):
            self.transport.create_bucket(container_name)
        return Container(container_name, None, self)

    def delete_container(self, container: Container) -> bool:
        with translated_errors(self, container.name):
            self.transport.delete_bucket(container.name)
        return True

    def enable_container_cdn(self, container: Container) -> bool:
        with translated_errors(self, container.name):
            self.transport.head_bucket(container.name)
        return True

    # -- listing and reading ---------------------------------------------------------------

    def iterate_container_objects(
        self, container: Container, prefix: str | None = None, ex_prefix: str | None = None
    ) -> Iterator[Object]:
        prefix = self._normalize_prefix_argument(prefix, ex_prefix)
        entries = self.transport.list_objects(container.name, prefix)
        while True:
            with translated_errors(self, container.name):
                entry = next(entries, None)
            if entry is None:
                return
            extra = {"last_modified": listing_date(entry.last_modified), "etag": entry.etag}
            yield Object(entry.name, entry.size, entry.etag, extra, {}, container, self)

    def get_object(self, container_name: str, object_name: str) -> Object:
        with translated_errors(self, container_name, object_name):
            info = self.transport.head_object(container_name, object_name)
        extra = {"content_type": info.content_type, "etag": info.etag, "last_modified": http_date(info.last_modified)}
        container = Container(container_name, None, self)
        return Object(object_name, info.size, info.etag, extra, dict(info.meta_data), container, self)

    def get_object_cdn_url(self, obj: Object, ex_expiry: float | None = None) -> str:
        """A presigned GET URL for ``obj``, valid ``ex_expiry`` hours (default: the driver's
        ``ex_cdn_url_expiry_hours``)."""
        hours = self.cdn_url_expiry_hours if ex_expiry is None else ex_expiry
        with translated_errors(self, obj.container.name, obj.name):
            return self.transport.presigned_get_url(obj.container.name, obj.name, int(hours * 3600))

    def download_object(
        self, obj: Object, destination_path: str, overwrite_existing: bool = False, delete_on_failure: bool = True
    ) -> bool:
        chunks = self._read(obj, None, READ_CHUNK_SIZE)
        return self._save(chunks, obj, destination_path, overwrite_existing, delete_on_failure, expected=obj.size)

    def download_object_as_stream(self, obj: Object, chunk_size: int | None = None) -> Iterator[bytes]:
        return self._read(obj, None, chunk_size or READ_CHUNK_SIZE)

    def download_object_range(
        self,
        obj: Object,
        destination_path: str,
        start_bytes: int,
        end_bytes: int | None = None,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
    ) -> bool:
        self._validate_start_and_end_bytes(start_bytes, end_bytes)
        chunks = self._read(obj, t.ByteRange(start_bytes, end_bytes), READ_CHUNK_SIZE)
        return self._save(chunks, obj, destination_path, overwrite_existing, delete_on_failure, expected=None)

    def download_object_range_as_stream(
        self, obj: Object, start_bytes: int, end_bytes: int | None = None, chunk_size: int | None = None
    ) -> Iterator[bytes]:
        self._validate_start_and_end_bytes(start_bytes, end_bytes)
        return self._read(obj, t.ByteRange(start_bytes, end_bytes), chunk_size or READ_CHUNK_SIZE)

    # -- writing ---------------------------------------------------------------------------

    def upload_object(
        self,
        file_path: str,
        container: Container,
        object_name: str,
        extra: dict | None = None,
        verify_hash: bool = True,
        headers: dict | None = None,
    ) -> Object:
        attrs = self._write_attrs(object_name, extra, headers, file_path)
        size = os.path.getsize(file_path)
        with open(file_path, "rb") as f:
            md5 = hashlib.md5()
            for chunk in iter(lambda: f.read(READ_CHUNK_SIZE), b""):
                md5.update(chunk)
            f.seek(0)
            with translated_errors(self, container.name, object_name):
                etag = self.transport.put_object(container.name, object_name, f, size, attrs)
        if verify_hash and etag != md5.hexdigest():
            self._hash_mismatch(object_name, md5.hexdigest(), etag)
        return self._written(container, object_name, size, etag, attrs)

    def upload_object_via_stream(
        self,
        iterator: Iterable[bytes] | BinaryIO,
        container: Container,
        object_name: str,
        extra: dict | None = None,
        headers: dict | None = None,
    ) -> Object:
        attrs = self._write_attrs(object_name, extra, headers)
        chunks = fill_chunks(iterator, self.multipart_chunk_size)
        first = next(chunks)
        second = next(chunks, b"")
        if not second:
            with translated_errors(self, container.name, object_name):
                etag = self.transport.put_object(container.name, object_name, io.BytesIO(first), len(first), attrs)
            return self._written(container, object_name, len(first), etag, attrs)
        return self._upload_parts(container, object_name, [first, second], chunks, attrs, verify_hash=False)

    def ex_multipart_upload_object(
        self,
        file_path: str,
        container: Container,
        object_name: str,
        chunk_size: int = DEFAULT_EX_MULTIPART_CHUNK_SIZE,
        extra: dict | None = None,
        verify_hash: bool = True,
        headers: dict | None = None,
    ) -> Object:
        """Upload a file as a multipart upload in parts of ``chunk_size`` bytes (at least
        5 MiB unless the file is one part), for large objects."""
        attrs = self._write_attrs(object_name, extra, headers, file_path)
        with open(file_path, "rb") as f:
            chunks = fill_chunks(f, chunk_size)
            return self._upload_parts(container, object_name, [], chunks, attrs, verify_hash)

    def delete_object(self, obj: Object) -> bool:
        """Delete ``obj``; ObjectDoesNotExistError if it is not there (as libcloud's Swift and
        local drivers: S3's DELETE cannot tell, so the HTTP transport asks first)."""
        with translated_errors(self, obj.container.name, obj.name):
            self.transport.head_object(obj.container.name, obj.name)
            self.transport.delete_object(obj.container.name, obj.name)
        return True

    # -- helpers ---------------------------------------------------------------------------

    def _write_attrs(
        self, object_name: str, extra: dict | None, headers: dict | None, file_path: str | None = None
    ) -> t.WriteAttrs:
        extra = extra or {}
        content_type = self._determine_content_type(extra.get("content_type"), object_name, file_path)
        meta_data = {str(k): str(v) for k, v in (extra.get("meta_data") or {}).items()}
        return t.WriteAttrs(content_type, meta_data, dict(headers or {}))

    def _written(self, container: Container, name: str, size: int, etag: str, attrs: t.WriteAttrs) -> Object:
        extra = {"content_type": attrs.content_type, "etag": etag}
        return Object(name, size, etag, extra, dict(attrs.meta_data), container, self)

    def _upload_parts(
        self,
        container: Container,
        object_name: str,
        read: list[bytes],
        rest: Iterator[bytes],
        attrs: t.WriteAttrs,
        verify_hash: bool,
    ) -> Object:
        """A multipart upload of the chunks ``read`` already, then those of ``rest``; aborted if any step fails."""
        with translated_errors(self, container.name, object_name):
            upload_id = self.transport.create_multipart_upload(container.name, object_name, attrs)
        parts: list[tuple[int, str]] = []
        md5s: list[bytes] = []
        size = 0
        try:
            for number, chunk in enumerate(_chain(read, rest), start=1):
                if not chunk and number > 1:
                    break
                md5s.append(hashlib.md5(chunk).digest())
                size += len(chunk)
                with translated_errors(self, container.name, object_name):
                    parts.append(
                        (number, self.transport.upload_part(container.name, object_name, upload_id, number, chunk))
                    )
            with translated_errors(self, container.name, object_name):
                etag = self.transport.complete_multipart_upload(container.name, object_name, upload_id, parts)
        except BaseException:
            with contextlib.suppress(Exception):
                self.transport.abort_multipart_upload(container.name, object_name, upload_id)
            raise
        if verify_hash and etag != multipart_etag(md5s):
            self._hash_mismatch(object_name, multipart_etag(md5s), etag)
        return self._written(container, object_name, size, etag, attrs)

    def _hash_mismatch(self, object_name: str, local: str, stored: str) -> None:
        raise ObjectHashMismatchError(f"MD5 hash {stored} checksum does not match {local}", self, object_name)

    def _read(self, obj: Object, byte_range: t.ByteRange | None, chunk_size: int) -> Iterator[bytes]:
        with translated_errors(self, obj.container.name, obj.name):
            return self.transport.get_object(obj.container.name, obj.name, byte_range, chunk_size)

    def _save(
        self,
        chunks: Iterator[bytes],
        obj: Object,
        destination_path: str,
        overwrite_existing: bool,
        delete_on_failure: bool,
        expected: int | None,
    ) -> bool:
        """Write ``chunks`` to ``destination_path`` (a directory: the object's name in it), as
        libcloud's drivers do; False, and the file removed if ``delete_on_failure``, when
        fewer or more than ``expected`` bytes arrived."""
        base_name = os.path.basename(destination_path)
        if not base_name and not os.path.exists(destination_path):
            raise LibcloudError(f"Path {destination_path} does not exist", driver=self)
        file_path = destination_path if base_name else os.path.join(destination_path, obj.name)
        if os.path.exists(file_path) and not overwrite_existing:
            raise LibcloudError(f"File {file_path} already exists, but overwrite_existing=False", driver=self)
        received = 0
        try:
            with open(file_path, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
                    received += len(chunk)
        except BaseException:
            if delete_on_failure:
                with contextlib.suppress(OSError):
                    os.unlink(file_path)
            raise
        if expected is not None and received != int(expected):
            if delete_on_failure:
                with contextlib.suppress(OSError):
                    os.unlink(file_path)
            return False
        return True


def fill_chunks(source: Iterable[bytes] | BinaryIO, size: int) -> Iterator[bytes]:
    """``source`` (a file, or an iterator of byte strings of any sizes) in chunks of exactly
    ``size`` bytes, then the rest (empty if nothing is left), so a stream that fits in one
    chunk is seen to end with the second."""
    pieces = iter(lambda: source.read(size), b"") if hasattr(source, "read") else iter(source)
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    yield bytes(buffer)


def _chain(read: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from read
    yield from rest
