"""Authorization as the gateway's filters see it: who is asking, in the WSGI environ, and the
core's decision (``librgw.authorization.decide``) as the response to send.

The ``auth`` filter (a Swift token) or the ``s3`` filter (a signature) puts the requester's
``Identity`` in ``environ[IDENTITY_KEY]``; a request without one is anonymous. ``refusal``
turns ``decide``'s answer into None (go on), 401 (no credentials: log in, then ask again)
or 403 (credentials that do not allow this).

A filter that authorizes a request itself (``tempurl``: the signed URL is the credential) says so
as it would to Swift's proxy: ``environ["swift.authorize"]``, a callable taking the request and
answering None or the error to send, with ``environ["swift.authorize_override"]`` set;
``request_refusal`` then asks it instead of ``decide``. Without the override it is asked after
``decide`` lets a request pass: a filter's own refusal that must not answer before
authorization (``container_quotas``, ``account_quotas``). Only filters can put them there: a
client's headers reach the environ as ``HTTP_*`` keys.

Every 401 carries ``WWW-Authenticate: Swift realm="<account>"``, as Swift's responses do
(``swob.Response.www_authenticate``): the account the path names, URL-quoted, or
``unknown`` for a path without one (``/auth/v1.0``, ``/v1``); ``www_authenticate`` says which.
"""

from __future__ import annotations

from urllib.parse import quote

from webob import Request, exc

from librgw.authorization import Access, Identity, decide

IDENTITY_KEY = "librgw.identity"
AUTHORIZE_KEY, OVERRIDE_KEY = "swift.authorize", "swift.authorize_override"
OWNER_KEY = "swift_owner"  # set by a filter whose request acts as the account's owner
RESELLER_KEY = "reseller_request"  # True: a reseller admin asks (tempauth's key; account_quotas reads it)
NATIVE_S3_KEY = "librgw.s3"  # set on the native requests the s3 filter sends for an S3 client
NO_REALM = ("", "auth", "v1.0")  # where Swift's realm would be a path segment that is no account


def www_authenticate(path: str, account: str = "") -> str:
    """The ``WWW-Authenticate`` value of a 401 to a request for ``path`` (a WSGI path): the
    realm is ``account`` if given, else the path's second segment."""
    realm = account or (path.split("/", 3)[2] if path.count("/") >= 2 else "")
    if realm in NO_REALM:
        realm = "unknown"
    return f'Swift realm="{quote(realm, safe="", encoding="latin-1")}"'


def refusal(identity: Identity | None, access: Access) -> exc.HTTPException | None:
    """``decide``'s answer as the response to send: None, 401 or 403."""
    status = decide(identity, access)
    if status is None:
        return None
    if status == 401:
        return exc.HTTPUnauthorized("Unauthorized: this needs a token (X-Auth-Token) or a signature")
    return exc.HTTPForbidden("Forbidden: your credentials do not allow this")


def request_refusal(request: Request, identity: Identity | None, access: Access) -> exc.HTTPException | None:
    """``refusal``, unless a filter authorized the request itself: then its ``swift.authorize``'s
    answer. A ``swift.authorize`` without the override is a filter's refusal that waits for
    authorization (Swift's quota filters wrap the auth filter's so): asked once ``refusal`` lets
    the request pass."""
    environ = request.environ
    authorize = environ.get(AUTHORIZE_KEY)
    if environ.get(OVERRIDE_KEY) and callable(authorize):
        return authorize(request)
    refused = refusal(identity, access)
    if refused is None and callable(authorize):
        return authorize(request)
    return refused
