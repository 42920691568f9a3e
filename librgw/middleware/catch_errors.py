"""``catch_errors``: any exception a request raises becomes a clean 500, and the worker goes on.

One kind is not a failure: a cluster that cannot serve now (too few OSDs up, a busy object:
``librgw.errors.cluster_busy``), wherever in the pipeline it shows (a token or key lookup,
say), is a 503 with ``Retry-After``, logged as a warning without a traceback.

The response is a short plain-text 500 naming the request id (from ``request_log``), so a
user can quote it; the traceback goes to the log (logger ``librgw.errors``), never to the
client. An exception after the response has started cannot change its status: it is logged
and raised on to the server, which aborts the connection (as PEP 3333 asks; gunicorn closes
the socket), so the client sees a body shorter than its ``Content-Length`` promised or an
unterminated chunked body, never a complete-looking short one.

``paste.ini``::

    [filter:catch_errors]
    use = egg:librgw#catch_errors
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from librgw.errors import cluster_busy

from .request_log import TRANS_ID_KEY

ERROR_LOG = logging.getLogger("librgw.errors")
RETRY_AFTER_S = 1


class CatchErrors:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started: list[bool] = []

        def start(status: str, headers: list, exc_info=None):
            started.append(True)
            return start_response(status, headers, exc_info)

        try:
            yield from self.app(environ, start)
        except Exception as error:
            trans_id = environ.get(TRANS_ID_KEY, "-")
            where = (environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), trans_id)
            busy = cluster_busy(error)
            if busy:
                ERROR_LOG.warning("cluster unavailable for %s %s (%s): %s", *where, error)
            else:
                ERROR_LOG.exception("unhandled error in %s %s (%s)", *where)
            if started:
                raise
            if busy:
                status, headers = "503 Service Unavailable", [("Retry-After", str(RETRY_AFTER_S))]
                body = f"Service Unavailable: the cluster cannot serve this now; retry. Request id: {trans_id}\n"
            else:
                status, headers = "500 Internal Server Error", []
                body = f"Internal Server Error: the request failed. Request id: {trans_id}\n"
            payload = body.encode()
            start_response(
                status,
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(payload))), *headers],
            )
            yield payload


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    return lambda app: CatchErrors(app, conf)
