"""The one place the Swift API turns the core's and the cluster's errors into Swift statuses.

Core errors (``librgw.errors``) carry an S3 code; Swift answers the same conditions with
its own statuses (``BadDigest`` is Swift's 422 Unprocessable Entity, for instance). A
cluster that cannot take a write now (too few OSDs up, a busy object) is 503, a full one
507. A metadata name longer than the cluster keeps in an attribute's name (a Ceph OSD's
``osd_max_attr_name_len``, 100 bytes by default, for ``user.rgw.x-amz-meta-<name>``: shorter
than Swift's 128) is 400 "Metadata name too long", as RGW answers ``ENAMETOOLONG``.
Anything else is a bug, left to ``catch_errors``.

Several conditions share a status (a multipart upload's ``InvalidPart``, ``InvalidPartOrder``
and ``EntityTooSmall`` are all 400), so the response to a core error also names it:
``X-Librgw-Error: <the core's S3 code>`` (``NoSuchUpload``, ``InvalidPart``, ``BadDigest``,
...). The ``s3`` middleware answers with that code; a response without the header did not
come from a core error.
"""

from __future__ import annotations

import errno

from webob import exc

from librgw import errors, rados

from .versions import DeleteMarkerReached

STATUS_OF = {
    errors.NoSuchBucket: exc.HTTPNotFound,
    errors.NoSuchKey: exc.HTTPNotFound,
    errors.NoSuchUser: exc.HTTPNotFound,
    errors.NoSuchVersion: exc.HTTPNotFound,
    errors.NoSuchUpload: exc.HTTPNotFound,
    errors.BucketNotEmpty: exc.HTTPConflict,
    errors.BucketAlreadyExists: exc.HTTPConflict,
    errors.InvalidBucketName: exc.HTTPBadRequest,
    errors.InvalidArgument: exc.HTTPBadRequest,
    errors.InvalidPart: exc.HTTPBadRequest,
    errors.InvalidPartOrder: exc.HTTPBadRequest,
    errors.EntityTooSmall: exc.HTTPBadRequest,
    errors.BadDigest: exc.HTTPUnprocessableEntity,
    errors.InvalidRange: exc.HTTPRequestRangeNotSatisfiable,
    errors.PreconditionFailed: exc.HTTPPreconditionFailed,
    errors.UserSuspended: exc.HTTPForbidden,
    errors.TooManyBuckets: exc.HTTPForbidden,
    errors.IndexBusy: exc.HTTPServiceUnavailable,
    errors.QuotaExceeded: exc.HTTPRequestEntityTooLarge,
}
ERROR_HEADER = "X-Librgw-Error"
ATTR_NAME_TOO_LONG = "Metadata name too long for this cluster's attribute names (osd_max_attr_name_len)"


class InsufficientStorage(exc.HTTPServerError):
    code = 507
    title = "Insufficient Storage"
    explanation = "The cluster is full."


def swift_error(error: Exception) -> exc.HTTPException | None:
    """The response for ``error``, or None if it is not one a client should see as such."""
    if isinstance(error, exc.HTTPException):
        return error
    if isinstance(error, errors.DeleteMarkerRead):
        return DeleteMarkerReached(error)
    if isinstance(error, errors.RGWError):
        for cls in type(error).__mro__:
            if cls in STATUS_OF:
                return STATUS_OF[cls](str(error), headers=[(ERROR_HEADER, error.code)])
        return None
    if isinstance(error, rados.Error) and error.errno == errno.ENOSPC:
        return InsufficientStorage()
    if isinstance(error, rados.Error) and error.errno == errno.ENAMETOOLONG:  # as RGW answers it
        return exc.HTTPBadRequest(ATTR_NAME_TOO_LONG)
    if errors.cluster_busy(error):
        return exc.HTTPServiceUnavailable("The cluster cannot serve this now; try again")
    return None
