"""How Swift shows when something changed: ``X-Timestamp`` and an HTTP-date ``Last-Modified``."""

from __future__ import annotations

import math
from email.utils import formatdate


def timestamp_headers(mtime: float) -> list[tuple[str, str]]:
    """``X-Timestamp`` (seconds, five decimals) and ``Last-Modified`` (rounded up to the second,
    so a client comparing it with ``If-Modified-Since`` never sees an older time)."""
    return [("X-Timestamp", f"{mtime:016.5f}"), ("Last-Modified", formatdate(math.ceil(mtime), usegmt=True))]
