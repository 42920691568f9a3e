"""What a request writing an object asks for in its headers: the metadata, content type and
content headers to keep, and the objects ``X-Copy-From`` and ``Destination`` name (in the
accounts ``X-Copy-From-Account`` and ``Destination-Account`` name, the path's by default).

Shared by the writes that make an object's record: PUT, COPY and POST (``objects.py``) and
a multipart upload's initiation (``multipart.py``), so each reads them the same way.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import unquote

from webob import exc

from librgw.objects import CONTENT_HEADERS

from . import metadata
from .constraints import check_metadata
from .context import Context

KIND = "object"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def content_headers(ctx: Context) -> dict[str, str]:
    """The ``CONTENT_HEADERS`` the request gives, as the core keeps them; 400 for one that
    could not be sent back (``metadata.header_text``)."""
    given = ctx.request.headers
    named = [name for name in CONTENT_HEADERS if name in given]
    return {name: metadata.header_text(given[name], f"Invalid {name.title()}") for name in named}


def requested_content_type(ctx: Context) -> str:
    """The request's ``Content-Type`` ("" without one); 400 "Invalid Content-Type", as Swift
    answers, for one that is not UTF-8 (or could not be sent back)."""
    given = ctx.request.headers.get("Content-Type", "")
    return metadata.header_text(given, "Invalid Content-Type") if given else ""


def content_type_of(ctx: Context, name: str) -> str:
    """The request's ``Content-Type``, or the one object ``name`` suggests."""
    return requested_content_type(ctx) or mimetypes.guess_type(name)[0] or DEFAULT_CONTENT_TYPE


def requested_metadata(ctx: Context) -> dict[str, str]:
    """The ``X-Object-Meta-*`` items the request sets; 400 beyond the limits."""
    to_set, _ = metadata.requested_changes(ctx.request.headers, KIND)
    check_metadata(to_set, KIND, ctx.limits)
    return to_set


def requested_delete_at(ctx: Context) -> float | None:
    """The ``X-Delete-At`` the request gives (None without one); 400 "Non-integer X-Delete-At",
    as Swift answers, for one that is not an integer. The ``expiration`` filter has checked
    it is in the future, and made it of an ``X-Delete-After``."""
    given = ctx.request.headers.get("X-Delete-At")
    if given is None:
        return None
    try:
        return float(int(given))
    except ValueError:
        raise exc.HTTPBadRequest("Non-integer X-Delete-At") from None


def copy_account(ctx: Context, header: str) -> str:
    """The account (``AUTH_<...>``) a copy's ``header`` names, URL-encoded, or the path's
    without it; 412 for an empty one or one with a ``/``, as Swift's copy middleware answers."""
    value = ctx.request.headers.get(header)
    if value is None:
        return ctx.path.account
    try:
        account = unquote(metadata.from_wsgi(value), errors="strict")
    except UnicodeDecodeError:
        raise exc.HTTPPreconditionFailed(f"{header} header is not URL-encoded UTF-8") from None
    if not account:
        raise exc.HTTPPreconditionFailed("Account name cannot be empty")
    if "/" in account:
        raise exc.HTTPPreconditionFailed("Account name cannot contain slashes")
    return account


def object_path(value: str, header: str) -> tuple[str, str]:
    """(container, object) of a ``/container/object`` header value (URL-encoded); 412 if malformed."""
    try:
        path = unquote(metadata.from_wsgi(value), errors="strict").lstrip("/")
    except UnicodeDecodeError:
        raise exc.HTTPPreconditionFailed(f"{header} header is not URL-encoded UTF-8") from None
    if "\x00" in path:  # as in a request's path: no object could ever be named by one
        raise exc.HTTPPreconditionFailed(f"{header} header contains NULL")
    container, _, obj = path.partition("/")
    if not container or not obj:
        raise exc.HTTPPreconditionFailed(f"{header} header must be of the form <container name>/<object name>")
    return container, obj
