"""Authorization as the gateway's filters see it: who is asking, in the WSGI environ, and the
core's decision (``librgw.authorization.decide``) as the response to send.

The ``auth`` filter (a Swift token) or the ``s3`` filter (a signature) puts the requester's
``Identity`` in ``environ[IDENTITY_KEY]``; a request without one is anonymous. ``refusal``
turns ``decide``'s answer into None (go on), 401 (no credentials: log in, then ask again)
or 403 (credentials that do not allow this).
"""

from __future__ import annotations

from webob import exc

from librgw.authorization import Access, Identity, decide

IDENTITY_KEY = "librgw.identity"


def refusal(identity: Identity | None, access: Access) -> exc.HTTPException | None:
    """``decide``'s answer as the response to send: None, 401 or 403."""
    status = decide(identity, access)
    if status is None:
        return None
    if status == 401:
        return exc.HTTPUnauthorized("Unauthorized: this needs a token (X-Auth-Token) or a signature")
    return exc.HTTPForbidden("Forbidden: your credentials do not allow this")
