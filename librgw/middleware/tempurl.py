"""``tempurl``: Swift's temporary URLs, a signed link that lets whoever holds it do one thing to
one object (or to every object under a prefix) until it expires, without a token.

A request with ``temp_url_sig`` and ``temp_url_expires`` in its query is checked here
(``librgw/temp_urls.py`` has the signature format, ``librgw tempurl`` and ``swift tempurl`` make
them): the method must be one of ``methods``, the path an object's (``/v1/<account>/<container>/
<object>``), the URL unexpired, the client inside ``temp_url_ip_range`` if given, and the
signature the HMAC of one of the account's keys (``X-Account-Meta-Temp-URL-Key`` and ``-2``) or
the container's (``X-Container-Meta-Temp-URL-Key`` and ``-2``) with an allowed digest; a HEAD
may use a GET, PUT or POST signature. The keys are read with HEAD requests sent down the
pipeline, authorized by this filter alone (``temp_url_keys.py``). Anything else is ``401 Unauthorized: Temp URL
invalid``, the same for every reason, so a prober learns nothing. A valid URL's request goes
on authorized for its account (account key) or container (container key) only, through
Swift's ``swift.authorize`` / ``swift.authorize_override`` in the environ, which the gateway
honours as Swift's proxy does; its query is cut to the temp URL's own parameters, so nothing
else (``multipart-manifest``, ``symlink``) rides on it. A PUT or POST may not carry
``X-Object-Manifest``, ``X-Symlink-Target`` or ``X-Copy-From`` (400): they would point at data
the URL does not grant. ``incoming_remove_headers`` (default ``x-timestamp x-open-expired``) are
dropped from the request and ``outgoing_remove_headers`` (default ``x-object-meta-*``, but
``outgoing_allow_headers``: ``x-object-meta-public-*``) from the answer; a successful GET or HEAD
answers ``Content-Disposition`` (``attachment; filename=...`` with the object's name, or the
``filename`` parameter's, ``inline`` with ``&inline``) and ``Expires``.

It speaks only Swift's protocol, so it runs unchanged in an OpenStack Swift proxy's pipeline
(``use = egg:librgw#tempurl``, before the auth filter, as Swift's own ``tempurl``).

Settings (``[filter:tempurl]``, Swift's names and defaults): ``methods`` (``GET HEAD PUT POST
DELETE``), ``allowed_digests`` (``sha1 sha256 sha512``), ``incoming_remove_headers``,
``incoming_allow_headers``, ``outgoing_remove_headers``, ``outgoing_allow_headers``.
"""

from __future__ import annotations

import ipaddress
import posixpath
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import parse_qs, quote, urlencode

from webob import Request, exc

from librgw import temp_urls

from .registry import register_swift_info
from .temp_url_keys import signing_keys
from .wsgi_path import api_parts

DEFAULT_METHODS = "GET HEAD PUT POST DELETE"
DEFAULT_DIGESTS = "sha1 sha256 sha512"
DEFAULT_INCOMING_REMOVE = "x-timestamp x-open-expired"
DEFAULT_OUTGOING_REMOVE = "x-object-meta-*"
DEFAULT_OUTGOING_ALLOW = "x-object-meta-public-*"
DISALLOWED_HEADERS = ("X-Object-Manifest", "X-Symlink-Target", "X-Copy-From")
HEAD_SIGNED_AS = ("HEAD", "GET", "POST", "PUT")
INVALID_BODY = b"401 Unauthorized: Temp URL invalid\n"
TEMPURL_USER = ".wsgi.tempurl"


@dataclass(frozen=True)
class HeaderRule:
    """Header names to remove, but for those allowed; a name ending in ``*`` is a prefix."""

    remove: tuple[str, ...]
    allow: tuple[str, ...] = ()

    @classmethod
    def parse(cls, remove: str, allow: str) -> HeaderRule:
        return cls(tuple(remove.lower().split()), tuple(allow.lower().split()))

    def removes(self, name: str) -> bool:
        name = name.lower()
        return _listed(name, self.remove) and not _listed(name, self.allow)


def _listed(name: str, patterns: tuple[str, ...]) -> bool:
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in patterns)


@dataclass(frozen=True)
class ObjectPath:
    account: str
    container: str
    obj: str

    @classmethod
    def of(cls, environ: dict) -> ObjectPath | None:
        """The object a WSGI path names, as text; None if it is not ``/v1/a/c/o``."""
        parts = api_parts(environ)
        if len(parts) < 3 or not parts[1] or not parts[2].strip("/"):
            return None
        return cls(*parts)


def same_account(account: str) -> Callable[[Request], exc.HTTPException | None]:
    """``swift.authorize`` for an account key's URL: any request within ``account``."""

    def authorize(request: Request) -> exc.HTTPException | None:
        return None if api_parts(request.environ)[:1] == [account] else exc.HTTPUnauthorized()

    return authorize


def same_container(account: str, container: str) -> Callable[[Request], exc.HTTPException | None]:
    """``swift.authorize`` for a container key's URL: any request within that container."""

    def authorize(request: Request) -> exc.HTTPException | None:
        return None if api_parts(request.environ)[:2] == [account, container] else exc.HTTPUnauthorized()

    return authorize


def disposition(kind: str, filename: str) -> str:
    """A ``Content-Disposition`` value with the name both quoted and RFC 5987-encoded."""
    return f"{kind}; filename=\"{quote(filename, safe=' /')}\"; filename*=UTF-8''{quote(filename)}"


@dataclass(frozen=True)
class TempURLQuery:
    """A request's temp URL parameters, as given."""

    sig: str | None
    expires: str | None
    prefix: str | None
    filename: str | None
    inline: bool
    ip_range: str | None

    @classmethod
    def of(cls, environ: dict) -> TempURLQuery:
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)

        def first(name: str) -> str | None:
            return query[name][0] if name in query else None

        return cls(
            sig=first("temp_url_sig"),
            expires=first("temp_url_expires"),
            prefix=first("temp_url_prefix"),
            filename=first("filename"),
            inline="inline" in query,
            ip_range=first("temp_url_ip_range"),
        )

    def query_string(self) -> str:
        """What the request goes on with: only these parameters."""
        params = {"temp_url_sig": self.sig, "temp_url_expires": self.expires}
        if self.prefix is not None:
            params["temp_url_prefix"] = self.prefix
        if self.filename is not None:
            params["filename"] = self.filename
        if self.inline:
            params["inline"] = ""
        return urlencode(params)


class TempURL:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.methods = frozenset(conf.get("methods", DEFAULT_METHODS).upper().split())
        self.digests = frozenset(conf.get("allowed_digests", DEFAULT_DIGESTS).lower().split())
        unknown = self.digests - temp_urls.DIGESTS.keys()
        if unknown or not self.digests:
            raise ValueError(f"tempurl: allowed_digests are among {', '.join(temp_urls.DIGESTS)}, not {unknown}")
        self.incoming = HeaderRule.parse(
            conf.get("incoming_remove_headers", DEFAULT_INCOMING_REMOVE), conf.get("incoming_allow_headers", "")
        )
        self.outgoing = HeaderRule.parse(
            conf.get("outgoing_remove_headers", DEFAULT_OUTGOING_REMOVE),
            conf.get("outgoing_allow_headers", DEFAULT_OUTGOING_ALLOW),
        )

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "OPTIONS":
            return self.app(environ, start_response)
        query = TempURLQuery.of(environ)
        if query.sig is None and query.expires is None:
            return self.app(environ, start_response)
        granted = self._grant(environ, method, query)
        if granted is None:
            return self._invalid(environ, start_response)
        path, expires, account_scope = granted
        if method not in ("GET", "HEAD"):
            for name in DISALLOWED_HEADERS:
                if "HTTP_" + name.upper().replace("-", "_") in environ:
                    return exc.HTTPBadRequest(body=f"The header {name!r} is not allowed in this tempurl")(
                        environ, start_response
                    )
        for key in [k for k in environ if k.startswith("HTTP_")]:
            if self.incoming.removes(key[5:].replace("_", "-")):
                del environ[key]
        environ["swift.authorize"] = (
            same_account(path.account) if account_scope else same_container(path.account, path.container)
        )
        environ["swift.authorize_override"] = True
        environ["REMOTE_USER"] = TEMPURL_USER
        environ["QUERY_STRING"] = query.query_string()

        def answer(status: str, headers: list[tuple[str, str]], exc_info=None):
            kept = [(name, value) for name, value in headers if not self.outgoing.removes(name)]
            if method in ("GET", "HEAD") and status[:1] == "2":
                kept = self._disposition(kept, path, query) + [("Expires", formatdate(expires, usegmt=True))]
            return start_response(status, kept, exc_info)

        return self.app(environ, answer)

    def _grant(self, environ: dict, method: str, query: TempURLQuery) -> tuple[ObjectPath, int, bool] | None:
        """(the object, the expiry, whether an account key signed it) if the URL is valid."""
        if method not in self.methods or not query.sig or not query.expires:
            return None
        try:
            digest, sig = temp_urls.parse_signature(query.sig)
            expires = temp_urls.parse_expires(query.expires)
        except ValueError:
            return None
        path = ObjectPath.of(environ)
        if digest not in self.digests or expires < time.time() or path is None:
            return None
        if query.ip_range is not None and not _client_in(environ.get("REMOTE_ADDR"), query.ip_range):
            return None
        if query.prefix is not None and not path.obj.startswith(query.prefix):
            return None
        signed_path = f"/v1/{path.account}/{path.container}/" + (path.obj if query.prefix is None else query.prefix)
        methods = HEAD_SIGNED_AS if method == "HEAD" else (method,)
        granted = None
        for key in signing_keys(self.app, environ, path.account, path.container, TEMPURL_USER):
            for signed_method in methods:
                scope = temp_urls.Scope(signed_method, expires, signed_path, query.prefix is not None, query.ip_range)
                if temp_urls.matches(sig, scope, key.value, digest):  # every key is tried: the time says nothing
                    granted = (path, expires, key.account_scope)
        return granted

    def _disposition(
        self, headers: list[tuple[str, str]], path: ObjectPath, query: TempURLQuery
    ) -> list[tuple[str, str]]:
        """``headers`` with the ``Content-Disposition`` the URL asks for, else the object's own,
        else an attachment named after the object."""
        own = next((value for name, value in headers if name.lower() == "content-disposition"), None)
        rest = [(name, value) for name, value in headers if name.lower() != "content-disposition"]
        if query.inline:
            value = disposition("inline", query.filename) if query.filename else "inline"
        elif query.filename:
            value = disposition("attachment", query.filename)
        elif own is not None:
            value = own
        else:
            value = disposition("attachment", posixpath.basename(path.obj.rstrip("/")))
        return [*rest, ("Content-Disposition", value.replace("\n", "%0A"))]

    def _invalid(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        body = b"" if environ.get("REQUEST_METHOD") == "HEAD" else INVALID_BODY
        start_response(
            "401 Unauthorized",
            [
                ("Content-Type", "text/plain; charset=UTF-8"),
                ("Content-Length", str(len(INVALID_BODY) if body else 0)),
                ("WWW-Authenticate", 'Swift realm="unknown"'),
            ],
        )
        return [body]


def _client_in(address: str | None, ip_range: str) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address) in ipaddress.ip_network(ip_range)
    except ValueError:
        return False


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    checked = TempURL(None, conf)  # a bad setting fails when the pipeline is built, not on the first request
    register_swift_info(
        "tempurl",
        methods=conf.get("methods", DEFAULT_METHODS).upper().split(),
        allowed_digests=sorted(checked.digests),
        **{
            name: conf.get(name, default).split()
            for name, default in (
                ("incoming_remove_headers", DEFAULT_INCOMING_REMOVE),
                ("incoming_allow_headers", ""),
                ("outgoing_remove_headers", DEFAULT_OUTGOING_REMOVE),
                ("outgoing_allow_headers", DEFAULT_OUTGOING_ALLOW),
            )
        },
    )
    return lambda app: TempURL(app, conf)
