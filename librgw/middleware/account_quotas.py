"""``account_quotas``: Swift's account quotas, limits only a reseller admin sets on an account.

- ``X-Account-Meta-Quota-Bytes`` (or ``X-Account-Quota-Bytes``): the most bytes the account's
  objects may hold together;
- ``X-Account-Quota-Count``: the most objects it may hold;

each removed with ``X-Remove-Account-...``, and kept as the account's metadata
(``X-Account-Meta-Quota-Bytes`` / ``-Count``), which its HEAD shows to its users. Only a
reseller admin may set them (``environ["reseller_request"]``, which tempauth, and this
project's ``auth`` for a user made with ``--admin``, put there): anyone else is ``403``, a value
that is not a whole number ``400``, with Swift's bodies. A reseller admin's own uploads are
not limited.

An object PUT (or COPY, or PUT with ``X-Copy-From``) that would take the account past a quota
is ``413 Upload exceeds quota.`` before anything is stored: the account's bytes and object
count (the index stats its HEAD reports) plus the upload's size, plus one object. A chunked
upload is cut off at the byte that crosses the limit and leaves nothing behind
(``quota_limits.py``). Swift's per-storage-policy quotas have no counterpart here (one
placement).

It speaks only Swift's protocol, so it runs unchanged in an OpenStack Swift proxy's pipeline
(``use = egg:librgw#account_quotas``, after the auth filter, as Swift's own). S3 uploads reach
it as native PUTs through the ``s3`` filter and are refused as S3 ``QuotaExceeded``.

No settings::

    [filter:account_quotas]
    use = egg:librgw#account_quotas

Example (as a reseller admin): ``swift post -H 'X-Account-Meta-Quota-Bytes: 10000000'``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from webob import Request, exc

from . import quota_limits
from .registry import register_swift_info
from .request_identity import RESELLER_KEY
from .wsgi_path import api_parts

QUOTA_USER = ".wsgi.account_quotas"
# The headers that set each quota, and the metadata it is kept as.
QUOTA_HEADERS = {
    "X-Account-Meta-Quota-Bytes": ("X-Account-Meta-Quota-Bytes", "X-Account-Quota-Bytes"),
    "X-Account-Meta-Quota-Count": ("X-Account-Quota-Count",),
}
FORBIDDEN_BODY = "<html><h1>Forbidden</h1><p>Access was denied to this resource.</p></html>"
BAD_REQUEST_BODY = (
    "<html><h1>Bad Request</h1><p>The server could not comply with the request "
    "since it is either malformed or otherwise incorrect.</p></html>"
)


def requested_quotas(request: Request) -> dict[str, str]:
    """The quotas an account PUT or POST sets, by the metadata header that keeps them ("" removes)."""
    quotas = {}
    for kept, names in QUOTA_HEADERS.items():
        for name in names:
            if request.headers.get(name.replace("X-", "X-Remove-", 1)):
                quotas[kept] = ""
            elif name in request.headers:
                quotas.setdefault(kept, request.headers[name])
    return quotas


class AccountQuotas:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.conf = conf

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        parts = api_parts(environ)
        if len(parts) == 1 and request.method in ("PUT", "POST"):
            refusal = self.set_quotas(request)
            if refusal is not None:
                return refusal(environ, start_response)
        elif len(parts) == 3 and parts[2] and request.method in ("PUT", "COPY") and not environ.get(RESELLER_KEY):
            return self.upload(request, parts[0])(environ, start_response)
        return self.app(environ, start_response)

    def set_quotas(self, request: Request) -> exc.HTTPException | None:
        """403 for anyone but a reseller admin setting a quota, 400 for a bad value; else None,
        the request's quota headers turned into the metadata that keeps them."""
        quotas = requested_quotas(request)
        if not quotas:
            return None
        if request.environ.get(RESELLER_KEY) is not True:
            return exc.HTTPForbidden(body=FORBIDDEN_BODY, content_type=quota_limits.SWOB_TYPE)
        if any(value and not (value.isascii() and value.isdigit()) for value in quotas.values()):
            return exc.HTTPBadRequest(body=BAD_REQUEST_BODY, content_type=quota_limits.SWOB_TYPE)
        for names in QUOTA_HEADERS.values():
            for name in names:
                request.headers.pop(name, None)
                request.headers.pop(name.replace("X-", "X-Remove-", 1), None)
        for kept, value in quotas.items():
            request.headers[kept] = value  # "" removes the metadata, as a Swift POST does
        return None

    def upload(self, request: Request, account: str) -> Callable:
        """The app that answers an upload into ``account``: the pipeline, or a refusal."""
        if request.method == "COPY":
            account = request.headers.get("Destination-Account", account)
        headers = quota_limits.quota_stats(self.app, request.environ, f"/v1/{account}", "account", QUOTA_USER)
        if headers is None:
            return self.app
        return quota_limits.within_quota(self.app, request, headers, "account", QUOTA_USER)


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    register_swift_info("account_quotas")
    return lambda app: AccountQuotas(app, conf)
