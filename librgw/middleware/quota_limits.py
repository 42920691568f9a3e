"""What ``container_quotas`` and ``account_quotas`` share: the stats they read, the size an
upload adds, and the 413 they answer.

Stats come from a HEAD sent down the pipeline (the gateway answers it from the bucket
index's stats, a Swift proxy from its account and container servers), authorized by the
asking filter alone (``temp_url_keys.pre_authorized``), never from a listing.

An upload whose size is known (``Content-Length``, or a copy's source) is refused before any
of it is read. One without (``Transfer-Encoding: chunked``) goes down with ``wsgi.input``
wrapped in ``AllowanceInput``, which fails the read that would take it past what the quota
leaves (an ``OSError``, so the gateway's write fails as for a client gone away and stores
nothing); the filter then answers 413 in place of whatever the failed write answered.

The refusal is Swift's: ``413 Upload exceeds quota.``, given through ``swift.authorize`` so it
comes only once the request is authorized (as Swift's ``account_quotas`` does), and a client
that may not write there learns nothing of the quota. The answer also names the core's
``QuotaExceeded`` in ``X-Librgw-Error``, which the ``s3`` filter answers as S3 does (403
``QuotaExceeded``, as RGW).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO
from urllib.parse import unquote

from webob import Request, Response, exc

from librgw.errors import QuotaExceeded

from .swift.context import SKIP_USAGE
from .swift.errors import ERROR_HEADER
from .temp_url_keys import pre_authorized
from .wsgi_path import api_parts

OVER_QUOTA = "Upload exceeds quota."
SWOB_TYPE = "text/html; charset=UTF-8"  # the Content-Type of Swift's answers (its swob's default)


class QuotaCrossed(OSError):
    """Raised by ``AllowanceInput.read``: the body went past what the quota leaves."""


class AllowanceInput:
    """``wsgi.input`` that gives at most ``allowance`` bytes, then fails the read."""

    def __init__(self, stream: BinaryIO, allowance: int) -> None:
        self._stream = stream
        self._left = allowance
        self.crossed = False

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size) if size >= 0 else self._stream.read()
        self._left -= len(data)
        if self._left < 0:
            self.crossed = True
            raise QuotaCrossed("the upload exceeds the quota")
        return data

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def limit(headers: dict[str, str], kind: str, name: str) -> int | None:
    """The ``x-<kind>-meta-quota-<name>`` limit among a HEAD's (lower-cased) ``headers``; None
    if there is none, or it is not a whole number (such a quota limits nothing, as in Swift)."""
    value = headers.get(f"x-{kind}-meta-quota-{name}", "")
    return int(value) if value.isascii() and value.isdigit() else None


def over_quota() -> exc.HTTPException:
    """Swift's answer to an upload over a quota."""
    return exc.HTTPRequestEntityTooLarge(
        detail=OVER_QUOTA,  # the gateway's Swift answers render it (``swift/answer_bodies.py``)
        body=OVER_QUOTA.encode(),  # a Swift proxy sends the body as it is
        content_type=SWOB_TYPE,
        headers=[(ERROR_HEADER, QuotaExceeded.code)],
    )


def refuse(request: Request, app: Callable) -> Callable:
    """The app that answers ``request``, over its quota: 413 once it is authorized. The refusal
    goes into ``swift.authorize``, asked after the auth's own decision (by a Swift proxy, which
    calls the auth filter's, wrapped here; by the gateway, ``request_identity.request_refusal``)."""
    authorize = request.environ.get("swift.authorize")

    def authorize_then_refuse(req: Request) -> exc.HTTPException:
        return (authorize(req) if callable(authorize) else None) or over_quota()

    request.environ["swift.authorize"] = authorize_then_refuse
    return app


def within_allowance(request: Request, app: Callable, allowance: int) -> Response:
    """``app``'s answer to ``request``, a chunked upload cut off past ``allowance`` bytes (413)."""
    limited = AllowanceInput(request.environ["wsgi.input"], allowance)
    request.environ["wsgi.input"] = limited
    response = request.get_response(app)
    return over_quota() if limited.crossed else response


def within_quota(app: Callable, request: Request, headers: dict[str, str], kind: str, user: str) -> Callable:
    """The app that answers an upload into the container or account (``kind``) whose HEAD gave
    ``headers``: ``app``, or a refusal past its count or bytes quota. A copy's size is its
    source's (``copy_source``); a chunked upload is cut off where it crosses the quota."""
    max_count = limit(headers, kind, "count")
    if max_count is not None and int(headers.get(f"x-{kind}-object-count", 0)) + 1 > max_count:
        return refuse(request, app)
    max_bytes = limit(headers, kind, "bytes")
    if max_bytes is None:
        return app
    allowance = max_bytes - int(headers.get(f"x-{kind}-bytes-used", 0))
    source = copy_source(request, *api_parts(request.environ))
    if source is not None:
        size = object_size(app, request.environ, source, user)
    elif request.content_length is not None:
        size = request.content_length
    else:
        return lambda environ, start: within_allowance(request, app, allowance)(environ, start)
    return refuse(request, app) if size > allowance else app


def stats(app: Callable, environ: dict, path: str, user: str, usage: bool = True) -> dict[str, str] | None:
    """The headers of a HEAD of ``path`` (text; lower-cased names); None if it fails. Without
    ``usage`` the gateway leaves out an account's or container's counts (``SKIP_USAGE``)."""
    own = {**pre_authorized(environ, "HEAD", path, user), "swift_owner": True, SKIP_USAGE: not usage}
    response = Request.blank("/", environ=own).get_response(app)
    if response.status_int // 100 != 2:
        return None
    return {name.lower(): value for name, value in response.headerlist}


def quota_stats(app: Callable, environ: dict, path: str, kind: str, user: str) -> dict[str, str] | None:
    """The headers of a HEAD of the container or account (``kind``) at ``path``, with its counts
    only if it has a quota: an upload where none is set costs no sum of its usage."""
    headers = stats(app, environ, path, user, usage=False)
    if headers is None or all(limit(headers, kind, name) is None for name in ("count", "bytes")):
        return headers
    if f"x-{kind}-bytes-used" in headers:  # a Swift proxy's answer, in full
        return headers
    return stats(app, environ, path, user)


def object_size(app: Callable, environ: dict, path: str, user: str) -> int:
    """The size of the object at ``path`` (text); 0 if it cannot be read (the copy then fails below)."""
    headers = stats(app, environ, path, user)
    length = (headers or {}).get("content-length", "")
    return int(length) if length.isdigit() else 0


def header_object(value: str) -> tuple[str, str] | None:
    """``<container>/<object>`` of an ``X-Copy-From`` or ``Destination`` header (URL-quoted, a
    leading ``/`` allowed); None if malformed (the gateway refuses it)."""
    container, _, obj = unquote(value).lstrip("/").partition("/")
    return (container, obj) if container and obj else None


def copy_source(request: Request, account: str, container: str, obj: str) -> str | None:
    """The path of the object a copy (``X-Copy-From`` on PUT, or COPY) reads; None for no copy."""
    if request.method == "COPY":
        return f"/v1/{account}/{container}/{obj}"
    source = request.headers.get("X-Copy-From")
    if source is None or (named := header_object(source)) is None:
        return None
    return f"/v1/{request.headers.get('X-Copy-From-Account', account)}/{named[0]}/{named[1]}"
