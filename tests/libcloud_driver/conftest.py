"""The drivers the libcloud conformance tests run against one real gateway (gunicorn serving
``paste.ini`` on a fresh cluster of each backend, ``tests/integration/conftest.py``): ours
over each of its transports (HTTP to that gateway, and in-process on the gateway's own
cluster, so both see the same data), and libcloud's own S3 driver pointed at the same
gateway. A new transport of ours is one more entry in ``LIBRGW_TRANSPORTS``."""

import uuid
from collections.abc import Callable, Iterator

import pytest
from libcloud.storage.base import Container, StorageDriver
from libcloud.storage.providers import get_driver
from libcloud.storage.types import Provider

import libcloud_driver
from tests.integration import conftest as integration
from tests.integration.conftest import S3_KEYS, Gateway

gateway = integration.gateway  # the integration suite's running gateway, a fixture here too

LIBRGW_HTTP = "librgw-http"
LIBRGW_INPROCESS = "librgw-inprocess"
LIBCLOUD_S3 = "libcloud-s3"
# Our driver over each of its transports.
LIBRGW_TRANSPORTS = (LIBRGW_HTTP, LIBRGW_INPROCESS)
DRIVERS = (*LIBRGW_TRANSPORTS, LIBCLOUD_S3)


def connection_options(kind: str, gateway: Gateway) -> dict:
    """The constructor arguments, besides the keys, with which ``kind``'s driver reaches
    ``gateway`` (in-process: its cluster, and it for presigned URLs)."""
    if kind == LIBRGW_INPROCESS:
        return {"ex_cluster": gateway.conf, "ex_gateway_url": gateway.url}
    return {"host": "127.0.0.1", "port": gateway.port, "secure": False}


def make_driver(
    kind: str, gateway: Gateway, uid: str = "alice", keys: tuple[str, str] | None = None, **options
) -> StorageDriver:
    """``kind``'s driver signed with ``uid``'s S3 key (or the pair ``keys``), reaching ``gateway``."""
    key, secret = keys or S3_KEYS[uid]
    if kind == LIBCLOUD_S3:
        cls = get_driver(Provider.S3)
    else:
        cls = get_driver(libcloud_driver.PROVIDER)
    return cls(key, secret, **{**connection_options(kind, gateway), **options})


@pytest.fixture(params=DRIVERS)
def driver_kind(request) -> str:
    return request.param


@pytest.fixture
def driver_factory(driver_kind: str, gateway: Gateway) -> Callable[..., StorageDriver]:
    """``factory(uid="alice", **driver options)``: a driver of this test's kind."""
    return lambda uid="alice", **options: make_driver(driver_kind, gateway, uid, **options)


@pytest.fixture
def driver(driver_factory) -> StorageDriver:
    return driver_factory()


def remove_container(driver: StorageDriver, name: str) -> None:
    """Delete the container ``name`` and everything in it, if it is there."""
    try:
        container = driver.get_container(name)
    except Exception:
        return
    for obj in driver.list_container_objects(container):
        driver.delete_object(obj)
    driver.delete_container(container)


@pytest.fixture
def container_name(driver: StorageDriver) -> Iterator[str]:
    """A container name of this test's own, removed with its objects at the end."""
    name = f"lc-{uuid.uuid4().hex[:16]}"
    yield name
    remove_container(driver, name)


@pytest.fixture
def container(driver: StorageDriver, container_name: str) -> Container:
    return driver.create_container(container_name)
