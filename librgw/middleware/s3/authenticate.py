"""Who signed an S3 request: the signature checked (``s3_signature``) against the core's keys.

An access key is looked up in ``users.keys`` (one read); the identity it gives is the
user's, with the permission of the subuser the key belongs to, as RGW has it. A request
without S3 authentication is anonymous (None): what it may do is decided, as for every
request, by ``authorization.py``. A suspended user is refused.
"""

from __future__ import annotations

import math

import librgw
from librgw.errors import InvalidAccessKeyId, NoSuchUser

from ..authorization import Identity
from ..s3_signature import S3Credentials, SignatureError, v4_signing_key, verify
from .errors import S3Error


def identity_of(rgw: librgw.RGW, claim: S3Credentials | None) -> Identity | None:
    if claim is None:
        return None
    try:
        key = rgw.users.lookup_key(claim.access_key)
        user = rgw.users.get(key.user_id)
    except (InvalidAccessKeyId, NoSuchUser):
        raise S3Error(
            "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
        ) from None
    try:
        verify(claim, key.secret_key)
    except SignatureError as error:
        raise S3Error(error.code, error.message, error.status) from None
    if user.suspended:
        raise S3Error("UserSuspended", "The user is suspended", 403)
    owner = f"{key.user_id}:{key.subuser}" if key.subuser else key.user_id
    permissions = next((s["permissions"] for s in user.subusers if s["id"] == owner), "full-control")
    return Identity(key.user_id, owner, math.inf, permissions, reseller_admin=bool(user.admin))


def chunk_signing_key(rgw: librgw.RGW, claim: S3Credentials) -> bytes:
    """The SigV4 signing key of a claim ``identity_of`` accepted, which also signs the chunks
    of a streaming upload (``payload.py``): a second read of the key, for those uploads only."""
    try:
        secret = rgw.users.lookup_key(claim.access_key).secret_key
    except InvalidAccessKeyId:
        raise S3Error(
            "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
        ) from None
    return v4_signing_key(secret, claim.scope_date, claim.region, claim.service)
