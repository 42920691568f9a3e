"""What the gateway serves, as ``GET /info`` tells it: Swift's ``register_swift_info`` registry.

Clients and test suites (``swift capabilities``, Swift's functional tests, s3api's) read
``/info`` to learn which features a proxy offers and with which limits. As in Swift, each
feature says so itself: the gateway app and every filter call ``register_swift_info`` in
their Paste Deploy factory, so ``/info`` lists exactly what ``paste.ini``'s pipeline holds:

- ``swift`` (the API's version and limits) and ``object_versioning`` (``X-Versions-Enabled``),
  by the gateway app;
- ``tempauth`` (``account_acls``), by ``auth``;
- ``bulk_delete`` (``max_deletes_per_request``, ``max_failed_deletes``) and ``bulk_upload``
  (``max_containers_per_extraction``, ``max_failed_extractions``), by ``bulk``;
- ``s3api``, with the settings Swift's ``s3api`` registers, by ``s3``;
- ``tempurl``, ``formpost``, ``slo``, ``container_quotas``, ``account_quotas`` and
  ``ratelimit``, with the settings Swift's own register, by the filters of those names
  (``dlo`` and ``expiration`` register nothing, as Swift's do not).

A filter of another package adds itself the same way::

    from librgw.middleware.registry import register_swift_info

    def filter_factory(global_conf, **local_conf):
        register_swift_info("myfeature", max_things=10)
        return lambda app: MyFilter(app, local_conf)

Inside an OpenStack Swift proxy, where this project's filters also run, a feature registered
here is registered with Swift's own registry as well, so the proxy's ``/info`` lists it.

The registry belongs to the process, as Swift's does (each gunicorn worker builds its
pipeline). Paste builds a pipeline's app before its filters, so the gateway's factory starts
it afresh (``start``): a second pipeline built in one process lists its own features only.
"""

from __future__ import annotations

try:  # in a Swift proxy's process: its registry, which its /info reads
    from swift.common.registry import register_swift_info as register_with_swift
except ImportError:
    register_with_swift = None

_registered: dict[str, dict] = {}


def register_swift_info(name: str = "swift", **settings: object) -> None:
    """Say that feature ``name`` is served, with ``settings``; more settings for a feature
    already registered are added to its own."""
    _registered.setdefault(name, {}).update(settings)
    if register_with_swift is not None:
        register_with_swift(name, **settings)


def swift_info() -> dict[str, dict]:
    """Every feature registered, with its settings: the document ``/info`` answers."""
    return {name: dict(settings) for name, settings in _registered.items()}


def start() -> None:
    """Forget what was registered: a new pipeline is being built."""
    _registered.clear()
