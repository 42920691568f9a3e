"""Which container sub-resource a native request addresses: ``?tagging`` (``tagging.py``),
``?cors`` (``cors.py``), ``?lifecycle`` (``lifecycle.py``) or ``?encryption``
(``encryption.py``), each S3's bucket configuration offered to the ``s3`` middleware down
the pipeline. A request naming none costs one look at
the query string.
"""

from __future__ import annotations

from collections.abc import Callable

from webob import Request, Response

from . import cors, encryption, lifecycle, tagging
from .context import Context

CONTAINER_HANDLERS: dict[str, Callable[[Context], Response]] = {
    tagging.TAGGING: tagging.handle_container,
    cors.CORS: cors.handle_container,
    lifecycle.LIFECYCLE: lifecycle.handle_container,
    encryption.ENCRYPTION: encryption.handle_container,
}


def container_handler(request: Request) -> Callable[[Context], Response] | None:
    """The handler of the container sub-resource ``request`` names, or None."""
    query = request.environ.get("QUERY_STRING", "")
    if not any(name in query for name in CONTAINER_HANDLERS):
        return None
    return next((handler for name, handler in CONTAINER_HANDLERS.items() if name in request.GET), None)
