"""The core's exceptions: one class per condition, each carrying the S3 error code the gateway maps it to.

The HTTP layer turns them into S3 or Swift responses in exactly one place; the CLI prints
their message. Storage failures below (``librgw.rados.Error``) pass through unchanged;
``cluster_busy`` says which of them mean "not now" (too few OSDs up, a busy object), so
every layer answers those as 503, not as a failure of its own.
"""

from __future__ import annotations

import errno

from librgw import rados

RETRY_LATER = frozenset({errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.EINTR})


def cluster_busy(error: BaseException) -> bool:
    """True for a cluster error a client should retry later (503), not a bug."""
    return isinstance(error, rados.Error) and error.errno in RETRY_LATER


class RGWError(Exception):
    """A request the gateway refuses; ``code`` is the S3 error code, ``status`` the HTTP status."""

    code = "InternalError"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(RGWError):
    code, status = "InvalidArgument", 400


class InvalidTag(InvalidArgument):
    """A tag set beyond S3's limits (count, key and value length) or naming a key twice."""

    code = "InvalidTag"


class InvalidRequest(InvalidArgument):
    """A request S3 refuses as ``InvalidRequest``: well-formed, but asking for something
    that does not make sense (a lifecycle rule with no action, ...)."""

    code = "InvalidRequest"


class NoSuchUser(RGWError):
    code, status = "NoSuchUser", 404


class UserAlreadyExists(RGWError):
    code, status = "UserAlreadyExists", 409


class KeyExists(RGWError):
    code, status = "KeyExists", 409


class InvalidAccessKeyId(RGWError):
    code, status = "InvalidAccessKeyId", 403


class EmailExists(RGWError):
    code, status = "EmailExists", 409


class SubuserExists(RGWError):
    code, status = "SubuserExists", 409


class UserSuspended(RGWError):
    code, status = "UserSuspended", 403


class InvalidBucketName(RGWError):
    code, status = "InvalidBucketName", 400


class NoSuchBucket(RGWError):
    code, status = "NoSuchBucket", 404


class BucketAlreadyExists(RGWError):
    code, status = "BucketAlreadyExists", 409


class BucketAlreadyOwnedByYou(RGWError):
    code, status = "BucketAlreadyOwnedByYou", 409


class BucketNotEmpty(RGWError):
    code, status = "BucketNotEmpty", 409


class TooManyBuckets(RGWError):
    code, status = "TooManyBuckets", 400


class QuotaExceeded(RGWError):
    """A write would take a user, bucket, account or container past its quota (RGW's ``check_quota``)."""

    code, status = "QuotaExceeded", 403


class IndexBusy(RGWError):
    """The bucket index stayed contended (or frozen by a reshard) for too long; the client retries."""

    code, status = "SlowDown", 503


class NoSuchKey(RGWError):
    code, status = "NoSuchKey", 404


class InvalidRange(RGWError):
    code, status = "InvalidRange", 416


class NoSuchUpload(RGWError):
    code, status = "NoSuchUpload", 404


class InvalidPart(RGWError):
    code, status = "InvalidPart", 400


class InvalidPartOrder(RGWError):
    code, status = "InvalidPartOrder", 400


class EntityTooSmall(RGWError):
    code, status = "EntityTooSmall", 400


class NoSuchVersion(RGWError):
    code, status = "NoSuchVersion", 404


class BadDigest(RGWError):
    code, status = "BadDigest", 400


class MethodNotAllowed(RGWError):
    code, status = "MethodNotAllowed", 405


class DeleteMarkerRead(RGWError):
    """A read reached a delete marker; ``version_id`` and ``mtime`` are the marker's, which
    the gateway's answer names."""

    def __init__(self, message: str, version_id: str, mtime: float) -> None:
        super().__init__(message)
        self.version_id = version_id
        self.mtime = mtime


class CurrentIsDeleteMarker(DeleteMarkerRead, NoSuchKey):
    """The key's current version is a delete marker: the key does not exist (404, as S3)."""


class VersionIsDeleteMarker(DeleteMarkerRead, MethodNotAllowed):
    """The version a read named is a delete marker, which has no data (405, as S3)."""


class NoSuchEntity(RGWError):
    """No role (or role policy) of that name, as IAM says it."""

    code, status = "NoSuchEntity", 404


class EntityAlreadyExists(RGWError):
    code, status = "EntityAlreadyExists", 409


class DeleteConflict(RGWError):
    """A role that still has permission policies, which must be deleted first (as RGW)."""

    code, status = "DeleteConflict", 409


class MalformedPolicyDocument(RGWError):
    code, status = "MalformedPolicyDocument", 400


class PreconditionFailed(RGWError):
    """A conditional write (``write_condition.py``) whose condition did not hold of the object
    it would have replaced."""

    code, status = "PreconditionFailed", 412


class NoObjectToMatch(PreconditionFailed):
    """A write asked to match the object's ETag (``If-Match``) where there is no object: a failed
    precondition to HTTP (412), ``NoSuchKey`` to S3, as AWS answers a conditional write (404)."""

    code = "NoSuchKey"
