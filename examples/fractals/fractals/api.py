"""The Fractals API: a WSGI app (WebOb) over the database and the image store, served by
gunicorn (``python -m fractals api``).

- ``GET /v1/fractal``: ``{"num_results", "objects", "page", "total_pages"}``, faafo's
  listing; ``?results_per_page=N`` (10 by default, ``-1`` for all) and ``?page=P``.
- ``GET /v1/fractal/<uuid>``: one fractal's parameters, md5 and size, and ``image``, the
  path of its PNG.
- ``GET /fractal/<uuid>``: the PNG, streamed from the image store (local disk, or the
  cluster with ``--storage librgw://...``).
"""

from __future__ import annotations

import math

from gunicorn.app.base import BaseApplication
from webob import Request, Response, exc
from webob.dec import wsgify

from .db import Database
from .storage import ImageNotFound, ImageStore

DEFAULT_RESULTS_PER_PAGE = 10


class FractalsAPI:
    def __init__(self, db: Database, images: ImageStore) -> None:
        self.db = db
        self.images = images

    @wsgify
    def __call__(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise exc.HTTPMethodNotAllowed()
        parts = request.path_info.strip("/").split("/")
        if parts == ["v1", "fractal"]:
            return self.listing(request)
        if len(parts) == 3 and parts[:2] == ["v1", "fractal"]:
            return self.fractal(parts[2])
        if len(parts) == 2 and parts[0] == "fractal":
            return self.image(parts[1])
        raise exc.HTTPNotFound()

    def listing(self, request: Request) -> Response:
        fractals = self.db.all()
        per_page = int(request.GET.get("results_per_page", DEFAULT_RESULTS_PER_PAGE))
        page = int(request.GET.get("page", 1))
        if per_page < 0:
            per_page, page = max(len(fractals), 1), 1
        shown = fractals[(page - 1) * per_page : page * per_page]
        return Response(
            json={
                "num_results": len(fractals),
                "objects": [f.as_json() for f in shown],
                "page": page,
                "total_pages": max(math.ceil(len(fractals) / per_page), 1),
            }
        )

    def fractal(self, uuid: str) -> Response:
        fractal = self.db.get(uuid)
        if fractal is None:
            raise exc.HTTPNotFound()
        return Response(json={**fractal.as_json(), "image": f"/fractal/{uuid}"})

    def image(self, uuid: str) -> Response:
        fractal = self.db.get(uuid)
        if fractal is None:
            raise exc.HTTPNotFound()
        try:
            chunks = self.images.stream(uuid)
        except ImageNotFound as e:
            raise exc.HTTPNotFound("the image is not in the image store") from e
        return Response(app_iter=chunks, content_type="image/png", content_length=fractal.size, etag=fractal.checksum)


class Server(BaseApplication):
    """gunicorn serving the app ``make_app()`` makes, with the options given (``bind``,
    ``workers``, ...). Each worker makes its own, after the fork: a connection to a cluster
    (``librgw+cluster://`` storage, a Ceph client above all) must not cross a fork."""

    def __init__(self, make_app, options: dict) -> None:
        self.make_app = make_app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.make_app()
