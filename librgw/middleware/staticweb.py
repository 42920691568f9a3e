"""``staticweb``: Swift's static web sites, a public container served to browsers as a web site,
with index pages, error pages and HTML listings of its pseudo-directories.

A container's users turn it on with its metadata, on a container anonymous users may read
(``X-Container-Read: .r:*``; listings also need ``.rlistings``):

- ``X-Container-Meta-Web-Index: index.html``: ``.../dir`` and ``.../dir/`` serve
  ``.../dir/index.html`` (the container itself serves its top ``index.html``);
- ``X-Container-Meta-Web-Listings: true``: a pseudo-directory without an index is answered
  with an HTML listing of its objects and subdirectories, in Swift's markup (``<table
  id="listing">``, rows of class ``item subdir`` and ``item type-<major> type-<minor>``) and
  Swift's style, or a link to ``X-Container-Meta-Web-Listings-CSS`` (a path in the container,
  relative to the listed directory, or an absolute URL); its title is "Listing of <path>", or
  of ``<X-Container-Meta-Web-Listings-Label>/<the directory>`` when that is set. Without
  listings such a directory is a 404 "Web Listing Disabled" page;
- ``X-Container-Meta-Web-Error: error.html``: a 404 (or a 401 of the container's own
  authorization) is answered with the object ``<status><suffix>`` (``404error.html``), with
  the status kept;
- ``X-Container-Meta-Web-Directory-Type`` (default ``application/directory``): a 0- or 1-byte
  object of this type is a directory marker, answered as the directory it stands for.

A path to a directory without its trailing slash is redirected to it (``301`` with an absolute
``Location``, as Swift's), so a page's relative links resolve; so is ``.../dir`` when the
container holds objects under ``dir/``.

Only GET and HEAD of anonymous requests are served so (and a temp URL's: a ``temp_url_prefix``
ending in ``/`` lists the prefix, its links signed with the same parameters); an authenticated
client sees the container as the Swift API does, unless it sends ``X-Web-Mode: true``. Objects,
indexes, listings and error pages are read with the client's own rights, so the container's
ACL decides (a container GET also needs ``.rlistings``, as in Swift); only the container's
``X-Container-Meta-Web-*`` settings are read with a HEAD this filter authorizes itself
(``temp_url_keys.pre_authorized``). Requests the ``s3`` filter sends on an S3 client's behalf
pass untouched: S3's website hosting is another protocol.

It speaks only Swift's protocol, so it runs unchanged in an OpenStack Swift proxy's pipeline
(``use = egg:librgw#staticweb``, just after the auth filter, as Swift's own ``staticweb``).
Behind ``domain_remap`` a site is served on its own host name (``<container>.<account>.<domain>``).

Settings (``[filter:staticweb]``): ``url_base`` (default: none), the scheme and host
(``https://www.example.com``) put in redirects' ``Location`` instead of the request's, as
Swift's. It registers ``staticweb`` (no settings) in ``/info``.

``paste.ini``::

    [filter:staticweb]
    use = egg:librgw#staticweb

Example: ``swift post -r '.r:*,.rlistings' -m 'web-index:index.html' -m 'web-listings:true' site``.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from urllib.parse import quote, urlparse

from webob import Request, Response

from librgw import temp_urls

from .registry import register_swift_info
from .request_identity import IDENTITY_KEY, NATIVE_S3_KEY, RESELLER_KEY
from .request_log import TRANS_ID_KEY
from .swift.answer_bodies import STOCK_PAGE_TYPE, stock_page
from .temp_url_keys import pre_authorized
from .tempurl import TEMPURL_USER, TempURLQuery
from .wsgi_path import api_parts, path_text

DEFAULT_DIRECTORY_TYPE = "application/directory"
STATICWEB_USER = ".wsgi.staticweb"
TRUE_VALUES = ("true", "1", "yes", "on", "t", "y")  # Swift's config_true_value
SIZE_SUFFIXES = "KMGTPEZY"
MOVED_PAGE = b"<html><h1>Moved Permanently</h1><p>The resource has moved permanently.</p></html>"
# What a new request made for the client keeps of its request, as Swift's make_env: who it is
# (Swift's and this gateway's ways of saying so), where it comes from, and its request id.
CLIENT_KEYS = (
    "HTTP_USER_AGENT", "HTTP_HOST", "HTTP_REFERER", "HTTP_ORIGIN", "HTTP_X_USER_ID", "HTTP_X_PROJECT_ID",
    "REMOTE_USER", "REMOTE_ADDR", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "wsgi.url_scheme",
    "swift.cache", "swift.trans_id", "swift.authorize", "swift.authorize_override", "swift.infocache",
    TRANS_ID_KEY, IDENTITY_KEY, RESELLER_KEY,
)  # fmt: skip


@dataclass(frozen=True)
class WebSettings:
    """A container's ``X-Container-Meta-Web-*`` settings, each "" when unset."""

    index: str = ""
    error: str = ""
    listings: str = ""
    listings_label: str = ""
    listings_css: str = ""
    directory_type: str = ""

    @classmethod
    def of(cls, headers: dict[str, str]) -> WebSettings:
        """The settings in a container HEAD's ``headers`` (lower-cased names)."""
        names = [f.name for f in fields(cls)]
        return cls(**{n: headers.get("x-container-meta-web-" + n.replace("_", "-"), "").strip() for n in names})

    @property
    def lists(self) -> bool:
        return self.listings.lower() in TRUE_VALUES


def is_web_request(environ: dict) -> bool:
    """Whether ``environ`` asks for the web site: an anonymous (or temp URL's) GET or HEAD of a
    container or below it, or an authenticated one that says ``X-Web-Mode: true``."""
    parts = api_parts(environ)
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or len(parts) < 2 or not parts[1]:
        return False
    if environ.get(NATIVE_S3_KEY):
        return False
    user = environ.get("REMOTE_USER")
    authenticated = (user and user != TEMPURL_USER) or IDENTITY_KEY in environ
    return not authenticated or environ.get("HTTP_X_WEB_MODE", "f").lower() in TRUE_VALUES


def human_readable(size: int) -> str:
    """A size as Swift's listings write it: ``512``, ``2Ki``, ``1Mi``."""
    value, index = float(size), -1
    while value >= 1024 and index + 1 < len(SIZE_SUFFIXES):
        index += 1
        value = round(value / 1024)
    return f"{int(value)}" if index == -1 else f"{round(value):d}{SIZE_SUFFIXES[index]}i"


def link(name: str) -> str:
    """A listed name as Swift's listings link it: quoted, dots too (``a%2Ehtml``)."""
    return quote(name, safe="/").replace(".", "%2E")


def client_environ(environ: dict, method: str, path: str, query: str = "") -> dict:
    """The environ of a new request for ``method`` on ``path`` (text) made with the client's
    identity and rights, as Swift's ``make_env``."""
    return {
        **{key: environ[key] for key in CLIENT_KEYS if key in environ},
        "REQUEST_METHOD": method,
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "HTTP_USER_AGENT": f"{environ.get('HTTP_USER_AGENT')} StaticWeb",
        "wsgi.input": io.BytesIO(),
        "CONTENT_LENGTH": "0",
    }


def succeeded(response: Response) -> bool:
    return 200 <= response.status_int < 400


class StaticWeb:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        url_base = urlparse(conf.get("url_base", ""))
        self.url_scheme, self.url_host = url_base.scheme, url_base.netloc

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not is_web_request(environ):
            return self.app(environ, start_response)
        site = Site(self, environ)
        response = site.serve_object() if site.obj else site.serve_container()
        if response is None:
            return self.app(environ, start_response)
        return response(environ, start_response)


class Site:
    """One request for a container's web site: what it asks for and the container's settings."""

    def __init__(self, staticweb: StaticWeb, environ: dict) -> None:
        self.staticweb = staticweb
        self.app = staticweb.app
        self.environ = environ
        self.account, self.container, *rest = api_parts(environ)
        self.obj = rest[0] if rest else ""
        self.path = path_text(environ) or ""
        self.settings = WebSettings()

    @property
    def container_path(self) -> str:
        return f"/v1/{self.account}/{self.container}"

    def read_settings(self) -> None:
        """The container's web settings, read with a HEAD this filter authorizes (none if it fails)."""
        request = Request.blank("/", environ=pre_authorized(self.environ, "HEAD", self.container_path, STATICWEB_USER))
        response = request.get_response(self.app)
        headers = {name.lower(): value for name, value in response.headerlist}
        self.settings = WebSettings.of(headers) if response.status_int // 100 == 2 else WebSettings()

    def as_client(self, method: str, path: str, query: str = "") -> Response:
        environ = client_environ(self.environ, method, path, query)
        return Request(environ).get_response(self.app)

    def the_request(self, path: str | None = None) -> Response:
        """The client's own request (for ``path`` instead, if given), headers and all."""
        environ = {**self.environ, "HTTP_USER_AGENT": f"{self.environ.get('HTTP_USER_AGENT')} StaticWeb"}
        if path is not None:
            environ["PATH_INFO"] = path.encode("utf-8").decode("latin-1")
        return Request(environ).get_response(self.app)

    def serve_container(self) -> Response | None:
        """The answer to a request for the container itself; None to pass it on untouched."""
        self.read_settings()
        if not succeeded(self.as_client("HEAD", self.container_path)):  # the container's ACL says no
            return self.error_page(self.the_request())
        if not self.settings.listings and not self.settings.index:
            return not_found() if self.environ.get("HTTP_X_WEB_MODE", "f").lower() in TRUE_VALUES else None
        if not self.path.endswith("/"):
            return self.redirect_with_slash()
        if not self.settings.index:
            return self.listing()
        index = self.the_request(self.path + self.settings.index)
        if index.status_int == 404:
            return self.listing()
        return index if succeeded(index) else self.error_page(index)

    def serve_object(self) -> Response:
        """The answer to a request for an object: it, or the directory it names."""
        answer = self.the_request()
        self.read_settings()
        if succeeded(answer):
            if not self.is_directory_marker(answer):
                return answer
        elif answer.status_int != 404:
            return answer  # other errors go out as they are, as Swift's do
        if not self.settings.listings and not self.settings.index:
            return answer
        if self.settings.index:
            index_path = self.path + ("" if self.path.endswith("/") else "/") + self.settings.index
            index = self.the_request(index_path)
            if succeeded(index):
                return index if self.path.endswith("/") else self.redirect_with_slash()
            if index.status_int != 404:
                return index
        if self.path.endswith("/"):
            return self.listing(self.obj)
        query = f"format=json&limit=1&delimiter=/&prefix={quote(self.obj + '/')}"
        below = self.as_client("GET", self.container_path, query)
        if not succeeded(below) or not below.body or not json.loads(below.body):
            return self.error_page(not_found())
        return self.redirect_with_slash()

    def is_directory_marker(self, answer: Response) -> bool:
        content_type = self.settings.directory_type or DEFAULT_DIRECTORY_TYPE
        return answer.headers.get("Content-Type") == content_type and int(answer.content_length or 0) <= 1

    def error_page(self, answer: Response) -> Response:
        """``answer``, or with ``X-Container-Meta-Web-Error`` set, the page ``<status><suffix>``
        served with ``answer``'s status."""
        if not self.settings.error:
            return answer
        page = self.as_client("GET", f"{self.container_path}/{answer.status_int}{self.settings.error}")
        if not succeeded(page):
            return answer
        return Response(status=answer.status, headerlist=page.headerlist, app_iter=page.app_iter)

    def redirect_with_slash(self) -> Response:
        scheme = self.staticweb.url_scheme or self.environ.get("wsgi.url_scheme", "http")
        host = (
            self.staticweb.url_host
            or self.environ.get("HTTP_HOST")
            or (f"{self.environ.get('SERVER_NAME')}:{self.environ.get('SERVER_PORT')}")
        )
        default_port = {"http": ":80", "https": ":443"}.get(scheme)
        if default_port and host.endswith(default_port):
            host = host[: -len(default_port)]
        location = quote(self.environ["PATH_INFO"] + "/", safe="/", encoding="latin-1")
        response = html_page(301, b"" if self.environ["REQUEST_METHOD"] == "HEAD" else MOVED_PAGE)
        response.headers["Location"] = f"{scheme}://{host}{location}"
        return response

    def label(self) -> str:
        if not self.settings.listings_label:
            return self.path
        return self.settings.listings_label + "/" + "/".join(self.path.split("/")[4:])

    def css_link(self, prefix: str) -> str:
        css = self.settings.listings_css
        if css.startswith(("/", "http://", "https://")):
            return quote(css, safe=":/")
        return "../" * prefix.count("/") + quote(css, safe="/")

    def listing(self, prefix: str = "") -> Response:
        """The HTML listing of the directory ``prefix`` (the container's top for "")."""
        label = html.escape(self.label())
        if not self.settings.lists:
            return self.error_page(self.listing_disabled(label, prefix))
        query = "format=json&delimiter=/" + (f"&prefix={quote(prefix, safe='/')}" if prefix else "")
        answer = self.as_client("GET", self.container_path, query)
        if not succeeded(answer):
            return self.error_page(answer)
        entries = json.loads(answer.body) if answer.body else []
        if prefix and not entries:
            return self.error_page(not_found())
        signed, signed_prefix = self.temp_url_query()
        body = (
            f"<!DOCTYPE html>\n<html>\n <head>\n  <title>Listing of {label}</title>\n"
            + self.style(prefix, "   th {text-align: left; padding: 0px 1em 0px 1em;}\n"
                         "   td {padding: 0px 1em 0px 1em;}\n   a {text-decoration: none;}\n")
            + f' </head>\n <body>\n  <h1 id="title">Listing of {label}</h1>\n  <table id="listing">\n'
            '   <tr id="heading">\n    <th class="colname">Name</th>\n    <th class="colsize">Size</th>\n'
            '    <th class="coldate">Date</th>\n   </tr>\n'
        )  # fmt: skip
        if len(prefix) > len(signed_prefix):
            body += (
                f'   <tr id="parent" class="item">\n    <td class="colname"><a href="../{signed}">../</a></td>\n'
                '    <td class="colsize">&nbsp;</td>\n    <td class="coldate">&nbsp;</td>\n   </tr>\n'
            )
        for entry in entries:
            if "subdir" in entry:
                subdir = entry["subdir"][len(prefix) :]
                body += (
                    '   <tr class="item subdir">\n'
                    f'    <td class="colname"><a href="./{link(subdir)}{signed}">{html.escape(subdir)}</a></td>\n'
                    '    <td class="colsize">&nbsp;</td>\n    <td class="coldate">&nbsp;</td>\n   </tr>\n'
                )
        for entry in entries:
            if "name" in entry:
                name = entry["name"][len(prefix) :]
                types = " ".join("type-" + html.escape(t.lower()) for t in entry["content_type"].split("/"))
                date = html.escape(entry["last_modified"]).split(".")[0].replace("T", " ")
                body += (
                    f'   <tr class="item {types}">\n'
                    f'    <td class="colname"><a href="./{link(name)}{signed}">{html.escape(name)}</a></td>\n'
                    f'    <td class="colsize">{human_readable(entry["bytes"])}</td>\n'
                    f'    <td class="coldate">{date}</td>\n   </tr>\n'
                )
        body += "  </table>\n </body>\n</html>\n"
        return html_page(200, body.encode("utf-8"))

    def listing_disabled(self, label: str, prefix: str) -> Response:
        body = f"<!DOCTYPE html>\n<html>\n<head>\n<title>Listing of {label}</title>\n"
        body += self.style(prefix, "   p {font-size: 2}\n")
        body += (
            "</head>\n<body>  <h1>Web Listing Disabled</h1>   <p>The owner of this web site has disabled web listing."
            "   <p>If you are the owner of this web site, you can enable   web listing by setting "
            "X-Container-Meta-Web-Listings.</p>"
        )
        if self.settings.index:
            body += (
                "<h1>Index File Not Found</h1> <p>The owner of this web site has set  "
                f"<b>X-Container-Meta-Web-Index: {self.settings.index}</b>.  However, this file is not found.</p>"
            )
        body += " </body>\n</html>\n"
        return html_page(404, body.encode("utf-8"))

    def style(self, prefix: str, rules: str) -> str:
        """The listing's style: a link to ``X-Container-Meta-Web-Listings-CSS``, else Swift's own."""
        if self.settings.listings_css:
            return f'  <link rel="stylesheet" type="text/css" href="{self.css_link(prefix)}" />\n'
        return '  <style type="text/css">\n   h1 {font-size: 1em; font-weight: bold;}\n' + rules + "  </style>\n"

    def temp_url_query(self) -> tuple[str, str]:
        """(the query a temp URL's listing signs its links with, the URL's prefix): ("", "")
        unless the request came with a prefix temp URL."""
        if self.environ.get("REMOTE_USER") != TEMPURL_USER:
            return "", ""
        query = TempURLQuery.of(self.environ)
        if query.prefix is None:
            return "", ""
        parts = [
            f"temp_url_prefix={quote(query.prefix, safe='/')}",
            f"temp_url_expires={temp_urls.parse_expires(query.expires)}",
            f"temp_url_sig={query.sig}",
        ]
        if query.ip_range:
            parts.append(f"temp_url_ip_range={quote(query.ip_range, safe='/')}")
        if query.inline:
            parts.append("inline")
        return "?" + "&amp;".join(parts), query.prefix


def html_page(status: int, body: bytes) -> Response:
    return Response(status=status, headerlist=[("Content-Type", STOCK_PAGE_TYPE)], body=body)


def not_found() -> Response:
    return html_page(404, stock_page(404))


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    register_swift_info("staticweb")
    return lambda app: StaticWeb(app, conf)
