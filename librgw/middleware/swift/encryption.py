"""A container's server-side encryption configuration in the native API: the ``?encryption``
sub-resource, which says there is none, since librgw does not encrypt what it stores.

S3's PutBucketEncryption, GetBucketEncryption and DeleteBucketEncryption reach the core
through it (``s3/encryption.py``), authorized as S3 authorizes them. On
``/v1/AUTH_<uid>/<container>``:

- ``GET ?encryption``: 404 with ``X-Librgw-Error: ServerSideEncryptionConfigurationNotFoundError``,
  what S3 answers for a bucket without a configuration.
- ``PUT ?encryption``: 501 with ``X-Librgw-Error: NotImplemented``; the body is not read. A
  client asking for encryption must learn it will not get it, never have its data stored in
  plaintext believing otherwise.
- ``DELETE ?encryption``: 204, there being nothing to remove.

Each takes what changing or reading a configuration takes (``Context.configured_bucket``),
as S3's ``s3:GetEncryptionConfiguration`` and ``s3:PutEncryptionConfiguration``.
"""

from __future__ import annotations

from webob import Response, exc

from .context import Context
from .errors import ERROR_HEADER

ENCRYPTION = "encryption"
S3_ACTIONS = {
    "GET": "s3:GetEncryptionConfiguration",
    "PUT": "s3:PutEncryptionConfiguration",
    "DELETE": "s3:PutEncryptionConfiguration",
}
NOT_FOUND = "ServerSideEncryptionConfigurationNotFoundError"


def handle_container(ctx: Context) -> Response:
    ctx.configured_bucket(S3_ACTIONS)
    method = ctx.request.method
    if method == "GET":
        raise exc.HTTPNotFound("The container has no encryption configuration", headers=[(ERROR_HEADER, NOT_FOUND)])
    if method == "PUT":
        raise exc.HTTPNotImplemented(
            "Server-side encryption is not supported: objects are stored unencrypted",
            headers=[(ERROR_HEADER, "NotImplemented")],
        )
    return Response(status=204)
