"""Account and container listings: their query parameters and the three formats Swift serves,
byte for byte as Swift's ``listing_formats`` middleware and account/container servers write them.

Parameters: ``limit`` (at most the configured listing limit, else 412; a value that is not
all digits, such as ``5000.0`` or ``-1``, is ignored and the listing limit applies, as Swift's
``constrain_req_limit`` does), ``marker`` and ``end_marker`` (exclusive bounds), ``prefix``,
``delimiter`` (any length: names sharing a prefix up to it roll up into one ``subdir``) and
``reverse``.

The format: ``format=json``, ``xml`` or ``plain`` (any other value is plain), else the
``Accept`` header's best match among ``text/plain`` (the default), ``application/json``,
``application/xml`` and ``text/xml``; none acceptable is 406, an ``Accept`` that does not parse
400. The answer, HEAD's too, says ``Content-Type: <type>; charset=utf-8`` and, when no
``format`` was given, ``Vary: Accept``. An empty plain listing is 204 No Content.

- JSON: ``json.dumps`` of the entries, ASCII-escaped; a container's entries are ``bytes``,
  ``hash``, ``name``, ``content_type``, ``last_modified`` in that order (the container
  server's), an account's ``name``, ``count``, ``bytes``, ``last_modified``,
  ``storage_policy``.
- XML: ``<?xml version="1.0" encoding="UTF-8"?>`` and a newline, then ElementTree's
  serialization: a container's ``<object>`` elements with no text between them, ``<subdir
  name="p"><name>p</name></subdir>`` for a common prefix; in an account's, a newline after the
  start tag and after each entry (Swift's ``account_to_xml`` writes them so), and ``<subdir
  name="p" />``.
  Entry fields other than Swift's (a ``?versions`` listing's ``version_id`` and
  ``is_latest``) follow Swift's ones.
- Plain: one name per line.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from webob import Request, Response, exc
from webob.acceptparse import AcceptInvalidHeader

FORMATS = {"json": "application/json", "xml": "application/xml", "plain": "text/plain"}
OFFERS = ["text/plain", "application/json", "application/xml", "text/xml"]
TRUE = {"true", "1", "yes", "on", "t", "y"}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# the fields Swift writes in an XML listing's entries, in its order
XML_FIELDS = {
    "container": ("name", "hash", "bytes", "content_type", "last_modified"),
    "account": ("name", "count", "bytes", "last_modified", "storage_policy"),
}


@dataclass(frozen=True)
class ListingFormat:
    media_type: str  # what the answer's Content-Type names
    negotiated: bool  # chosen by Accept (no format=): the answer varies with it


@dataclass
class ListingQuery:
    limit: int
    marker: str
    end_marker: str
    prefix: str
    delimiter: str
    reverse: bool
    format: ListingFormat


def listing_query(request: Request, max_limit: int) -> ListingQuery:
    """The listing parameters of ``request``: 412 for a limit over ``max_limit``, 400 for bad ones."""
    params = _params(request)
    limit_text = params.get("limit", "")
    limit = max_limit
    if limit_text.isascii() and limit_text.isdigit():  # "²" is a digit to isdigit, not to int
        limit = int(limit_text)
        if limit > max_limit:
            raise exc.HTTPPreconditionFailed(f"Maximum limit is {max_limit}")
    return ListingQuery(
        limit,
        params.get("marker", ""),
        params.get("end_marker", ""),
        params.get("prefix", ""),
        params.get("delimiter", ""),
        params.get("reverse", "").lower() in TRUE,
        listing_format(request),
    )


def _params(request: Request) -> dict[str, str]:
    try:
        return dict(request.GET)  # webob decodes the query as UTF-8
    except UnicodeDecodeError:
        raise exc.HTTPBadRequest("The query string is not UTF-8") from None


def listing_format(request: Request) -> ListingFormat:
    """The media type a listing (or its HEAD) is answered in: ``format=``, else ``Accept``'s
    choice; 406 if ``Accept`` takes none of them, 400 if it does not parse."""
    params = _params(request)
    asked = params.get("format", "")
    if asked:
        return ListingFormat(FORMATS.get(asked.lower(), FORMATS["plain"]), negotiated=False)
    if isinstance(request.accept, AcceptInvalidHeader):
        raise exc.HTTPBadRequest("Invalid Accept header")
    offers = request.accept.acceptable_offers(OFFERS)
    if not offers:
        raise exc.HTTPNotAcceptable()
    return ListingFormat(offers[0][0], negotiated="format" not in params)


def accepted_type(request: Request) -> str:
    """The listing media type the ``Accept`` header prefers; ``text/plain`` if it names none."""
    offers = request.accept.acceptable_offers(OFFERS)
    return offers[0][0] if offers else "text/plain"


def described(response: Response, fmt: ListingFormat) -> Response:
    """``response`` (a listing, or its HEAD) with the headers Swift's ``listing_formats`` sets."""
    response.headers["Content-Type"] = f"{fmt.media_type}; charset=utf-8"
    response.headers["Content-Length"] = str(len(response.body))
    if fmt.negotiated:
        response.headers["Vary"] = "Accept"
    return response


def render(query: ListingQuery, root: str, name: str, items: list[dict], headers: list[tuple[str, str]]) -> Response:
    """A listing response; ``root`` is ``account`` or ``container``, ``items`` its entries
    (each a dict of fields in Swift's order, or ``{"subdir": prefix}``)."""
    media_type = query.format.media_type
    if media_type == "application/json":
        body = json.dumps(items).encode("ascii")
    elif media_type.endswith("/xml"):
        body = _xml(root, name, items)
    else:
        body = "".join(item.get("name", item.get("subdir", "")) + "\n" for item in items).encode()
    response = Response(status=200 if body else 204, body=body, headerlist=list(headers))
    return described(response, query.format)


def _xml(root: str, name: str, items: list[dict]) -> bytes:
    doc = ET.Element(root, name=name)
    child, fields = ("object" if root == "container" else "container"), XML_FIELDS[root]
    for item in items:
        if "subdir" in item:
            entry = ET.SubElement(doc, "subdir", name=item["subdir"])
            if root == "container":
                ET.SubElement(entry, "name").text = item["subdir"]
        else:
            entry = ET.SubElement(doc, child)
            ordered = [key for key in fields if key in item] + [key for key in item if key not in fields]
            for key in ordered:
                ET.SubElement(entry, key).text = str(item[key])
        if root == "account":
            entry.tail = "\n"
    if root == "account":
        doc.text = "\n"
    return XML_DECLARATION + ET.tostring(doc, encoding="UTF-8")
