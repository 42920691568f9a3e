"""``auth``: Swift's tempauth protocol over the core's users: tokens for Swift subusers.

``GET /auth/v1.0`` (or ``/auth/v1.0/``) with ``X-Auth-User: <uid>:<subuser>`` and
``X-Auth-Key: <swift key>`` (a subuser made as with radosgw-admin: ``librgw admin subuser
create --uid alice --subuser swift``) answers 200 with ``X-Auth-Token``,
``X-Storage-Token``, ``X-Storage-Url`` (``<this host>/v1/AUTH_<uid>``, or for a user of a
tenant, ``X-Auth-User: <tenant>$<uid>:<subuser>``, its tenant's ``AUTH_<tenant>``) and
``X-Auth-Token-Expires``. A wrong user or key is 401 (``WWW-Authenticate: Swift
realm="<account>"``, as tempauth answers), a suspended user 403.

Tokens are kept in the cluster by the core (``librgw/tokens.py``: ``default.rgw.log``,
namespace ``tokens``, one object per token), so every worker of every gateway process
accepts them; each worker caches what it has read for ``token_cache_seconds``; a
suspended or removed user's tokens stop working once that has passed. On every other
request an ``X-Auth-Token`` (or ``X-Storage-Token``) is checked: a valid one puts the
identity in ``environ["librgw.identity"]`` (``librgw.authorization.Identity``: the user, and
the roles the token was issued with: the subuser's permission, and reseller admin for a
user with ``--admin``, whose requests also get tempauth's ``environ["reseller_request"]``, which
``account_quotas`` asks); an unknown or expired one is 401. A request without a token goes
on as anonymous. Whether anyone may do what they ask is decided below, in one place
(``librgw/authorization.py``). Keys and tokens are compared in constant time and never logged.

Settings (``[filter:auth]`` in ``paste.ini``):

- ``cluster``: as the gateway app's (``$LIBRGW_CLUSTER`` overrides it);
- ``token_life`` (seconds, default 86400): how long a token lasts;
- ``token_cache_seconds`` (default 10): how long a worker trusts a token it has read.

``paste.ini``::

    [filter:auth]
    use = egg:librgw#auth
    token_life = 86400
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Iterable

from webob import Request, Response

from librgw.authorization import Identity
from librgw.errors import NoSuchUser
from librgw.tokens import TOKEN_RE, TokenStore

from .core_connection import WorkerConnection, cluster_spec
from .registry import register_swift_info
from .request_identity import IDENTITY_KEY, RESELLER_KEY, www_authenticate

AUTH_PATHS = ("/auth/v1.0", "/auth/v1.0/", "/v1.0", "/v1.0/")
OPEN_PATHS = ("/healthcheck", "/info")
MAX_CACHED_TOKENS = 10000
DEFAULT_TOKEN_LIFE = 86400
DEFAULT_CACHE_SECONDS = 10.0


class TokenCache:
    """The core's tokens (``librgw.tokens``) as one worker trusts them: what it read, for a while."""

    def __init__(self, core: WorkerConnection, cache_seconds: float) -> None:
        self._core = core
        self._cache: dict[str, tuple[float, Identity | None]] = {}
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()

    def _store(self) -> TokenStore:
        rgw = self._core.rgw
        return TokenStore(rgw.client, rgw.users)

    def issue(self, identity: Identity) -> str:
        return self._store().issue(identity)

    def lookup(self, token: str) -> Identity | None:
        """The identity of a live token; None for an unknown or expired one, or one whose
        user is suspended or gone."""
        if not TOKEN_RE.fullmatch(token):
            return None  # never read, never cached: random tokens cannot fill the cache
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(token)
        if cached is None or cached[0] < now:
            cached = (now + self._cache_seconds, self._store().lookup(token))
            with self._lock:
                if len(self._cache) >= MAX_CACHED_TOKENS:
                    self._cache.clear()
                self._cache[token] = cached
        identity = cached[1]
        if identity is None or identity.expires <= time.time():
            return None
        return identity


class Auth:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.core = WorkerConnection(cluster_spec(conf))
        self.token_life = int(conf.get("token_life", DEFAULT_TOKEN_LIFE))
        self.tokens = TokenCache(self.core, float(conf.get("token_cache_seconds", DEFAULT_CACHE_SECONDS)))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in OPEN_PATHS:
            return self.app(environ, start_response)
        if path in AUTH_PATHS:
            return self.authenticate(Request(environ))(environ, start_response)
        token = environ.get("HTTP_X_AUTH_TOKEN") or environ.get("HTTP_X_STORAGE_TOKEN")
        if token:
            identity = self.tokens.lookup(token)
            if identity is None:
                denied = _deny(401, "Unauthorized: unknown or expired token", www_authenticate(path))
                return denied(environ, start_response)
            environ[IDENTITY_KEY] = identity
            if identity.reseller_admin:  # as tempauth marks a reseller admin's request (account_quotas asks)
                environ[RESELLER_KEY] = True
        return self.app(environ, start_response)

    def authenticate(self, request: Request) -> Response:
        swift_user = request.headers.get("X-Auth-User", "")
        key = request.headers.get("X-Auth-Key", "")
        challenge = www_authenticate(request.path_info, swift_user.partition(":")[0])  # tempauth's realm
        if ":" not in swift_user or not key:
            return _deny(401, "Unauthorized: X-Auth-User (account:user) and X-Auth-Key are required", challenge)
        try:
            user, secret = self.core.rgw.users.lookup_swift(swift_user)
        except NoSuchUser:
            secret, user = "", None
        if user is None or not hmac.compare_digest(secret.encode(), key.encode()):
            return _deny(401, "Unauthorized: wrong user or key", challenge)
        if user.suspended:
            return _deny(403, "Forbidden: the user is suspended")
        permissions = next((s["permissions"] for s in user.subusers if s["id"] == swift_user), "")
        identity = Identity(
            user.user_id, swift_user, time.time() + self.token_life, permissions, reseller_admin=bool(user.admin)
        )
        token = self.tokens.issue(identity)
        response = Response(status=200, text="", content_type="text/plain")
        response.headers.update(
            {
                "X-Auth-Token": token,
                "X-Storage-Token": token,
                "X-Storage-Url": f"{request.host_url}/v1/{identity.account}",
                "X-Auth-Token-Expires": str(self.token_life),
            }
        )
        return response


def _deny(status: int, message: str, challenge: str = "") -> Response:
    """A refusal; a 401's ``challenge`` is its ``WWW-Authenticate`` (``request_identity.www_authenticate``)."""
    response = Response(status=status, text=message + "\n", content_type="text/plain")
    if challenge:
        response.headers["WWW-Authenticate"] = challenge
    return response


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    register_swift_info("tempauth", account_acls=True)  # X-Account-Access-Control (swift/account.py)
    return lambda app: Auth(app, conf)
