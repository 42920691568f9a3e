"""JSON documents in and out of the native sub-resources (``?tagging``, ``?cors``, ``?lifecycle``).

A request's document is read as an upload's body (``Content-Length`` or chunked) up to
``MAX_DOCUMENT`` bytes (413 beyond); one that is not JSON is 400.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from webob import Request, Response, exc

from .request_body import upload_body

MAX_DOCUMENT = 1024 * 1024  # as the s3 middleware's XML documents
READ_CHUNK = 64 * 1024


def read_json(request: Request, object_pairs_hook: Callable | None = None) -> object:
    """The request body's JSON document."""
    body = upload_body(request, MAX_DOCUMENT)
    chunks = []
    while chunk := body.read(READ_CHUNK):
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks), object_pairs_hook=object_pairs_hook)
    except (UnicodeDecodeError, ValueError):
        raise exc.HTTPBadRequest("The body must be a JSON document") from None


def json_response(doc: object, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    response = Response(status=status, body=json.dumps(doc).encode(), headerlist=list(headers or []))
    response.content_type, response.charset = "application/json", "utf-8"  # webob skips them given a headerlist
    return response
