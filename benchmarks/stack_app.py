"""The HTTP-stack baseline of ``gateway.py --stack``: files in a directory, served by the gateway's gunicorn.

gunicorn runs this app with the gateway's own settings (``librgw.server.gunicorn_conf``:
worker class, workers, threads), so its figures are what the gateway's HTTP stack allows on
this machine when nothing else is done: no signature, no cluster, no pipeline. A GET of
``/<bucket>/<key>`` answers the file ``$STACK_ROOT/<bucket>/<key>`` (from the page cache once
read) in the pieces the gateway streams an object in; a HEAD answers its length; a PUT writes
the body into it without an fsync (so into the page cache), or makes the directory
``<bucket>`` for a PUT of the bucket itself. Query strings (presigned URLs' signatures) are
ignored. Paths that leave the directory are refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from librgw.manifest import STRIPE_SIZE

ROOT = Path(os.environ.get("STACK_ROOT", ".")).resolve()
PIECE = 64 * 1024  # what a PUT's body is read in


def file_of(environ: dict) -> Path | None:
    """The file a request's path names; None if it names none under ``ROOT``."""
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace").strip("/")
    parts = path.split("/")
    if not path or any(part in ("", ".", "..") for part in parts):
        return None
    return ROOT.joinpath(*parts)


def pieces(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as source:
        while piece := source.read(STRIPE_SIZE):
            yield piece


def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    method = environ["REQUEST_METHOD"]
    path = file_of(environ)
    if path is None:
        start_response("400 Bad Request", [("Content-Length", "0")])
        return []
    if method == "PUT":
        if path.parent == ROOT:
            path.mkdir(exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            body = environ["wsgi.input"]
            with open(path, "wb") as out:
                while piece := body.read(PIECE):
                    out.write(piece)
        start_response("200 OK", [("Content-Length", "0")])
        return []
    if method not in ("GET", "HEAD") or not path.is_file():
        start_response("404 Not Found", [("Content-Length", "0")])
        return []
    headers = [("Content-Type", "application/octet-stream"), ("Content-Length", str(path.stat().st_size))]
    start_response("200 OK", headers)
    return [] if method == "HEAD" else pieces(path)
