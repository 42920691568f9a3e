"""``slo``: Swift's Static Large Objects, an object made of other objects (its segments) that a
JSON manifest lists, read as one.

**PUT** ``?multipart-manifest=put`` with a JSON list, one item per segment::

    [{"path": "/segments/big.000", "etag": "<md5>", "size_bytes": 1048576},
     {"path": "/segments/big.001", "etag": null, "size_bytes": null, "range": "0-99"}]

``path`` is ``/<container>/<object>`` in the manifest's account; ``etag`` and ``size_bytes``
(optional, null for any) are checked against a HEAD of the segment, sent down on the client's
behalf; ``range`` (``M-N``, ``M-``, ``-N``) uses part of it. A segment may itself be a static
large object (a nested SLO). Any problem is a 400 that lists each bad segment, as Swift's
(``Errors:`` then ``<quoted path>, <problem>`` lines: ``404 Not Found``, ``Etag Mismatch``,
``Size Mismatch``, ``Unsatisfiable Range``), and nothing is stored; the manifest's own format
problems are a 400 naming each item by its index. A good manifest is stored as the object's
body in Swift's form (``name``, ``hash``, ``bytes``, ``content_type``, ``last_modified``,
``range``, ``sub_slo``) with ``X-Static-Large-Object: True``; the answer's ``ETag`` is the
large object's, ``"<md5 of the segments' ETags>"`` (a ranged segment counts as
``<etag>:<range>;``). With ``&heartbeat=on`` the answer is a 202 at once, then spaces while the
segments are checked, then the result (``Response Status``, ``Etag``, ``Errors``) in the
format ``Accept`` asks for. ``X-Static-Large-Object`` on any other PUT or POST is refused (it
is the filter's to set); a POST to a manifest keeps it.

**GET/HEAD** of a manifest answers the large object: its segments' bytes in order, streamed
(``segments.py``), ``Content-Length`` their total, ``ETag`` the quoted large-object ETag (``X-Manifest-Etag``
the stored manifest's own), which
``If-Match`` / ``If-None-Match`` are checked against; ``Range`` (one range or several) reads
across or within segments. ``?multipart-manifest=get`` answers the stored manifest itself
(``application/json; charset=utf-8``); with ``&format=raw``, in the form a PUT takes
(``path``, ``etag``, ``size_bytes``, ``range``) with the object's own content type, so it
can be uploaded again. A COPY of a manifest (or PUT with ``X-Copy-From``) copies the assembled
bytes into a normal object; with ``?multipart-manifest=get`` it copies the manifest.

**DELETE** ``?multipart-manifest=delete`` deletes every segment (nested manifests' too) and
then the manifest, answering as ``bulk`` does (``Number Deleted``, ``Number Not Found``,
``Errors``); 400 "Not an SLO manifest" for another object.

Settings (``[filter:slo]``, Swift's names and defaults, listed in ``/info`` under ``slo``):
``max_manifest_segments`` (1000), ``max_manifest_size`` (8 MiB, of the manifest's JSON),
``yield_frequency`` (10 seconds between heartbeat spaces); ``min_segment_size`` is listed as
1, as Swift lists it (any segment but the last must hold a byte).

It speaks only Swift's protocol, so it runs in an OpenStack Swift proxy too
(``use = egg:librgw#slo``, where Swift's own ``slo`` would be).
"""

from __future__ import annotations

import json
import mimetypes
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from hashlib import md5
from urllib.parse import quote

from webob import Request, Response, exc

from librgw.objects import LISTED_ETAG

from .listing_params import hash_params, rewrite_listing, with_params
from .registry import register_swift_info
from .segments import (
    AS_STORED,
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
from .swift.heartbeat_body import heartbeat_body
from .swift.listing import accepted_type
from .swift.metadata import SWIFT_BYTES

DEFAULT_MAX_MANIFEST_SEGMENTS = 1000
DEFAULT_MAX_MANIFEST_SIZE = 8 * 1024 * 1024
DEFAULT_YIELD_FREQUENCY = 10
MIN_SEGMENT_SIZE = 1
DEFAULT_CONTENT_TYPE = "application/octet-stream"
SLO_HEADER = "X-Static-Large-Object"
PATH_KEYS = {"path", "etag", "size_bytes", "range"}
RANGE_RE = re.compile(r"^([0-9]*)-([0-9]*)$")
MAX_NESTING = 10  # how deep nested manifests are followed, as Swift's recursion limit
LISTING_MARK = b"slo_etag="
RESERVED = (
    "X-Static-Large-Object is a reserved header. "  # Swift's words
    "To create a static large object add query param multipart-manifest=put."
)


def is_slo(response: Response) -> bool:
    return response.headers.get(SLO_HEADER, "").lower() in ("true", "1", "yes", "on")


def parse_manifest(body: bytes, manifest_path: str) -> list[dict]:
    """The items of a manifest PUT's body; 400 naming each bad item by its index, as Swift's."""
    try:
        items = json.loads(body)
    except ValueError:
        raise swift_answer(400, "Manifest must be valid JSON.\n") from None
    if not isinstance(items, list):
        raise swift_answer(400, "Manifest must be a list.\n")
    errors = []
    for index, item in enumerate(items):
        problem = _item_problem(item, index, len(items), manifest_path)
        if problem:
            errors.append(f"Index {index}: {problem}")
    if errors:
        raise swift_answer(400, "".join(e + "\n" for e in errors), "text/plain")
    return items


def _item_problem(item: object, index: int, count: int, manifest_path: str) -> str | None:
    if not isinstance(item, dict):
        return "not a JSON object"
    if "path" not in item:
        return "expected keys to include one of 'path'"
    extra = sorted(set(item) - PATH_KEYS)
    if extra:
        return "extraneous keys " + ", ".join(json.dumps(key) for key in extra)
    if not isinstance(item["path"], str):
        return '"path" must be a string'
    if item.get("etag") is not None and not isinstance(item["etag"], str):
        return '"etag" must be a string or null (if provided)'
    if "/" not in item["path"].strip("/"):
        return "path does not refer to an object. Path must be of the form /container/object."
    if item.get("size_bytes") is not None:
        try:
            item["size_bytes"] = int(item["size_bytes"])
        except (TypeError, ValueError):
            return "invalid size_bytes"
        if item["size_bytes"] < MIN_SEGMENT_SIZE and index != count - 1:
            return "too small; each segment must be at least 1 byte."
    if "/".join(manifest_path.split("/", 3)[:3]) + "/" + item["path"].lstrip("/") == manifest_path:
        return "manifest must not include itself as a segment"
    if item.get("range"):
        match = RANGE_RE.match(str(item["range"]))
        if not match or match.groups() == ("", "") or "," in str(item["range"]):
            return "invalid range"
        if item.get("size_bytes") is not None and _range_in(str(item["range"]), item["size_bytes"]) is None:
            return "unsatisfiable range"
    return None


def _range_in(spec: str, size: int) -> tuple[int, int] | None:
    """``M-N``, ``M-`` or ``-N`` as inclusive bounds within ``size`` bytes; None if unsatisfiable."""
    first, last = RANGE_RE.match(spec).groups()
    if not first:
        count = int(last)
        return (max(size - count, 0), size - 1) if count and size else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end else None


def slo_etag(stored: list[dict]) -> str:
    """The large object's ETag: the MD5 of its segments' ETags (``<etag>:<range>;`` for a ranged one)."""
    digest = md5(usedforsecurity=False)
    for item in stored:
        digest.update((f"{item['hash']}:{item['range']};" if item.get("range") else item["hash"]).encode())
    return digest.hexdigest()


def listing_entry(item: dict) -> dict:
    """A JSON listing's entry as Swift's slo filter gives it: a manifest's ``hash`` its own
    ETag, and the large object's as ``slo_etag``."""
    if not isinstance(item.get("hash"), str) or ";" not in item["hash"]:
        return item
    value, params = hash_params(item)
    large_object_etag = dict(params).get("slo_etag")
    if large_object_etag is not None:
        item["hash"] = with_params(value, [(key, text) for key, text in params if key != "slo_etag"])
        item["slo_etag"] = f'"{large_object_etag}"'
    return item


def segment_length(item: dict) -> int:
    if item.get("range"):
        first, _, last = item["range"].partition("-")
        return int(last) - int(first) + 1
    return int(item["bytes"])


def _last_modified(response: Response) -> str:
    value = response.headers.get("Last-Modified")
    moment = parsedate_to_datetime(value) if value else datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


class StaticLargeObject:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.max_segments = int(conf.get("max_manifest_segments", DEFAULT_MAX_MANIFEST_SEGMENTS))
        self.max_size = int(conf.get("max_manifest_size", DEFAULT_MAX_MANIFEST_SIZE))
        self.yield_frequency = int(conf.get("yield_frequency", DEFAULT_YIELD_FREQUENCY))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        parts = text_path(request).split("/", 4)
        if len(parts) == 4 and parts[1] == "v1" and parts[3] and request.method == "GET":
            return rewrite_listing(request.get_response(self.app), LISTING_MARK, listing_entry)(environ, start_response)
        if len(parts) < 5 or parts[1] != "v1" or not parts[4]:
            return self.app(environ, start_response)
        try:
            manifest_param = request.GET.get("multipart-manifest")
        except UnicodeDecodeError:
            return self.app(environ, start_response)
        try:
            response = self.handle(request, manifest_param)
        except exc.HTTPException as error:
            response = error
        return response(environ, start_response)

    def handle(self, request: Request, manifest_param: str | None) -> Response:
        method = request.method
        if method == "PUT" and manifest_param == "put":
            return self.put_manifest(request)
        if method == "DELETE" and manifest_param == "delete":
            return self.delete_manifest(request)
        if method in ("GET", "HEAD"):
            return self.get(request, manifest_param == "get")
        if SLO_HEADER in request.headers:
            raise swift_answer(400, RESERVED)
        if method == "POST":
            return self.post(request)
        if manifest_param != "get" and (method == "COPY" or (method == "PUT" and "X-Copy-From" in request.headers)):
            return self.copy(request)
        return request.get_response(self.app)

    # -- PUT ?multipart-manifest=put

    def put_manifest(self, request: Request) -> Response:
        if "X-Copy-From" in request.headers:
            raise swift_answer(405, "Multipart Manifest PUTs cannot be COPY requests")
        if request.content_length is None and request.headers.get("Transfer-Encoding", "").lower() != "chunked":
            raise exc.HTTPLengthRequired()
        if (request.content_length or 0) > self.max_size:
            raise swift_answer(413, f"Manifest File > {self.max_size} bytes")
        body = request.body_file.read(self.max_size + 1)
        if len(body) > self.max_size:
            raise swift_answer(413, f"Manifest File > {self.max_size} bytes")
        items = parse_manifest(body, text_path(request))
        if len(items) > self.max_segments:
            raise swift_answer(413, f"Number of object-backed segments must be <= {self.max_segments}")
        fmt = accepted_type(request)
        if request.GET.get("heartbeat", "").lower() in ("on", "true", "1", "yes"):
            return Response(status=202, content_type=fmt, charset=None, app_iter=self.heartbeat(request, items, fmt))
        stored, problems = self.check_segments(request, items)
        if problems:  # streamed (chunked), as Swift sends it
            return Response(
                status=400, app_iter=[heartbeat_body(fmt, {}, problems, "upload")], content_type=fmt, charset=None
            )
        return self.store(request, stored)

    def heartbeat(self, request: Request, items: list[dict], fmt: str) -> Iterator[bytes]:
        yield b" "
        last = time.monotonic()
        stored: list[dict] = []
        problems: list[list[str]] = []
        for index, item in enumerate(items):
            if time.monotonic() - last > self.yield_frequency:
                yield b" "
                last = time.monotonic()
            problems += self.check_segment(request, item, index == len(items) - 1, stored)
        fields: dict = {}
        if problems:
            fields = {"Response Status": "400 Bad Request", "Response Body": ""}
        else:
            result = self.store(request, stored)
            fields = {"Response Status": result.status, "Response Body": ""}
            if result.status_int // 100 == 2:
                fields["Etag"] = result.headers["ETag"]
                fields["Last Modified"] = result.headers.get("Last-Modified", "")
            else:
                fields["Response Body"] = result.body.decode("utf-8", "replace")
        yield b"\r\n\r\n" + heartbeat_body(fmt, fields, problems, "upload")

    def check_segments(self, request: Request, items: list[dict]) -> tuple[list[dict], list[list[str]]]:
        """Swift's stored manifest items for a PUT's ``items``, and the problems its segments have."""
        stored: list[dict] = []
        problems: list[list[str]] = []
        for index, item in enumerate(items):
            problems += self.check_segment(request, item, index == len(items) - 1, stored)
        return stored, problems

    def check_segment(self, request: Request, item: dict, last: bool, stored: list[dict]) -> list[list[str]]:
        """The problems of one segment, checked with a HEAD through this filter (so a nested
        manifest answers as the large object it is); its stored item appended to ``stored``."""
        name = item["path"]
        path = f"{account_path(request.environ)}/{name.lstrip('/')}"
        head = subrequest(request.environ, "HEAD", path).get_response(self)
        if head.status_int // 100 != 2:
            return [[quote(name), head.status]]
        problems = []
        size = head.content_length or 0
        length = size
        entry = {
            "name": "/" + name.lstrip("/"),
            "bytes": size,
            "hash": bare_etag(head.headers.get("ETag")),
            "content_type": head.headers.get("Content-Type", ""),
            "last_modified": _last_modified(head),
        }
        if item.get("range"):
            bounds = _range_in(str(item["range"]), size)
            if bounds is None:
                problems.append([quote(name), "Unsatisfiable Range"])
            elif bounds != (0, size - 1):
                entry["range"] = f"{bounds[0]}-{bounds[1]}"
                length = bounds[1] - bounds[0] + 1
        if length < MIN_SEGMENT_SIZE and not last:
            problems.append([quote(name), "Too small; each segment must be at least 1 byte."])
        if item.get("size_bytes") is not None and item["size_bytes"] != size:
            problems.append([quote(name), "Size Mismatch"])
        if item.get("etag") is not None and bare_etag(item["etag"]) != entry["hash"]:
            problems.append([quote(name), "Etag Mismatch"])
        if is_slo(head):
            entry["sub_slo"] = True
        stored.append(entry)
        return problems

    def store(self, request: Request, stored: list[dict]) -> Response:
        """PUT the manifest below, as the object's body; the answer names the large object's ETag."""
        etag = slo_etag(stored)
        client_etag = bare_etag(request.headers.get("ETag"))
        if client_etag and client_etag != etag:
            return exc.HTTPUnprocessableEntity()
        document = json.dumps(stored).encode()
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in ("content-length", "transfer-encoding", "etag", "content-type")
        }
        name = text_path(request).rsplit("/", 1)[-1]
        content_type = (
            request.headers.get("Content-Type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        stored_etag = md5(document, usedforsecurity=False).hexdigest()
        headers.update({SLO_HEADER: "True", "ETag": stored_etag})
        # the listing entry, as Swift's: the large object's size, and its ETag beside the manifest's
        headers["Content-Type"] = f"{content_type};{SWIFT_BYTES}{sum(segment_length(item) for item in stored)}"
        headers[LISTED_ETAG] = f"{stored_etag}; slo_etag={etag}"
        down = Request.blank("/", environ={**request.environ, "QUERY_STRING": ""}, headers=headers)
        down.method = "PUT"
        down.body = document
        response = down.get_response(self.app)
        if response.status_int // 100 == 2:
            response.headers["ETag"] = f'"{etag}"'
        return response

    # -- GET and HEAD

    def get(self, request: Request, manifest_get: bool) -> Response:
        if manifest_get:
            response = request.get_response(self.app)
            if not is_slo(response) or request.method == "HEAD":
                return response
            return self.manifest_answer(request, response)
        # A plain GET or HEAD goes on as it is and the answer shows whether it is a manifest (a
        # HEAD's answer then has no body: the manifest is read); one with a Range or conditions
        # (which must apply to the large object) asks first.
        probe = "Range" in request.headers or any(name.startswith("If-") for name in request.headers)
        if probe:
            head = self.as_stored(request, "HEAD")
            if not is_slo(head):
                return request.get_response(self.app)
            manifest = self.as_stored(request, "GET")
        else:
            manifest = request.get_response(self.app)
            if request.method == "HEAD" and is_slo(manifest):
                manifest = self.as_stored(request, "GET")
        if manifest.status_int != 200 or not is_slo(manifest):
            return manifest
        stored = _manifest_items(manifest, self.max_size)
        assembly = Assembly(self.app, request.environ, [_segment(request.environ, item) for item in stored], self)
        response = answer(request, assembly, manifest, slo_etag(stored))
        response.headers["X-Manifest-Etag"] = bare_etag(manifest.headers.get("ETag"))
        return response

    def as_stored(self, request: Request, method: str) -> Response:
        """A ``method`` of the object the request names, as stored (a manifest's own JSON)."""
        query = "&".join(filter(None, (request.query_string, AS_STORED)))
        return subrequest(request.environ, method, text_path(request), query).get_response(self.app)

    def manifest_answer(self, request: Request, response: Response) -> Response:
        if request.GET.get("format") != "raw":
            response.headers["Content-Type"] = "application/json; charset=utf-8"
            return response
        raw = [
            {
                "path": item["name"],
                "etag": item["hash"],
                "size_bytes": item["bytes"],
                **({"range": item["range"]} if item.get("range") else {}),
            }
            for item in _manifest_items(response, self.max_size)
        ]
        document = json.dumps(raw, sort_keys=True).encode()
        response.body = document
        response.headers["ETag"] = md5(document, usedforsecurity=False).hexdigest()
        return response

    # -- POST, COPY

    def post(self, request: Request) -> Response:
        """A POST to a manifest keeps it one (the gateway replaces what a POST does not name)."""
        if is_slo(self.as_stored(request, "HEAD")):
            request.headers[SLO_HEADER] = "True"
        return request.get_response(self.app)

    def copy(self, request: Request) -> Response:
        """A copy of a manifest is a copy of its bytes: they are read through this filter and PUT."""
        source = copy_source(request)
        if source is None:
            return request.get_response(self.app)
        head = subrequest(request.environ, "HEAD", source[0], AS_STORED).get_response(self.app)
        if not is_slo(head):
            return request.get_response(self.app)
        return copy_assembled(self, request, source)

    # -- DELETE ?multipart-manifest=delete

    def delete_manifest(self, request: Request) -> Response:
        fmt = accepted_type(request)
        manifest = self.as_stored(request, "GET")
        if manifest.status_int == 404:
            raise swift_answer(404, "SLO manifest not found")
        if manifest.status_int // 100 != 2:
            return manifest
        if not is_slo(manifest):
            raise swift_answer(400, "Not an SLO manifest")
        paths = self.segment_paths(request, _manifest_items(manifest, self.max_size), 0)
        deleted = not_found = 0
        errors: list[list[str]] = []
        for path in [*paths, text_path(request)]:
            status = subrequest(request.environ, "DELETE", path).get_response(self.app).status_int
            if status // 100 == 2:
                deleted += 1
            elif status == 404:
                not_found += 1
            else:
                errors.append([quote(path.split("/", 3)[3]), Response(status=status).status])
        result = {
            "Response Status": errors[0][1] if errors else "200 OK",
            "Response Body": "",
            "Number Deleted": deleted,
            "Number Not Found": not_found,
        }
        return Response(body=heartbeat_body(fmt, result, errors, "delete"), content_type=fmt, charset="utf-8")

    def segment_paths(self, request: Request, stored: list[dict], depth: int) -> list[str]:
        """Every segment's path, a nested manifest's segments before the nested manifest."""
        if depth > MAX_NESTING:
            raise swift_answer(400, "Too many nested manifests to delete.")
        paths = []
        for item in stored:
            path = f"{account_path(request.environ)}/{item['name'].lstrip('/')}"
            if item.get("sub_slo"):
                nested = subrequest(request.environ, "GET", path, AS_STORED).get_response(self.app)
                if nested.status_int // 100 == 2 and is_slo(nested):
                    paths += self.segment_paths(request, _manifest_items(nested, self.max_size), depth + 1)
            paths.append(path)
        return paths


def _manifest_items(response: Response, limit: int) -> list[dict]:
    body = b"".join(response.app_iter) if response.app_iter is not None else response.body
    if len(body) > limit * 2:
        raise swift_answer(500, "Unable to load SLO manifest")
    try:
        items = json.loads(body)
    except ValueError:
        raise swift_answer(500, "Unable to load SLO manifest") from None
    if not isinstance(items, list):
        raise swift_answer(500, "Unable to load SLO manifest")
    return items


def _segment(environ: dict, item: dict) -> Segment:
    path = f"{account_path(environ)}/{item['name'].lstrip('/')}"
    if item.get("range"):
        first, _, last = item["range"].partition("-")
        return Segment(path, int(first), int(last), item.get("hash"), bool(item.get("sub_slo")))
    return Segment(path, 0, int(item["bytes"]) - 1, item.get("hash"), bool(item.get("sub_slo")))


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    register_swift_info(
        "slo",
        max_manifest_segments=int(conf.get("max_manifest_segments", DEFAULT_MAX_MANIFEST_SEGMENTS)),
        max_manifest_size=int(conf.get("max_manifest_size", DEFAULT_MAX_MANIFEST_SIZE)),
        yield_frequency=int(conf.get("yield_frequency", DEFAULT_YIELD_FREQUENCY)),
        min_segment_size=MIN_SEGMENT_SIZE,
    )
    return lambda app: StaticLargeObject(app, conf)
