"""How Swift shows when something changed, from one timestamp three ways.

Swift keeps a time as its ``normal`` form, seconds with five decimals (``X-Timestamp:
1796650690.10152``), and derives the rest from it, never from a finer clock reading:
a listing's ``last_modified`` is that time in ISO 8601 with microseconds and no zone
(``2026-12-07T13:38:10.101520``), and ``Last-Modified`` is the HTTP date of that time rounded
*up* to the second (``Timestamp.ceil()``), so a client comparing it with ``If-Modified-Since``
never sees an older time than the object's. A listing therefore shows the second before the
one HEAD shows, for any time not on a whole second: that is Swift's rule, and clients that
compare the two (rclone, libcloud) expect it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import formatdate

PLACES = 5  # Swift's Timestamp.normal: 10 µs


def normal(mtime: float) -> str:
    """``mtime`` as Swift's ``X-Timestamp`` writes it (``%016.5f``)."""
    return f"{round(mtime, PLACES):016.{PLACES}f}"


def modified_second(mtime: float) -> int:
    """The second ``Last-Modified`` names, and conditional requests compare with."""
    return math.ceil(float(normal(mtime)))


def http_date(mtime: float) -> str:
    """``Last-Modified`` of something changed at ``mtime``."""
    return formatdate(modified_second(mtime), usegmt=True)


def swift_time(mtime: float) -> str:
    """A listing's ``last_modified``: ISO 8601 in UTC with microseconds, no zone, as Swift writes it."""
    seconds, micros = divmod(round(float(normal(mtime)) * 1_000_000), 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros).strftime("%Y-%m-%dT%H:%M:%S.%f")


def timestamp_headers(mtime: float) -> list[tuple[str, str]]:
    """``X-Timestamp`` and ``Last-Modified`` of something changed at ``mtime``."""
    return [("X-Timestamp", normal(mtime)), ("Last-Modified", http_date(mtime))]
