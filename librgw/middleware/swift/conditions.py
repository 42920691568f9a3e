"""Conditional requests on objects: ``If-Match``, ``If-None-Match``, ``If-Modified-Since``,
``If-Unmodified-Since`` (RFC 9110 §13), evaluated in the RFC's order.

For GET and HEAD a failed ``If-None-Match`` or ``If-Modified-Since`` is 304 Not Modified, a
failed ``If-Match`` or ``If-Unmodified-Since`` is 412.

A write of an object's data (a PUT, a completed multipart upload) may carry
``If-None-Match: *`` (create, never overwrite), as in Swift, and ``If-Match: <etags>`` (replace
only the object with one of those ETags; ``*``: any existing one), as RFC 9110 has every
server honour it and S3's conditional writes do; Swift itself ignores ``If-Match`` on a PUT.
Either is 412 when it fails; ``If-Match`` where there is no object says so with
``X-Librgw-Error: NoSuchKey``, which S3 answers as 404. The core checks them atomically with
the write (``librgw.write_condition``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from webob import Request, exc

from librgw.write_condition import ANY, WriteCondition

from .timestamps import modified_second


def check_read_conditions(request: Request, etag: str, mtime: float, etag_header: str) -> None:
    """Raise 304 or 412 when the request's preconditions fail for an object with ``etag`` and
    ``mtime``; the answer names the object's ETag as its GET would (``etag_header``)."""
    modified = datetime.fromtimestamp(modified_second(mtime), UTC)
    if request.if_match is not None and "If-Match" in request.headers and etag not in request.if_match:
        raise exc.HTTPPreconditionFailed(headers={"ETag": etag_header})
    if request.if_unmodified_since is not None and "If-Match" not in request.headers:
        if modified > request.if_unmodified_since:
            raise exc.HTTPPreconditionFailed(headers={"ETag": etag_header})
    if "If-None-Match" in request.headers:
        if etag in request.if_none_match:
            raise exc.HTTPNotModified(headers={"ETag": etag_header})
    elif request.if_modified_since is not None and modified <= request.if_modified_since:
        raise exc.HTTPNotModified(headers={"ETag": etag_header})


def write_condition(request: Request) -> WriteCondition | None:
    """What a write's ``If-Match`` and ``If-None-Match`` ask of the object it replaces; None
    for nothing. 400 for an ``If-None-Match`` other than ``*``."""
    if_match = request.headers.get("If-Match", "").strip() or None
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and if_none_match.strip() != ANY:
        raise exc.HTTPBadRequest("If-None-Match on a write only supports *")
    if if_match is None and if_none_match is None:
        return None
    etags = None
    if if_match is not None:  # webob's parse: quoted or not, and a weak ETag, which never matches, left out
        etags = (ANY,) if if_match == ANY else tuple(request.if_match.etags)
    return WriteCondition(if_match=etags, if_none_match=if_none_match is not None)
