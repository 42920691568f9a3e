"""Object versioning in the native API, with the names of Swift's ``object_versioning``
middleware and the semantics of S3's versioning (the core's ``librgw.versioning``).

Swift's own object versioning is what a Swift client knows, so its headers and parameters
are used where it has them; S3's versioning reaches the core through the same ones (the
``s3`` middleware sends them down the pipeline). Once enabled, versioning cannot be turned
off again, only suspended, as in S3.

On a container (``/v1/AUTH_<uid>/<container>``):

- ``PUT`` or ``POST`` with ``X-Versions-Enabled: true`` enables versioning: every write makes
  a new version with its own id; ``false`` suspends it: writes replace the ``null`` version,
  the versions kept stay. Other values are 400. Taking the same permission as the
  container's metadata, WRITE on the account.
- ``HEAD`` and ``GET`` show ``X-Versions-Enabled: true|false`` once versioning was set.
- ``GET ?versions`` lists every version and delete marker, by name, newest first, with the
  listing's usual ``format``, ``limit``, ``prefix``, ``delimiter`` and ``marker`` (past every
  version of that name), plus ``version_marker`` (with ``marker``: past that version of it).
  ``reverse`` and ``end_marker`` are 400 here. A JSON entry::

      {"name": "report", "version_id": "mLq...", "is_latest": true, "bytes": 5,
       "hash": "<md5>", "last_modified": "2026-11-21T18:00:00.123456", "content_type": "text/plain"}

  A delete marker has ``"content_type": "application/x-deleted;swift_versions_deleted=1"``,
  ``"bytes": 0`` and the empty MD5, as Swift lists them. Authorized as a listing (LIST).

On an object (``/v1/AUTH_<uid>/<container>/<object>``):

- Answers about an object of a versioned container carry ``X-Object-Version-Id``: the
  version a GET or HEAD read, a PUT, COPY, POST or completed upload wrote, a DELETE made (its
  delete marker) or removed. ``null`` is the version written while versioning was
  suspended, or before it was enabled.
- ``GET``, ``HEAD`` and ``DELETE ?version-id=<id>`` act on that version; ``DELETE`` then
  removes it for good (removing the delete marker that is current brings the version
  before it back). Without ``version-id`` a DELETE adds a delete marker (204; 404 if there
  was no current object, the marker added all the same). ``PUT`` and ``POST`` with
  ``version-id`` are 400; a POST changes the current version's metadata without making a
  new one, as Swift's does. In a container never versioned only ``version-id=null`` is
  accepted (400 otherwise). An id of another form is 400, one that the object does not
  have 404.
- A GET or HEAD that reaches a delete marker (the current version, or the one named) is
  404 with ``X-Object-Delete-Marker: true``, the marker's ``X-Object-Version-Id`` and
  ``Last-Modified``, and Swift's delete-marker ``Content-Type``. A DELETE that makes or
  removes a delete marker says ``X-Object-Delete-Marker: true`` too.
- Copies: ``COPY ?version-id=<id>`` copies that version of the object in the path (Swift's
  way); ``PUT`` with ``X-Copy-From`` takes the source version in ``X-Copy-From-Version-Id``.
  The answer names the source version in ``X-Copied-From-Version-Id`` when the source
  container is versioned.

Authorization is the unversioned operation's: READ for GET and HEAD of any version, WRITE
for writes and deletes of any version.

Example::

    curl -X POST -H "X-Auth-Token: $T" -H "X-Versions-Enabled: true" "$URL/docs"
    curl -X PUT -H "X-Auth-Token: $T" -d one "$URL/docs/report"     # X-Object-Version-Id: <v1>
    curl -X PUT -H "X-Auth-Token: $T" -d two "$URL/docs/report"     # X-Object-Version-Id: <v2>
    curl -H "X-Auth-Token: $T" "$URL/docs?versions&format=json"
    curl -H "X-Auth-Token: $T" "$URL/docs/report?version-id=<v1>"   # one
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from webob import Request, exc

from librgw.bucket_info import BucketInfo
from librgw.errors import DeleteMarkerRead
from librgw.manifest import NULL
from librgw.object_ops import DeleteResult, WriteResult
from librgw.objects import ObjectState
from librgw.versioning import VERSION_ID_LEN, Version

from .context import Context
from .listing import TRUE, ListingQuery
from .metadata import NOT_UTF8, header_text, to_wsgi
from .timestamps import swift_time, timestamp_headers

ENABLED_HEADER = "X-Versions-Enabled"
VERSION_HEADER = "X-Object-Version-Id"
DELETE_MARKER_HEADER = "X-Object-Delete-Marker"
COPY_VERSION_HEADER = "X-Copy-From-Version-Id"
COPIED_VERSION_HEADER = "X-Copied-From-Version-Id"
VERSION_ID = "version-id"
VERSIONS = "versions"
VERSION_MARKER = "version_marker"
DELETE_MARKER_CONTENT_TYPE = "application/x-deleted;swift_versions_deleted=1"
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
FALSE = {"false", "0", "no", "off", "f", "n"}
VERSION_ID_RE = re.compile(rf"[A-Za-z0-9]{{{VERSION_ID_LEN}}}")
STATE_OF = {"enabled": "true", "suspended": "false"}
# Swift's legacy versioning (the ``versioned_writes`` filter): its header for each mode, and
# where the container keeps the archive's name and the mode (RGW's ``swift_ver_location``)
LEGACY_MODES = {"stack": "X-Versions-Location", "history": "X-History-Location"}
LEGACY_REMOVALS = ("X-Remove-Versions-Location", "X-Remove-History-Location")
LOCATION_ATTR, MODE_ATTR = "swift-versions-location", "swift-versions-mode"


class DeleteMarkerReached(exc.HTTPNotFound):
    """A GET or HEAD found a delete marker (the core's ``DeleteMarkerRead``, whether the
    current version or the one named): 404, with headers saying which (no body, as Swift)."""

    empty_body = True

    def __init__(self, marker: DeleteMarkerRead) -> None:
        headers = [
            (VERSION_HEADER, marker.version_id),
            (DELETE_MARKER_HEADER, "true"),
            *timestamp_headers(marker.mtime),
        ]
        super().__init__(headers=headers)
        self.body = b""
        self.content_type = DELETE_MARKER_CONTENT_TYPE


def valid_version_id(value: str) -> bool:
    return value == NULL or VERSION_ID_RE.fullmatch(value) is not None


def _checked(value: str, name: str) -> str:
    if not valid_version_id(value):
        raise exc.HTTPBadRequest(f"Invalid {name}: {value[:64]!r}")
    return value


def requested_version(request: Request) -> str | None:
    """The ``?version-id`` of an object request, or None; 400 if it is not a version id."""
    if VERSION_ID not in request.environ.get("QUERY_STRING", ""):
        return None  # most requests: no parsing
    try:
        value = request.GET.get(VERSION_ID)
    except UnicodeDecodeError:
        raise exc.HTTPBadRequest("The query string is not UTF-8") from None
    return None if value is None else _checked(value, VERSION_ID)


def copy_source_version(request: Request) -> str | None:
    """The source version a ``PUT`` with ``X-Copy-From`` names, or None."""
    value = request.headers.get(COPY_VERSION_HEADER)
    return None if value is None else _checked(value.strip(), COPY_VERSION_HEADER)


def refuse_version_on_write(request: Request) -> None:
    """PUT and POST act on the current object only: 400 with ``?version-id``, as Swift."""
    if requested_version(request) is not None:
        raise exc.HTTPBadRequest(f"{request.method} to a specific version is not allowed")


def version_headers(version_id: str) -> list[tuple[str, str]]:
    return [(VERSION_HEADER, version_id or NULL)]


def read_headers(bucket: BucketInfo, info: ObjectState) -> list[tuple[str, str]]:
    """The version headers of a GET or HEAD of ``info`` (as the core's ``ObjectOps.stat`` gave it)."""
    return version_headers(info.version_id) if bucket.versioned else []


def written_headers(result: WriteResult) -> list[tuple[str, str]]:
    """The version headers of a write: the version it made or changed, and for a copy the
    source's version, each when its container keeps versions."""
    headers = version_headers(result.version_id) if result.version_id is not None else []
    if result.source_version_id is not None:
        headers.append((COPIED_VERSION_HEADER, result.source_version_id))
    return headers


def copied_version_headers(src_bucket: BucketInfo, src: ObjectState) -> list[tuple[str, str]]:
    """``X-Copied-From-Version-Id`` of a copy (of a part) from ``src``, as ``ObjectOps.stat`` gave it."""
    return [(COPIED_VERSION_HEADER, src.version_id or NULL)] if src_bucket.versioned else []


def deleted_headers(result: DeleteResult) -> list[tuple[str, str]]:
    """The headers of a DELETE: the version it made or removed (none in a container that keeps
    no versions), and whether that is a delete marker."""
    if result.version_id is None:
        return []
    return version_headers(result.version_id) + ([(DELETE_MARKER_HEADER, "true")] if result.delete_marker else [])


# -- the container ---------------------------------------------------------------------


def requested_state(request: Request) -> str | None:
    """The versioning state ``X-Versions-Enabled`` asks for (``enabled`` or ``suspended``),
    None without the header; 400 for a value that is neither true nor false."""
    value = request.headers.get(ENABLED_HEADER)
    if value is None:
        return None
    value = value.strip().lower()
    if value in TRUE:
        return "enabled"
    if value in FALSE:
        return "suspended"
    raise exc.HTTPBadRequest(f"{ENABLED_HEADER} must be true or false")


def with_legacy_location(attrs: dict[str, str], headers: Mapping[str, str]) -> dict[str, str] | None:
    """A container's ``attrs`` after a PUT's or POST's ``X-Versions-Location`` or
    ``X-History-Location`` (kept as given, URL-encoded; an empty one, or an
    ``X-Remove-Versions-Location`` / ``-History-Location``, removes whichever is set); None if
    the request has none of them. The ``versioned_writes`` filter checks them first and
    archives the writes; without it they are only kept, as Swift's container server keeps them."""
    for mode, header in LEGACY_MODES.items():
        value = headers.get(header)
        if value:
            location = header_text(value.strip(), NOT_UTF8)
            return {**attrs, LOCATION_ATTR: location, MODE_ATTR: mode}
    if any(header in headers for header in LEGACY_MODES) or any(headers.get(name) for name in LEGACY_REMOVALS):
        return {name: value for name, value in attrs.items() if name not in (LOCATION_ATTR, MODE_ATTR)}
    return None


def legacy_location_headers(info: BucketInfo) -> list[tuple[str, str]]:
    """``X-Versions-Location`` or ``X-History-Location`` of a container that has one."""
    location = info.attrs.get(LOCATION_ATTR)
    if not location:
        return []
    return [(LEGACY_MODES.get(info.attrs.get(MODE_ATTR, ""), LEGACY_MODES["stack"]), to_wsgi(location))]


def state_headers(info: BucketInfo) -> list[tuple[str, str]]:
    """``X-Versions-Enabled`` of a container whose versioning was ever set."""
    state = STATE_OF.get(info.versioning)
    return [(ENABLED_HEADER, state)] if state else []


def is_versions_listing(request: Request) -> bool:
    """Does a container GET ask for the versions listing (``?versions``)?"""
    query = request.environ.get("QUERY_STRING", "")
    return VERSIONS in query and VERSIONS in request.GET


def version_item(version: Version) -> dict:
    """A version's entry in a ``?versions`` listing, as Swift lists one."""
    if version.delete_marker:
        size, etag, content_type = 0, EMPTY_MD5, DELETE_MARKER_CONTENT_TYPE
    else:
        size, etag, content_type = version.size, version.etag, version.content_type
    return {  # the container server's order, then the version's
        "bytes": size,
        "hash": etag,
        "name": version.key,
        "content_type": content_type,
        "last_modified": swift_time(version.mtime),
        "version_id": version.version_id,
        "is_latest": version.is_latest,
    }


def listed_versions(ctx: Context, info: BucketInfo, query: ListingQuery) -> list[dict]:
    """The entries of one ``?versions`` listing page (common prefixes as ``subdir``), by name."""
    if query.reverse or query.end_marker:
        raise exc.HTTPBadRequest("reverse and end_marker are not supported with ?versions")
    version_marker = ctx.request.GET.get(VERSION_MARKER, "")
    if version_marker:
        if not query.marker:
            raise exc.HTTPBadRequest(f"{VERSION_MARKER} takes a marker")
        _checked(version_marker, VERSION_MARKER)
    page = ctx.rgw.versions.list(info, query.prefix, query.marker, version_marker, query.limit, query.delimiter)
    items = [version_item(v) for v in page.versions] + [{"subdir": prefix} for prefix in page.prefixes]
    items.sort(key=lambda item: item.get("name", item.get("subdir")))  # stable: versions stay newest first
    return items
