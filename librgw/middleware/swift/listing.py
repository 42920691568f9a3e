"""Account and container listings: their query parameters and the three formats Swift serves.

Parameters: ``limit`` (at most the configured listing limit, else 412), ``marker`` and
``end_marker`` (exclusive bounds), ``prefix``, ``delimiter`` (one character; names sharing a
prefix up to it roll up into one ``subdir``) and ``reverse``. The format is ``format=json``,
``xml`` or ``plain`` (the default), or the ``Accept`` header's choice. An empty plain
listing is 204 No Content, as in Swift.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from webob import Request, Response, exc

FORMATS = {"json": "application/json", "xml": "application/xml", "plain": "text/plain"}
FORMAT_OF_TYPE = {"application/json": "json", "application/xml": "xml", "text/xml": "xml"}
TRUE = {"true", "1", "yes", "on", "t", "y"}


@dataclass
class ListingQuery:
    limit: int
    marker: str
    end_marker: str
    prefix: str
    delimiter: str
    reverse: bool
    format: str


def listing_query(request: Request, max_limit: int) -> ListingQuery:
    """The listing parameters of ``request``: 412 for a limit over ``max_limit``, 400 for bad ones."""
    params = _params(request)
    limit_text = params.get("limit", str(max_limit))
    if not (limit_text.isascii() and limit_text.isdigit()):  # "²" is a digit to isdigit, not to int
        raise exc.HTTPPreconditionFailed(f"Value of limit must be a non-negative integer: {limit_text[:32]}")
    limit = int(limit_text)
    if limit > max_limit:
        raise exc.HTTPPreconditionFailed(f"Maximum limit is {max_limit}")
    delimiter = params.get("delimiter", "")
    if len(delimiter) > 1:
        raise exc.HTTPPreconditionFailed("Bad delimiter: it must be one character")
    return ListingQuery(
        limit,
        params.get("marker", ""),
        params.get("end_marker", ""),
        params.get("prefix", ""),
        delimiter,
        params.get("reverse", "").lower() in TRUE,
        _format(request, params.get("format", "")),
    )


def _params(request: Request) -> dict[str, str]:
    try:
        return dict(request.GET)  # webob decodes the query as UTF-8
    except UnicodeDecodeError:
        raise exc.HTTPBadRequest("The query string is not UTF-8") from None


def _format(request: Request, asked: str) -> str:
    asked = asked.lower()
    if asked:
        if asked not in FORMATS:
            raise exc.HTTPBadRequest(f"Unknown format {asked[:16]!r}: use json, xml or plain")
        return asked
    return FORMAT_OF_TYPE.get(accepted_type(request), "plain")


def accepted_type(request: Request) -> str:
    """The listing media type the ``Accept`` header prefers; ``text/plain`` if it names none."""
    offers = request.accept.acceptable_offers(["text/plain", "application/json", "application/xml", "text/xml"])
    return offers[0][0] if offers else "text/plain"


def swift_time(mtime: float) -> str:
    """A listing's ``last_modified``: ISO 8601 in UTC with microseconds, no zone, as Swift writes it."""
    return datetime.fromtimestamp(mtime, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def render(fmt: str, root: str, name: str, items: list[dict], headers: list[tuple[str, str]]) -> Response:
    """A listing response; ``root`` is ``account`` or ``container``, ``items`` its entries
    (each a dict of fields, or ``{"subdir": prefix}``)."""
    if fmt == "json":
        body = json.dumps(items).encode()
    elif fmt == "xml":
        body = _xml(root, name, items)
    else:
        if not items:
            return Response(status=204, headerlist=headers)
        body = "".join(item.get("name", item.get("subdir", "")) + "\n" for item in items).encode()
    response = Response(body=body, headerlist=list(headers))
    response.content_type, response.charset = FORMATS[fmt], "utf-8"  # webob skips them given a headerlist
    return response


def _xml(root: str, name: str, items: list[dict]) -> bytes:
    child = "object" if root == "container" else "container"
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f"<{root} name={quoteattr(name)}>"]
    for item in items:
        if "subdir" in item:
            lines.append(f"<subdir name={quoteattr(item['subdir'])}><name>{escape(item['subdir'])}</name></subdir>")
            continue
        fields = "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in item.items())
        lines.append(f"<{child}>{fields}</{child}>")
    lines.append(f"</{root}>")
    return "\n".join(lines).encode()
