"""``dlo``: Swift's Dynamic Large Objects, an object whose content is the objects under a
prefix, concatenated in name order when it is read.

A PUT with ``X-Object-Manifest: <container>/<prefix>`` (URL-encoded) makes the manifest (its
own body is usually empty); the value is checked (400 "X-Object-Manifest must be in the
format container/prefix" otherwise) and kept with the object. A **GET/HEAD** of it lists
``<container>`` under ``<prefix>`` (on the client's behalf, with its rights) and answers the
segments' bytes in order, streamed (``segments.py``): ``Content-Length`` their total,
``ETag`` ``"<md5 of the segments' ETags>"``, the manifest's other headers and
``X-Object-Manifest``; ``Range`` (one or several) and the conditional headers apply to the
whole. Segments are listed when the object is read, so ones uploaded later count (the
manifest is "dynamic"). ``?multipart-manifest=get`` answers the manifest object itself. A
COPY of a manifest (or PUT with ``X-Copy-From``) copies the assembled bytes into a normal
object, unless ``?multipart-manifest=get`` asks for the manifest.

It speaks only Swift's protocol, so it runs in an OpenStack Swift proxy too
(``use = egg:librgw#dlo``, where Swift's own ``dlo`` would be). No settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from hashlib import md5
from urllib.parse import unquote, urlencode

from webob import Request, Response, exc

from .segments import (
    Assembly,
    Segment,
    account_path,
    answer,
    bare_etag,
    copy_assembled,
    copy_source,
    subrequest,
    swift_answer,
    text_path,
)

MANIFEST_HEADER = "X-Object-Manifest"
BAD_MANIFEST = "X-Object-Manifest must be in the format container/prefix"
LISTING_PAGE = 10000


def manifest_target(value: str) -> tuple[str, str] | None:
    """(container, prefix) of an ``X-Object-Manifest`` value; None if it is malformed."""
    text = unquote(value.encode("latin-1").decode("utf-8", "replace"))
    container, _, prefix = text.partition("/")
    if not container or not prefix or "?" in text or "&" in text or prefix.startswith("/"):
        return None
    return container, prefix


class DynamicLargeObject:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        parts = text_path(request).split("/", 4)
        if len(parts) < 5 or parts[1] != "v1" or not parts[4]:
            return self.app(environ, start_response)
        try:
            manifest_get = request.GET.get("multipart-manifest") == "get"
        except UnicodeDecodeError:
            return self.app(environ, start_response)
        try:
            response = self.handle(request, manifest_get)
        except exc.HTTPException as error:
            response = error
        return response(environ, start_response)

    def handle(self, request: Request, manifest_get: bool) -> Response:
        method = request.method
        if method in ("GET", "HEAD") and not manifest_get:
            return self.get(request)
        if method == "PUT" and MANIFEST_HEADER in request.headers:
            if manifest_target(request.headers[MANIFEST_HEADER]) is None:
                raise swift_answer(400, BAD_MANIFEST)
        if not manifest_get and (method == "COPY" or (method == "PUT" and "X-Copy-From" in request.headers)):
            return self.copy(request)
        return request.get_response(self.app)

    def get(self, request: Request) -> Response:
        path = text_path(request)
        probe = "Range" in request.headers or any(name.startswith("If-") for name in request.headers)
        if probe:
            manifest = subrequest(request.environ, "HEAD", path, request.query_string).get_response(self.app)
            if MANIFEST_HEADER not in manifest.headers:
                return request.get_response(self.app)
        else:
            manifest = request.get_response(self.app)
            if MANIFEST_HEADER not in manifest.headers:
                return manifest
            _discard(manifest)
        target = manifest_target(manifest.headers[MANIFEST_HEADER])
        if target is None:
            raise swift_answer(409, BAD_MANIFEST)
        listed = self.listing(request, *target)
        base = account_path(request.environ)
        segments = [Segment(f"{base}/{target[0]}/{item['name']}", 0, int(item["bytes"]) - 1, None) for item in listed]
        etag = _md5_of(bare_etag(item["hash"]) for item in listed)
        return answer(request, Assembly(self.app, request.environ, segments), manifest, etag)

    def listing(self, request: Request, container: str, prefix: str) -> list[dict]:
        """Every object under ``prefix`` in ``container``, in name order; 409 if it cannot be listed."""
        path = f"{account_path(request.environ)}/{container}"
        items: list[dict] = []
        marker = ""
        while True:
            query = urlencode({"format": "json", "prefix": prefix, "marker": marker, "limit": LISTING_PAGE})
            response = subrequest(request.environ, "GET", path, query).get_response(self.app)
            if response.status_int == 404:
                return items
            if response.status_int // 100 != 2:
                raise swift_answer(409, f"The segments' container could not be listed: {response.status}")
            page = [item for item in response.json if "name" in item] if response.body else []
            items += page
            if len(page) < LISTING_PAGE:
                return items
            marker = page[-1]["name"]

    def copy(self, request: Request) -> Response:
        source = copy_source(request)
        if source is None:
            return request.get_response(self.app)
        head = subrequest(request.environ, "HEAD", source[0]).get_response(self.app)
        if MANIFEST_HEADER not in head.headers:
            return request.get_response(self.app)
        return copy_assembled(self, request, source)


def _md5_of(etags: Iterable[str]) -> str:
    digest = md5(usedforsecurity=False)
    for etag in etags:
        digest.update(etag.encode())
    return digest.hexdigest()


def _discard(response: Response) -> None:
    close = getattr(response.app_iter, "close", None)
    if close is not None:
        close()


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    return lambda app: DynamicLargeObject(app, conf)
