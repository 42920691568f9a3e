"""The Apache libcloud storage provider for librgw.

Importing this package registers ``LibrgwStorageDriver`` as libcloud's provider
``"librgw"``, so an application written against libcloud switches to librgw by importing it
and changing the provider name::

    import libcloud_driver  # noqa: F401  (registers the provider)
    from libcloud.storage.providers import get_driver

    driver = get_driver("librgw")(key, secret, host="127.0.0.1", port=8080, secure=False)
    driver = get_driver("librgw")(key, secret, ex_cluster="data/cluster.conf")  # in-process

``driver.py`` is the driver, ``transport.py`` what it needs from a transport,
``http_transport.py`` the transport to a gateway over HTTP, ``inprocess_transport.py`` the
one straight to the core.
"""

from libcloud.storage.providers import set_driver

from .driver import PROVIDER, LibrgwStorageDriver

set_driver(PROVIDER, LibrgwStorageDriver.__module__, LibrgwStorageDriver.__name__)

__all__ = ["PROVIDER", "LibrgwStorageDriver"]
