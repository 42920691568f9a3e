"""Swift auth tokens, kept in the cluster so every gateway worker accepts them.

One object per token in ``default.rgw.log``, namespace ``tokens``, named by the token
(``AUTH_tk`` and 32 hex digits), holding the ``authorization.Identity`` it was issued for as
JSON. ``TokenStore.issue`` writes a new one; ``TokenStore.lookup`` reads one back, and answers
None for a token that is unknown or whose user is suspended or gone. Whether a token has
expired (``Identity.expires``) and how long a worker may trust what it read are the
caller's to decide (the ``auth`` filter's cache).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict
from typing import TYPE_CHECKING

from librgw import rados

from .authorization import Identity
from .errors import NoSuchUser
from .zone import LOG_POOL

if TYPE_CHECKING:
    from .users import UserStore

TOKENS_NS = "tokens"
TOKEN_PREFIX = "AUTH_tk"
TOKEN_RE = re.compile(TOKEN_PREFIX + "[0-9a-f]{32}")
MAX_RECORD = 4096


class TokenStore:
    """Issue Swift tokens and read them back."""

    def __init__(self, client: rados.Rados, users: UserStore) -> None:
        self.client = client
        self.users = users

    def _ioctx(self) -> rados.Ioctx:
        ioctx = self.client.open_ioctx(LOG_POOL)
        ioctx.set_namespace(TOKENS_NS)
        return ioctx

    def issue(self, identity: Identity) -> str:
        """A new token for ``identity``."""
        token = TOKEN_PREFIX + secrets.token_hex(16)
        with self._ioctx() as ioctx:
            ioctx.write_full(token, json.dumps(asdict(identity)).encode())
        return token

    def lookup(self, token: str) -> Identity | None:
        """The identity ``token`` was issued for, expired or not; None if there is no such
        token (or ``token`` is not one), or its user is suspended or gone."""
        if not TOKEN_RE.fullmatch(token):
            return None
        try:
            with self._ioctx() as ioctx:
                identity = Identity(**json.loads(ioctx.read(token, MAX_RECORD)))
            user = self.users.get(identity.user_id)
        except (rados.ObjectNotFound, NoSuchUser):
            return None
        return None if user.suspended else identity
