"""``bulk``: Swift's bulk operations: many objects and containers removed, or created from
an archive, by one request.

**Bulk delete.** ``POST`` (or ``DELETE``) ``/v1/<account>?bulk-delete`` with a ``text/plain``
body of one URL-encoded ``/<container>/<object>`` or ``/<container>`` per line deletes each, in
order, by sending a ``DELETE`` for it down the pipeline, so each is authorized and logged like
any other delete. The answer is always 200, and its body, in the format ``Accept`` asks for
(``text/plain``, ``application/json``, ``application/xml``), reports::

    Number Deleted: 2
    Number Not Found: 1
    Response Body:
    Response Status: 400 Bad Request
    Errors:
    /photos/locked, 403 Forbidden

A name that is not there counts as not found, not as an error; a container that still
holds objects is an error (409). ``Response Status`` is ``200 OK`` when nothing failed,
else the status of the failures (``400 Bad Request`` when they differ).

**Extract archive.** ``PUT /v1/<account>[/<container>[/<prefix>]]?extract-archive=<format>``
(``tar``, ``tar.gz`` or ``tar.bz2``; another is ``400 Unsupported archive format``) with a tar
archive as the body (``Content-Length`` or chunked) stores each regular file in it as the object
``<container>/<prefix>/<its path>``, by a ``PUT`` sent down the pipeline, so each is authorized,
quota-checked, rate-limited and checked for ``X-Delete-At`` like any other. The archive is read
as a stream, one file at a time, never held whole. Into an account, each file's first path
component is its container, made (HEAD, then PUT) if it is not there; a file at the archive's
top level is skipped, as are directories, links and devices. Each file gets the request's
``X-Delete-At``, ``X-Delete-After`` and ``X-Object-Meta-*``, and, from the archive's pax
headers (GNU tar's ``SCHILY.xattr.`` and bsdtar's ``LIBARCHIVE.xattr.``), its ``user.mime_type``
as ``Content-Type`` and its ``user.meta.*`` as ``X-Object-Meta-*``. The answer is always 200,
streamed: a space (or the XML declaration) every ``yield_frequency`` seconds while files are
stored, then, after ``\r\n\r\n`` if anything went before, the report, as Swift writes it::

    Number Files Created: 10
    Response Body:
    Response Status: 201 Created
    Errors:

A file that failed is listed with its status (``412`` for a name that is not UTF-8, ``413`` for
one over ``max_file_size``, else its PUT's answer) and ``Response Status`` is then ``400 Bad
Request`` (``502 Bad Gateway`` if one failed with a 5xx); a container that could not be made is
listed too. No file stored is ``400`` with ``Invalid Tar File: No Valid Files``; an archive that
cannot be read is ``400`` with ``Invalid Tar File: <why>``; a 401 from any PUT stops it all
(``401 Unauthorized``); so do more than ``max_containers_per_extraction`` containers made
(``400``, ``More than N containers to create from tar.``) and ``max_failed_extractions``
failures; a body that has neither a length nor chunks is ``411``.

Settings (``[filter:bulk]``), Swift's with its defaults: ``max_deletes_per_request`` (10000),
``max_failed_deletes`` (1000: stop after that many failures), ``max_containers_per_extraction``
(10000), ``max_failed_extractions`` (1000), ``yield_frequency`` (10 seconds). ``/info`` lists
them as Swift's does, under ``bulk_delete`` and ``bulk_upload``. It sits after ``auth``.

``paste.ini``::

    [filter:bulk]
    use = egg:librgw#bulk

Example: ``curl -T photos.tar.gz -H "X-Auth-Token: $TOKEN" "$URL/photos?extract-archive=tar.gz"``.
"""

from __future__ import annotations

import logging
import tarfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from webob import Request, Response, exc

from .registry import register_swift_info
from .request_identity import IDENTITY_KEY
from .request_log import TRANS_ID_KEY
from .swift.answer_bodies import STOCK_PAGE_TYPE
from .swift.constraints import Limits
from .swift.heartbeat_body import heartbeat_body
from .swift.listing import accepted_type
from .swift.request_body import read_document
from .wsgi_path import api_parts, path_text

DEFAULT_MAX_DELETES = 10000
DEFAULT_MAX_FAILED = 1000
DEFAULT_MAX_CONTAINERS = 10000
DEFAULT_MAX_FAILED_EXTRACTIONS = 1000
DEFAULT_YIELD_FREQUENCY_S = 10
ARCHIVE_COMPRESSIONS = {"tar": "", "tar.gz": "gz", "tar.bz2": "bz2"}  # tarfile's stream modes, r|<this>
PAX_XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")  # GNU tar's, bsdtar's
COPIED_TO_FILES = ("x-delete-at", "x-delete-after")  # and X-Object-Meta-*
LOG = logging.getLogger("librgw.bulk")
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


def archive_compression(value: str) -> str | None:
    """tarfile's stream compression for an ``extract-archive`` value; None for a format not served."""
    return ARCHIVE_COMPRESSIONS.get(value.lower().strip("."))


def pax_header(key: str) -> str | None:
    """The object header an archive member's pax header ``key`` sets, if any: ``user.mime_type``
    is its ``Content-Type``, ``user.meta.<name>`` its ``X-Object-Meta-<name>``."""
    for prefix in PAX_XATTR_PREFIXES:
        if key == prefix + "user.mime_type":
            return "Content-Type"
        if key.startswith(prefix + "user.meta."):
            return "X-Object-Meta-" + key[len(prefix + "user.meta.") :]
    return None


def file_headers(request: Request, member: tarfile.TarInfo) -> dict[str, str]:
    """The headers of the PUT that stores ``member``: the request's expiry and object metadata,
    then the member's own (pax) ones."""
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() in COPIED_TO_FILES or name.lower().startswith("x-object-meta-")
    }
    for key, value in member.pax_headers.items():
        header = pax_header(key)
        if header:
            headers[header] = value
    return headers


class ExtractionStopped(Exception):
    """The whole extraction ends, its report saying ``status`` and ``body`` (none for a stock
    refusal, as Swift's reports give none)."""

    def __init__(self, status: int, body: str = "") -> None:
        super().__init__(body)
        self.status = status
        self.body = body


@dataclass
class Extraction:
    """How an archive's extraction went: the report's fields and errors, as they grow."""

    created: int = 0
    errors: list[list[str]] = field(default_factory=list)
    failed_status: int = 400  # 502 once a file failed with a server error
    containers_seen: set[str] = field(default_factory=set)
    containers_made: int = 0


class Bulk:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.max_deletes = int(conf.get("max_deletes_per_request", DEFAULT_MAX_DELETES))
        self.max_failed = int(conf.get("max_failed_deletes", DEFAULT_MAX_FAILED))
        self.max_containers = int(conf.get("max_containers_per_extraction", DEFAULT_MAX_CONTAINERS))
        self.max_failed_extractions = int(conf.get("max_failed_extractions", DEFAULT_MAX_FAILED_EXTRACTIONS))
        self.yield_frequency = float(conf.get("yield_frequency", DEFAULT_YIELD_FREQUENCY_S))
        self.limits = Limits.from_conf(conf)
        self.max_path_length = self.limits.max_object_name_length + self.limits.max_container_name_length + 2

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        query, method = environ.get("QUERY_STRING", ""), environ.get("REQUEST_METHOD")
        asks_delete = "bulk-delete" in query and method in ("POST", "DELETE")
        asks_extract = "extract-archive" in query and method == "PUT" and path_text(environ) is not None
        if not (asks_delete or asks_extract):
            return self.app(environ, start_response)
        request = Request(environ)
        try:
            params = request.GET
        except UnicodeDecodeError:  # not a query of ours; the gateway answers it (400)
            return self.app(environ, start_response)
        if asks_extract and "extract-archive" in params:
            return self.extract_archive(request, params["extract-archive"])(environ, start_response)
        if asks_delete and "bulk-delete" in params:
            return self.bulk_delete(request)(environ, start_response)
        return self.app(environ, start_response)

    def bulk_delete(self, request: Request) -> Response:
        parts = request.path_info.split("/")
        if len(parts) != 3 or parts[1] != "v1" or not parts[2]:
            return exc.HTTPBadRequest("bulk-delete is asked of an account: /v1/<account>?bulk-delete")
        fmt = accepted_type(request)
        try:
            paths = paths_to_delete(request, self.max_deletes)
        except exc.HTTPException as error:
            return error
        fields, errors = self.delete_all(request, parts[2], paths)
        return Response(body=heartbeat_body(fmt, fields, errors, "delete"), content_type=fmt, charset="utf-8")

    def delete_all(self, request: Request, account: str, paths: list[str]) -> tuple[dict, list[list[str]]]:
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
        fields = {
            "Response Status": overall,
            "Response Body": "",
            "Number Deleted": deleted,
            "Number Not Found": not_found,
        }
        return fields, errors

    def delete_one(self, request: Request, account: str, path: str) -> int:
        """The status of a DELETE of ``path`` (``/container[/object]``) sent down the pipeline."""
        return self.subrequest(request, "DELETE", f"/v1/{account}/{path.lstrip('/')}").get_response(self.app).status_int

    # -- extract-archive

    def extract_archive(self, request: Request, archive_format: str) -> Response:
        compression = archive_compression(archive_format)
        if compression is None:
            return exc.HTTPBadRequest(body="Unsupported archive format", content_type=STOCK_PAGE_TYPE)
        fmt = accepted_type(request)
        return Response(status=200, content_type=fmt, charset=None, app_iter=self.extraction(request, compression, fmt))

    def extraction(self, request: Request, compression: str, fmt: str) -> Iterator[bytes]:
        """The answer's body, streamed as the archive's files are stored: heartbeats, then the report."""
        heartbeat = b'<?xml version="1.0" encoding="UTF-8"?>\n' if fmt.endswith("/xml") else b" "
        separator = b""
        fields = {"Response Status": "201 Created", "Response Body": "", "Number Files Created": 0}
        done = Extraction()
        try:
            for _ in self.extract_files(request, compression, done):
                yield heartbeat
                heartbeat, separator = b" ", b"\r\n\r\n"
            if done.errors:
                fields["Response Status"] = _status_line(done.failed_status)
            elif not done.created:
                fields["Response Status"], fields["Response Body"] = (
                    "400 Bad Request",
                    "Invalid Tar File: No Valid Files",
                )
        except ExtractionStopped as stop:
            fields["Response Status"], fields["Response Body"] = _status_line(stop.status), stop.body
        except tarfile.TarError as error:
            fields["Response Status"], fields["Response Body"] = "400 Bad Request", f"Invalid Tar File: {error}"
        except Exception:
            LOG.exception("Error in extract archive.")
            fields["Response Status"] = "500 Internal Error"
        fields["Number Files Created"] = done.created
        yield separator + heartbeat_body(fmt, fields, done.errors, "extract")

    def extract_files(self, request: Request, compression: str, done: Extraction) -> Iterator[None]:
        """Store the archive's files, recording how it went in ``done``; yields whenever a
        heartbeat is due."""
        if request.content_length is None and request.headers.get("Transfer-Encoding", "").lower() != "chunked":
            raise ExtractionStopped(411)
        parts = api_parts(request.environ)
        if not parts:
            raise ExtractionStopped(404)
        account, base = parts[0], "/".join(parts[1:]).rstrip("/")
        archive = tarfile.open(mode="r|" + compression, fileobj=request.body_file)
        last_beat = time.monotonic()
        while True:
            if time.monotonic() - last_beat > self.yield_frequency:
                last_beat = time.monotonic()
                yield
            member = archive.next()
            if member is None or len(done.errors) >= self.max_failed_extractions:
                return
            if member.isfile():
                self.extract_file(request, archive, member, (account, base), done)

    def extract_file(
        self,
        request: Request,
        archive: tarfile.TarFile,
        member: tarfile.TarInfo,
        where: tuple[str, str],
        done: Extraction,
    ) -> None:
        """Store one regular file of the archive at ``where`` (the account and the path under
        it the archive goes to), as Swift's extraction does."""
        account, base = where
        name = member.name.removeprefix("./").lstrip("/")
        name = f"{base}/{name}" if base else name
        if "/" not in name:
            return  # a file at the top of an archive into an account: no container to go in
        shown = quote(name.encode("utf-8", "surrogateescape")[: self.max_path_length])
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            done.errors.append([shown, "412 Precondition Failed"])
            return
        if member.size > self.limits.max_file_size:
            done.errors.append([shown, "413 Request Entity Too Large"])
            return
        container = name.split("/", 1)[0]
        container_error = None
        if container not in done.containers_seen:
            container_error = self.make_container(request, account, container, done)
        put = self.subrequest(request, "PUT", f"/v1/{account}/{name}", file_headers(request, member))
        put.environ["wsgi.input"] = archive.extractfile(member)
        put.environ["CONTENT_LENGTH"] = str(member.size)
        status = put.get_response(self.app).status_int
        done.containers_seen.add(container)
        if status // 100 == 2:
            done.created += 1
            return
        if container_error:
            done.errors.append(container_error)
        done.errors.append([shown, _status_line(status)])
        if status == 401:
            raise ExtractionStopped(401)
        if status // 100 == 5:
            done.failed_status = 502

    def make_container(self, request: Request, account: str, container: str, done: Extraction) -> list[str] | None:
        """Make ``container`` if it is not there: the error to report if that failed (the
        files' PUTs may still succeed), None if it is there now."""
        path = f"/v1/{account}/{container}"
        status = self.subrequest(request, "HEAD", path).get_response(self.app).status_int
        if status // 100 == 2:
            return None
        if status == 404:
            status = self.subrequest(request, "PUT", path).get_response(self.app).status_int
            if status // 100 == 2:
                done.containers_made += 1
                if done.containers_made > self.max_containers:
                    raise ExtractionStopped(400, f"More than {self.max_containers} containers to create from tar.")
                return None
        if status == 401:
            raise ExtractionStopped(401)
        return [quote(path.encode()[: self.max_path_length]), _status_line(status)]

    def subrequest(self, request: Request, method: str, path: str, headers: dict | None = None) -> Request:
        """A ``method`` request for ``path`` (text) on the client's behalf, to send down the pipeline."""
        sub = Request.blank(quote(path), method=method, headers=headers or {})
        for key in PASSED_ON:
            if key in request.environ:
                sub.environ[key] = request.environ[key]
        return sub


def _status_line(status: int) -> str:
    return f"{status} {Response(status=status).status.split(' ', 1)[1]}"


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    register_swift_info(
        "bulk_delete",
        max_deletes_per_request=int(conf.get("max_deletes_per_request", DEFAULT_MAX_DELETES)),
        max_failed_deletes=int(conf.get("max_failed_deletes", DEFAULT_MAX_FAILED)),
    )
    register_swift_info(
        "bulk_upload",
        max_containers_per_extraction=int(conf.get("max_containers_per_extraction", DEFAULT_MAX_CONTAINERS)),
        max_failed_extractions=int(conf.get("max_failed_extractions", DEFAULT_MAX_FAILED_EXTRACTIONS)),
    )
    return lambda app: Bulk(app, conf)
