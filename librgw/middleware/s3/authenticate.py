"""Who signed an S3 request: the signature checked (``signature.py``) against the core's keys.

An access key is looked up in ``users.keys`` (one read), or among the temporary
credentials STS issued (``librgw/sts.py``), whose session token the request must then
carry (``x-amz-security-token``, as a header or in a presigned URL's query) and which
must not have expired. The identity is the key owner's, with the permission of the
subuser the key belongs to, as RGW has it; for credentials from ``AssumeRole``, the role's:
its assumed-role ARN and its permission policies (read with the session, the role's
record one more read; parsed once per worker), which alone say what it may do. A request
without S3 authentication is anonymous (None): what it may do is decided, as for every
request, by ``authorization.py``. A suspended user is refused.
"""

from __future__ import annotations

import hmac
import math

from webob import Request

import librgw
from librgw.authorization import Identity
from librgw.errors import InvalidAccessKeyId, NoSuchEntity, NoSuchUser
from librgw.policy import Policy, cached_identity_policy
from librgw.roles import assumed_role_arn
from librgw.sts import SessionCredentials
from librgw.users import AccessKey

from .errors import S3Error
from .signature import S3Credentials, SignatureError, v4_signing_key, verify


def signing_key_of(rgw: librgw.RGW, access_key: str, environ: dict) -> AccessKey:
    """The key ``access_key`` names: a user's S3 key, or temporary credentials (whose session
    token the request must carry)."""
    return signer_of(rgw, access_key, environ)[0]


def signer_of(rgw: librgw.RGW, access_key: str, environ: dict) -> tuple[AccessKey, SessionCredentials | None]:
    """``signing_key_of``'s key, and the temporary credentials it is (None: a user's key)."""
    try:
        return rgw.users.lookup_key(access_key), None
    except InvalidAccessKeyId:
        pass
    try:
        session = rgw.sessions.lookup(access_key)
    except InvalidAccessKeyId:
        raise S3Error(
            "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
        ) from None
    query = Request(environ).GET  # SigV4 presigned URLs spell it X-Amz-Security-Token, SigV2 lower-case
    token = (
        environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
        or query.get("X-Amz-Security-Token")
        or query.get("x-amz-security-token", "")
    )
    if not hmac.compare_digest(token.encode("latin-1", "replace"), session.session_token.encode()):
        raise S3Error("InvalidToken", "The provided token is malformed or otherwise invalid.", 400)
    if session.expired:
        raise S3Error("ExpiredToken", "The provided token has expired.", 400)
    return AccessKey(session.user_id, session.access_key, session.secret_key, session.subuser), session


def identity_of_key(rgw: librgw.RGW, key: AccessKey, session: SessionCredentials | None = None) -> Identity:
    """Who acts with ``key`` (whose signature was checked): its user, as its subuser may; or,
    for temporary credentials from ``AssumeRole`` (``session``), the role they assumed."""
    try:
        user = rgw.users.get(key.user_id)
    except NoSuchUser:
        raise S3Error(
            "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
        ) from None
    if user.suspended:
        raise S3Error("UserSuspended", "The user is suspended", 403)
    if session is not None and session.role:
        return role_identity(rgw, session)
    owner = f"{key.user_id}:{key.subuser}" if key.subuser else key.user_id
    permissions = next((s["permissions"] for s in user.subusers if s["id"] == owner), "full-control")
    return Identity(key.user_id, owner, math.inf, permissions, reseller_admin=bool(user.admin))


def role_identity(rgw: librgw.RGW, session: SessionCredentials) -> Identity:
    """The identity of temporary credentials acting as a role: its assumed-role ARN and its
    permission policies, as one; refused if the role is gone."""
    try:
        role = rgw.roles.get(session.role)
    except NoSuchEntity:
        raise S3Error("InvalidToken", "The role of the provided token no longer exists.", 400) from None
    parsed = [cached_identity_policy(text) for text in role.permission_policies.values()]
    policy = Policy(tuple(s for p in parsed if p is not None for s in p.statements))
    arn = assumed_role_arn(role.name, session.role_session_name)
    return Identity(session.user_id, arn, math.inf, role=arn, role_policy=policy)


def identity_of(rgw: librgw.RGW, claim: S3Credentials | None, environ: dict) -> Identity | None:
    if claim is None:
        return None
    key, session = signer_of(rgw, claim.access_key, environ)
    try:
        verify(claim, key.secret_key)
    except SignatureError as error:
        raise S3Error(error.code, error.message, error.status) from None
    return identity_of_key(rgw, key, session)


def chunk_signing_key(rgw: librgw.RGW, claim: S3Credentials, environ: dict) -> bytes:
    """The SigV4 signing key of a claim ``identity_of`` accepted, which also signs the chunks
    of a streaming upload (``payload.py``): a second read of the key, for those uploads only."""
    secret = signing_key_of(rgw, claim.access_key, environ).secret_key
    return v4_signing_key(secret, claim.scope_date, claim.region, claim.service)
