"""User metadata in Swift headers: ``X-<Kind>-Meta-<name>`` in, stored, and out again.

A request sets an item with ``X-<Kind>-Meta-<name>: value`` and removes it with an empty
value or ``X-Remove-<Kind>-Meta-<name>``. Names are case-insensitive and stored lower-case;
values are UTF-8 text (WSGI hands headers over as Latin-1 strings; ``header_text`` and
``to_wsgi`` convert). Object metadata lives in the core's ``x-amz-meta-*`` attributes, the
same items S3 clients see; container and account metadata live in the bucket's and the
user's ``attrs`` under their header names (``x-container-meta-color``).

Every header value kept with an object, container or account (metadata, ``Content-Type`` and
the other content headers) must be readable back: one that is not UTF-8 is refused at write
time with 400, as Swift refuses a ``Content-Type`` that is not ("Invalid Content-Type") and
account and container metadata that is not ("Metadata must be valid UTF-8"); here object
metadata too, since it is kept as text. So is one holding a control character (other than a
tab), which no HTTP response may carry. On the way out ``to_wsgi`` percent-encodes any such
character in a value stored before (or another way), so a read never breaks on stored data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from webob import exc

# What a response header value cannot hold (gunicorn refuses to send it): controls but the tab.
UNSENDABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
NOT_UTF8 = "Metadata must be valid UTF-8"
SWIFT_BYTES = "swift_bytes="
OWS = " \t"  # the whitespace HTTP allows around a header value


def header_text(value: str, refusal: str) -> str:
    """A header value to keep, as text: 400 with ``refusal`` if its bytes are not UTF-8 or
    hold a control character (other than a tab)."""
    try:
        text = value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise exc.HTTPBadRequest(refusal) from None
    if UNSENDABLE.search(text):
        raise exc.HTTPBadRequest(f"{refusal} (control characters are not allowed)")
    return text


def from_wsgi(value: str) -> str:
    """A header value as text: its bytes read as UTF-8 where they are, as Latin-1 where not."""
    raw = value.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value


def to_wsgi(value: str) -> str:
    """Text as a WSGI header value (UTF-8 bytes, carried in a Latin-1 string) that a response
    can carry: control characters (but the tab) percent-encoded."""
    sendable = UNSENDABLE.sub(lambda match: f"%{ord(match[0]):02X}", value)
    return sendable.encode("utf-8", "replace").decode("latin-1")


# Items only the account's owners may see or set (Swift's ``swift_owner_headers``): a temp URL
# key lets whoever knows it sign URLs for anything in the container or account.
OWNER_ONLY = frozenset({"temp-url-key", "temp-url-key-2"})


def owners_view(items: Mapping[str, str], owner: bool) -> dict[str, str]:
    """``items`` as the asker may see them: without ``OWNER_ONLY`` ones unless ``owner``."""
    return dict(items) if owner else {name: value for name, value in items.items() if name not in OWNER_ONLY}


def requested_changes(headers: Mapping[str, str], kind: str) -> tuple[dict[str, str], set[str]]:
    """(items to set, names to remove) that a request's headers ask for; ``kind`` is
    ``object``, ``container`` or ``account``."""
    prefix, remove_prefix = f"x-{kind}-meta-", f"x-remove-{kind}-meta-"
    to_set: dict[str, str] = {}
    to_remove: set[str] = set()
    for header, value in headers.items():
        lowered = header.lower()
        if lowered.startswith(prefix):
            name = lowered[len(prefix) :]  # a header name is ASCII (an HTTP token)
            value = value.strip(OWS)  # not str.strip(): "\x85" and "\xa0" are bytes of UTF-8 text here
            if value:
                to_set[name] = header_text(value, NOT_UTF8)
            else:
                to_remove.add(name)
        elif lowered.startswith(remove_prefix):
            to_remove.add(lowered[len(remove_prefix) :])
    return to_set, to_remove - to_set.keys()


def stored_items(attrs: Mapping[str, str], kind: str) -> dict[str, str]:
    """The metadata items among a bucket's or user's ``attrs``."""
    prefix = f"x-{kind}-meta-"
    return {name[len(prefix) :]: value for name, value in attrs.items() if name.startswith(prefix)}


def with_items(attrs: Mapping[str, str], kind: str, items: Mapping[str, str]) -> dict[str, str]:
    """``attrs`` with its metadata items replaced by ``items``."""
    prefix = f"x-{kind}-meta-"
    kept = {name: value for name, value in attrs.items() if not name.startswith(prefix)}
    return {**kept, **{prefix + name: value for name, value in items.items()}}


def headers_of(items: Mapping[str, str], kind: str) -> list[tuple[str, str]]:
    """Response headers for metadata items."""
    return [(f"X-{kind.title()}-Meta-{to_wsgi(name).title()}", to_wsgi(value)) for name, value in sorted(items.items())]


def split_swift_bytes(content_type: str) -> tuple[str, int | None]:
    """``content_type`` without a last ``;swift_bytes=<n>`` parameter, and that n (None without
    one). A static large object's manifest keeps the large object's size there, as Swift's
    does: its listing entry shows that size, and no answer shows the parameter."""
    rest, separator, last = content_type.rpartition(";")
    last = last.strip()
    if separator and last.startswith(SWIFT_BYTES) and last[len(SWIFT_BYTES) :].isdigit():
        return rest, int(last[len(SWIFT_BYTES) :])
    return content_type, None
