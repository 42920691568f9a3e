"""``gateway``: the terminal app of the pipeline, over the core (``librgw.connect``).

This step answers ``GET /healthcheck`` (``OK``, no auth, as Swift's healthcheck filter) and
``GET /info`` (the capabilities a client may ask for, as Swift's ``/info``). The Swift API
under ``/v1/`` is next; until then it answers 501 Not Implemented, saying so.

Settings, in ``[app:gateway]`` of ``paste.ini``:

- ``cluster``: a cluster spec, as ``librgw.connect`` takes (a ``cluster.conf`` path);
  ``$LIBRGW_CLUSTER`` overrides it. Unused until the Swift API needs the core; then each
  worker connects through ``core_connection.WorkerConnection``, after gunicorn forks it.
- ``max_file_size`` (default 5 GiB, Swift's): the largest object a PUT may create.

``paste.ini``::

    [app:gateway]
    use = egg:librgw#gateway
    cluster = data/cluster.conf
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from webob import Request, Response

import librgw

DEFAULT_MAX_FILE_SIZE = 5 * 1024**3


class Gateway:
    def __init__(self, conf: dict) -> None:
        self.max_file_size = int(conf.get("max_file_size", DEFAULT_MAX_FILE_SIZE))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        if request.path_info == "/healthcheck" and request.method in ("GET", "HEAD"):
            response = Response(text="OK", content_type="text/plain")
        elif request.path_info == "/info" and request.method in ("GET", "HEAD"):
            response = Response(json_body=self.info(), content_type="application/json")
        elif request.path_info.startswith("/v1/"):
            response = Response(
                status=501,
                text="The Swift API is not served by this version of librgw yet.\n",
                content_type="text/plain",
            )
        else:
            response = Response(status=404, text="Not Found\n", content_type="text/plain")
        return response(environ, start_response)

    def info(self) -> dict:
        return {
            "librgw": {"version": librgw.__version__},
            "swift": {"max_file_size": self.max_file_size, "max_object_name_length": 1024},
        }


def app_factory(global_conf: dict, **local_conf: str) -> Gateway:
    return Gateway({**global_conf, **local_conf})
