"""The keys that sign temp URLs and form posts: the account's and the container's
``Temp-URL-Key`` and ``Temp-URL-Key-2`` metadata, read with HEAD requests sent down the
pipeline (``tempurl`` and ``formpost`` share them).

The HEADs are authorized by the asking filter alone, as Swift's ``make_pre_authed_env`` does:
``swift.authorize`` answering None under ``swift.authorize_override``, and ``swift_owner``, so
keys hidden from everyone but the account's owner are seen. They work the same below an
OpenStack Swift proxy's auth filter as below ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from webob import Request

KEY_NAMES = ("temp-url-key", "temp-url-key-2")
# What the keys' HEAD requests keep of the request: its address, host, and request id
# (``librgw.trans_id`` here, ``swift.trans_id`` in a Swift proxy), and Swift's info cache.
PASSED_ON = (
    "REMOTE_ADDR",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_HOST",
    "librgw.trans_id",
    "swift.trans_id",
    "swift.cache",
)


@dataclass(frozen=True)
class SigningKey:
    value: str
    account_scope: bool  # the account's key (good for the whole account), else the container's


def pre_authorized(environ: dict, method: str, path: str, user: str) -> dict:
    """What a new request for ``method`` on ``path`` (text) from ``environ``'s client sets in
    ``Request.blank``'s environ: authorized by the filter that makes it (named ``user`` in logs)."""
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),  # a WSGI string
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "swift.authorize": lambda _request: None,
        "swift.authorize_override": True,
        "REMOTE_USER": user,
        **{k: environ[k] for k in PASSED_ON if k in environ},
    }


def signing_keys(app: Callable, environ: dict, account: str, container: str, user: str) -> list[SigningKey]:
    """Every Temp-URL-Key of ``account`` and of its ``container`` (names as text)."""
    keys = []
    for path, prefix in ((f"/v1/{account}", "x-account-meta-"), (f"/v1/{account}/{container}", "x-container-meta-")):
        headers = _head(app, environ, path, user)
        keys += [
            SigningKey(headers[prefix + name], prefix == "x-account-meta-")
            for name in KEY_NAMES
            if prefix + name in headers
        ]
    return keys


def _head(app: Callable, environ: dict, path: str, user: str) -> dict[str, str]:
    """The headers of a HEAD of ``path`` (lower-cased names); empty if it fails."""
    request = Request.blank("/", environ={**pre_authorized(environ, "HEAD", path, user), "swift_owner": True})
    response = request.get_response(app)
    if response.status_int // 100 != 2:
        return {}
    return {name.lower(): value for name, value in response.headerlist}
