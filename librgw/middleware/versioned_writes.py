"""``versioned_writes``: Swift's legacy object versioning, ``X-Versions-Location`` (stack mode)
and ``X-History-Location`` (history mode), which keep an object's old copies as objects of
another container of the account, the archive, that clients list and read as any other.

A container's users (whoever may POST to it) name its archive container::

    X-Versions-Location: <archive>     # stack mode
    X-History-Location: <archive>      # history mode

The value is the archive's URL-encoded name; one holding ``/`` is ``412 Container name
cannot contain slashes``. Only one of the two may be set: both non-empty in one request is
``400 Only one of x-versions-location or x-history-location may be specified`` (text/plain);
an empty one is ignored next to the other. An empty value, ``X-Remove-Versions-Location`` or
``X-Remove-History-Location`` (any non-empty value) stops the versioning, whichever mode it
was in; a new location wins over a removal in the same request. HEAD and GET of the
container answer the one set. ``X-Versions-Enabled`` (the core's versioning,
``swift/versions.py``) on a container that has either is ``400 Cannot enable object
versioning on a container that is already using the legacy versioned writes feature.``, as
Swift's ``object_versioning`` answers; the other way round is allowed, as in Swift.

Once set, on an object of the container (a PUT, a COPY or ``X-Copy-From`` onto it, a DELETE;
never a POST, which changes metadata only, nor a request naming a ``?version-id``):

- **PUT** (both modes) first copies the current object, if there is one, to
  ``<archive>/<len><name>/<timestamp>``: ``len`` the object name's length in UTF-8 bytes as
  three hex digits, ``timestamp`` the current object's ``X-Timestamp`` (``%016.5f``), Swift's
  ``%03x%s/%s``.
- **DELETE in stack mode** pops the newest archived copy back: it is copied over the object
  and removed from the archive, and the answer is that removal's (204); with none, the
  object is deleted. A delete marker left in the archive by history mode is handled as
  Swift does: if the object is gone, the newest copy before the marker comes back and the
  marker goes; if the object is there, it is deleted.
- **DELETE in history mode** copies the current object to the archive as a PUT does, adds a
  delete marker there (0 bytes, ``Content-Type: application/x-deleted;swift_versions_deleted=1``,
  named with the time of the DELETE), then deletes the object.

The archive container must exist (in the same account): a copy that fails there for the
client's side (a missing archive) is ``412 Precondition Failed``, one failing for the
server's ``503``, and the request goes no further. The client must be allowed the request
itself: the filter asks the gateway first with a probe of the request that stops right after
its authorization (``may_write``), then reads and writes the archive on its own authority
(``temp_url_keys.pre_authorized``), as Swift's ``make_pre_authed_request`` and RGW's
``swift_versioning_copy`` do, so the archive may be closed to who writes the container.

Copies are the gateway's server-side copies (``X-Copy-From``), which share the source's
tail data in the core as RGW's ``copy_obj`` does, rather than Swift's GET and PUT of the
bytes; metadata, content headers and ``X-Delete-At`` go with them. S3 writes reach the
filter as native requests (through ``s3``), so an S3 client's overwrite is archived too, as
in RGW, where Swift's versioning lives in the core. A multipart upload's completion is not
archived. Each versioned write costs a HEAD of the container and, when versioned, of the
object; the gateway keeps the location with the container (``swift/versions.py``), as
RGW's bucket info keeps ``swift_ver_location``.

Settings (Swift's): ``allow_versioned_writes`` (default false, as Swift's). While false a
request setting a location is ``412 Versioned Writes is disabled``, nothing is archived, and
``/info`` lists no ``versioned_writes``; while true ``/info`` says
``"versioned_writes": {"allowed_flags": ["x-versions-location", "x-history-location"]}``::

    [filter:versioned_writes]
    use = egg:librgw#versioned_writes
    allow_versioned_writes = true

Example::

    curl -X PUT -H "X-Auth-Token: $T" "$URL/archive"
    curl -X PUT -H "X-Auth-Token: $T" -H "X-Versions-Location: archive" "$URL/docs"
    curl -X PUT -H "X-Auth-Token: $T" -d one "$URL/docs/report"
    curl -X PUT -H "X-Auth-Token: $T" -d two "$URL/docs/report"    # archive/006report/<t1> holds one
    curl -X DELETE -H "X-Auth-Token: $T" "$URL/docs/report"         # docs/report is one again
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlencode

from webob import Request, exc

from .registry import register_swift_info
from .request_identity import AUTHORIZE_KEY
from .segments import subrequest, swift_answer
from .swift.context import SKIP_USAGE
from .swift.versions import DELETE_MARKER_CONTENT_TYPE, ENABLED_HEADER, LEGACY_MODES
from .temp_url_keys import pre_authorized
from .wsgi_path import api_parts

VW_USER = ".wsgi.versioned_writes"
CLIENT_VERSIONS_LOC, CLIENT_HISTORY_LOC = "X-Versions-Location", "X-History-Location"
REMOVE_HEADERS = ("X-Remove-Versions-Location", "X-Remove-History-Location")
ALLOWED_FLAGS = ("x-versions-location", "x-history-location")
TRUE = {"true", "1", "yes", "on", "t", "y"}
# Queries of a PUT or DELETE that still write the current object (others: a part, an ACL...)
VERSIONED_QUERIES = frozenset({"multipart-manifest", "heartbeat"})
PLAIN = "text/plain"
PRECONDITION_FAILED = "<html><h1>Precondition Failed</h1><p>A precondition for this request was not met.</p></html>"
UNAVAILABLE = (
    "<html><h1>Service Unavailable</h1><p>The server is currently unavailable. "
    "Please try again at a later time.</p></html>"
)
BOTH_SET = f"Only one of {ALLOWED_FLAGS[0]} or {ALLOWED_FLAGS[1]} may be specified"
LEGACY_IN_USE = (
    "Cannot enable object versioning on a container that is already using the legacy versioned writes feature."
)


class ArchiveFailed(Exception):
    """A request to the archive (or restoring from it) failed; ``answer`` is the client's."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        client_side = 400 <= status < 500
        self.answer = swift_answer(412, PRECONDITION_FAILED) if client_side else swift_answer(503, UNAVAILABLE)


class Authorized(exc.HTTPPreconditionFailed):
    """What ``may_write``'s probe answers once authorized, so that it goes no further."""


@dataclass(frozen=True)
class Versioned:
    """An object of a container with a legacy location: names as text."""

    account: str
    container: str
    obj: str
    archive: str
    mode: str  # "stack" or "history"

    def path(self) -> str:
        return f"/v1/{self.account}/{self.container}/{self.obj}"

    def archive_path(self, name: str = "") -> str:
        return f"/v1/{self.account}/{self.archive}" + (f"/{name}" if name else "")

    def prefix(self) -> str:
        """Swift's ``%03x%s/``: the archived copies' names start so."""
        return f"{len(self.obj.encode('utf-8')):03x}{self.obj}/"


def timestamp_name(timestamp: float) -> str:
    """Swift's ``Timestamp(ts).internal`` of a time in seconds."""
    return f"{timestamp:016.5f}"


def legacy_location(headers: dict[str, str]) -> tuple[str, str] | None:
    """(archive container as text, mode) a container HEAD's (lower-cased) ``headers`` name."""
    for mode, header in LEGACY_MODES.items():
        value = headers.get(header.lower())
        if value:
            return unquote(value).split("/")[0], mode
    return None


def container_change(request: Request, allowed: bool) -> exc.HTTPException | None:
    """Check and normalize a container PUT's or POST's location headers in place (one of them,
    or the removal, goes on to the gateway); the refusal to answer instead, if any."""
    headers = request.headers
    if CLIENT_VERSIONS_LOC in headers and CLIENT_HISTORY_LOC in headers:
        if not headers[CLIENT_HISTORY_LOC]:
            del headers[CLIENT_HISTORY_LOC]
        elif headers[CLIENT_VERSIONS_LOC]:
            return swift_answer(400, BOTH_SET, PLAIN)
        else:
            del headers[CLIENT_VERSIONS_LOC]
    header = next((name for name in (CLIENT_VERSIONS_LOC, CLIENT_HISTORY_LOC) if name in headers), None)
    if header is not None:
        value = headers[header]
        if not value:
            del headers[header]
            headers[REMOVE_HEADERS[0]] = "x"
        elif not allowed:
            return swift_answer(412, "Versioned Writes is disabled", PLAIN)
        elif "/" in value:
            return swift_answer(412, "Container name cannot contain slashes")
        else:
            for name in REMOVE_HEADERS:  # a new location wins over a removal
                headers.pop(name, None)
    if any(headers.get(name) for name in REMOVE_HEADERS):
        headers[REMOVE_HEADERS[0]] = "x"
    return None


def _blank(environ: dict, method: str, path: str, query: str = "", headers: dict | None = None) -> Request:
    """A request of the filter's own authority, as the account's owner."""
    own = {**pre_authorized(environ, method, path, VW_USER), "swift_owner": True, "QUERY_STRING": query}
    own[SKIP_USAGE] = method == "HEAD"  # a container's HEAD is read for its versions location alone
    return Request.blank("/", environ=own, headers=headers or {})


def head_headers(app: Callable, environ: dict, path: str) -> tuple[int, dict[str, str]]:
    """(status, lower-cased headers) of a HEAD of ``path`` on the filter's own authority."""
    response = _blank(environ, "HEAD", path).get_response(app)
    return response.status_int, {name.lower(): value for name, value in response.headerlist}


def may_write(app: Callable, environ: dict, method: str, path: str) -> bool:
    """May ``environ``'s client ``method`` (PUT or DELETE) the object at ``path``? Asked with a
    probe that the gateway authorizes as it would the request, then stops (``Authorized``)."""
    seen: list[bool] = []
    authorize = environ.get(AUTHORIZE_KEY)

    def authorize_then_stop(request: Request) -> exc.HTTPException | None:
        refused = authorize(request) if callable(authorize) else None
        if refused is not None:
            return refused
        seen.append(True)
        return Authorized()

    probe = subrequest(environ, method, path, headers={"Content-Length": "0"})
    probe.environ[AUTHORIZE_KEY] = authorize_then_stop
    probe.get_response(app)
    return bool(seen)


class VersionedWrites:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.allowed = str(conf.get("allow_versioned_writes", "false")).lower() in TRUE

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        parts = api_parts(environ)
        if len(parts) == 2 and request.method in ("PUT", "POST"):
            refusal = self.container_request(request, parts)
            if refusal is not None:
                return refusal(environ, start_response)
        elif len(parts) == 3 and parts[2] and self.allowed and request.method in ("PUT", "COPY", "DELETE"):
            try:
                return self.object_request(request, parts)(environ, start_response)
            except ArchiveFailed as failed:
                return failed.answer(environ, start_response)
        return self.app(environ, start_response)

    def container_request(self, request: Request, parts: list[str]) -> exc.HTTPException | None:
        if ENABLED_HEADER in request.headers:
            status, headers = head_headers(self.app, request.environ, f"/v1/{parts[0]}/{parts[1]}")
            if status // 100 == 2 and legacy_location(headers) is not None:
                return swift_answer(400, LEGACY_IN_USE)
        return container_change(request, self.allowed)

    def object_request(self, request: Request, parts: list[str]) -> Callable:
        """The app that answers an object write: the pipeline, once the archive has its copy,
        or (a stack-mode DELETE that restored a copy) the removal of that copy."""
        query = request.environ.get("QUERY_STRING", "")
        if query and ({name for name, _, _ in (p.partition("=") for p in query.split("&"))} - VERSIONED_QUERIES):
            return self.app
        target = self.target(request, parts)
        if target is None:
            return self.app
        if request.method == "DELETE" and target.mode == "stack":
            return self.pop(request, target)
        if not may_write(self.app, request.environ, "DELETE" if request.method == "DELETE" else "PUT", target.path()):
            return self.app  # refused below, as it would be anyway
        self.archive_current(request.environ, target)
        if request.method == "DELETE":
            self.put_delete_marker(request.environ, target)
        return self.app

    def target(self, request: Request, parts: list[str]) -> Versioned | None:
        """The object a write changes (a COPY's is its ``Destination``, in this account), if its
        container has a legacy location."""
        account, container, obj = parts
        if request.method == "COPY":
            if "Destination-Account" in request.headers:
                return None
            destination = unquote(request.headers.get("Destination", "")).lstrip("/")
            container, _, obj = destination.partition("/")
            if not container or not obj:
                return None  # refused below
        status, headers = head_headers(self.app, request.environ, f"/v1/{account}/{container}")
        location = legacy_location(headers) if status // 100 == 2 else None
        return Versioned(account, container, obj, *location) if location is not None else None

    def archive_current(self, environ: dict, target: Versioned) -> None:
        """Copy the current object, if any, into the archive (Swift's ``_copy_current``)."""
        status, headers = head_headers(self.app, environ, target.path())
        if status == 404:
            return
        _check(status)
        name = target.prefix() + timestamp_name(float(headers["x-timestamp"]))
        _check(self.copy(environ, f"/{target.container}/{target.obj}", target.archive_path(name)))

    def copy(self, environ: dict, source: str, destination: str) -> int:
        """Copy ``source`` (``/container/object``, text) to ``destination`` (a path, text), server
        side: the answer's status."""
        headers = {"X-Copy-From": quote(source), "Content-Length": "0"}
        return _blank(environ, "PUT", destination, headers=headers).get_response(self.app).status_int

    def put_delete_marker(self, environ: dict, target: Versioned) -> None:
        name = target.prefix() + timestamp_name(time.time())
        headers = {"Content-Type": DELETE_MARKER_CONTENT_TYPE, "Content-Length": "0"}
        _check(_blank(environ, "PUT", target.archive_path(name), headers=headers).get_response(self.app).status_int)

    def archived(self, environ: dict, target: Versioned) -> Iterator[dict]:
        """The object's archived copies and delete markers, newest first."""
        marker = ""
        while True:
            query = urlencode({"format": "json", "prefix": target.prefix(), "marker": marker, "reverse": "on"})
            response = _blank(environ, "GET", target.archive_path(), query).get_response(self.app)
            if response.status_int == 404:
                return
            _check(response.status_int)
            page = json.loads(response.body or b"[]")
            if not page:
                return
            yield from page
            marker = page[-1]["name"]

    def restore(self, environ: dict, target: Versioned, name: str) -> bool:
        """Copy archived ``name`` over the object; False if it is gone meanwhile."""
        status = self.copy(environ, f"/{target.archive}/{name}", target.path())
        if status == 404:
            return False
        _check(status)
        return True

    def pop(self, request: Request, target: Versioned) -> Callable:
        """A stack-mode DELETE (Swift's ``handle_obj_versions_delete_pop``): the app answering it."""
        environ = request.environ
        copies = self.archived(environ, target)
        authorized = False
        for previous in copies:
            authorized = authorized or may_write(self.app, environ, "DELETE", target.path())
            if not authorized:
                return self.app  # refused below, as it would be anyway
            if previous.get("content_type") == DELETE_MARKER_CONTENT_TYPE:
                status, _ = head_headers(self.app, environ, target.path())
                if status != 404:
                    _check(status)
                    return self.app
                for version in copies:
                    if version.get("content_type") == DELETE_MARKER_CONTENT_TYPE:
                        break
                    if self.restore(environ, target, version["name"]):
                        status = _blank(environ, "DELETE", target.archive_path(version["name"])).get_response(self.app)
                        if status.status_int != 404:
                            _check(status.status_int)
                        break
            elif not self.restore(environ, target, previous["name"]):
                continue
            return _blank(environ, "DELETE", target.archive_path(previous["name"])).get_response(self.app)
        return self.app


def _check(status: int) -> None:
    if status // 100 != 2:
        raise ArchiveFailed(status)


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    if str(conf.get("allow_versioned_writes", "false")).lower() in TRUE:
        register_swift_info("versioned_writes", allowed_flags=list(ALLOWED_FLAGS))
    return lambda app: VersionedWrites(app, conf)
