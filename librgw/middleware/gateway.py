"""``gateway``: the terminal app of the pipeline: the Swift API over the core (``librgw.connect``).

- ``GET /healthcheck``: ``OK``, without auth, as Swift's healthcheck filter.
- ``GET /info``: what this gateway offers and its limits, without auth, as Swift's ``/info``:
  every feature the pipeline's filters registered (``registry.py``), and the app's own,
  ``swift`` (its limits) and ``object_versioning``; more for operators with a URL signed with
  ``admin_key`` (``info.py``).
- ``/v1/AUTH_<uid>[/<container>[/<object>]]``: the Swift API (``swift/``): accounts are
  users, containers are buckets, objects are RGW objects; whoever the ``auth`` filter
  says is asking, ``authorization.py`` decides what they may do.

``/v1`` alone is 412 "Bad URL", as Swift's proxy answers a path without an account. A
``Transfer-Encoding`` other than ``chunked`` is answered before anything else, the body
unread (501 for a list such as ``gzip, chunked``, 400 for one coding: ``swift/request_body.py``).
Every 401 carries ``WWW-Authenticate: Swift realm="<account>"``.

Errors of the core and the cluster become Swift statuses in ``swift/errors.py``; anything
else is left to ``catch_errors``.

Settings, in ``[app:gateway]`` of ``paste.ini``:

- ``cluster``: a cluster spec, as ``librgw.connect`` takes (a ``cluster.conf`` path);
  ``$LIBRGW_CLUSTER`` overrides it. Each worker connects after gunicorn forks it
  (``core_connection.py``).
- Swift's limits (``swift/constraints.py``, Swift's defaults): ``max_file_size`` (5 GiB),
  ``max_meta_name_length`` (128), ``max_meta_value_length`` (256), ``max_meta_count`` (90),
  ``max_meta_overall_size`` (4096), ``max_object_name_length`` (1024),
  ``max_container_name_length`` (256), ``container_listing_limit`` and
  ``account_listing_limit`` (10000).
- ``/info``'s, Swift's proxy's (``info.py``): ``expose_info`` (true), ``disallowed_sections``
  (``swift.auto_create_account_prefix, swift.valid_api_versions``), ``admin_key`` (none).

``paste.ini``::

    [app:gateway]
    use = egg:librgw#gateway
    cluster = data/cluster.conf
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from webob import Request, Response, exc

import librgw

from . import registry
from .core_connection import WorkerConnection, cluster_spec
from .info import INFO_PATH, InfoSettings, info_response
from .registry import register_swift_info
from .request_identity import NATIVE_S3_KEY, www_authenticate
from .swift import account, container, objects
from .swift.answer_bodies import swift_answer
from .swift.constraints import Limits
from .swift.context import Context, parse_path, query_params
from .swift.errors import swift_error
from .swift.request_body import transfer_coding_refusal

API_PREFIX = "/v1/"
BARE_API_PATHS = ("/v1", "/v1/")


class Gateway:
    def __init__(self, conf: dict) -> None:
        self.limits = Limits.from_conf(conf)
        self.info = InfoSettings.from_conf(conf)
        self.core = WorkerConnection(cluster_spec(conf))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        path = environ.get("PATH_INFO", "")
        if path == "/healthcheck" and request.method in ("GET", "HEAD"):
            response = Response(text="OK", content_type="text/plain")
        elif path == INFO_PATH and request.method in ("GET", "HEAD", "OPTIONS"):
            response = info_response(self.info, request)
        elif path in BARE_API_PATHS:
            response = Response(
                status=412, body=b"Bad URL", content_type="text/html"
            )  # Swift's, to a path without an account
        elif path.startswith(API_PREFIX):
            response = self.swift(request)
        else:
            response = exc.HTTPNotFound()
        if path.startswith(BARE_API_PATHS[0]) and not environ.get(NATIVE_S3_KEY):
            response = swift_answer(response, request.method)  # a Swift client's: as Swift writes it
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = www_authenticate(path)
        return response(environ, start_response)

    def swift(self, request: Request) -> Response:
        refused = transfer_coding_refusal(request.environ)
        if refused is not None:
            return refused
        try:
            query_params(request)
            ctx = Context(self.core.rgw, self.limits, request, parse_path(request.environ))
            if ctx.path.obj is not None:
                return objects.handle(ctx)
            if ctx.path.container is not None:
                return container.handle(ctx)
            return account.handle(ctx)
        except Exception as error:
            response = swift_error(error)
            if response is None:
                raise
            return response


def app_factory(global_conf: dict, **local_conf: str) -> Gateway:
    gateway = Gateway({**global_conf, **local_conf})
    registry.start()  # Paste builds the app first, then its filters, which register themselves
    register_swift_info("librgw", version=librgw.__version__)
    register_swift_info("swift", version=librgw.__version__, **gateway.limits.as_info())
    register_swift_info("object_versioning")
    return gateway
