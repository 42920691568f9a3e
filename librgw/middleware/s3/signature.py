"""``s3.signature``: what an S3 request claims about who signed it, and whether the claim holds.

A library for the ``s3`` middleware, not a filter of its own. Two steps, so the middleware
can look the access key up in between::

    claim = parse_s3_auth(environ)          # None: no S3 authentication (anonymous, Swift)
    if claim is not None:
        secret = secret_key_of(claim.access_key)   # InvalidAccessKeyId is the caller's
        verify(claim, secret)                      # raises SignatureError, else returns None

Both raise ``SignatureError``; its ``code`` is the S3 error code and ``status`` the HTTP
status for the error document:

=====================================  ======  ======================================================
``code``                               status  when
=====================================  ======  ======================================================
``AccessDenied``                       403     unknown ``Authorization`` scheme, no usable date, a
                                               presigned URL expired or not valid yet, an unsigned
                                               ``x-amz-*`` header (SigV4)
``AuthorizationHeaderMalformed``       400     SigV4 header without Credential, SignedHeaders or
                                               Signature, or with a bad scope
``AuthorizationQueryParametersError``  400     the same for a presigned SigV4 URL, or its
                                               ``X-Amz-Expires`` outside 1..604800
``InvalidArgument``                    400     ``AWS`` header not ``AKID:signature``; two forms of
                                               authentication at once; a bad ``x-amz-content-sha256``
``MissingSecurityHeader``              400     SigV4 header auth of a request with a body but no
                                               ``x-amz-content-sha256``
``RequestTimeTooSkewed``               403     a header-signed request dated more than 15 minutes
                                               from now
``SignatureDoesNotMatch``              403     the signature is not the one the secret gives
=====================================  ======  ======================================================

The four forms read:

- SigV2 header: ``Authorization: AWS AKID:base64(hmac-sha1)``. String to sign: method,
  ``Content-MD5``, ``Content-Type``, date (empty when ``x-amz-date`` is sent, which then
  signs as an amz header), the ``x-amz-*`` headers (lower-cased, sorted, ``name:value``),
  and the resource: ``[/bucket-from-host]`` + path + the S3 sub-resources in the query
  (``V2_SUB_RESOURCES``, sorted, values decoded).
- SigV2 presigned: ``?AWSAccessKeyId=&Expires=<unix time>&Signature=``; the date line is
  ``Expires``.
- SigV4 header: ``Authorization: AWS4-HMAC-SHA256 Credential=AKID/<yyyymmdd>/<region>/s3/
  aws4_request, SignedHeaders=host;..., Signature=<hex>``, dated by ``x-amz-date``
  (or ``Date``); the canonical request as in AWS's "Signature Version 4" for S3.
- SigV4 presigned: ``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``,
  ``X-Amz-Expires``, ``X-Amz-SignedHeaders``, ``X-Amz-Signature`` in the query.

Decisions a reader must know:

- **The path is signed as the client sent it.** Clients sign the percent-encoded path they
  put on the wire, and WSGI's ``PATH_INFO`` is already decoded (``%2F`` and ``/`` look the
  same there). So the path comes from ``RAW_URI`` (gunicorn) or ``REQUEST_URI`` (uwsgi,
  mod_wsgi), query cut off; only without either is ``SCRIPT_NAME + PATH_INFO`` re-quoted
  the way botocore quotes keys (everything but unreserved characters and ``/``). SigV2 signs
  that path as is. SigV4 decodes and re-encodes each segment by AWS's rules (unreserved
  characters kept, ``%XX`` upper-case, ``%2F`` inside a segment kept), never encoding
  twice and never normalising ``.``/``//``, as S3 does, so ``(``, ``!`` or lower-case
  escapes on the wire do not break a signature. The query is decoded and re-encoded the
  same way, pairs sorted; ``+`` is a literal plus, as botocore sends spaces as ``%20``.
- **Bytes are kept exact.** WSGI strings are latin-1 views of the bytes received; they are
  read as UTF-8 (bytes that are not survive as surrogates) and signed as UTF-8, so the
  HMAC covers the very bytes the client signed.
- **Payload hash (SigV4).** ``x-amz-content-sha256`` is signed as sent: a hex SHA-256,
  ``UNSIGNED-PAYLOAD``, or a streaming value (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``, the
  ``-TRAILER`` forms). Without it, a request with no body signs the empty body's hash (what
  generic SigV4 signers send) and one with a body is ``MissingSecurityHeader``. Presigned
  URLs sign ``UNSIGNED-PAYLOAD`` unless the header is sent. Checking the body against the
  hash, and the chunk signatures of a streaming upload (``v4_signing_key`` gives their
  key), is the caller's job as it reads the body.
- **Every ``x-amz-*`` header must be signed** under SigV4, as AWS requires, so nothing on
  the way can add ``x-amz-acl`` or ``x-amz-copy-source`` to a signed request.
- **Time.** Header-signed requests must be dated within ``MAX_SKEW_SECONDS`` (15 min) of
  now; presigned URLs are refused after their expiry (and SigV4 ones dated more than the
  skew ahead). ``verify`` checks time first, then the signature with
  ``hmac.compare_digest``. Nothing here logs, and no message carries a secret or the
  signature we expected.

``parse_s3_auth(environ, bucket_in_host="photos")`` is how the middleware says a
virtual-hosted request (``photos.s3.example.com``) addresses a bucket: SigV2 signs it as
``/photos/<path>``. No settings are read here; the middleware's ``[filter:s3]`` has them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote, urlsplit

from webob import Request

MAX_SKEW_SECONDS = 15 * 60
V4_MAX_EXPIRES = 7 * 24 * 3600
V4_ALGORITHM = "AWS4-HMAC-SHA256"
V4_SERVICE = "s3"
V4_TERMINATOR = "aws4_request"
V4_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
PAYLOAD_HASH_TOKENS = frozenset(
    {
        UNSIGNED_PAYLOAD,
        STREAMING_PAYLOAD,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    }
)
EMPTY_PAYLOAD_HASH = hashlib.sha256(b"").hexdigest()
V4_PRESIGN_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders")
V2_PRESIGN_PARAMS = ("AWSAccessKeyId", "Expires", "Signature")
# AWS's list, plus what botocore signs, so every SDK's SigV2 requests verify.
V2_SUB_RESOURCES = frozenset(
    {
        "accelerate",
        "acl",
        "analytics",
        "cors",
        "defaultObjectAcl",
        "delete",
        "inventory",
        "lifecycle",
        "location",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "partNumber",
        "policy",
        "replication",
        "requestPayment",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
        "restore",
        "select",
        "select-type",
        "storageClass",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
        "website",
    }
)
ERROR_STATUS = {
    "AccessDenied": 403,
    "AuthorizationHeaderMalformed": 400,
    "AuthorizationQueryParametersError": 400,
    "InvalidArgument": 400,
    "MissingSecurityHeader": 400,
    "RequestTimeTooSkewed": 403,
    "SignatureDoesNotMatch": 403,
}
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)
NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")

QueryPairs = list[tuple[str, str | None]]


class SignatureError(Exception):
    """A request's S3 authentication is malformed, stale or wrong.

    ``code`` is the S3 error code, ``status`` its HTTP status, ``message`` safe to send.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.status = ERROR_STATUS[code]
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class S3Credentials:
    """What a request claims: who signed it, how, and the string they signed.

    ``version`` is ``v2``, ``v2-presigned``, ``v4`` or ``v4-presigned``. ``timestamp`` is
    when the client says it signed (epoch seconds; None for presigned SigV2), ``expires``
    when a presigned URL stops working. The ``scope_*``/``region``/``service`` fields,
    ``payload_hash`` and ``canonical_request`` (for the error document) are SigV4's.
    """

    access_key: str
    version: str
    signature: str
    string_to_sign: str
    timestamp: float | None
    expires: float | None = None
    scope_date: str = ""
    region: str = ""
    service: str = ""
    payload_hash: str = ""
    canonical_request: str = ""

    @property
    def scope(self) -> str:
        """SigV4's credential scope, ``<yyyymmdd>/<region>/<service>/aws4_request``."""
        return f"{self.scope_date}/{self.region}/{self.service}/{V4_TERMINATOR}"


def parse_s3_auth(
    environ: dict, *, bucket_in_host: str = "", service: str = V4_SERVICE, body_sha256: str | None = None
) -> S3Credentials | None:
    """The S3 authentication a request claims; None when it carries none.

    ``bucket_in_host`` names the bucket of a virtual-hosted request (SigV2 signs it as part
    of the path). ``service`` is the SigV4 service the endpoint answers for (``sts`` for
    the STS API on the same endpoint); ``body_sha256`` is the hash of a body the caller has
    read already, signed when no ``x-amz-content-sha256`` says otherwise (as STS clients
    sign). Raises ``SignatureError`` for a malformed claim.
    """
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    raw_query = environ.get("QUERY_STRING", "")
    if not authorization and not raw_query:
        return None
    pairs = _query_pairs(raw_query)
    params = {name: value or "" for name, value in pairs}
    presigned_v4 = any(name in params for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"))
    presigned_v2 = "AWSAccessKeyId" in params or "Signature" in params
    if sum((bool(authorization), presigned_v4, presigned_v2)) > 1:
        raise SignatureError(
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified",
        )
    request = Request(environ)
    if authorization.startswith(V4_ALGORITHM + " "):
        return _header_v4(request, _wsgi_text(authorization), pairs, service, body_sha256)
    if authorization.startswith("AWS "):
        return _header_v2(request, _wsgi_text(authorization), pairs, bucket_in_host)
    if authorization:
        raise SignatureError("AccessDenied", "Unsupported Authorization type")
    if presigned_v4:
        return _presigned_v4(request, params, pairs, service)
    if presigned_v2:
        return _presigned_v2(request, params, pairs, bucket_in_host)
    return None


def verify(credentials: S3Credentials, secret_key: str, now: float | None = None) -> None:
    """Raise ``SignatureError`` unless ``secret_key`` signed the claim, in time."""
    _check_time(credentials, time.time() if now is None else now)
    if credentials.version.startswith("v4"):
        key = v4_signing_key(secret_key, credentials.scope_date, credentials.region, credentials.service)
        expected = hmac.new(key, _signed_bytes(credentials.string_to_sign), hashlib.sha256).hexdigest()
    else:
        digest = hmac.new(secret_key.encode(), _signed_bytes(credentials.string_to_sign), hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode()
    if not hmac.compare_digest(expected.encode(), _signed_bytes(credentials.signature)):
        raise SignatureError("SignatureDoesNotMatch", SIGNATURE_MISMATCH)


def v4_signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """SigV4's signing key for one day, region and service (also the key of chunk signatures)."""
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, V4_TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _check_time(credentials: S3Credentials, now: float) -> None:
    if credentials.expires is not None:
        if now > credentials.expires:
            raise SignatureError("AccessDenied", "Request has expired")
        if credentials.timestamp is not None and credentials.timestamp - now > MAX_SKEW_SECONDS:
            raise SignatureError("AccessDenied", "Request is not valid yet")
    elif credentials.timestamp is None or abs(now - credentials.timestamp) > MAX_SKEW_SECONDS:
        raise SignatureError(
            "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
        )


# --- SigV2 ---------------------------------------------------------------------------------


def _header_v2(request: Request, authorization: str, pairs: QueryPairs, bucket_in_host: str) -> S3Credentials:
    access_key, _, signature = authorization[len("AWS ") :].strip().partition(":")
    if not access_key or not signature:
        raise SignatureError(
            "InvalidArgument", "AWS authorization header is invalid. Expected AwsAccessKeyId:signature"
        )
    amz_date = _header(request, "x-amz-date")
    date_header = _header(request, "Date")
    timestamp = _parse_any_date(amz_date if amz_date is not None else date_header)
    if timestamp is None:
        raise SignatureError("AccessDenied", NO_DATE)
    date_line = "" if amz_date is not None else (date_header or "")
    string_to_sign = _v2_string_to_sign(request, date_line, pairs, bucket_in_host)
    return S3Credentials(access_key, "v2", signature, string_to_sign, timestamp)


def _presigned_v2(request: Request, params: dict[str, str], pairs: QueryPairs, bucket_in_host: str) -> S3Credentials:
    if not all(params.get(name) for name in V2_PRESIGN_PARAMS):
        raise SignatureError(
            "AccessDenied", "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
        )
    expires = params["Expires"]
    if not expires.isdigit():
        raise SignatureError("AccessDenied", "Invalid date (should be seconds since epoch): Expires")
    string_to_sign = _v2_string_to_sign(request, expires, pairs, bucket_in_host, in_query=True)
    return S3Credentials(
        params["AWSAccessKeyId"], "v2-presigned", params["Signature"], string_to_sign, None, expires=float(expires)
    )


def _v2_string_to_sign(
    request: Request, date_line: str, pairs: QueryPairs, bucket_in_host: str, in_query: bool = False
) -> str:
    """SigV2's string to sign. A presigned URL (``in_query``) carries the headers it signed
    (``x-amz-*``, ``Content-MD5``, ``Content-Type``) in its query, where they count too."""
    signed = {name.lower(): _wsgi_text(value) for name, value in request.headers.items()}
    if in_query:
        signed.update(
            (name.lower(), value or "")
            for name, value in pairs
            if name.lower().startswith("x-amz-") or name.lower() in ("content-md5", "content-type")
        )
    lines = [request.method, signed.get("content-md5", "").strip(), signed.get("content-type", "").strip(), date_line]
    amz_headers = sorted((name, value.strip()) for name, value in signed.items() if name.startswith("x-amz-"))
    lines += [f"{name}:{value}" for name, value in amz_headers]
    return "\n".join([*lines, _v2_resource(_path_as_sent(request.environ), pairs, bucket_in_host)])


def _v2_resource(path: str, pairs: QueryPairs, bucket_in_host: str) -> str:
    """SigV2's CanonicalizedResource: ``[/bucket]`` + path + sorted S3 sub-resources."""
    resource = f"/{bucket_in_host}{path}" if bucket_in_host else path
    sub_resources = sorted(((n, v) for n, v in pairs if n in V2_SUB_RESOURCES), key=lambda pair: pair[0])
    if not sub_resources:
        return resource
    return resource + "?" + "&".join(name if value is None else f"{name}={value}" for name, value in sub_resources)


# --- SigV4 ---------------------------------------------------------------------------------


def _header_v4(
    request: Request, authorization: str, pairs: QueryPairs, service: str, body_sha256: str | None
) -> S3Credentials:
    fields = _v4_authorization_fields(authorization)
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        raise SignatureError(
            "AuthorizationHeaderMalformed", f"The authorization header is malformed; missing {', '.join(missing)}."
        )
    amz_date = _header(request, "x-amz-date")
    if amz_date is not None:
        timestamp = _parse_v4_date(amz_date)
    else:
        timestamp = _parse_http_date(_header(request, "Date") or "")
        amz_date = "" if timestamp is None else datetime.fromtimestamp(timestamp, UTC).strftime(V4_DATE_FORMAT)
    if timestamp is None:
        raise SignatureError("AccessDenied", NO_DATE)
    claim = V4Claim(
        version="v4",
        error="AuthorizationHeaderMalformed",
        credential=fields["Credential"],
        signed_headers=fields["SignedHeaders"],
        signature=fields["Signature"],
        amz_date=amz_date,
        timestamp=timestamp,
        payload_hash=_v4_header_payload_hash(request, body_sha256),
        canonical_query=_v4_canonical_query(pairs),
        expires=None,
        service=service,
    )
    return _v4_credentials(request, claim)


def _presigned_v4(request: Request, params: dict[str, str], pairs: QueryPairs, service: str) -> S3Credentials:
    error = "AuthorizationQueryParametersError"
    missing = [name for name in (*V4_PRESIGN_PARAMS, "X-Amz-Signature") if not params.get(name)]
    if missing:
        raise SignatureError(error, f"Query-string authentication version 4 requires {', '.join(missing)}.")
    if params["X-Amz-Algorithm"] != V4_ALGORITHM:
        raise SignatureError(error, f'X-Amz-Algorithm only supports "{V4_ALGORITHM}"')
    timestamp = _parse_v4_date(params["X-Amz-Date"])
    if timestamp is None:
        raise SignatureError(error, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    lifetime = params["X-Amz-Expires"]
    if not lifetime.isdigit() or not 1 <= int(lifetime) <= V4_MAX_EXPIRES:
        raise SignatureError(
            error, f"X-Amz-Expires must be a number of seconds from 1 to {V4_MAX_EXPIRES} (seven days)"
        )
    payload_hash = _header(request, "x-amz-content-sha256")
    claim = V4Claim(
        version="v4-presigned",
        error=error,
        credential=params["X-Amz-Credential"],
        signed_headers=params["X-Amz-SignedHeaders"],
        signature=params["X-Amz-Signature"],
        amz_date=params["X-Amz-Date"],
        timestamp=timestamp,
        payload_hash=UNSIGNED_PAYLOAD if payload_hash is None else _checked_payload_hash(payload_hash),
        canonical_query=_v4_canonical_query([pair for pair in pairs if pair[0] != "X-Amz-Signature"]),
        expires=timestamp + int(lifetime),
        service=service,
    )
    return _v4_credentials(request, claim)


@dataclass(frozen=True, kw_only=True)
class V4Claim:
    """What a SigV4 request says about its signature, from its Authorization header or its query."""

    version: str  # "v4" or "v4-presigned"
    error: str  # the S3 error code a malformed claim is refused with
    credential: str  # AKID/<yyyymmdd>/<region>/<service>/aws4_request
    signed_headers: str
    signature: str
    amz_date: str
    timestamp: float
    payload_hash: str
    canonical_query: str
    expires: float | None
    service: str  # the service this endpoint is


def _v4_credentials(request: Request, claim: V4Claim) -> S3Credentials:
    """Check what SigV4 header and query auth share, and build the canonical request."""
    error, amz_date, payload_hash = claim.error, claim.amz_date, claim.payload_hash
    access_key, scope_date, region, service = _v4_credential_scope(claim.credential, error, claim.service)
    if scope_date != amz_date[:8]:
        raise SignatureError(error, "Invalid credential date. Date is not the same as X-Amz-Date.")
    names = [name.strip().lower() for name in claim.signed_headers.split(";")]
    if "host" not in names or not all(names):
        raise SignatureError(error, "SignedHeaders must be a ;-separated list that includes host")
    unsigned = sorted({n.lower() for n in request.headers if n.lower().startswith("x-amz-")} - set(names))
    if unsigned:
        raise SignatureError(
            "AccessDenied", f"There were headers present in the request which were not signed: {', '.join(unsigned)}"
        )
    canonical_request = "\n".join(
        [
            request.method,
            _v4_canonical_uri(_path_as_sent(request.environ)),
            claim.canonical_query,
            _v4_canonical_headers(request, names),
            ";".join(names),
            payload_hash,
        ]
    )
    string_to_sign = "\n".join(
        [
            V4_ALGORITHM,
            amz_date,
            f"{scope_date}/{region}/{service}/{V4_TERMINATOR}",
            hashlib.sha256(_signed_bytes(canonical_request)).hexdigest(),
        ]
    )
    return S3Credentials(
        access_key,
        claim.version,
        claim.signature,
        string_to_sign,
        claim.timestamp,
        expires=claim.expires,
        scope_date=scope_date,
        region=region,
        service=service,
        payload_hash=payload_hash,
        canonical_request=canonical_request,
    )


def _v4_authorization_fields(authorization: str) -> dict[str, str]:
    """``Credential``, ``SignedHeaders`` and ``Signature`` of a SigV4 Authorization header."""
    fields = {}
    for item in authorization[len(V4_ALGORITHM) :].split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def _v4_credential_scope(credential: str, error: str, service: str) -> tuple[str, str, str, str]:
    """(access key, date, region, service) of ``AKID/<yyyymmdd>/<region>/<service>/aws4_request``."""
    parts = credential.rsplit("/", 4)
    if (
        len(parts) != 5
        or not all(parts)
        or parts[4] != V4_TERMINATOR
        or not (len(parts[1]) == 8 and parts[1].isdigit())
    ):
        raise SignatureError(
            error, 'The credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
        )
    if parts[3] != service:
        raise SignatureError(error, f'The credential has an incorrect service; this endpoint belongs to "{service}".')
    return parts[0], parts[1], parts[2], parts[3]


def _v4_header_payload_hash(request: Request, body_sha256: str | None) -> str:
    value = _header(request, "x-amz-content-sha256")
    if value is not None:
        return _checked_payload_hash(value)
    if body_sha256 is not None:
        return body_sha256
    if not request.content_length and "HTTP_TRANSFER_ENCODING" not in request.environ:
        return EMPTY_PAYLOAD_HASH
    raise SignatureError("MissingSecurityHeader", "Your request is missing a required header: x-amz-content-sha256")


def _checked_payload_hash(value: str) -> str:
    if value in PAYLOAD_HASH_TOKENS or _SHA256_HEX.fullmatch(value):
        return value
    raise SignatureError(
        "InvalidArgument",
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.",
    )


def _v4_canonical_uri(path: str) -> str:
    """The path, each segment decoded and URI-encoded once by AWS's rules; no normalising."""
    return "/".join(_aws_quote(_unquote(segment)) for segment in path.split("/"))


def _v4_canonical_query(pairs: QueryPairs) -> str:
    encoded = sorted((_aws_quote(name), _aws_quote(value or "")) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _v4_canonical_headers(request: Request, names: list[str]) -> str:
    """``name:value\\n`` per signed header, values trimmed and inner whitespace collapsed."""
    return "".join(f"{name}:{' '.join((_header(request, name) or '').split())}\n" for name in names)


# --- the request as sent -------------------------------------------------------------------


def _path_as_sent(environ: dict) -> str:
    """The request path as on the wire (see the module docstring)."""
    uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if uri:
        path = uri.partition("?")[0] if uri.startswith("/") else urlsplit(uri).path
        return _wsgi_text(path) or "/"
    path = _wsgi_text(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
    return quote(path, safe="/~", errors="surrogateescape") or "/"


def _query_pairs(raw_query: str) -> QueryPairs:
    """Decoded (name, value) pairs in order; value None for a bare ``name`` (``?uploads``)."""
    pairs: QueryPairs = []
    for item in _wsgi_text(raw_query).split("&"):
        if item:
            name, sep, value = item.partition("=")
            pairs.append((_unquote(name), _unquote(value) if sep else None))
    return pairs


def _header(request: Request, name: str) -> str | None:
    """A request header as the text the client sent; None when absent."""
    value = request.headers.get(name)
    return None if value is None else _wsgi_text(value)


def _wsgi_text(value: str) -> str:
    """A WSGI string (latin-1 view of the bytes received) as the UTF-8 text the client sent."""
    return value.encode("latin-1").decode("utf-8", "surrogateescape")


def _signed_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _unquote(text: str) -> str:
    return unquote(text, errors="surrogateescape")


def _aws_quote(text: str) -> str:
    """AWS's UriEncode: everything but ``A-Za-z0-9-_.~`` as upper-case ``%XX`` of UTF-8."""
    return quote(text, safe="", errors="surrogateescape")


def _parse_v4_date(value: str) -> float | None:
    try:
        return datetime.strptime(value, V4_DATE_FORMAT).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _parse_http_date(value: str) -> float | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _parse_any_date(value: str | None) -> float | None:
    """An RFC 1123 date (``Date``) or an ISO 8601 basic one (some clients' ``x-amz-date``)."""
    if value is None:
        return None
    parsed = _parse_http_date(value)
    return _parse_v4_date(value) if parsed is None else parsed
