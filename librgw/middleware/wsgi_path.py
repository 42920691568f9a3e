"""A request's path as text, for the filters that read it before the gateway does.

WSGI (PEP 3333) carries the path's bytes as the Latin-1 code points of a ``str``; webob's
``path_info`` decodes it again, and fails on bytes that are not UTF-8. A filter reads
``PATH_INFO`` through here, so a path that is not UTF-8 passes it untouched, to the gateway's 412.
"""

from __future__ import annotations


def path_text(environ: dict) -> str | None:
    """The request's path as text; None if its bytes are not UTF-8."""
    try:
        return environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def api_parts(environ: dict) -> list[str]:
    """The parts after ``/v1``: the account, the container, the object (its ``/`` kept), as
    many as the path has; [] if it is no ``/v1/<account>`` path, or not UTF-8."""
    path = path_text(environ)
    parts = path.split("/", 4) if path is not None else []
    if len(parts) < 3 or parts[0] or parts[1] != "v1" or not parts[2]:
        return []
    return parts[2:]
