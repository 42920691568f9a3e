"""An upload's body as the core reads it: exactly what the client said it would send, or an error.

``BodyReader`` wraps ``wsgi.input``. With a ``Content-Length`` it gives that many bytes and
then EOF; if the stream ends first (the client lied or went away), it raises
``ClientDisconnect``, so the core's write fails and no partial object ever becomes visible.
With ``Transfer-Encoding: chunked`` (the server decodes the chunks) it reads to the end,
and raises ``exc.HTTPRequestEntityTooLarge`` as soon as the body passes the size limit. An
error the server raises while reading is a ``ClientDisconnect`` if the connection failed,
else (a broken chunk: the server's own exception types, not ``OSError``) a 400.

``Transfer-Encoding`` is ``chunked`` or nothing, as Swift's ``swob.is_chunked`` has it
(``transfer_coding_refusal``, asked by the gateway before anything else): a list of codings
(``gzip, chunked``) is 501, a single one other than ``chunked`` 400, both answered at once,
before any of the body is read.

``read_document`` reads a small body (a policy, an ACL, a bulk-delete list) the same way, so
a broken or cut one is 400 or 499 there too, never the server's exception escaping as a 500.
"""

from __future__ import annotations

from typing import BinaryIO

from webob import Request, exc

from .answer_bodies import plain


class ClientDisconnect(exc.HTTPClientError):
    """Swift's 499: the client stopped sending before the body was complete."""

    code = 499
    title = "Client Disconnect"
    explanation = "The client sent less of the body than it announced."


UNSUPPORTED_CODING = "Unsupported Transfer-Coding header value specified in Transfer-Encoding header"


class UnsupportedTransferCoding(exc.HTTPNotImplemented):
    explanation = "The body's transfer coding is not one this server decodes."


def transfer_coding_refusal(environ: dict) -> exc.HTTPException | None:
    """501 for a ``Transfer-Encoding`` listing several codings, 400 for one that is not
    ``chunked``, as Swift answers them; None for none, or ``chunked``."""
    value = environ.get("HTTP_TRANSFER_ENCODING")
    if value is None:
        return None
    codings = value.split(",")
    if len(codings) > 1:
        return plain(UnsupportedTransferCoding(UNSUPPORTED_CODING))
    if codings[0].strip().lower() != "chunked":
        return plain(exc.HTTPBadRequest("Invalid Transfer-Encoding header value"))
    return None


class BodyReader:
    def __init__(self, stream: BinaryIO, length: int | None, limit: int) -> None:
        self._stream = stream
        self._left = length  # None: chunked, read to the end
        self._limit = limit
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        if self._left is not None:
            if self._left == 0:
                return b""
            size = self._left if size < 0 else min(size, self._left)
        try:
            data = self._stream.read(size) if size >= 0 else self._stream.read()
        except OSError as error:  # gunicorn's NoMoreData, a reset socket
            raise ClientDisconnect(f"reading the body failed: {error}") from None
        except Exception as error:  # the server found the body's framing broken: gunicorn's InvalidChunkSize, ...
            raise exc.HTTPBadRequest(f"The request body is malformed: {error}") from None
        self.bytes_read += len(data)
        if self._left is not None:
            if not data:
                raise ClientDisconnect(f"the body ended {self._left} bytes short of its Content-Length")
            self._left -= len(data)
        elif self.bytes_read > self._limit:
            raise exc.HTTPRequestEntityTooLarge(f"Your request is too large: more than {self._limit} bytes")
        return data


def upload_body(request: Request, limit: int) -> BodyReader:
    """The body of an object PUT: 411 without a length or chunked encoding, 413 over ``limit``."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    length_header = request.headers.get("Content-Length")
    if length_header is None and not chunked:
        raise exc.HTTPLengthRequired("Missing Content-Length or Transfer-Encoding: chunked")
    length = None
    if not chunked:
        if not (length_header.isascii() and length_header.isdigit()):
            raise exc.HTTPBadRequest("Invalid Content-Length")
        length = int(length_header)
        if length > limit:
            raise exc.HTTPRequestEntityTooLarge(f"Your request is too large: more than {limit} bytes")
    return BodyReader(request.environ["wsgi.input"], length, limit)


def read_document(request: Request, size: int) -> bytes:
    """At most ``size`` bytes of a small body, as ``request.body_file.read(size)`` gives them (the
    caller refuses one that fills them as too large), read through ``BodyReader``."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    reader = BodyReader(request.environ["wsgi.input"], None if chunked else request.content_length or 0, size)
    chunks, got = [], 0
    while got < size and (data := reader.read(size - got)):
        chunks.append(data)
        got += len(data)
    return b"".join(chunks)
