"""``request_log``: a request id on every request and response, and one access-log line per request.

The id (Swift's form, ``tx<hex>-<hex time>``) goes into ``environ["librgw.trans_id"]`` for
the filters and app below, and back to the client as ``X-Trans-Id`` and
``X-Openstack-Request-Id`` (both, as Swift's ``catch_errors`` sends them), or, on an answer
of the ``s3`` filter (which names it ``x-amz-request-id`` itself), as ``x-amz-request-id``
alone, as S3 and RGW send it. The log line (logger ``librgw.access``, INFO) is::

    127.0.0.1 - - [21/Nov/2026:17:00:00 +0000] "GET /v1/AUTH_alice/photos HTTP/1.1" 200 512 0.004 tx3f2...

A response whose body failed after it had started (the server then aborts the connection)
is logged with the status it was sent with, the bytes that went out, and ``aborted`` at the
end of the line.

Query strings are logged with signature and credential values replaced by ``...``, so no
secret reaches the log; control characters in the path are logged as ``%XX``, so a
client's ``%0A`` cannot start a line of its own. Put it first in the pipeline (outside
``catch_errors``), so even a request that failed is logged with its id.

It also marks where a request begins and ends for the core, which then reads each metadata
record (user, key, bucket) once per request (``librgw/request_memo.py``).

``paste.ini``::

    [filter:request_log]
    use = egg:librgw#request_log
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlencode

from librgw import request_memo

ACCESS_LOG = logging.getLogger("librgw.access")
SECRET_PARAMS = frozenset(
    {"signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "temp_url_sig", "awsaccesskeyid"}
)
TRANS_ID_KEY = "librgw.trans_id"
SWIFT_ID_HEADERS = ("X-Trans-Id", "X-Openstack-Request-Id")
S3_ID_HEADER = "x-amz-request-id"
ID_HEADER_NAMES = frozenset(name.lower() for name in (*SWIFT_ID_HEADERS, S3_ID_HEADER))
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def new_trans_id() -> str:
    return f"tx{uuid.uuid4().hex[:21]}-{int(time.time()):010x}"


def loggable_path(path: str) -> str:
    """``path`` for the one-line log: control characters as ``%XX``, what latin-1 lacks as ``\\u...``."""
    path = CONTROL_CHARS.sub(lambda match: f"%{ord(match[0]):02X}", path)
    return path.encode("latin-1", "backslashreplace").decode("latin-1")


def redacted_query(query: str) -> str:
    """The query string with the values of signature and credential parameters hidden."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, "..." if k.lower() in SECRET_PARAMS else v) for k, v in pairs], safe="/:")


class RequestLog:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request_memo.begin()
        trans_id = environ.setdefault(TRANS_ID_KEY, new_trans_id())
        started = time.monotonic()
        status_holder: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info=None):
            status_holder.append(status)
            s3_answer = any(name.lower() == S3_ID_HEADER for name, _ in headers)
            headers = [h for h in headers if h[0].lower() not in ID_HEADER_NAMES]
            headers += [(S3_ID_HEADER, trans_id)] if s3_answer else [(name, trans_id) for name in SWIFT_ID_HEADERS]
            return start_response(status, headers, exc_info)

        sent = 0
        aborted = False
        try:
            for chunk in self.app(environ, start):
                sent += len(chunk)
                yield chunk
        except Exception:
            aborted = True
            raise
        finally:
            request_memo.end()
            status = status_holder[-1] if status_holder else "499"
            self._log(environ, status, sent, time.monotonic() - started, aborted)

    @staticmethod
    def _log(environ: dict, status: str, sent: int, seconds: float, aborted: bool) -> None:
        query = redacted_query(environ.get("QUERY_STRING", ""))
        path = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        ACCESS_LOG.info(
            '%s - - [%s] "%s %s %s" %s %d %.3f %s%s',
            environ.get("REMOTE_ADDR", "-"),
            time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            environ.get("REQUEST_METHOD", "-"),
            loggable_path(path),
            environ.get("SERVER_PROTOCOL", "-"),
            status.split(" ", 1)[0],
            sent,
            seconds,
            environ.get(TRANS_ID_KEY, "-"),
            " aborted" if aborted else "",
        )


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    return lambda app: RequestLog(app, conf)
