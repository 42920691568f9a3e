"""``expiration``: Swift's object expiry headers, checked and made one before a write reaches
the store.

An object PUT, POST or COPY may say when the object is to go:

- ``X-Delete-At: <unix time>`` (an integer), or
- ``X-Delete-After: <seconds>``, which this filter turns into ``X-Delete-At`` (now plus the
  seconds, as Swift's proxy does) and removes.

A value that is not an integer is ``400 Non-integer X-Delete-At`` (or ``-After``); a time
not in the future is ``400 X-Delete-At in past`` (``X-Delete-After in past``): Swift's
answers, word for word, as ``text/plain``. Other requests pass untouched. The gateway keeps
``X-Delete-At`` with the object and in the core's expiry queue (``librgw/expiry.py``); GET and
HEAD answer it; a POST without it removes it (Swift's rule: a POST replaces what it names);
an expired object is 404 at once, and its listing entry goes when ``librgw expirer`` reaps
it (until then it is still listed, as in Swift and RGW, whose listings come from the
container and the bucket index, which only the expirer updates).

In an OpenStack Swift proxy's pipeline (``use = egg:librgw#expiration``) it does the same
checking and translating, and nothing else: Swift's proxy then handles ``X-Delete-At`` itself,
its object servers keep it and answer 404 once it has passed, and Swift's
``swift-object-expirer`` reaps the objects; the core's queue plays no part there.

It has no settings, and Swift announces none in ``/info`` for expiry, so neither does it.
Its place in ``paste.ini`` is after ``auth`` (as in Swift, where the proxy's object
controller checks these headers, a request that may not write learns nothing of them)::

    [filter:expiration]
    use = egg:librgw#expiration

Example: ``curl -X PUT -H 'X-Auth-Token: ...' -H 'X-Delete-After: 3600' --data-binary @f
http://127.0.0.1:8080/v1/AUTH_alice/tmp/f`` stores ``f`` for an hour.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from webob import Request, Response

MAX_DELETE_AT = 9999999999  # Swift's normalize_delete_at_timestamp caps at 10 digits
WRITES = ("PUT", "POST", "COPY")


class ExpiryHeaderError(ValueError):
    """A bad ``X-Delete-At`` / ``X-Delete-After``; its message is Swift's answer's body."""


def normalized_delete_at(timestamp: float) -> str:
    """A delete-at time as Swift writes it: whole seconds, ten digits, within 0..9999999999."""
    return f"{min(max(0, int(timestamp)), MAX_DELETE_AT):010d}"


def delete_at_of(headers: dict[str, str] | Request, now: float) -> str | None:
    """The ``X-Delete-At`` a write's headers ask for (``X-Delete-After`` counted from ``now``;
    it wins over an ``X-Delete-At``, as in Swift), normalized; None if neither is given.
    Raises ``ExpiryHeaderError`` for a malformed value or one not in the future."""
    if "X-Delete-After" in headers:
        try:
            after = int(headers["X-Delete-After"])
        except ValueError:
            raise ExpiryHeaderError("Non-integer X-Delete-After") from None
        at = normalized_delete_at(now + after)
        if int(at) <= now:
            raise ExpiryHeaderError("X-Delete-After in past")
        return at
    if "X-Delete-At" not in headers:
        return None
    try:
        at = normalized_delete_at(int(headers["X-Delete-At"]))
    except ValueError:
        raise ExpiryHeaderError("Non-integer X-Delete-At") from None
    if int(at) <= now:
        raise ExpiryHeaderError("X-Delete-At in past")
    return at


def is_object_path(path: str) -> bool:
    """Is ``path`` an object's, ``/v1/<account>/<container>/<object>``?"""
    parts = path.split("/", 4)
    return len(parts) == 5 and parts[0] == "" and all(parts[1:])


class Expiration:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.conf = conf

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        if request.method not in WRITES or not is_object_path(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        try:
            at = delete_at_of(request.headers, time.time())
        except ExpiryHeaderError as error:
            answer = Response(status=400, body=str(error).encode(), content_type="text/plain", charset=None)
            return answer(environ, start_response)
        if at is not None:
            request.headers["X-Delete-At"] = at
            request.headers.pop("X-Delete-After", None)
        return self.app(environ, start_response)


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}

    def expiration_filter(app: Callable) -> Expiration:
        return Expiration(app, conf)

    return expiration_filter
