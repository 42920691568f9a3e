"""ACLs and bucket policies in the native API: the ``?acl`` and ``?policy`` sub-resources and
the ``X-Librgw-Acl`` header.

Swift has container ACLs only (``X-Container-Read`` and ``-Write``, ``container.py``); S3
has ACLs on buckets and objects, and bucket policies. The native API offers all of them,
so the ``s3`` middleware reaches them down the pipeline like any other operation, and a
native client may use them too. ACL documents are ``acl.py``'s JSON; policies are S3's
(``policy.py``).

On ``/v1/AUTH_<uid>/<container>``:

- ``GET ?acl``: the bucket's ACL, 200 JSON. Takes READ_ACP (S3's ``s3:GetBucketAcl``).
- ``PUT ?acl``: replace it with the JSON document of the body, or the canned ACL that
  ``X-Librgw-Acl`` names. Takes WRITE_ACP (``s3:PutBucketAcl``). 204.
- ``GET ?policy``: the bucket policy as it was set, 200 ``application/json``; without one,
  404 and ``X-Librgw-Error: NoSuchBucketPolicy``.
- ``PUT ?policy``: set it from the body, once ``policy.py`` has checked it (400 and
  ``X-Librgw-Error: MalformedPolicy`` if it is not a policy of this bucket, or names a
  user that does not exist; 501 and ``NotImplemented`` for what is not served). 204.
- ``DELETE ?policy``: remove it (whether there was one or not). 204.

  Policies are the account owner's alone (a full-control user), whatever a policy or ACL
  says, so that nobody is ever locked out of changing one.

On ``/v1/AUTH_<uid>/<container>/<object>``: ``GET ?acl`` (READ_ACP, ``s3:GetObjectAcl``)
and ``PUT ?acl`` (WRITE_ACP, ``s3:PutObjectAcl``), as for a container, on the object's ACL,
which its owner may always read and change; with ``&version-id=<id>``, on that version's
(each version has its own, as in S3). The object's data, metadata and ``Last-Modified``
stay.

``X-Librgw-Acl: <canned ACL or JSON document>`` on the PUT (or copy) that writes an
object, or on ``POST ?uploads`` (multipart), gives the new object that ACL, owned by the
writer (the bucket's owner, for an anonymous write); whoever may write the object may set
it. Without the header an object has no ACL of its own, so the container's grants decide
(Swift's way); the ``s3`` middleware always sends one (S3's ``private`` by default, the
writer's). On the PUT that creates a container it gives the container its ACL (it takes
a full-control user, as Swift's ACL headers do); on an existing container it is ignored:
use ``PUT ?acl``.

Errors, each also named in ``X-Librgw-Error``: 400 ``MalformedACLError`` for a document
that is not an ACL, ``InvalidArgument`` for a canned name that is not one or a user that
does not exist, ``UnresolvableGrantByEmailAddress`` for an e-mail address nobody has;
409 ``OperationAborted`` when the object was replaced while its ACL was being set.

Example::

    curl -X PUT -H "X-Auth-Token: $T" -H "X-Librgw-Acl: public-read" "$URL/photos/cat.jpg?acl"
    curl -X PUT -H "X-Auth-Token: $T" --data-binary @policy.json "$URL/photos?policy"
"""

from __future__ import annotations

import json

from webob import Request, Response, exc

from librgw import acl as acls
from librgw.acl import Acl, AclError
from librgw.authorization import ACCOUNT_PREFIX, ADMIN, READ_ACP, WRITE_ACP
from librgw.bucket_info import BucketInfo
from librgw.errors import NoSuchKey, NoSuchUser
from librgw.policy import ATTR as POLICY_ATTR
from librgw.policy import MAX_POLICY_BYTES, MalformedPolicy, UnsupportedPolicy, parse_policy

from . import metadata, versions
from .context import Context
from .errors import ERROR_HEADER
from .request_body import read_document

ACL_HEADER = "X-Librgw-Acl"
ACL, POLICY = "acl", "policy"
MAX_ACL_BODY = 64 * 1024
SWIFT_ACL_HEADERS = ("x-container-read", "x-container-write")


def is_sub_resource(request: Request) -> bool:
    """Does a container or object request address its ``?acl`` or ``?policy``?"""
    query = request.environ.get("QUERY_STRING", "")
    if ACL not in query and POLICY not in query:
        return False  # most requests: no parsing
    return ACL in request.GET or POLICY in request.GET


def _error(status: type[exc.HTTPException], code: str, message: str) -> exc.HTTPException:
    return status(message, headers=[(ERROR_HEADER, code)])


def _json(doc: dict) -> Response:
    response = Response(status=200, body=json.dumps(doc).encode())
    response.content_type, response.charset = "application/json", "utf-8"
    return response


def _acl_document(acl: Acl) -> Response:
    return _json(json.loads(acl.encode()))


def handle_container(ctx: Context) -> Response:
    bucket = ctx.bucket()
    method = ctx.request.method
    if ACL in ctx.request.GET:
        if method in ("GET", "HEAD"):
            ctx.authorize(READ_ACP, bucket)
            return _acl_document(acls.bucket_acl(bucket.attrs, bucket.owner))
        if method == "PUT":
            ctx.authorize(WRITE_ACP, bucket)
            wanted = requested_acl(ctx, bucket.owner, bucket.owner, body=True)
            ctx.rgw.buckets.set_attrs(bucket.name, acls.with_bucket_acl(bucket.attrs, wanted))
            return Response(status=204)
        raise exc.HTTPMethodNotAllowed(headers={"Allow": "GET, HEAD, PUT"})
    return _policy(ctx, bucket)


def _policy(ctx: Context, bucket: BucketInfo) -> Response:
    method = ctx.request.method
    s3_action = {"GET": "s3:GetBucketPolicy", "HEAD": "s3:GetBucketPolicy", "PUT": "s3:PutBucketPolicy"}.get(
        method, "s3:DeleteBucketPolicy"
    )
    if method not in ("GET", "HEAD", "PUT", "DELETE"):
        raise exc.HTTPMethodNotAllowed(headers={"Allow": "GET, HEAD, PUT, DELETE"})
    ctx.authorize(ADMIN, bucket, s3_action=s3_action)
    if method in ("GET", "HEAD"):
        text = bucket.attrs.get(POLICY_ATTR)
        if not text:
            raise _error(exc.HTTPNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist")
        response = Response(status=200, body=text.encode())
        response.content_type, response.charset = "application/json", "utf-8"
        return response
    attrs = dict(bucket.attrs)
    if method == "DELETE":
        attrs.pop(POLICY_ATTR, None)
    else:
        try:
            text = read_document(ctx.request, MAX_POLICY_BYTES + 1).decode("utf-8")
            policy = parse_policy(text, bucket.local_name)
        except UnicodeDecodeError:
            raise _error(exc.HTTPBadRequest, "MalformedPolicy", "A policy is JSON in UTF-8") from None
        except MalformedPolicy as error:
            raise _error(exc.HTTPBadRequest, "MalformedPolicy", str(error)) from None
        except UnsupportedPolicy as error:
            raise _error(exc.HTTPNotImplemented, "NotImplemented", str(error)) from None
        missing = sorted(uid for uid in policy.users if not ctx.rgw.users.exists(uid))
        if missing:
            raise _error(exc.HTTPBadRequest, "MalformedPolicy", f"Invalid principal in policy: {missing[0]}")
        attrs[POLICY_ATTR] = text
    ctx.rgw.buckets.set_attrs(bucket.name, attrs)
    return Response(status=204)


def handle_object(ctx: Context) -> Response:
    if ACL not in ctx.request.GET:
        raise exc.HTTPBadRequest("Objects have no ?policy; buckets do")
    bucket = ctx.bucket()
    method = ctx.request.method
    version_id = versions.requested_version(ctx.request)
    if method in ("GET", "HEAD"):
        info = ctx.authorized_object(READ_ACP, bucket, version_id=version_id)
        return _acl_document(acls.object_acl(info.acl, bucket.owner))
    if method == "PUT":
        info = ctx.authorized_object(WRITE_ACP, bucket, version_id=version_id)
        current = acls.object_acl(info.acl, bucket.owner)
        wanted = requested_acl(ctx, current.owner, bucket.owner, body=True)
        stored = acls.stored_object_acl(wanted, bucket.owner)
        try:
            ctx.rgw.object_ops.set_acl(bucket, info, stored)
        except NoSuchKey:
            raise _error(
                exc.HTTPConflict, "OperationAborted", "The object was replaced or deleted meanwhile; try again"
            ) from None
        return Response(status=204)
    raise exc.HTTPMethodNotAllowed(headers={"Allow": "GET, HEAD, PUT"})


def requested_acl(ctx: Context, owner: str, bucket_owner: str, body: bool = False) -> Acl:
    """The ACL the request asks for, for something ``owner`` owns in ``bucket_owner``'s
    bucket: from ``X-Librgw-Acl``, or (with ``body``) the JSON document of the body; its
    e-mail grantees resolved and its users checked."""
    header = ctx.request.headers.get(ACL_HEADER)
    try:
        if header is not None:
            wanted = acls.from_header(metadata.from_wsgi(header), owner, bucket_owner)
        elif body:
            text = read_document(ctx.request, MAX_ACL_BODY + 1)
            if len(text) > MAX_ACL_BODY:
                raise AclError(f"an ACL document is at most {MAX_ACL_BODY} bytes")
            try:
                doc = json.loads(text)
            except ValueError:
                raise AclError("the body is not a JSON ACL document") from None
            wanted = acls.from_document(doc, owner)
        else:
            raise AclError(f"give the ACL in {ACL_HEADER} or the body")
    except AclError as error:
        code = "InvalidArgument" if header is not None and not header.lstrip().startswith("{") else "MalformedACLError"
        raise _error(exc.HTTPBadRequest, code, str(error)) from None
    return _checked_users(ctx, wanted, {owner, bucket_owner})


def _checked_users(ctx: Context, wanted: Acl, known: set[str]) -> Acl:
    """``wanted`` with its e-mail grantees resolved; 400 if a grant names a user that does
    not exist (``known`` do: a canned ACL costs no lookup)."""

    def uid_of_email(email: str) -> str:
        try:
            return ctx.rgw.users.get_by_email(email).user_id
        except NoSuchUser:
            raise _error(
                exc.HTTPBadRequest, "UnresolvableGrantByEmailAddress", f"No user has the e-mail address {email!r}"
            ) from None

    wanted = acls.resolve_emails(wanted, uid_of_email)
    for grantee in sorted(wanted.user_ids() - known):
        uid = grantee.split(":", 1)[0]
        if uid in known:
            continue
        try:
            if uid.startswith(ACCOUNT_PREFIX):
                ctx.rgw.users.account(uid.removeprefix(ACCOUNT_PREFIX))
            else:
                ctx.rgw.users.get(uid)
        except NoSuchUser:
            raise _error(exc.HTTPBadRequest, "InvalidArgument", f"Invalid id: no user {grantee!r}") from None
    return wanted


def new_object_acl(ctx: Context, bucket: BucketInfo) -> str:
    """What the head of an object this request writes keeps as its ACL: the one
    ``X-Librgw-Acl`` asks for, owned by the writer; "" without the header."""
    if ACL_HEADER not in ctx.request.headers:
        return ""
    owner = ctx.identity.user_id if ctx.identity is not None else bucket.owner
    return acls.stored_object_acl(requested_acl(ctx, owner, bucket.owner), bucket.owner)


def container_attrs(ctx: Context, attrs: dict[str, str], owner: str, creating: bool) -> dict[str, str]:
    """The attributes of ``owner``'s container after this request's ACL headers:
    ``X-Container-Read``, ``-Write``, and ``X-Librgw-Acl`` on a PUT that creates it."""
    headers = ctx.request.headers
    swift = {name: metadata.from_wsgi(headers[name]) for name in SWIFT_ACL_HEADERS if name in headers}
    own = creating and ACL_HEADER in headers
    current = acls.bucket_acl(attrs, owner)
    if own:
        current = requested_acl(ctx, owner, owner)
    try:
        changed = acls.with_swift_grants(current, swift.get("x-container-read"), swift.get("x-container-write"))
    except AclError as error:
        raise exc.HTTPBadRequest(f"{error}") from None
    return acls.with_bucket_acl(attrs, changed)


def swift_acl_headers(info: BucketInfo) -> list[tuple[str, str]]:
    """``X-Container-Read`` and ``-Write`` as the bucket's ACL has them, for its owner's eyes."""
    return sorted(acls.swift_headers(acls.bucket_acl(info.attrs, info.owner)).items())
