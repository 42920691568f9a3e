"""Conditional requests on objects: ``If-Match``, ``If-None-Match``, ``If-Modified-Since``,
``If-Unmodified-Since`` (RFC 9110 §13), evaluated in the RFC's order.

For GET and HEAD a failed ``If-None-Match`` or ``If-Modified-Since`` is 304 Not Modified, a
failed ``If-Match`` or ``If-Unmodified-Since`` is 412. A PUT may carry only
``If-None-Match: *`` (create, never overwrite), as in Swift.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from webob import Request, exc


def check_read_conditions(request: Request, etag: str, mtime: float) -> None:
    """Raise 304 or 412 when the request's preconditions fail for an object with ``etag`` and ``mtime``."""
    modified = datetime.fromtimestamp(math.ceil(mtime), UTC)
    if request.if_match is not None and "If-Match" in request.headers and etag not in request.if_match:
        raise exc.HTTPPreconditionFailed(headers={"ETag": f'"{etag}"'})
    if request.if_unmodified_since is not None and "If-Match" not in request.headers:
        if modified > request.if_unmodified_since:
            raise exc.HTTPPreconditionFailed(headers={"ETag": f'"{etag}"'})
    if "If-None-Match" in request.headers:
        if etag in request.if_none_match:
            raise exc.HTTPNotModified(headers={"ETag": f'"{etag}"'})
    elif request.if_modified_since is not None and modified <= request.if_modified_since:
        raise exc.HTTPNotModified(headers={"ETag": f'"{etag}"'})


def forbids_overwrite(request: Request) -> bool:
    """True for a PUT with ``If-None-Match: *``; 400 for any other ``If-None-Match`` on a PUT."""
    value = request.headers.get("If-None-Match")
    if value is None:
        return False
    if value.strip() != "*":
        raise exc.HTTPBadRequest("If-None-Match on a PUT only supports *")
    return True
