"""Temporary security credentials, as RGW's STS issues them: time-limited S3 keys with a session token.

``SessionStore.issue`` makes, for one of a user's S3 keys, a new access key (``ASIA...``),
secret and session token that act as that key's owner (user and subuser) until they
expire; or, from ``AssumeRole``, that act as a role (``librgw/roles.py``: the record names
it and the session, and they may do only what the role's permission policies allow). They
are kept in ``default.rgw.meta``, namespace ``users.sts``, one record per temporary access
key, so every gateway worker accepts them. A request signed with one must carry its session
token (``x-amz-security-token``); the gateway checks both.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from dataclasses import asdict, dataclass

from librgw import rados

from .errors import InvalidAccessKeyId, InvalidArgument
from .users import AccessKey
from .zone import Zone

STS_NS = "users.sts"
TEMP_KEY_PREFIX = "ASIA"
MIN_DURATION, MAX_DURATION = 900, 129600  # AWS's bounds for GetSessionToken
MAX_RECORD = 4096
KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass
class SessionCredentials:
    access_key: str
    secret_key: str
    session_token: str
    user_id: str
    subuser: str
    expiration: float  # seconds since the epoch
    role: str = ""  # the name of the role they act as (AssumeRole's); "": as their user
    role_session_name: str = ""

    @property
    def expired(self) -> bool:
        return self.expiration <= time.time()


class SessionStore:
    def __init__(self, zone: Zone) -> None:
        self.zone = zone

    def issue(
        self, key: AccessKey, duration: int, role: str = "", session_name: str = "", max_duration: int = MAX_DURATION
    ) -> SessionCredentials:
        """New temporary credentials acting as ``key``'s owner (or, named, the ``role`` it
        assumed) for ``duration`` seconds, at most ``max_duration``."""
        if not MIN_DURATION <= duration <= max_duration:
            raise InvalidArgument(f"DurationSeconds must be from {MIN_DURATION} to {max_duration}")
        credentials = SessionCredentials(
            TEMP_KEY_PREFIX + "".join(secrets.choice(KEY_ALPHABET) for _ in range(16)),
            secrets.token_urlsafe(30),
            secrets.token_urlsafe(48),
            key.user_id,
            key.subuser,
            time.time() + duration,
            role,
            session_name,
        )
        with rados.WriteOpCtx() as op:
            op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
            op.write_full(json.dumps(asdict(credentials)).encode())
            self.zone.meta(STS_NS).operate_write_op(op, credentials.access_key)
        return credentials

    def lookup(self, access_key: str) -> SessionCredentials:
        """The credentials of a temporary access key (expired or not); ``InvalidAccessKeyId`` if none."""
        if not access_key.startswith(TEMP_KEY_PREFIX):
            raise InvalidAccessKeyId(f"access key {access_key!r} does not exist")
        try:
            return SessionCredentials(**json.loads(self.zone.meta(STS_NS).read(access_key, MAX_RECORD)))
        except rados.ObjectNotFound:
            raise InvalidAccessKeyId(f"access key {access_key!r} does not exist") from None
