"""``bulk``: Swift's bulk delete: many objects and containers removed by one request.

``POST`` (or ``DELETE``) ``/v1/<account>?bulk-delete`` with a ``text/plain`` body of one
URL-encoded ``/<container>/<object>`` or ``/<container>`` per line deletes each, in order,
by sending a ``DELETE`` for it down the pipeline, so each is authorized and logged like
any other delete. The answer is always 200 (the work streams while it is done, as in Swift),
and its body, in the format ``Accept`` asks for (``text/plain``, ``application/json``,
``application/xml``), reports::

    Number Deleted: 2
    Number Not Found: 1
    Response Status: 400 Bad Request
    Response Body:
    Errors:
    /photos/locked, 403 Forbidden

A name that is not there counts as not found, not as an error; a container that still
holds objects is an error (409). ``Response Status`` is ``200 OK`` when nothing failed,
else the status of the failures (``400 Bad Request`` when they differ).

Settings (``[filter:bulk]``): ``max_deletes_per_request`` (default 10000, Swift's),
``max_failed_deletes`` (1000: stop after that many failures). It sits after ``auth``.

``paste.ini``::

    [filter:bulk]
    use = egg:librgw#bulk
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from webob import Request, Response, exc

from .registry import register_swift_info
from .request_identity import IDENTITY_KEY
from .request_log import TRANS_ID_KEY
from .swift.listing import accepted_type
from .swift.request_body import read_document

DEFAULT_MAX_DELETES = 10000
DEFAULT_MAX_FAILED = 1000
MAX_LINE = 3 * (1024 + 256) + 8  # a URL-encoded container and object name, at the longest
PASSED_ON = (IDENTITY_KEY, TRANS_ID_KEY, "REMOTE_ADDR", "HTTP_REFERER", "HTTP_X_AUTH_TOKEN")


def paths_to_delete(request: Request, limit: int) -> list[str]:
    """The decoded names in a bulk-delete body: 413 beyond ``limit``, 400 if it is not UTF-8."""
    body = read_document(request, limit * MAX_LINE + 1)
    if len(body) > limit * MAX_LINE:
        raise exc.HTTPRequestEntityTooLarge(f"Maximum bulk deletes per request: {limit}")
    try:
        lines = [unquote(line.strip(), errors="strict") for line in body.decode("utf-8").splitlines()]
    except UnicodeDecodeError:
        raise exc.HTTPBadRequest("The body must be URL-encoded UTF-8, one name per line") from None
    paths = [line for line in lines if line.strip("/")]
    if len(paths) > limit:
        raise exc.HTTPRequestEntityTooLarge(f"Maximum bulk deletes per request: {limit}")
    return paths


def report_body(result: dict, fmt: str) -> bytes:
    if fmt == "application/json":
        return json.dumps(result).encode()
    if fmt in ("application/xml", "text/xml"):
        fields = "".join(
            f"<{key.lower().replace(' ', '_')}>{escape(str(value))}</{key.lower().replace(' ', '_')}>"
            for key, value in result.items()
            if key != "Errors"
        )
        errors = "".join(
            f"<object><name>{escape(name)}</name><status>{escape(status)}</status></object>"
            for name, status in result["Errors"]
        )
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<delete>{fields}<errors>{errors}</errors></delete>'.encode()
    lines = [f"{key}: {value}" for key, value in result.items() if key != "Errors"]
    lines.append("Errors:")
    lines += [f"{name}, {status}" for name, status in result["Errors"]]
    return ("\n".join(lines) + "\n").encode()


class Bulk:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.max_deletes = int(conf.get("max_deletes_per_request", DEFAULT_MAX_DELETES))
        self.max_failed = int(conf.get("max_failed_deletes", DEFAULT_MAX_FAILED))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if "bulk-delete" not in environ.get("QUERY_STRING", "") or environ.get("REQUEST_METHOD") not in (
            "POST",
            "DELETE",
        ):
            return self.app(environ, start_response)
        request = Request(environ)
        try:
            asked = "bulk-delete" in request.GET
        except UnicodeDecodeError:  # not a query of ours; the gateway answers it (400)
            asked = False
        if not asked:
            return self.app(environ, start_response)
        return self.bulk_delete(request)(environ, start_response)

    def bulk_delete(self, request: Request) -> Response:
        parts = request.path_info.split("/")
        if len(parts) != 3 or parts[1] != "v1" or not parts[2]:
            return exc.HTTPBadRequest("bulk-delete is asked of an account: /v1/<account>?bulk-delete")
        fmt = accepted_type(request)
        try:
            paths = paths_to_delete(request, self.max_deletes)
        except exc.HTTPException as error:
            return error
        result = self.delete_all(request, parts[2], paths)
        return Response(body=report_body(result, fmt), content_type=fmt, charset="utf-8")

    def delete_all(self, request: Request, account: str, paths: list[str]) -> dict:
        deleted = not_found = 0
        errors: list[list[str]] = []
        for path in paths:
            if len(errors) >= self.max_failed:
                break
            status = self.delete_one(request, account, path)
            if status // 100 == 2:
                deleted += 1
            elif status == 404:
                not_found += 1
            else:
                errors.append([quote(path), _status_line(status)])
        statuses = {status for _, status in errors}
        overall = "200 OK" if not errors else statuses.pop() if len(statuses) == 1 else "400 Bad Request"
        return {
            "Number Deleted": deleted,
            "Number Not Found": not_found,
            "Response Status": overall,
            "Response Body": "",
            "Errors": errors,
        }

    def delete_one(self, request: Request, account: str, path: str) -> int:
        """The status of a DELETE of ``path`` (``/container[/object]``) sent down the pipeline."""
        sub = Request.blank(quote(f"/v1/{account}/{path.lstrip('/')}"), method="DELETE")
        for key in PASSED_ON:
            if key in request.environ:
                sub.environ[key] = request.environ[key]
        return sub.get_response(self.app).status_int


def _status_line(status: int) -> str:
    return f"{status} {Response(status=status).status.split(' ', 1)[1]}"


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    register_swift_info(
        "bulk_delete",
        max_deletes_per_request=int(conf.get("max_deletes_per_request", DEFAULT_MAX_DELETES)),
        max_failed_deletes=int(conf.get("max_failed_deletes", DEFAULT_MAX_FAILED)),
    )
    return lambda app: Bulk(app, conf)
