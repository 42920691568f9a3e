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
- ``tempurl``, ``formpost``, ``slo``, ``symlink``, ``container_quotas``, ``account_quotas``
  and ``ratelimit``, with the settings Swift's own register, by the filters of those names
  (``dlo`` and ``expiration`` register nothing, as Swift's do not);
- ``versioned_writes`` (``allowed_flags``), by the filter of that name, when it allows them.

A feature's settings only operators may see are registered with ``admin=True``: ``/info``
lists them in its ``admin`` section, to requests signed with the gateway's ``admin_key``
(``info.py``), as Swift's registry does.

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

RESERVED_NAMES = ("admin", "disallowed_sections")  # the admin section's, as Swift reserves them

_registered: dict[str, dict] = {}
_registered_for_admins: dict[str, dict] = {}


def register_swift_info(name: str = "swift", admin: bool = False, **settings: object) -> None:
    """Say that feature ``name`` is served, with ``settings`` (for operators only if ``admin``);
    more settings for a feature already registered are added to its own."""
    if name in RESERVED_NAMES:
        raise ValueError(f"{name!r} is a reserved name in /info")
    if "." in name or any("." in key for key in settings):  # a dot separates a disallowed section's parts
        raise ValueError(f"no '.' in the names of /info's sections and settings: {name} {list(settings)}")
    (_registered_for_admins if admin else _registered).setdefault(name, {}).update(settings)
    if register_with_swift is not None:
        register_with_swift(name, admin=admin, **settings)


def swift_info(admin: bool = False, disallowed_sections: tuple[str, ...] = ()) -> dict[str, dict]:
    """The document ``/info`` answers: every feature registered, with its settings, but for
    ``disallowed_sections`` (``name`` or ``name.setting``); with ``admin``, also an ``admin``
    section of what was registered for operators, and the sections disallowed."""
    document = {name: dict(settings) for name, settings in _registered.items()}
    for section in disallowed_sections:
        *parents, last = section.split(".")
        holder: object = document
        for part in parents:
            holder = holder.get(part, {}) if isinstance(holder, dict) else {}
        if isinstance(holder, dict):
            holder.pop(last, None)
    if admin:
        document["admin"] = {name: dict(settings) for name, settings in _registered_for_admins.items()}
        document["admin"]["disallowed_sections"] = list(disallowed_sections)
    return document


def start() -> None:
    """Forget what was registered: a new pipeline is being built."""
    _registered.clear()
    _registered_for_admins.clear()
