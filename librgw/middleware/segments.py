"""What ``slo`` and ``dlo`` share: subrequests sent down the pipeline on the client's behalf,
and a large object's body streamed from its segments, one ranged GET per segment.

A subrequest keeps what says who the client is (the ``librgw.identity`` of ``auth`` or ``s3``,
Swift's ``swift.authorize`` and ``swift.authorize_override`` of ``tempurl`` or a Swift proxy's
auth filter), so a segment is read with the client's own rights, as Swift's ``make_subrequest``
does. A large object's body is never held whole: ``Assembly`` knows each segment's path, byte
range and ETag, and ``stream`` yields the bytes of ``first..last`` of the whole a segment's
chunk at a time. The first segment is opened before the answer starts (``open_first``): a
large object whose first segment is gone answers 409, as Swift's do; a segment that fails
later (gone, or changed: another ETag or length) ends the body early, which aborts the
connection, so the client sees fewer bytes than ``Content-Length`` promised, never wrong ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, unquote

from webob import Request, Response, exc

from .request_identity import AUTHORIZE_KEY, IDENTITY_KEY, OVERRIDE_KEY
from .request_log import TRANS_ID_KEY
from .swift.conditions import check_read_conditions
from .swift.ranges import multipart_body, satisfiable_ranges

AS_STORED = "multipart-manifest=get"  # the query that has slo and dlo pass an object on as stored
SWOB_TYPE = "text/html; charset=UTF-8"  # swob's default type, on an error Swift gives a text body
PASSED_ON = (
    IDENTITY_KEY,
    TRANS_ID_KEY,
    AUTHORIZE_KEY,
    OVERRIDE_KEY,
    "REMOTE_ADDR",
    "REMOTE_USER",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_HOST",
    "HTTP_X_AUTH_TOKEN",
    "swift.trans_id",
    "swift.cache",
)


class SegmentError(Exception):
    """A segment could not be read as the manifest describes it."""


def subrequest(environ: dict, method: str, path: str, query: str = "", headers: dict | None = None) -> Request:
    """A ``method`` request for ``path`` (text) and ``query`` on ``environ``'s client's behalf."""
    request = Request.blank(
        "/",
        environ={
            "REQUEST_METHOD": method,
            "PATH_INFO": path.encode("utf-8").decode("latin-1"),
            "SCRIPT_NAME": "",
            "QUERY_STRING": query,
            **{key: environ[key] for key in PASSED_ON if key in environ},
        },
        headers=headers or {},
    )
    return request


def account_path(environ: dict) -> str:
    """``/v1/<account>`` of a request's path, as text."""
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    return "/".join(path.split("/", 3)[:3])


def swift_answer(status: int, text: str, content_type: str = SWOB_TYPE) -> exc.HTTPException:
    """An error answer with ``text`` as its whole body, as Swift's middlewares write theirs."""
    return exc.status_map[status](body=text.encode(), content_type=content_type, charset=None)


def text_path(request: Request) -> str:
    """A request's path, as text (from the WSGI string: webob's ``path_info`` is decoded already)."""
    return request.environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")


def bare_etag(value: str | None) -> str:
    return (value or "").strip().strip('"')


@dataclass(frozen=True)
class Segment:
    """A segment as a large object uses it: bytes ``first..last`` of the object at ``path``
    (``/v1/<account>/<container>/<object>``, text), whose ETag must be ``etag`` if given."""

    path: str
    first: int
    last: int
    etag: str | None = None
    nested: bool = False  # itself a large object, to be read through the filter that assembles it

    @property
    def length(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class Piece:
    """Bytes ``first..last`` of one segment's object."""

    segment: Segment
    first: int
    last: int


class Assembly:
    """A large object's bytes: its segments' in order, read with ``environ``'s rights through
    ``app`` (the pipeline below the large-object filters: a segment is read as stored), a nested
    segment through ``nested_app`` (the filter that assembles it)."""

    def __init__(
        self, app: Callable, environ: dict, segments: list[Segment], nested_app: Callable | None = None
    ) -> None:
        self.app = app
        self.nested_app = nested_app or app
        self.environ = environ
        self.segments = [segment for segment in segments if segment.length > 0]
        self.size = sum(segment.length for segment in segments)

    def pieces(self, first: int, last: int) -> Iterator[Piece]:
        """The pieces of segments that hold bytes ``first..last`` of the whole."""
        offset = 0
        for segment in self.segments:
            end = offset + segment.length - 1
            if end >= first and offset <= last:
                yield Piece(
                    segment, segment.first + max(first, offset) - offset, segment.first + min(last, end) - offset
                )
            if end >= last:
                return
            offset = end + 1

    def open(self, piece: Piece) -> Response:
        """The response to a GET of ``piece``; SegmentError if it is not what the manifest says."""
        headers = {"Range": f"bytes={piece.first}-{piece.last}"}
        if piece.segment.nested:
            response = subrequest(self.environ, "GET", piece.segment.path, headers=headers).get_response(
                self.nested_app
            )
        else:  # as stored: no large-object filter below this one assembles it
            request = subrequest(self.environ, "GET", piece.segment.path, AS_STORED, headers)
            response = request.get_response(self.app)
        expected = piece.last - piece.first + 1
        problem = None
        if response.status_int not in (200, 206):
            problem = f"{response.status}"
        elif piece.segment.etag and bare_etag(response.headers.get("ETag")) != piece.segment.etag:
            problem = "its ETag is not the manifest's"
        elif response.status_int == 206 and response.content_length != expected:
            problem = "it is shorter than the manifest says"
        elif response.status_int == 200 and (piece.first, response.content_length) != (0, expected):
            problem = "its size is not the manifest's"
        if problem is not None:
            _close(response)
            raise SegmentError(f"segment {piece.segment.path}: {problem}")
        return response

    def open_first(self, first: int, last: int) -> Response | None:
        """The first piece of ``first..last`` opened; 409 Conflict if it cannot be."""
        piece = next(self.pieces(first, last), None)
        if piece is None:
            return None
        try:
            return self.open(piece)
        except SegmentError:
            raise exc.HTTPConflict() from None

    def stream(self, first: int, last: int, opened: Response | None = None) -> Iterator[bytes]:
        """Bytes ``first..last`` of the whole, a chunk at a time; ``opened`` is the first piece's
        response if ``open_first`` gave it. A segment that fails raises SegmentError mid-body."""
        for index, piece in enumerate(self.pieces(first, last)):
            response = opened if index == 0 and opened is not None else self.open(piece)
            received = 0
            try:
                for chunk in response.app_iter:
                    received += len(chunk)
                    yield chunk
            finally:
                _close(response)
            if received != piece.last - piece.first + 1:
                raise SegmentError(f"segment {piece.segment.path} ended early")


def answer(request: Request, assembly: Assembly, manifest: Response, etag: str) -> Response:
    """The GET or HEAD answer for a large object: ``manifest``'s headers (the object's), its
    whole size and ``etag`` (quoted, as Swift's), the request's conditions checked against them,
    its ``Range`` (one or several) served from the segments."""
    quoted = f'"{etag}"'
    mtime = float(manifest.headers.get("X-Timestamp") or 0)
    check_read_conditions(request, etag, mtime, quoted)
    skipped = {"content-length", "content-range", "etag", "content-type"}
    headers = [(name, value) for name, value in manifest.headerlist if name.lower() not in skipped]
    headers.append(("ETag", quoted))
    content_type = manifest.headers.get("Content-Type", "application/octet-stream")
    head = request.method == "HEAD"
    ranges = satisfiable_ranges(request.headers.get("Range"), assembly.size)
    if ranges is None:
        status, length, body = 200, assembly.size, None
        if not head and assembly.size:
            body = assembly.stream(0, assembly.size - 1, assembly.open_first(0, assembly.size - 1))
    elif len(ranges) == 1:
        (first, last), status, length = ranges[0], 206, ranges[0][1] - ranges[0][0] + 1
        headers.append(("Content-Range", f"bytes {first}-{last}/{assembly.size}"))
        body = None if head else assembly.stream(first, last, assembly.open_first(first, last))
    else:
        status = 206
        opened = {} if head else {ranges[0]: assembly.open_first(*ranges[0])}
        content_type, length, body = multipart_body(
            ranges,
            assembly.size,
            content_type,
            lambda first, last: assembly.stream(first, last, opened.pop((first, last), None)),
        )
        body = None if head else body
    response = Response(status=status, headerlist=headers, app_iter=body if body is not None else [b""])
    response.headers["Content-Type"] = content_type
    response.content_length = length
    return response


def copy_source(request: Request) -> tuple[str, str] | None:
    """(path of the source, path of the destination) of a COPY or a PUT with ``X-Copy-From``,
    both in this account (a copy across accounts goes on as it is)."""
    if request.method == "PUT":
        if "X-Copy-From-Account" in request.headers:
            return None
        source = request.headers["X-Copy-From"]
        destination = text_path(request)
    else:
        if "Destination-Account" in request.headers or "Destination" not in request.headers:
            return None
        source = text_path(request).split("/", 3)[3]
        destination = request.headers["Destination"]
    base = account_path(request.environ)
    source_path = f"{base}/{unquote(source).lstrip('/')}" if request.method == "PUT" else f"{base}/{source}"
    return source_path, f"{base}/{unquote(destination).lstrip('/')}"


def copy_assembled(app: Callable, request: Request, source: tuple[str, str]) -> Response:
    """Copy the large object at ``source[0]`` to ``source[1]`` as a normal object: its bytes
    read through ``app`` (which assembles them) and PUT below with the request's headers."""
    source_path, destination = source
    read = subrequest(request.environ, "GET", source_path).get_response(app)
    if read.status_int // 100 != 2:
        return read
    kept = {
        name: value
        for name, value in read.headers.items()
        if name.lower().startswith("x-object-meta-") or name.lower() in ("content-type", "content-disposition")
    }
    if request.headers.get("X-Fresh-Metadata", "").lower() in ("true", "1", "yes"):
        kept = {}
    skipped = (
        "destination",
        "x-copy-from",
        "content-length",
        "transfer-encoding",
        "etag",
        "x-static-large-object",
        "x-object-manifest",
    )
    headers = {**kept, **{n: v for n, v in request.headers.items() if n.lower() not in skipped}}
    headers["Content-Length"] = str(read.content_length)
    down = subrequest(request.environ, "PUT", destination, headers=headers)
    down.body_file = _Reader(read.app_iter)
    down.content_length = read.content_length
    response = down.get_response(app)
    if response.status_int // 100 == 2:
        response.headers["X-Copied-From"] = quote(source_path.split("/", 3)[3])
        response.headers["X-Copied-From-Last-Modified"] = read.headers.get("Last-Modified", "")
    return response


class _Reader:
    """A file over an iterable of bytes, so a body streams from one response into a request."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = iter(chunks)
        self.buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        if size < 0:
            size = len(self.buffer)
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out


def _close(response: Response) -> None:
    close = getattr(response.app_iter, "close", None)
    if close is not None:
        close()
