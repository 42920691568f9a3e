"""``catch_errors``: any exception a request raises becomes a clean 500, and the worker goes on.

The response is a short plain-text 500 naming the request id (from ``request_log``), so a
user can quote it; the traceback goes to the log (logger ``librgw.errors``), never to the
client. An exception after the response has started cannot change its status: the body
is cut short and the error logged.

``paste.ini``::

    [filter:catch_errors]
    use = egg:librgw#catch_errors
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from .request_log import TRANS_ID_KEY

ERROR_LOG = logging.getLogger("librgw.errors")


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
        except Exception:
            trans_id = environ.get(TRANS_ID_KEY, "-")
            ERROR_LOG.exception(
                "unhandled error in %s %s (%s)", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), trans_id
            )
            if started:
                return
            body = f"Internal Server Error: the request failed. Request id: {trans_id}\n".encode()
            start_response(
                "500 Internal Server Error",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            yield body


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    return lambda app: CatchErrors(app, conf)
