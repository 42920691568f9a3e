"""The bodies of the Swift API's answers, as OpenStack Swift's proxy writes them (its ``swob``).

Swift answers most refusals with a stock HTML page, ``<html><h1>Not Found</h1><p>The resource
could not be found.</p></html>``, and a few with a message of its own as plain text ("Bad
URL", "Metadata value longer than 256: x-object-meta-big", "Invalid UTF8 or contains NULL").
Which is which depends on the status: the statuses below always get the stock page (our own
explanation of a 404 or a 409 is for the log, not the client), the rest get the message they
were raised with, and the stock page when they carry none. A ``202 Accepted`` gets the stock
page too, as Swift's does; a conditional request's ``412`` has no body. A message goes out as
``text/html; charset=UTF-8``, swob's default, unless it was raised ``plain`` (the checks Swift
answers in ``text/plain``: object names and metadata too long, transfer codings).

The gateway passes every answer of the Swift API through ``swift_answer``; answers to the
``s3`` filter's requests keep their details, which it turns into S3's XML errors.
"""

from __future__ import annotations

from webob import Response, exc

STOCK_PAGE_TYPE = "text/html; charset=UTF-8"
PLAIN_TYPE = "text/plain"
PLAIN_MARK = "swift_plain_text"
TYPED_MARK = "swift_keeps_content_type"
# status: (Swift's title, its explanation), from the HTTP reasons Swift's swob knows
STOCK = {
    202: ("Accepted", "The request is accepted for processing."),
    400: (
        "Bad Request",
        "The server could not comply with the request since it is either malformed or otherwise incorrect.",
    ),
    401: ("Unauthorized", "This server could not verify that you are authorized to access the document you requested."),
    403: ("Forbidden", "Access was denied to this resource."),
    404: ("Not Found", "The resource could not be found."),
    405: ("Method Not Allowed", "The method is not allowed for this resource."),
    406: ("Not Acceptable", "The resource is not available in a format acceptable to your browser."),
    408: ("Request Timeout", "The server has waited too long for the request to be sent by the client."),
    409: ("Conflict", "There was a conflict when trying to complete your request."),
    411: ("Length Required", "Content-Length header required."),
    413: ("Request Entity Too Large", "The body of your request was too large for this server."),
    416: ("Requested Range Not Satisfiable", "The Range requested is not available."),
    422: ("Unprocessable Entity", "Unable to process the contained instructions"),
    501: ("Not Implemented", "The requested method is not implemented by this server."),
    503: ("Service Unavailable", "The server is currently unavailable. Please try again at a later time."),
}
# Statuses whose answers are always the stock page, whatever message they were raised with.
ALWAYS_STOCK = frozenset({202, 401, 403, 404, 405, 409, 416, 422})


def plain(error: exc.HTTPException) -> exc.HTTPException:
    """``error``, marked to go out as ``text/plain``, as Swift sends that message."""
    setattr(error, PLAIN_MARK, True)
    return error


def about_object(
    error: exc.HTTPException, headers: list[tuple[str, str]], content_type: str | None
) -> exc.HTTPException:
    """``error`` (a ``304``, ``412`` or ``416`` to a read) carrying the object's ``headers``, as
    Swift's do, and its ``content_type`` if given (Swift's ``304`` and ``416`` keep it)."""
    error.headers.update(headers)
    if content_type is not None:
        error.headers["Content-Type"] = content_type
        setattr(error, TYPED_MARK, True)
    return error


def bodiless_answer(status: int, headerlist: list[tuple[str, str]] | tuple = ()) -> Response:
    """A write's answer as Swift's proxy gives it: no body, and ``text/html; charset=UTF-8`` all
    the same (swob's default); ``swift_answer`` gives a ``202`` its stock page."""
    response = Response(status=status, headerlist=list(headerlist))
    response.headers["Content-Type"] = STOCK_PAGE_TYPE
    response.headers["Content-Length"] = "0"
    return response


def stock_page(status: int) -> bytes:
    title, explanation = STOCK[status]
    return f"<html><h1>{title}</h1><p>{explanation}</p></html>".encode()


def swift_answer(response: Response, method: str) -> Response:
    """``response`` to a ``method`` request with the body and ``Content-Type`` Swift's proxy
    gives an answer of its status (none to a HEAD: Swift sends no body and says 0 bytes)."""
    status = response.status_code
    if status == 202:
        return _with_body(response, stock_page(status), STOCK_PAGE_TYPE, method)
    if status < 400 or status == 500 or not isinstance(response, exc.HTTPException) or response.empty_body:
        return response  # a success, catch_errors' 500, or an answer with a body (or none) of its own
    message = response.detail
    if status in ALWAYS_STOCK or (not message and status in STOCK):
        return _with_body(response, stock_page(status), STOCK_PAGE_TYPE, method)
    content_type = PLAIN_TYPE if getattr(response, PLAIN_MARK, False) else STOCK_PAGE_TYPE
    return _with_body(response, (message or "").encode("utf-8"), content_type, method)


def _with_body(response: Response, body: bytes, content_type: str, method: str) -> Response:
    if getattr(response, TYPED_MARK, False):
        content_type = response.headers["Content-Type"]
    dropped = ("content-type", "content-length")
    answer = Response(
        status=response.status, headerlist=[h for h in response.headerlist if h[0].lower() not in dropped]
    )
    answer.headers["Content-Type"] = content_type
    answer.body = b"" if method == "HEAD" else body
    return answer
