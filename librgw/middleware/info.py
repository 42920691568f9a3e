"""``/info``: what the gateway answers about itself, as Swift's proxy does (its ``InfoController``).

``GET`` (or ``HEAD``) ``/info`` answers, without auth, the features the pipeline registered
(``registry.py``) as JSON, but for ``disallowed_sections``: each a section (``bulk_delete``) or
one setting of it (``swift.max_file_size``, a dotted path) left out. ``OPTIONS /info`` answers
``Allow: HEAD, GET, OPTIONS``; a request with ``Origin`` is answered with
``Access-Control-Allow-Origin`` as Swift's.

An operator sees more with a URL signed with ``admin_key`` (``swift-temp-url``'s format):
``/info?swiftinfo_sig=<sig>&swiftinfo_expires=<unix time>``, where ``<sig>`` is the hex
HMAC-SHA1 with the key of ``<METHOD>\\n<expires>\\n/info`` (a HEAD may use a GET signature), made
as a temp URL's signature is (``librgw/temp_urls.py``). It answers the public
document plus an ``admin`` section: what features registered for operators only
(``register_swift_info(name, admin=True, ...)``) and ``disallowed_sections``. A signature that
does not match (compared in constant time), an expiry that is not a number or is past is
``401 Unauthorized``; any signed request without an ``admin_key`` set is ``403 Forbidden``; with
``expose_info = false`` every ``/info`` request is ``403 Forbidden``. Those are Swift's answers.

Settings, in ``[app:gateway]`` (Swift's ``[app:proxy-server]`` names and defaults):
``expose_info`` (``true``), ``disallowed_sections`` (``swift.auto_create_account_prefix,
swift.valid_api_versions``, comma separated), ``admin_key`` (none: no admin part).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from webob import Request, Response, exc

from librgw import temp_urls

from .registry import swift_info
from .swift.answer_bodies import STOCK_PAGE_TYPE, swift_answer

INFO_PATH = "/info"
DEFAULT_DISALLOWED = "swift.auto_create_account_prefix, swift.valid_api_versions"
TRUE_VALUES = ("true", "1", "yes", "on", "t", "y")  # Swift's config_true_value
SIGNED_AS = {"GET": ("GET",), "HEAD": ("HEAD", "GET")}
INFO_TYPE = "application/json; charset=UTF-8"


@dataclass(frozen=True)
class InfoSettings:
    expose: bool
    disallowed_sections: tuple[str, ...]
    admin_key: str | None

    @classmethod
    def from_conf(cls, conf: dict) -> InfoSettings:
        disallowed = conf.get("disallowed_sections", DEFAULT_DISALLOWED)
        return cls(
            expose=conf.get("expose_info", "true").lower() in TRUE_VALUES,
            disallowed_sections=tuple(s.strip() for s in disallowed.split(",") if s.strip()),
            admin_key=conf.get("admin_key") or None,
        )


def signed_by(settings: InfoSettings, method: str, sig: str, expires: str) -> exc.HTTPException | None:
    """None if ``sig`` and ``expires`` sign an admin's ``method`` of ``/info``, else the refusal."""
    if settings.admin_key is None:
        return exc.HTTPForbidden()
    try:
        expiry = int(expires)
    except ValueError:
        return exc.HTTPUnauthorized()
    if expiry < time.time():
        return exc.HTTPUnauthorized()
    valid = False
    for signed_method in SIGNED_AS.get(method, ()):  # every method is tried: the time says nothing
        scope = temp_urls.Scope(signed_method, expiry, INFO_PATH)
        valid |= temp_urls.matches(sig, scope, settings.admin_key, "sha1")
    return None if valid else exc.HTTPUnauthorized()


def info_response(settings: InfoSettings, request: Request) -> Response:
    """The answer to a request for ``/info``; its refusals with Swift's stock pages."""
    if request.method == "OPTIONS":
        return Response(headerlist=[("Allow", "HEAD, GET, OPTIONS"), ("Content-Type", STOCK_PAGE_TYPE)])
    if not settings.expose:
        return swift_answer(exc.HTTPForbidden(), request.method)
    sig, expires = request.GET.get("swiftinfo_sig", ""), request.GET.get("swiftinfo_expires", "")
    admin = bool(sig or expires)
    if admin:
        refusal = signed_by(settings, request.method, sig, expires)
        if refusal is not None:
            return swift_answer(refusal, request.method)
    document = swift_info(admin=admin, disallowed_sections=settings.disallowed_sections)
    response = Response(body=json.dumps(document).encode("ascii"), headerlist=[("Content-Type", INFO_TYPE)])
    if "Origin" in request.headers:
        response.headers["Access-Control-Allow-Origin"] = request.headers["Origin"]
        response.headers["Access-Control-Expose-Headers"] = "x-trans-id"
    return response
