"""``gatekeeper``: the headers only the pipeline's own filters may set, or see, as Swift's.

Filters keep what they know of an object in system metadata (``X-Object-Sysmeta-*``: a
symlink's target, the override a static large object's listing entry shows, ...), which the
gateway stores like any content header. A client must never set it, or read it: this filter,
near the top of the pipeline, removes from every request, and from every answer, the headers
Swift's ``gatekeeper`` removes: ``X-Account-``, ``X-Container-`` and ``X-Object-Sysmeta-*``,
``X-Object-Transient-Sysmeta-*`` and ``X-Backend-*``. Below it, filters add them on their
own authority. A filter that wants an answer's ``Location`` left relative (as Swift's proxy
leaves a symlink's 307) sets ``swift.leave_relative_location`` in the environ, and the
gatekeeper makes it so, after WebOb (which makes every ``Location`` absolute) is done with it.

In an OpenStack Swift proxy, Swift's own ``gatekeeper`` does this (its proxy inserts one when
the pipeline has none): this one is for this project's pipeline only.

``paste.ini``::

    [filter:gatekeeper]
    use = egg:librgw#gatekeeper
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

PRIVATE = re.compile(r"x-(account|container|object)-sysmeta-|x-object-transient-sysmeta-|x-backend", re.IGNORECASE)
PRIVATE_ENVIRON = re.compile(r"HTTP_X_((ACCOUNT|CONTAINER|OBJECT)_SYSMETA_|OBJECT_TRANSIENT_SYSMETA_|BACKEND)")
RELATIVE_LOCATION = "swift.leave_relative_location"


def relative(location: str) -> str:
    """``location`` without its scheme and host."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


class Gatekeeper:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        for key in [key for key in environ if PRIVATE_ENVIRON.match(key)]:
            del environ[key]

        def start(status: str, headers: list[tuple[str, str]], exc_info=None):
            kept = [(name, value) for name, value in headers if not PRIVATE.match(name)]
            if environ.get(RELATIVE_LOCATION):
                kept = [(name, relative(value) if name.lower() == "location" else value) for name, value in kept]
            return start_response(status, kept, exc_info)

        return self.app(environ, start)


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    return lambda app: Gatekeeper(app, conf)
