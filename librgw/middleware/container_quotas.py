"""``container_quotas``: Swift's container quotas, limits a container's own users set on it.

A container's users (whoever may POST to it) set its quotas as metadata:

- ``X-Container-Meta-Quota-Bytes``: the most bytes its objects may hold together;
- ``X-Container-Meta-Quota-Count``: the most objects it may hold.

On a container PUT or POST a value that is not a whole number is ``400 Invalid bytes quota.``
or ``400 Invalid count quota.``, as Swift answers. An object PUT (or COPY, or PUT with
``X-Copy-From``) into a container that would take it past a quota is ``413 Upload exceeds
quota.`` before anything is stored: the container's bytes and object count (the bucket
index's stats, as its HEAD reports them) plus the upload's ``Content-Length`` (a copy's
source size), plus one object. A chunked upload is cut off at the byte that crosses the
limit and leaves nothing behind (``quota_limits.py``). As in Swift, an overwrite counts as a
new object and its full size: the stats are not reduced by what it replaces.

It speaks only Swift's protocol, so it runs unchanged in an OpenStack Swift proxy's pipeline
(``use = egg:librgw#container_quotas``, after the auth filter, as Swift's own). S3 uploads
reach it as native PUTs through the ``s3`` filter and are refused as S3 ``QuotaExceeded``.

No settings::

    [filter:container_quotas]
    use = egg:librgw#container_quotas

Example: ``curl -X POST -H 'X-Container-Meta-Quota-Bytes: 1048576' $URL/photos``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from webob import Request, exc

from . import quota_limits
from .registry import register_swift_info
from .wsgi_path import api_parts

QUOTA_USER = ".wsgi.container_quotas"
QUOTA_HEADERS = (
    ("X-Container-Meta-Quota-Bytes", "Invalid bytes quota."),
    ("X-Container-Meta-Quota-Count", "Invalid count quota."),
)


def invalid_quota(request: Request) -> exc.HTTPException | None:
    """400 for a quota header on a container PUT or POST that is not a whole number."""
    for header, message in QUOTA_HEADERS:
        value = request.headers.get(header)
        if value and not (value.isascii() and value.isdigit()):
            return exc.HTTPBadRequest(body=message, content_type=quota_limits.SWOB_TYPE)
    return None


class ContainerQuotas:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.conf = conf

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        parts = api_parts(environ)
        if len(parts) == 2 and request.method in ("PUT", "POST"):  # /v1/<account>/<container>
            refusal = invalid_quota(request)
            if refusal is not None:
                return refusal(environ, start_response)
        elif len(parts) == 3 and parts[2] and request.method in ("PUT", "COPY"):
            return self.upload(request, *parts[:2])(environ, start_response)
        return self.app(environ, start_response)

    def upload(self, request: Request, account: str, container: str) -> Callable:
        """The app that answers an upload into ``container``: the pipeline, or a refusal."""
        if request.method == "COPY":
            destination = quota_limits.header_object(request.headers.get("Destination", ""))
            if destination is None:
                return self.app  # refused below
            account = request.headers.get("Destination-Account", account)
            container = destination[0]
        headers = quota_limits.quota_stats(
            self.app, request.environ, f"/v1/{account}/{container}", "container", QUOTA_USER
        )
        if headers is None:
            return self.app  # no such container: answered below
        return quota_limits.within_quota(self.app, request, headers, "container", QUOTA_USER)


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    register_swift_info("container_quotas")
    return lambda app: ContainerQuotas(app, conf)
