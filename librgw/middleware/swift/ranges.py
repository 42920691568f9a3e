"""HTTP ``Range`` on object GETs: one range or several (RFC 9110 §14), as Swift serves them.

``satisfiable_ranges`` turns ``bytes=0-99,200-,-50`` into inclusive ``(first, last)`` pairs
clipped to the object's size. A header that does not parse is ignored (the whole object is
sent, as Swift does); one that parses but that no range of satisfies is 416. One range is a
206 with ``Content-Range``; several are a 206 ``multipart/byteranges`` body, built by
``multipart_body`` one part at a time.

A position is read whatever its length (``byte_position``): one of more digits than any
object's size has is past the end of every object, so a first position of 5,000 digits is
416 and such a last position is clipped to the object's end, never a 500 from int()'s limit
of 4,300 digits.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Iterator

from webob import exc

MAX_RANGES = 50  # more than this and the header is ignored, as Swift does
SPEC_RE = re.compile(r"([0-9]*)-([0-9]*)")
MAX_POSITION_DIGITS = 19
BEYOND = 2**63  # what a longer position counts as: past the end of any object


class Unsatisfiable(exc.HTTPRequestRangeNotSatisfiable):
    def __init__(self, size: int) -> None:
        super().__init__(headers={"Content-Range": f"bytes */{size}"})


def byte_position(digits: str) -> int:
    """The value of a byte position (ASCII digits, leading zeros and all), or ``BEYOND`` when it
    has more than ``MAX_POSITION_DIGITS`` digits."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= MAX_POSITION_DIGITS else BEYOND


def parse_range(header: str) -> list[tuple[int | None, int | None]] | None:
    """The specs of a ``Range`` header, or None when it is not a bytes range we can read."""
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs.strip():
        return None
    parsed: list[tuple[int | None, int | None]] = []
    for spec in specs.split(","):
        match = SPEC_RE.fullmatch(spec.strip())
        if not match or match.group(1) == match.group(2) == "":
            return None
        first = byte_position(match.group(1)) if match.group(1) else None
        last = byte_position(match.group(2)) if match.group(2) else None
        if first is not None and last is not None and last < first:
            return None
        parsed.append((first, last))
    return parsed if len(parsed) <= MAX_RANGES else None


def satisfiable_ranges(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """The ranges to send, or None for the whole object; ``Unsatisfiable`` (416) if none fits."""
    specs = parse_range(header) if header else None
    if specs is None:
        return None
    ranges = []
    for first, last in specs:
        if first is None:  # a suffix: the last ``last`` bytes
            if last and size:
                ranges.append((max(0, size - last), size - 1))
        elif first < size:
            ranges.append((first, size - 1 if last is None else min(last, size - 1)))
    if not ranges:
        raise Unsatisfiable(size)
    return ranges


def multipart_body(
    ranges: list[tuple[int, int]], size: int, content_type: str, read: Callable[[int, int], Iterable[bytes]]
) -> tuple[str, int, Iterator[bytes]]:
    """(Content-Type, Content-Length, body) of a ``multipart/byteranges`` response; ``read(first,
    last)`` streams one range's bytes."""
    boundary = secrets.token_hex(16)
    heads = [
        f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {first}-{last}/{size}\r\n\r\n".encode()
        for first, last in ranges
    ]
    tail = f"--{boundary}--".encode()  # no CRLF after the close delimiter, as Swift sends it
    length = sum(len(h) for h in heads) + sum(last - first + 1 + 2 for first, last in ranges) + len(tail)

    def body() -> Iterator[bytes]:
        for head, (first, last) in zip(heads, ranges, strict=True):
            yield head
            yield from read(first, last)
            yield b"\r\n"
        yield tail

    return f"multipart/byteranges;boundary={boundary}", length, body()
