"""``symlink``: Swift's symbolic links, a zero-byte object that names another (its target) and
reads as it.

**PUT** with ``X-Symlink-Target: <container>/<object>`` (URL-encoded; ``X-Symlink-Target-Account:
<account>`` for a target in another account) makes a link: a body is 400 "Symlink requests
require a zero byte body"; a target not of that form is 412 "X-Symlink-Target header must be of
the form <container name>/<object name>", an empty account or one with a ``/`` 412, a link to
itself 400 "Symlink cannot target itself". A link's ``Content-Type`` is ``application/symlink``
unless given. The target need not exist. With ``X-Symlink-Target-Etag`` it is a *static* link:
the target is read (a HEAD with the client's rights) and must exist (409 "X-Symlink-Target does
not exist") with that ETag (409 "Object Etag '<its>' does not match X-Symlink-Target-Etag header
'<given>'"); the link then keeps the target's size (``X-Symlink-Target-Bytes``) and, unless
given, its content type. A target that is itself a link is not followed then (a dynamic one's
ETag is that of the empty object, as in Swift).

**GET/HEAD** of a link answer its target, with the same headers (``Range``, conditions) and the
client's own rights, so a link into a container or account the client may not read is refused
as reading the target is; the answer carries ``Content-Location: /v1/<account>/<container>/
<object>``, the target's path. A link to a link is followed too, up to ``symloop_max`` links
(Swift's 2); past them (a loop, say) 409 "Too many levels of symbolic links, maximum allowed is
N". A dangling link answers the target's 404. A static link whose target (or the link it names)
has another ETag now is 409, the ETags named. ``?symlink=get`` answers the link itself, with
``X-Symlink-Target`` (and ``-Account``, ``-Etag``, ``-Bytes`` as it has them).

**POST** to a link changes the link's metadata (never its target: ``X-Symlink-Target`` on a POST
is 400 "A PUT request is required to set a symlink target") and answers 307 with ``Location``:
the target's path, as Swift's does. **COPY** (or PUT with ``X-Copy-From``) of a link copies its
target; with ``?symlink=get`` it copies the link. **DELETE** deletes the link alone. JSON
container listings show a link's ``symlink_path`` (and a static one's ``symlink_etag`` and
``symlink_bytes``), and its own ETag as ``hash``; XML and plain ones show no more than for
another object.

How a link is kept: the core stores the target in attributes of the object's head under Swift's
sysmeta names (``X-Object-Sysmeta-Symlink-Target``, ``-Target-Account``, ``-Target-Etag``,
``-Target-Bytes``, among ``librgw.objects.CONTENT_HEADERS``), and gives the link's listing entry
Swift's container-update override, ``<ETag>; symlink_target=<c/o>[; symlink_target_account=..]
[; symlink_target_etag=..; symlink_target_bytes=..]`` (``objects.LISTED_ETAG``), which this
filter turns into a listing's ``symlink_*`` fields, as Swift's does with its container server's.
Only this filter sets them: a client's request that names them has them removed here, as Swift's
gatekeeper removes sysmeta, and no answer shows them.

The ``s3`` filter sends its native requests down through this one, so an S3 GetObject or
HeadObject of a link reads its target (as RGW would if it had links), a CopyObject from a link
copies its target, a DeleteObject deletes the link, and ListObjects shows the link's own ETag.

Settings (``[filter:symlink]``, listed in ``/info`` under ``symlink`` with ``static_links``):
``symloop_max`` (2; a value below 1 is taken as 2, as Swift does). It speaks only Swift's
protocol and runs in an OpenStack Swift proxy too (``use = egg:librgw#symlink``, after ``slo``
and ``dlo``, where Swift's own would be; Swift's object servers keep the sysmeta there).
A client's own sysmeta headers never reach it: ``gatekeeper`` (Swift's, in a Swift proxy)
removes them at the top of the pipeline, as it removes them from answers.
Differences from Swift's: a static link to a static large object keeps the manifest's size and
ETag (Swift's keeps the large object's size, from sysmeta our ``slo`` does not write, with the
manifest's ETag).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from webob import Request, Response, exc

from .gatekeeper import RELATIVE_LOCATION
from .listing_params import hash_params, rewrite_listing, with_params
from .registry import register_swift_info
from .segments import SWOB_TYPE, bare_etag, subrequest, swift_answer
from .swift.answer_bodies import STOCK, stock_page
from .temp_url_keys import pre_authorized
from .wsgi_path import api_parts, path_text

DEFAULT_SYMLOOP_MAX = 2
LINK_CONTENT_TYPE = "application/symlink"
EMPTY_ETAG = "d41d8cd98f00b204e9800998ecf8427e"  # the MD5 of nothing: every link's own ETag
SYSMETA = "X-Object-Sysmeta-"
TARGET, ACCOUNT, ETAG, BYTES = (f"X-Symlink-Target{suffix}" for suffix in ("", "-Account", "-Etag", "-Bytes"))
# the client's header for each attribute a link keeps, and the attribute's (Swift's sysmeta) name
STORED = {name: SYSMETA + name[len("X-") :] for name in (TARGET, ACCOUNT, ETAG, BYTES)}
LISTED_ETAG = SYSMETA + "Container-Update-Override-Etag"  # librgw.objects.LISTED_ETAG
RESERVED = (*STORED.values(), LISTED_ETAG)
PLAIN = "text/plain"
BAD_FORM = "X-Symlink-Target header must be of the form <container name>/<object name>"
POST_APPLIED = "The requested POST was applied to a symlink. POST directly to the target to apply requested metadata."
LOOP = "Too many levels of symbolic links, maximum allowed is {}"
LINK_USER = ".wsgi.symlink"
LISTING_MARK = b"symlink_target="


@dataclass(frozen=True)
class Link:
    """What a link's head says of its target: ``<container>/<object>`` URL-encoded, as stored;
    its account (URL-encoded) if the link names one; a static link's ETag and size."""

    target: str
    account: str | None = None
    etag: str | None = None
    size: str | None = None

    @classmethod
    def of(cls, response: Response) -> Link | None:
        headers = response.headers
        target = headers.get(STORED[TARGET])
        if target is None:
            return None
        return cls(target, headers.get(STORED[ACCOUNT]), headers.get(STORED[ETAG]), headers.get(STORED[BYTES]))

    def location(self, account: str) -> str:
        """The target's path, URL-encoded (``account``, as text, if the link names none)."""
        return f"/v1/{self.account or quote(account)}/{self.target.lstrip('/')}"


@dataclass(frozen=True)
class Pin:
    """A static link's target as a PUT names it: the ETag it must have, and its path (text)."""

    etag: str
    location: str


def conflict(text: str, location: str | None = None) -> exc.HTTPException:
    error = swift_answer(409, text, PLAIN)
    if location is not None:
        error.headers["Content-Location"] = location
    return error


def without_reserved(response: Response) -> Response:
    for name in RESERVED:
        response.headers.pop(name, None)
    return response


def listing_entry(item: dict, account: str) -> dict:
    """A JSON listing's entry as Swift's symlink filter gives it: a link's ``hash`` its own
    ETag, and ``symlink_path`` (``symlink_etag``, ``symlink_bytes``) added."""
    if not isinstance(item.get("hash"), str) or ";" not in item["hash"]:
        return item
    value, params = hash_params(item)
    target, others = None, []
    for key, text in params:
        if key == "symlink_target":
            target = text
        elif key == "symlink_target_account":
            account = text
        elif key == "symlink_target_etag":
            item["symlink_etag"] = text
        elif key == "symlink_target_bytes":
            item["symlink_bytes"] = int(text)
        else:
            others.append((key, text))
    item["hash"] = with_params(value, others)
    if target:
        item["symlink_path"] = f"/v1/{account}/{target.lstrip('/')}"
    return item


class Symlink:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.symloop_max = symloop_max(conf)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        parts = api_parts(environ)
        if len(parts) < 2 or not parts[1]:
            return self.app(environ, start_response)
        request = Request(environ)
        try:
            if len(parts) == 2 or not parts[2]:
                response = self.container(request, parts[0])
            else:
                response = self.object(request, parts[0])
        except exc.HTTPException as error:
            response = error
        return response(environ, start_response)

    # -- container listings

    def container(self, request: Request, account: str) -> Response:
        response = request.get_response(self.app)
        if request.method != "GET":
            return response
        return rewrite_listing(response, LISTING_MARK, lambda item: listing_entry(item, quote(account)))

    # -- objects

    def object(self, request: Request, account: str) -> Response:
        method = request.method
        try:
            link_itself = "symlink" in request.query_string and request.GET.get("symlink") == "get"
        except UnicodeDecodeError:  # a query that is not UTF-8: the gateway answers it
            return request.get_response(self.app)
        if method in ("GET", "HEAD"):
            if link_itself:
                return as_link(request.get_response(self.app))
            return self.follow(request, request.get_response(self.app), account)
        if method == "PUT" and TARGET in request.headers:
            if "X-Copy-From" in request.headers:  # a copy has the source's bytes for a body
                raise swift_answer(400, "Symlink requests require a zero byte body", PLAIN)
            return self.put(request, account)
        if method == "POST":
            return self.post(request, account)
        if not link_itself and (method == "COPY" or (method == "PUT" and "X-Copy-From" in request.headers)):
            return self.copy(request, account)
        return request.get_response(self.app)

    def follow(self, request: Request, response: Response, account: str, pinned: Pin | None = None) -> Response:
        """``response`` (to ``request``, in ``account``), or, for a link, its target's: links
        followed with ``request``'s method and headers up to ``symloop_max`` of them; ``pinned``,
        a static link's target being checked (its ETag, its path), stops at a dynamic link."""
        hops = 0
        location = pinned.location if pinned else None
        dynamic = pinned is None
        pinned = pinned.etag if pinned else None
        while (link := Link.of(response)) is not None and (link.etag or dynamic):
            close(response)
            found = link.etag or bare_etag(response.headers.get("ETag"))
            if pinned and pinned != found:
                raise conflict("X-Symlink-Target-Etag headers do not match", location)
            if hops >= self.symloop_max:
                raise swift_answer(409, LOOP.format(self.symloop_max), PLAIN)
            location = link.location(account)
            account = unquote(location.split("/")[2])
            hops += 1
            pinned = link.etag
            headers = {name: value for name, value in request.headers.items() if name.lower() != "content-length"}
            hop = subrequest(request.environ, request.method, unquote(location), headers=headers)
            response = hop.get_response(self.app)
        found = bare_etag(response.headers.get("ETag"))
        if found and pinned and found != pinned:
            close(response)
            raise conflict(f"Object Etag {found!r} does not match X-Symlink-Target-Etag header {pinned!r}", location)
        if location is None:
            return response
        response.headers["Content-Location"] = location
        return without_reserved(response)

    def put(self, request: Request, account: str) -> Response:
        if request.content_length is None:
            has_body = request.body_file.read(1) != b""
        else:
            has_body = request.content_length != 0
        if has_body:
            raise swift_answer(400, "Symlink requests require a zero byte body", PLAIN)
        container, obj, target_account = checked_target(request)
        request_parts = api_parts(request.environ)
        if (target_account or account, container, obj) == tuple(request_parts[:3]):
            raise swift_answer(400, "Symlink cannot target itself", PLAIN)
        etag = bare_etag(request.headers.get(ETAG)) or None
        if etag and any(c in etag for c in ';"\\'):  # they would break the listing's parameters
            raise swift_answer(400, f"Bad {ETAG} format", PLAIN)
        stored = {STORED[TARGET]: quote(f"{container}/{obj}")}
        if target_account:
            stored[STORED[ACCOUNT]] = quote(target_account)
        if etag:
            path = f"/v1/{target_account or account}/{container}/{obj}"
            stored.update(self.static_target(request, path, etag))
        elif not request.headers.get("Content-Type"):
            request.headers["Content-Type"] = LINK_CONTENT_TYPE
        for name in (TARGET, ACCOUNT, ETAG):
            request.headers.pop(name, None)
        request.headers.pop("Transfer-Encoding", None)
        request.headers.update(stored)
        request.headers[LISTED_ETAG] = "; ".join(
            [EMPTY_ETAG, *(f"{name[len(SYSMETA) :].lower().replace('-', '_')}={stored[name]}" for name in stored)]
        )
        request.body = b""
        return request.get_response(self.app)

    def static_target(self, request: Request, path: str, etag: str) -> dict[str, str]:
        """A static link's attributes: its target's at ``path`` (text) read and checked against
        ``etag``; the target's content type given to the link unless the request names one."""
        head = subrequest(request.environ, "HEAD", path)
        found = self.follow(head, head.get_response(self.app), path.split("/")[2], Pin(etag, path))
        if found.status_int == 404:
            raise conflict("X-Symlink-Target does not exist", found.headers.get("Content-Location", path))
        if found.status_int // 100 != 2:
            status = found.status_int
            body = stock_page(status) if status in STOCK else b""
            raise exc.status_map[status](body=body, content_type=SWOB_TYPE, charset=None)
        if not request.headers.get("Content-Type"):
            request.headers["Content-Type"] = found.headers.get("Content-Type", LINK_CONTENT_TYPE)
        return {STORED[ETAG]: etag, STORED[BYTES]: str(found.content_length or 0)}

    def post(self, request: Request, account: str) -> Response:
        """A POST to a link changes the link's metadata, keeping its target (the gateway
        replaces what a POST does not name), and answers 307 naming the target."""
        if TARGET in request.headers:
            raise swift_answer(400, "A PUT request is required to set a symlink target", PLAIN)
        environ = pre_authorized(request.environ, "HEAD", path_text(request.environ), LINK_USER)
        stored = Request.blank("/", environ=environ).get_response(self.app)
        link = Link.of(stored) if stored.status_int // 100 == 2 else None
        if link is not None:
            request.headers.update({name: stored.headers[name] for name in RESERVED if name in stored.headers})
        response = request.get_response(self.app)
        if link is None or response.status_int // 100 != 2:
            return response
        redirect = Response(status=307, body=POST_APPLIED.encode(), content_type=SWOB_TYPE, charset=None)
        redirect.headers["Location"] = link.location(account)
        request.environ[RELATIVE_LOCATION] = True  # as Swift's: gatekeeper leaves it relative
        if link.etag:
            redirect.headers[ETAG] = link.etag
        return redirect

    def copy(self, request: Request, account: str) -> Response:
        """A copy of a link is a copy of its target: the source named by the target's path."""
        if request.method == "PUT":
            source_account = unquote(request.headers.get("X-Copy-From-Account", quote(account)))
            source = f"/v1/{source_account}/{unquote(request.headers['X-Copy-From']).lstrip('/')}"
        else:
            source_account = account
            source = path_text(request.environ)
        if source.count("/") < 4:  # a malformed source: the gateway answers it
            return request.get_response(self.app)
        head = subrequest(request.environ, "HEAD", source)
        target = self.follow(head, head.get_response(self.app), source_account)
        location = target.headers.get("Content-Location")
        if location is None or target.status_int // 100 != 2:
            return request.get_response(self.app) if location is None else target
        _, _, target_account, target_path = location.split("/", 3)
        if request.method == "COPY":
            destination_account = request.headers.get("Destination-Account", quote(account))
            destination = unquote(request.headers.get("Destination", "")).lstrip("/")
            request.method = "PUT"
            path = f"/v1/{unquote(destination_account)}/{destination}"
            request.environ["PATH_INFO"] = path.encode("utf-8").decode("latin-1")  # a WSGI string
            for name in ("Destination", "Destination-Account"):
                request.headers.pop(name, None)
        request.headers["X-Copy-From"] = target_path
        request.headers["X-Copy-From-Account"] = target_account
        response = request.get_response(self.app)
        if response.status_int // 100 == 2:
            response.headers["X-Copied-From"] = quote(source.split("/", 3)[3])
            response.headers["X-Copied-From-Account"] = quote(source_account)
        return response


def checked_target(request: Request) -> tuple[str, str, str | None]:
    """(container, object, account or None) of a link PUT's target headers, as text; 412 for
    malformed ones, with Swift's messages."""
    value = unquote(request.headers[TARGET])
    if value.startswith("/"):
        raise swift_answer(412, BAD_FORM, PLAIN)
    container, _, obj = value.partition("/")
    if not container or not obj:
        raise swift_answer(412, BAD_FORM)
    account = None
    if ACCOUNT in request.headers:
        account = unquote(request.headers[ACCOUNT])
        if not account:
            raise swift_answer(412, "Account name cannot be empty")
        if "/" in account:
            raise swift_answer(412, "Account name cannot contain slashes")
    return container, obj, account


def as_link(response: Response) -> Response:
    """A link's own answer (``?symlink=get``): its attributes under the client's header names."""
    for header, name in STORED.items():
        if name in response.headers:
            response.headers[header] = response.headers.pop(name)
    return without_reserved(response)


def close(response: Response) -> None:
    closer = getattr(response.app_iter, "close", None)
    if closer is not None:
        closer()


def symloop_max(conf: dict) -> int:
    value = int(conf.get("symloop_max", DEFAULT_SYMLOOP_MAX))
    return value if value >= 1 else DEFAULT_SYMLOOP_MAX


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    register_swift_info("symlink", symloop_max=symloop_max(conf), static_links=True)
    return lambda app: Symlink(app, conf)
