"""Where the fractal images live: a local directory (the app as the tutorial starts it:
neither scalable nor durable), or a container in object storage through libcloud.

``open_storage(url)`` picks one from a URL:

- ``images`` or ``file:///var/lib/fractals/images``: a directory, one ``<uuid>.png`` each;
- ``librgw://ACCESS_KEY:SECRET@127.0.0.1:8080/fractals``: the container ``fractals`` of a
  librgw gateway, through ``get_driver("librgw")`` (``librgws://`` for https). The keys are
  URL-quoted (a ``/`` in a secret is ``%2F``); without them in the URL
  (``librgw://127.0.0.1:8080/fractals``) they come from ``$LIBRGW_ACCESS_KEY`` and
  ``$LIBRGW_SECRET_KEY``.
- ``librgw+cluster://data/cluster.conf/fractals``: the same container reached in-process,
  straight to the cluster with no gateway (the driver's ``ex_cluster``): what comes before
  the last ``/`` is the cluster (``librgw+cluster:///srv/librgw/cluster.conf/fractals``,
  ``librgw+cluster://ceph:/etc/ceph/ceph.conf/fractals``), the keys come from
  ``$LIBRGW_ACCESS_KEY`` and ``$LIBRGW_SECRET_KEY``.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from libcloud.storage.providers import get_driver
from libcloud.storage.types import ContainerDoesNotExistError, ObjectDoesNotExistError

import libcloud_driver

CHUNK_SIZE = 64 * 1024
CLUSTER_SCHEME = "librgw+cluster://"


class ImageNotFound(Exception):
    pass


class ImageStore(Protocol):
    def put(self, uuid: str, data: bytes) -> None: ...

    def stream(self, uuid: str) -> Iterator[bytes]:
        """The image's bytes in chunks; ImageNotFound if there is none."""

    def delete(self, uuid: str) -> None: ...


class LocalImages:
    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def path(self, uuid: str) -> Path:
        return self.directory / f"{uuid}.png"

    def put(self, uuid: str, data: bytes) -> None:
        tmp = self.path(uuid).with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, self.path(uuid))

    def stream(self, uuid: str) -> Iterator[bytes]:
        try:
            f = open(self.path(uuid), "rb")
        except FileNotFoundError as e:
            raise ImageNotFound(uuid) from e
        return read_file(f)

    def delete(self, uuid: str) -> None:
        self.path(uuid).unlink(missing_ok=True)


class CloudImages:
    """Images as objects named by uuid in one container, created on first use."""

    def __init__(self, driver, container_name: str) -> None:
        self.driver = driver
        try:
            self.container = driver.get_container(container_name)
        except ContainerDoesNotExistError:
            self.container = driver.create_container(container_name)

    def put(self, uuid: str, data: bytes) -> None:
        self.driver.upload_object_via_stream(iter([data]), self.container, uuid, extra={"content_type": "image/png"})

    def stream(self, uuid: str) -> Iterator[bytes]:
        try:
            obj = self.driver.get_object(self.container.name, uuid)
            return self.driver.download_object_as_stream(obj, chunk_size=CHUNK_SIZE)
        except ObjectDoesNotExistError as e:
            raise ImageNotFound(uuid) from e

    def delete(self, uuid: str) -> None:
        try:
            self.driver.delete_object(self.driver.get_object(self.container.name, uuid))
        except ObjectDoesNotExistError:
            pass


def read_file(f) -> Iterator[bytes]:
    with f:
        yield from iter(lambda: f.read(CHUNK_SIZE), b"")


def environment_keys() -> tuple[str, str]:
    return os.environ.get("LIBRGW_ACCESS_KEY", ""), os.environ.get("LIBRGW_SECRET_KEY", "")


def connect_in_process(url: str):
    """(the libcloud driver, container name) of a ``librgw+cluster://<cluster>/container`` URL."""
    cluster, _, container = url[len(CLUSTER_SCHEME) :].rstrip("/").rpartition("/")
    key, secret = environment_keys()
    if not (cluster and container and key and secret):
        raise ValueError(
            "a librgw+cluster URL names the cluster and the container, and $LIBRGW_ACCESS_KEY and"
            " $LIBRGW_SECRET_KEY the keys: librgw+cluster://data/cluster.conf/container"
        )
    return get_driver(libcloud_driver.PROVIDER)(key, secret, ex_cluster=cluster), container


def connect(url: str):
    """(the libcloud driver, container name) of a ``librgw://KEY:SECRET@host:port/container``
    URL, or of a ``librgw+cluster://`` one (``connect_in_process``)."""
    if url.startswith(CLUSTER_SCHEME):
        return connect_in_process(url)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("librgw", "librgws"):
        raise ValueError(f"not a librgw:// URL: {url}")
    container = parts.path.strip("/")
    if parts.username:
        key, secret = urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
    else:
        key, secret = environment_keys()
    if not (key and secret and container):
        raise ValueError(
            "a librgw URL names its container, and its keys unless $LIBRGW_ACCESS_KEY and $LIBRGW_SECRET_KEY"
            " do: librgw://ACCESS_KEY:SECRET@host:port/container"
        )
    cls = get_driver(libcloud_driver.PROVIDER)
    driver = cls(key, secret, host=parts.hostname, port=parts.port, secure=parts.scheme == "librgws")
    return driver, container


def open_storage(url: str) -> ImageStore:
    if url.startswith(("librgw://", "librgws://", CLUSTER_SCHEME)):
        return CloudImages(*connect(url))
    if url.startswith("file://"):
        return LocalImages(urllib.parse.urlsplit(url).path)
    return LocalImages(url)
