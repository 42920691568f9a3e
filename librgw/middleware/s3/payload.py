"""An S3 upload's body as the native PUT reads it: checked against what its client signed
or declared, and decoded from aws-chunked.

What PutObject does with a body, by its headers:

- ``x-amz-content-sha256: <hex>`` (SigV4's signed payload; what boto3 sends over
  ``http://``): the body's SHA-256 is computed as it passes, and once ``Content-Length``
  bytes have been read a different hash is ``XAmzContentSHA256Mismatch``. A SigV2 or
  anonymous request that sends a hex ``x-amz-content-sha256`` has it checked all the same;
  ``UNSIGNED-PAYLOAD`` and presigned URLs (which sign ``UNSIGNED-PAYLOAD``) are not hashed.
- **aws-chunked**, when ``x-amz-content-sha256`` is a ``STREAMING-*`` value or
  ``Content-Encoding`` includes ``aws-chunked``. The body is a series of chunks::

      <size in hex>[;chunk-signature=<hex>]\\r\\n<size bytes>\\r\\n
      ...
      0[;chunk-signature=<hex>]\\r\\n
      [<trailer>:<value>\\r\\n ... [x-amz-trailer-signature:<hex>\\r\\n]]
      \\r\\n

  The native PUT sees only the chunks' data, ``x-amz-decoded-content-length`` bytes
  (chunked to the end when the header is absent), and the object keeps its
  ``Content-Encoding`` without ``aws-chunked``. With ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``
  (and its ``-TRAILER`` form) every chunk's signature is checked, an HMAC with the
  request's SigV4 signing key of::

      AWS4-HMAC-SHA256-PAYLOAD\\n<x-amz-date>\\n<scope>\\n<previous signature>\\n
      <sha256 of nothing>\\n<sha256 of the chunk's data>

  where the first chunk's previous signature is the request's own; a signed trailer's is
  ``AWS4-HMAC-SHA256-TRAILER\\n<x-amz-date>\\n<scope>\\n<final chunk's signature>\\n`` and
  the SHA-256 of the trailers as ``name:value\\n`` lines. ``STREAMING-UNSIGNED-PAYLOAD-
  TRAILER`` (boto3's default for PutObject over ``https://``) has no signatures.
- ``x-amz-checksum-<algorithm>`` (``checksums.py``), as a header or as the trailer
  ``x-amz-trailer`` names: checked on the decoded body at its end.

How a refusal reaches the client. The checks run inside ``read``, which the core calls as it
writes; a failing check raises ``BodyRejected``, an ``OSError``, before the read that would
have ended the body returns. The native PUT turns any ``OSError`` from its stream into a
499 (``swift/request_body.py``), and the core removes everything of a failed write, so
nothing is stored and an older object of the key stays as it was. The 499 alone cannot say
why, so ``UploadBody`` keeps the error it raised and ``refusals()`` answers with it rather
than the ``IncompleteBody`` that a 499 otherwise is (a client that really sent too little).

=============================  ======  =============================================================
``code``                       status  when
=============================  ======  =============================================================
``XAmzContentSHA256Mismatch``  400     the body's SHA-256 is not ``x-amz-content-sha256``
``SignatureDoesNotMatch``      403     a chunk's or the trailer's signature is wrong or missing
``BadDigest``                  400     the body's ``x-amz-checksum-*`` is not the one sent
``IncompleteBody``             400     the body, or its chunks, ended before their announced length
``InvalidRequest``             400     malformed chunks or trailers, chunks longer than
                                       ``x-amz-decoded-content-length``, a checksum value that is
                                       not one, more than one checksum, an unknown algorithm,
                                       chunk signatures without SigV4
``InvalidArgument``            400     ``x-amz-decoded-content-length`` is not a number
=============================  ======  =============================================================

What boto3 sends for ``put_object(Bucket="photos", Key="cat", Body=b"hello")`` over https::

    PUT /photos/cat HTTP/1.1
    Transfer-Encoding: chunked
    Content-Encoding: aws-chunked
    x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER
    x-amz-decoded-content-length: 5
    x-amz-trailer: x-amz-checksum-crc32

    5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n

Nothing here is configured. ``MAX_FRAME_LINE`` bounds a chunk header or trailer line and
``MAX_TRAILERS`` their number; a chunk's data is passed on as it arrives, never buffered
whole, whatever size the client announces.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO, Protocol

from webob import Request

from .checksums import ALGORITHMS, DIGEST_SIZE, Checksum, new_checksum
from .errors import S3Error
from .s3_request import S3Request
from .signature import EMPTY_PAYLOAD_HASH, STREAMING_PAYLOAD, V4_DATE_FORMAT, S3Credentials

READ_SIZE = 64 * 1024
MAX_FRAME_LINE = 4096  # a chunk header or a trailer line; a signed one is about 90 bytes
MAX_TRAILERS = 16
MAX_LENGTH_DIGITS = 19  # a Content-Length no server passes on is longer (and int() refuses 4,300 digits)
AWS_CHUNKED = "aws-chunked"
STREAMING_PREFIX = "STREAMING-"
SIGNED_STREAMING = frozenset({STREAMING_PAYLOAD, STREAMING_PAYLOAD + "-TRAILER"})
CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
TRAILER_ALGORITHM = "AWS4-HMAC-SHA256-TRAILER"
CHUNK_SIGNATURE = b"chunk-signature"
TRAILER_SIGNATURE = "x-amz-trailer-signature"
CHECKSUM_PREFIX = "x-amz-checksum-"
NOT_CHECKSUMS = frozenset({"type", "mode", "algorithm"})  # x-amz-checksum-type and the like
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")


class Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...


class BodyRejected(OSError):
    """Raised by ``read``: the body is not what its client signed or declared.

    ``error`` is the S3 answer. An ``OSError`` so that the native PUT fails its write.
    """

    def __init__(self, error: S3Error) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


def rejected(code: str, message: str, **extra: str) -> BodyRejected:
    return BodyRejected(S3Error(code, message, **extra))


@dataclass(frozen=True)
class ChunkSigner:
    """What a streaming upload's chunk signatures are computed with: the request's SigV4
    signing key (``signature.v4_signing_key``), date (``yyyymmddThhmmssZ``), scope and
    signature, the seed of the chain."""

    key: bytes
    timestamp: str
    scope: str
    seed: str

    @classmethod
    def of(cls, claim: S3Credentials, key: bytes) -> ChunkSigner:
        timestamp = datetime.fromtimestamp(claim.timestamp or 0, UTC).strftime(V4_DATE_FORMAT)
        return cls(key, timestamp, claim.scope, claim.signature)

    def chunk_signature(self, previous: str, data_sha256: str) -> str:
        return self._sign(CHUNK_ALGORITHM, previous, EMPTY_PAYLOAD_HASH, data_sha256)

    def trailer_signature(self, previous: str, trailers: str) -> str:
        """The signature of ``trailers``, the ``name:value\\n`` lines as received."""
        return self._sign(TRAILER_ALGORITHM, previous, hashlib.sha256(trailers.encode("latin-1")).hexdigest())

    def _sign(self, algorithm: str, previous: str, *hashes: str) -> str:
        text = "\n".join([algorithm, self.timestamp, self.scope, previous, *hashes])
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()


class ServerInput:
    """``wsgi.input`` of an S3 request as every reader in this filter gets it (``S3.__call__``
    puts it in place): a body the server cannot give whole raises ``BodyRejected`` with
    ``IncompleteBody``, whichever operation reads it (an upload's body, an XML document, a
    form), rather than the server's own exception (gunicorn's ``InvalidChunkSize``,
    ``ChunkMissingTerminator``, ``NoMoreData``, a reset connection) escaping as a 500.

    ``length`` is the ``Content-Length`` (None: chunked, or none given); a stream that ends
    before it is cut short too."""

    def __init__(self, stream: BinaryIO, length: int | None) -> None:
        self._stream = stream
        self._left = length

    @classmethod
    def of(cls, environ: dict) -> ServerInput:
        length = environ.get("CONTENT_LENGTH", "")
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        known = not chunked and length.isascii() and length.isdigit() and len(length) <= MAX_LENGTH_DIGITS
        return cls(environ["wsgi.input"], int(length) if known else None)

    def read(self, size: int = -1) -> bytes:
        """``size`` bytes (all with -1), fewer only at the body's end: with a ``Content-Length``,
        that is where it says, so a reader never sees a body cut short as a short one."""
        if self._left is None:
            return self._server_read(self._stream.read, size)
        wanted = self._left if size < 0 else min(size, self._left)
        pieces, got = [], 0
        while got < wanted:
            piece = self._server_read(self._stream.read, wanted - got)
            if not piece:
                raise rejected("IncompleteBody", "The request body ended before its Content-Length.")
            pieces.append(piece)
            got += len(piece)
        self._left -= got
        return b"".join(pieces)

    def readline(self, size: int = -1) -> bytes:
        if self._left is None:
            return self._server_read(self._stream.readline, size)
        if self._left == 0:
            return b""
        line = self._server_read(self._stream.readline, self._left if size < 0 else min(size, self._left))
        if not line:
            raise rejected("IncompleteBody", "The request body ended before its Content-Length.")
        self._left -= len(line)
        return line

    @staticmethod
    def _server_read(read: Callable[[int], bytes], size: int) -> bytes:
        try:
            return read(size)
        except Exception:  # the server's, whatever its type: the body's framing is broken, or it ended early
            raise rejected(
                "IncompleteBody",
                "The request body could not be read whole: its chunks are malformed or it ended early.",
            ) from None


class RawBody:
    """The body as sent: ``length`` bytes of ``stream`` (None: to its end), its SHA-256
    checked against ``expected_sha256`` (hex; None: not checked) once all is read.

    ``complete`` once the end is reached and checked. A stream that ends short gives EOF
    early, with ``complete`` false: the reader above says what that means.
    """

    def __init__(self, stream: Readable, length: int | None, expected_sha256: str | None) -> None:
        self._stream = stream
        self._left = length
        self._expected = expected_sha256
        self._sha256 = hashlib.sha256() if expected_sha256 else None
        self.trailers: dict[str, str] = {}  # a plain body has none
        self.complete = False

    def read(self, size: int = -1) -> bytes:
        if self.complete:
            return b""
        if self._left == 0:
            self._end()
            return b""
        if self._left is not None:
            size = self._left if size < 0 else min(size, self._left)
        data = self._stream.read(size) if size >= 0 else self._stream.read()
        if self._sha256 is not None:
            self._sha256.update(data)
        if self._left is not None:
            self._left -= len(data)
            if data and self._left == 0:
                self._end()
        elif not data:
            self._end()
        return data

    def _end(self) -> None:
        self.complete = True
        if self._sha256 is not None and self._sha256.hexdigest() != self._expected:
            raise rejected(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ClientComputedContentSHA256=self._expected or "",
                S3ComputedContentSHA256=self._sha256.hexdigest(),
            )


class AwsChunkedReader:
    """The data of an aws-chunked body read from ``raw`` (see the module docstring).

    ``decoded_length`` is ``x-amz-decoded-content-length`` (None: as many bytes as the
    chunks hold). With ``signer`` every chunk's signature, and a trailer's, is checked.
    When the last byte of data is read, the same ``read`` reads and checks the final chunk
    and the trailers (then in ``trailers``, names lower-cased), so a reader that stops at
    ``decoded_length`` has had everything checked; ``complete`` says it was.
    """

    def __init__(self, raw: Readable, decoded_length: int | None, signer: ChunkSigner | None = None) -> None:
        self._raw = raw
        self._buffer = bytearray()
        self._expected = decoded_length
        self._signer = signer
        self._previous = signer.seed if signer else ""
        self._chunk_left = 0
        self._chunk_signature = ""
        self._chunk_sha256 = hashlib.sha256()
        self.decoded = 0
        self.trailers: dict[str, str] = {}
        self.complete = False

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return b"".join(iter(lambda: self.read(READ_SIZE), b""))
        while not self.complete and self._chunk_left == 0:
            self._next_chunk()
        if self.complete or size == 0:
            return b""
        data = self._take(min(size, self._chunk_left))
        if not data:
            raise rejected("IncompleteBody", "The request body ended inside a chunk.")
        self._chunk_left -= len(data)
        self.decoded += len(data)
        if self._signer is not None:
            self._chunk_sha256.update(data)
        if self._chunk_left == 0:
            self._end_chunk()
            if self.decoded == self._expected:
                self._next_chunk()  # the final one: check it and the trailers now
        return data

    def _next_chunk(self) -> None:
        line = self._line()
        if line is None:
            raise rejected("IncompleteBody", "The request body ended before its final chunk.")
        size_field, _, extensions = line.partition(b";")
        if not _CHUNK_SIZE.fullmatch(size_field.strip()):
            raise rejected("InvalidRequest", "A chunk header of the aws-chunked body is malformed.")
        size = int(size_field, 16)
        self._chunk_signature = _chunk_signature(extensions)
        if self._signer is not None and not self._chunk_signature:
            raise rejected("SignatureDoesNotMatch", "A chunk of a signed streaming upload has no chunk-signature.")
        if size == 0:
            self._final_chunk()
            return
        if self._expected is not None and self.decoded + size > self._expected:
            raise rejected("InvalidRequest", "The chunks hold more data than x-amz-decoded-content-length.")
        self._chunk_left = size
        self._chunk_sha256 = hashlib.sha256()

    def _end_chunk(self) -> None:
        if self._exactly(2) != b"\r\n":
            raise rejected("InvalidRequest", "A chunk of the aws-chunked body is longer than its header says.")
        self._check_chunk_signature()

    def _check_chunk_signature(self) -> None:
        if self._signer is None:
            return
        expected = self._signer.chunk_signature(self._previous, self._chunk_sha256.hexdigest())
        if not hmac.compare_digest(expected.encode(), self._chunk_signature.encode()):
            raise rejected("SignatureDoesNotMatch", "The chunk signature we calculated does not match the one sent.")
        self._previous = self._chunk_signature

    def _final_chunk(self) -> None:
        if self._expected is not None and self.decoded < self._expected:
            raise rejected("IncompleteBody", "The chunks hold less data than x-amz-decoded-content-length.")
        self._chunk_sha256 = hashlib.sha256()
        self._check_chunk_signature()
        self._read_trailers()
        if self._buffer or self._raw.read(1):
            raise rejected("InvalidRequest", "The aws-chunked body goes on after its final chunk.")
        self.complete = True

    def _read_trailers(self) -> None:
        """Trailer lines up to the empty line that ends the body (or the body's end)."""
        lines: list[tuple[str, str]] = []
        signature = None
        while (line := self._line()) is not None and line:
            name, colon, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if not colon or not name or len(lines) >= MAX_TRAILERS:
                raise rejected("InvalidRequest", "The trailers of the aws-chunked body are malformed.")
            if name == TRAILER_SIGNATURE:
                signature = value
            else:
                lines.append((name, value))
        self.trailers = dict(lines)
        if self._signer is not None and (lines or signature is not None):
            canonical = "".join(f"{name}:{value}\n" for name, value in lines)
            expected = self._signer.trailer_signature(self._previous, canonical)
            if signature is None or not hmac.compare_digest(expected.encode(), signature.encode()):
                raise rejected(
                    "SignatureDoesNotMatch", "The trailer signature we calculated does not match the one sent."
                )

    def _line(self) -> bytes | None:
        """The next CRLF-ended line without its CRLF; None at the end of the body."""
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) >= MAX_FRAME_LINE:
                raise rejected("InvalidRequest", "A line of the aws-chunked body is too long.")
            more = self._raw.read(READ_SIZE)
            if not more:
                if self._buffer:
                    raise rejected("IncompleteBody", "The request body ended inside a chunk header or trailer.")
                return None
            self._buffer += more
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    def _take(self, size: int) -> bytes:
        if not self._buffer:
            return self._raw.read(size)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size and (more := self._take(size - len(data))):
            data += more
        return data


def _chunk_signature(extensions: bytes) -> str:
    for extension in extensions.split(b";"):
        name, _, value = extension.partition(b"=")
        if name.strip() == CHUNK_SIGNATURE:
            return value.strip().decode("latin-1")
    return ""


@dataclass(frozen=True)
class ChecksumRequest:
    """The ``x-amz-checksum-<algorithm>`` a body must have: ``value`` (base64) from the
    header, or, when None, from the trailer of that name."""

    algorithm: str
    value: str | None

    @property
    def name(self) -> str:
        return CHECKSUM_PREFIX + self.algorithm


def requested_checksum(request: Request, chunked: bool) -> ChecksumRequest | None:
    """The checksum a PUT's headers ask for, if any; ``S3Error`` for a request that asks wrongly."""
    requested = [
        (name.lower()[len(CHECKSUM_PREFIX) :], value)
        for name, value in request.headers.items()
        if name.lower().startswith(CHECKSUM_PREFIX) and name.lower()[len(CHECKSUM_PREFIX) :] not in NOT_CHECKSUMS
    ]
    trailers = [name.strip().lower() for name in request.headers.get("x-amz-trailer", "").split(",") if name.strip()]
    if trailers and not chunked:
        raise S3Error("InvalidRequest", "x-amz-trailer is only allowed for aws-chunked uploads.")
    for name in trailers:
        if not name.startswith(CHECKSUM_PREFIX):
            raise S3Error("InvalidRequest", f"The trailer {name} is not supported.")
        requested.append((name[len(CHECKSUM_PREFIX) :], None))
    if not requested:
        return None
    if len(requested) > 1:
        raise S3Error(
            "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )
    algorithm, value = requested[0]
    if algorithm not in ALGORITHMS:
        raise S3Error("InvalidRequest", f"The checksum algorithm {algorithm.upper()} is not supported.")
    if value is not None:
        _checked_digest(algorithm, value)
    return ChecksumRequest(algorithm, value)


def _checked_digest(algorithm: str, value: str) -> bytes:
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != DIGEST_SIZE[algorithm]:
        raise S3Error("InvalidRequest", f"Value for {CHECKSUM_PREFIX}{algorithm} header is invalid.")
    return digest


class UploadBody:
    """What the native PUT reads for an S3 upload (``read``), checked and decoded.

    ``s3`` is the request as the native PUT must see it: ``Content-Length`` the decoded
    length (or chunked when unknown), ``Content-Encoding`` without ``aws-chunked``.
    ``error`` is the S3 error a ``read`` refused the body with, once one has.
    """

    def __init__(self, s3: S3Request, source: RawBody | AwsChunkedReader, checksum: ChecksumRequest | None) -> None:
        self.s3 = s3
        self.error: S3Error | None = None
        self._source = source
        self._checksum = checksum
        self._computed: Checksum | None = new_checksum(checksum.algorithm) if checksum else None
        self._checked = False

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._source.read(size)
            if self._computed is not None:
                self._computed.update(data)
            if self._source.complete and not self._checked:
                self._checked = True
                self._check_checksum()
            return data
        except BodyRejected as refusal:
            self.error = refusal.error
            raise

    @contextmanager
    def refusals(self) -> Iterator[UploadBody]:
        """Answer with the body's refusal, not with the native PUT's failure it caused."""
        try:
            yield self
        except S3Error:
            if self.error is not None:
                raise self.error from None
            raise

    def _check_checksum(self) -> None:
        if self._checksum is None or self._computed is None:
            return
        value = self._checksum.value
        if value is None:
            value = self._source.trailers.get(self._checksum.name)
            if value is None:
                raise rejected(
                    "InvalidRequest", f"The trailer {self._checksum.name} named in x-amz-trailer is missing."
                )
        try:
            expected = _checked_digest(self._checksum.algorithm, value)
        except S3Error as error:
            raise BodyRejected(error) from None
        if not hmac.compare_digest(expected, self._computed.digest()):
            raise rejected(
                "BadDigest",
                f"The {self._checksum.algorithm.upper()} you specified did not match the calculated checksum.",
            )


def upload_body(s3: S3Request, claim: S3Credentials | None, signing_key: Callable[[], bytes]) -> UploadBody:
    """The body of PUT ``s3``, authenticated by ``claim``; ``signing_key`` gives the claim's
    SigV4 signing key, asked for only when chunk signatures are to be checked.

    Raises ``S3Error`` for headers that announce a body wrongly, and for an empty body
    that is not what they announce (the native PUT never reads an empty one)."""
    request = s3.request
    environ = dict(request.environ)
    sigv4 = claim is not None and claim.version.startswith("v4")
    content_sha256 = claim.payload_hash if sigv4 else request.headers.get("x-amz-content-sha256", "")
    encodings = [e.strip() for e in request.headers.get("Content-Encoding", "").split(",") if e.strip()]
    chunked = content_sha256.startswith(STREAMING_PREFIX) or AWS_CHUNKED in (e.lower() for e in encodings)
    transfer_chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    raw = RawBody(
        environ["wsgi.input"],
        None if transfer_chunked else request.content_length,
        content_sha256 if _SHA256_HEX.fullmatch(content_sha256) else None,
    )
    source: RawBody | AwsChunkedReader = raw
    length = request.headers.get("Content-Length")
    if chunked:
        signer = None
        if content_sha256 in SIGNED_STREAMING:
            if not sigv4 or claim is None:
                raise S3Error("InvalidRequest", f"{content_sha256} needs a request signed with SigV4.")
            signer = ChunkSigner.of(claim, signing_key())
        decoded = request.headers.get("x-amz-decoded-content-length")
        if decoded is not None and not (decoded.isascii() and decoded.isdigit()):
            raise S3Error("InvalidArgument", "x-amz-decoded-content-length must be a number of bytes.")
        if decoded is not None and len(decoded.lstrip("0")) > MAX_LENGTH_DIGITS:
            raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")
        source = AwsChunkedReader(raw, None if decoded is None else int(decoded), signer)
        length = decoded
        _as_decoded(environ, decoded, [e for e in encodings if e.lower() != AWS_CHUNKED])
    body = UploadBody(dataclasses.replace(s3, request=Request(environ)), source, requested_checksum(request, chunked))
    environ["wsgi.input"] = body
    if length == "0":
        _read_empty(body)
    return body


def _as_decoded(environ: dict, decoded_length: str | None, encodings: list[str]) -> None:
    """Make ``environ`` announce the decoded body: its length (chunked when unknown), and
    the content encodings other than aws-chunked."""
    for name in ("CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING", "HTTP_CONTENT_ENCODING"):
        environ.pop(name, None)
    if decoded_length is None:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        environ["CONTENT_LENGTH"] = decoded_length
    if encodings:
        environ["HTTP_CONTENT_ENCODING"] = ", ".join(encodings)


def _read_empty(body: UploadBody) -> None:
    """Check an empty body (its payload hash, final chunk, trailers) now: the native PUT won't read it."""
    try:
        body.read(READ_SIZE)
    except BodyRejected as refusal:
        raise refusal.error from None
