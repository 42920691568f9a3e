"""``formpost``: Swift's browser form uploads, a ``multipart/form-data`` POST that a web page can
send straight to a container, signed with the account's or the container's temp URL key.

The form, posted to ``/v1/<account>/<container>[/<object prefix>]``::

    <form action="http://gw/v1/AUTH_alice/inbox/photos/" method="POST" enctype="multipart/form-data">
      <input type="hidden" name="redirect" value="https://app.example.com/done" />
      <input type="hidden" name="max_file_size" value="104857600" />
      <input type="hidden" name="max_file_count" value="10" />
      <input type="hidden" name="expires" value="1798675200" />
      <input type="hidden" name="signature" value="<HMAC>" />
      <input type="file" name="file1" />
    </form>

``signature`` is the HMAC (hex, or ``<digest>:<base64>``; SHA-1, 256 or 512 among
``allowed_digests``) with a ``Temp-URL-Key`` of the account or the container
(``temp_url_keys.py``) of the lines ``path``, ``redirect`` (empty if none), ``max_file_size``,
``max_file_count`` and ``expires``; ``librgw`` has no command for it, but Swift's
``swift-form-signature`` makes one. Each file becomes a PUT of ``<path>/<filename>``, its body
streamed from the form as it arrives (never held whole) and cut off past ``max_file_size``,
which fails the upload and stores nothing. Optional fields before the files: ``x_delete_at``
or ``x_delete_after``, ``content-type`` and ``content-encoding`` (also per file, in the file
part's headers). Fields after a file apply to the files after them only, as in Swift.

The answer is the last upload's status (``201 Created``), or the first failure's: ``400
FormPost: ...`` for a bad form, ``401 FormPost: Invalid Signature`` / ``Form Expired``, or the
PUT's own error; with ``redirect``, a ``303`` to it with ``status`` and ``message`` added to its
query. A POST that is not ``multipart/form-data`` goes on down the pipeline untouched.

It speaks only Swift's protocol, so it runs unchanged in an OpenStack Swift proxy's pipeline
(``use = egg:librgw#formpost``, before the auth filter, as Swift's own ``formpost``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

from multipart import MultipartError, MultipartSegment, PushMultipartParser
from webob import Request

from librgw import temp_urls

from .registry import register_swift_info
from .temp_url_keys import pre_authorized, signing_keys
from .wsgi_path import path_text

READ_CHUNK = 64 * 1024
MAX_VALUE_LENGTH = 4096  # a field's value, as Swift's MAX_VALUE_LENGTH
FORMPOST_USER = ".wsgi.formpost"
DEFAULT_DIGESTS = "sha1 sha256 sha512"


class FormInvalid(Exception):
    """400: the form is malformed or breaks its own limits."""


class FormUnauthorized(Exception):
    """401: the signature is wrong or the form has expired."""


@dataclass
class Upload:
    """Where the uploads stand: the form's fields so far, the files sent, the last answer."""

    fields: dict[str, str] = field(default_factory=dict)
    files: int = 0
    status: str = ""
    message: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    signed: bool = False


class FormParts:
    """The parts of a ``multipart/form-data`` body, read from ``stream`` as they are used: each
    part's ``MultipartSegment`` with an iterator of its bytes, which must be read (or dropped
    with ``skip``) before the next part."""

    def __init__(self, stream, boundary: str) -> None:
        self.stream = stream
        self.parser = PushMultipartParser(boundary, max_segment_count=10000)

    def _events(self) -> Iterator:
        while not self.parser.closed:
            chunk = self.stream.read(READ_CHUNK)
            try:
                yield from list(self.parser.parse(chunk))
            except MultipartError as e:
                raise FormInvalid(f"invalid form: {e}") from None
            if not chunk and not self.parser.closed:
                raise FormInvalid("the form ended before its closing boundary")

    def __iter__(self) -> Iterator[tuple[MultipartSegment, Iterator[bytes]]]:
        events = self._events()
        for event in events:
            if isinstance(event, MultipartSegment):
                yield event, self._body(events)

    @staticmethod
    def _body(events: Iterator) -> Iterator[bytes]:
        for event in events:
            if event is None:
                return
            yield bytes(event)


class CappedInput:
    """A file object over a part's bytes that stops with an error past ``limit`` bytes, or
    where the form is malformed; ``error`` keeps why, since the PUT reading it answers its own
    error instead."""

    def __init__(self, chunks: Iterator[bytes], limit: int) -> None:
        self.chunks, self.limit = chunks, limit
        self.buffer = b""
        self.read_so_far = 0
        self.error: FormInvalid | None = None

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            try:
                chunk = next(self.chunks, b"")
            except FormInvalid as e:
                self.error = e
                raise OSError(str(e)) from None
            if not chunk:
                break
            self.read_so_far += len(chunk)
            if self.read_so_far > self.limit:
                self.error = FormInvalid("max_file_size exceeded")
                raise OSError(str(self.error))
            self.buffer += chunk
        if size < 0:
            size = len(self.buffer)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def readline(self, size: int = -1) -> bytes:  # what WSGI's input also offers
        return self.read(size)


class FormPost:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.digests = frozenset(conf.get("allowed_digests", DEFAULT_DIGESTS).lower().split())
        unknown = self.digests - temp_urls.DIGESTS.keys()
        if unknown or not self.digests:
            raise ValueError(f"formpost: allowed_digests are among {', '.join(temp_urls.DIGESTS)}, not {unknown}")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        request = Request(environ)
        boundary = request.content_type == "multipart/form-data" and request.headers.get("Content-Type", "")
        boundary = _boundary(boundary) if boundary else None
        if not boundary:
            return self.app(environ, start_response)
        try:
            status, headers, body = self._translate(environ, boundary)
        except FormInvalid as e:
            status, headers, body = _plain("400 Bad Request", f"FormPost: {e}")
        except FormUnauthorized as e:
            status, headers, body = _plain("401 Unauthorized", f"FormPost: {str(e).title()}")
        start_response(status, headers)
        return [body]

    def _translate(self, environ: dict, boundary: str) -> tuple[str, list[tuple[str, str]], bytes]:
        path = path_text(environ)
        if path is None:
            raise FormInvalid("the path is not UTF-8")
        parts = path.split("/", 4)
        if len(parts) < 4 or parts[0] or parts[1] != "v1" or not parts[2] or not parts[3]:
            raise FormUnauthorized("invalid signature")
        keys = signing_keys(self.app, environ, parts[2], parts[3], FORMPOST_USER)
        upload = Upload()
        for segment, chunks in FormParts(environ["wsgi.input"], boundary):
            if segment.filename is None:
                value = b"".join(_capped(chunks, MAX_VALUE_LENGTH))
                upload.fields[segment.name.lower()] = value.decode("utf-8", errors="replace")
                continue
            upload.files += 1
            if upload.files > _integer(upload.fields, "max_file_count"):
                upload.status, upload.message = "400 Bad Request", "max file count exceeded"
                break
            if not upload.signed:
                self._check_signature(path, upload.fields, keys)
                upload.signed = True
            self._put(environ, path, segment, chunks, upload)
            if not upload.status.startswith("2"):
                break
        if not upload.status:
            upload.status, upload.message = "400 Bad Request", "no files to process"
        return _answer(upload)

    def _check_signature(self, path: str, fields: dict[str, str], keys: list) -> None:
        if _integer(fields, "expires") < time.time():
            raise FormUnauthorized("form expired")
        try:
            digest, given = temp_urls.parse_signature(fields.get("signature", ""))
        except ValueError:
            raise FormUnauthorized("invalid signature") from None
        lines = [path, fields.get("redirect", ""), *(fields.get(n) or "0" for n in ("max_file_size", "max_file_count"))]
        message = "\n".join([*lines, fields.get("expires") or "0"]).encode()
        valid = False
        for key in keys:  # every key is tried: the time says nothing of which matched
            valid |= temp_urls.matches_message(given, message, key.value, digest)
        if digest not in self.digests or not valid:
            raise FormUnauthorized("invalid signature")

    def _put(
        self, environ: dict, path: str, segment: MultipartSegment, chunks: Iterator[bytes], upload: Upload
    ) -> None:
        """Upload one file of the form as a PUT down the pipeline; its answer goes in ``upload``."""
        fields = upload.fields
        target = path if path.endswith("/") or path.count("/") >= 4 else path + "/"
        sub = pre_authorized(environ, "PUT", target + (segment.filename or "filename"), FORMPOST_USER)
        body = CappedInput(chunks, _integer(fields, "max_file_size"))
        sub.update({"wsgi.input": body, "HTTP_TRANSFER_ENCODING": "chunked"})
        content_type = fields.get("content-type") or segment.content_type
        if content_type is not None:
            sub["CONTENT_TYPE"] = content_type or "application/octet-stream"
        encoding = fields.get("content-encoding") or segment.header("Content-Encoding")
        if encoding:
            sub["HTTP_CONTENT_ENCODING"] = encoding
        for name, header in (("x_delete_at", "HTTP_X_DELETE_AT"), ("x_delete_after", "HTTP_X_DELETE_AFTER")):
            if name in fields:
                sub[header] = str(_integer(fields, name))
        response = Request.blank("/", environ=sub).get_response(self.app)
        if body.error is not None:
            raise body.error
        for _ in chunks:  # what the PUT left of the file, so the next part can be read
            pass
        upload.status, upload.headers, upload.body = response.status, response.headerlist, response.body


def _answer(upload: Upload) -> tuple[str, list[tuple[str, str]], bytes]:
    """The form's answer: the status as text, or a redirect carrying it."""
    headers = [(k, v) for k, v in upload.headers if k.lower().startswith("access-control")]
    redirect = upload.fields.get("redirect")
    if not redirect:
        body = upload.status + (f"\r\nFormPost: {upload.message.title()}" if upload.message else "")
        data = upload.body if not upload.status.startswith("2") and upload.body else body.encode()
        return upload.status, [*headers, ("Content-Type", "text/plain"), ("Content-Length", str(len(data)))], data
    location = (
        f"{redirect}{'&' if '?' in redirect else '?'}status={upload.status.split()[0]}&message={quote(upload.message)}"
    )
    data = f'<html><body><p><a href="{location}">Click to continue...</a></p></body></html>'.encode()
    return "303 See Other", [*headers, ("Location", location), ("Content-Length", str(len(data)))], data


def _plain(status: str, text: str) -> tuple[str, list[tuple[str, str]], bytes]:
    data = text.encode()
    return status, [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))], data


def _capped(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    """The first ``limit`` bytes of ``chunks``; the rest is read and dropped."""
    left = limit
    for chunk in chunks:
        if left > 0:
            yield chunk[:left]
            left -= len(chunk)


def _integer(fields: dict[str, str], name: str) -> int:
    try:
        return int(fields.get(name) or 0)
    except ValueError:
        raise FormInvalid(f"{name} not an integer") from None


def _boundary(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip('"')
    return None


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    checked = FormPost(None, conf)  # a bad setting fails when the pipeline is built, not on the first request
    register_swift_info("formpost", allowed_digests=sorted(checked.digests))
    return lambda app: FormPost(app, conf)
