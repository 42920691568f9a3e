"""Swift's temporary URLs, as signatures: what ``librgw tempurl`` makes and the ``tempurl`` filter
checks.

A temp URL is a path plus ``temp_url_sig`` and ``temp_url_expires``: the HMAC, keyed with one of
the account's or container's ``Temp-URL-Key`` values, of the lines ``METHOD``, ``EXPIRES`` and
``PATH`` (preceded by ``ip=RANGE`` when the URL is limited to an address range, and with
``PATH`` written ``prefix:/v1/a/c/<prefix>`` for a URL good for every object under a prefix).
The signature is the hex digest (its length says SHA-1, SHA-256 or SHA-512) or
``<digest>:<base64 of the digest>``. Expiry is unix time or ISO 8601 (``2026-12-31T23:59:59Z``).
This is OpenStack Swift's format, so URLs made by ``swift tempurl`` work here and ours there.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import time
from dataclasses import dataclass

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
HEX_LENGTHS = {40: "sha1", 64: "sha256", 128: "sha512"}
ISO8601 = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Scope:
    """What a temp URL is for: the method, until when (unix time), the path (``/v1/a/c/o``, or
    the prefix ``/v1/a/c/p`` when ``prefix``), and the client address range, if any."""

    method: str
    expires: int
    path: str
    prefix: bool = False
    ip_range: str | None = None

    def message(self) -> bytes:
        lines = [self.method, str(self.expires), ("prefix:" if self.prefix else "") + self.path]
        if self.ip_range:
            lines.insert(0, f"ip={self.ip_range}")
        return "\n".join(lines).encode()


def sign(scope: Scope, key: str, digest: str = "sha256") -> str:
    """The hex signature of ``scope`` with ``key``."""
    return sign_message(scope.message(), key, digest)


def sign_message(message: bytes, key: str, digest: str) -> str:
    """The hex HMAC of ``message`` (a form post's signs other lines than a temp URL's)."""
    if digest not in DIGESTS:
        raise ValueError(f"unknown digest {digest!r}: one of {', '.join(DIGESTS)}")
    return hmac.new(key.encode(), message, DIGESTS[digest]).hexdigest()


def parse_signature(value: str) -> tuple[str, str]:
    """(digest name, hex signature) of a ``temp_url_sig`` value; ValueError if it is neither
    form. Base64 may be standard or URL-safe, padded or not."""
    if ":" in value:
        digest, encoded = value.split(":", 1)
        encoded = encoded.replace("-", "+").replace("_", "/")
        try:
            raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error:
            raise ValueError("the signature is not base64") from None
        if digest not in DIGESTS or len(raw) != DIGESTS[digest]().digest_size:
            raise ValueError(f"not a {digest} signature")
        return digest, raw.hex()
    if len(value) not in HEX_LENGTHS:
        raise ValueError("a hex signature is 40, 64 or 128 digits long")
    try:
        bytes.fromhex(value)
    except ValueError:
        raise ValueError("the signature is not hex") from None
    return HEX_LENGTHS[len(value)], value


def parse_expires(value: str) -> int:
    """``temp_url_expires`` as unix time: an integer, or ISO 8601 in UTC; ValueError otherwise."""
    try:
        return int(value)
    except ValueError:
        return calendar.timegm(time.strptime(value, ISO8601))


def matches(given: str, scope: Scope, key: str, digest: str) -> bool:
    """Whether hex signature ``given`` is ``scope``'s with ``key``, compared in constant time."""
    return matches_message(given, scope.message(), key, digest)


def matches_message(given: str, message: bytes, key: str, digest: str) -> bool:
    """Whether hex signature ``given`` is ``message``'s with ``key``, compared in constant time."""
    return hmac.compare_digest(given.encode(), sign_message(message, key, digest).encode())
