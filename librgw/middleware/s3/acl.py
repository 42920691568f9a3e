"""S3 ACLs: GetBucketAcl, PutBucketAcl, GetObjectAcl and PutObjectAcl, and the ``x-amz-acl``
and ``x-amz-grant-*`` headers of the requests that make buckets and objects.

Each becomes a request to the native API's ``?acl`` sub-resource or its ``X-Librgw-Acl``
header (``swift/access_control.py``), where ACLs are kept, checked and authorized like
everything else; what the stored ACL means is ``acl.py``'s. Here S3's wire forms are
translated:

- the ``AccessControlPolicy`` document, both ways. Grantees are ``CanonicalUser`` (``ID``:
  a user id), ``Group`` (``URI``: AllUsers or AuthenticatedUsers) and
  ``AmazonCustomerByEmail`` (``EmailAddress``, resolved to its user when set); permissions
  S3's five. A PutBucketAcl replaces the whole ACL, so Swift's grants that S3 cannot spell
  (read-objects, referrers) go with it; GetBucketAcl does not show them.
- ``x-amz-acl: <canned ACL>`` (``acl.CANNED``; PostObject's ``acl`` field), or the grant headers
  ``x-amz-grant-read``, ``-write``, ``-read-acp``, ``-write-acp`` and ``-full-control``,
  each a list like ``id="bob", uri="http://acs.amazonaws.com/groups/global/AllUsers",
  emailAddress="carol@example.com"``. Both kinds at once are ``InvalidRequest``; either
  with a PutBucketAcl document is ``UnexpectedContent``.

An object written through S3 without either header gets S3's ``private`` ACL: its writer,
who owns it, has FULL_CONTROL (``requested_acl_headers``). With ``versionId``,
GetObjectAcl and PutObjectAcl act on that version's ACL.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

from webob import Response

from librgw import acl as acls
from librgw.errors import NoSuchUser
from librgw.users import UserStore

from ..swift.errors import ERROR_HEADER
from ..swift.versions import VERSION_ID
from .errors import S3Error, native_failure
from .native import Native
from .s3_request import S3Request
from .xml_doc import MAX_BODY, add, document, parse, serialize

ACL_HEADER = "X-Librgw-Acl"
CANNED_HEADER = "x-amz-acl"
GRANT_HEADERS = {
    "x-amz-grant-read": acls.READ,
    "x-amz-grant-write": acls.WRITE,
    "x-amz-grant-read-acp": acls.READ_ACP,
    "x-amz-grant-write-acp": acls.WRITE_ACP,
    "x-amz-grant-full-control": acls.FULL_CONTROL,
}
GRANTEE_KEYS = {"id": acls.USER, "uri": acls.GROUP, "emailaddress": acls.EMAIL}
GRANT_ITEM_RE = re.compile(r'\s*(\w+)\s*=\s*(?:"([^"]*)"|([^,"\s]+))\s*(?:,|$)')
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"
XML_TYPES = {"CanonicalUser": acls.USER, "Group": acls.GROUP, "AmazonCustomerByEmail": acls.EMAIL}
XML_GRANTEE_FIELDS = {acls.USER: "ID", acls.GROUP: "URI", acls.EMAIL: "EmailAddress"}


def applies(s3: S3Request) -> bool:
    return "acl" in s3.params


def requested_acl_headers(s3: S3Request, private_by_default: bool) -> dict[str, str]:
    """The native ``X-Librgw-Acl`` header for the ACL this request's ``x-amz-acl`` or
    ``x-amz-grant-*`` headers ask for; without them, ``private`` if ``private_by_default``
    (an object's writer owns it), else nothing."""
    headers = s3.request.headers
    grants = _header_grants(headers)
    if CANNED_HEADER in headers and grants:
        raise S3Error("InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed")
    if grants:
        return {ACL_HEADER: json.dumps({"grants": grants})}
    return canned_acl_header(headers.get(CANNED_HEADER), private_by_default)


def canned_acl_header(canned: str | None, private_by_default: bool, name: str = CANNED_HEADER) -> dict[str, str]:
    """The native ``X-Librgw-Acl`` header for canned ACL ``canned`` (the ``name`` field or
    header gave it); for None, ``private`` if ``private_by_default``, else nothing."""
    if canned is None:
        return {ACL_HEADER: "private"} if private_by_default else {}
    canned = canned.strip()
    if canned not in acls.CANNED:
        raise S3Error("InvalidArgument", "Invalid canned ACL", ArgumentName=name, ArgumentValue=canned[:64])
    return {ACL_HEADER: canned}


def _header_grants(headers) -> list[dict[str, str]]:
    grants = []
    for name, permission in GRANT_HEADERS.items():
        if name not in headers:
            continue
        value, at = headers[name], 0
        while at < len(value):
            match = GRANT_ITEM_RE.match(value, at)
            kind = GRANTEE_KEYS.get(match[1].lower()) if match else None
            if kind is None:
                raise S3Error("InvalidArgument", f"Invalid grant in {name}", ArgumentName=name, ArgumentValue=value)
            grantee = match[2] if match[2] is not None else match[3]
            grants.append({"type": kind, "id": grantee, "permission": permission})
            at = match.end()
    return grants


def handle(native: Native, owner: str, s3: S3Request, users: UserStore) -> Response:
    """GetBucketAcl, PutBucketAcl, GetObjectAcl or PutObjectAcl, on ``owner``'s bucket."""
    method = s3.request.method
    if method == "GET":
        return get_acl(native, owner, s3, users)
    if method == "PUT":
        return put_acl(native, owner, s3)
    raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")


def _query(s3: S3Request) -> dict[str, str]:
    """The native ``?acl`` query: of the version ``versionId`` names, for an object."""
    if s3.key and "versionId" in s3.params:
        return {"acl": "", VERSION_ID: s3.params["versionId"]}
    return {"acl": ""}


def _failure(answer: Response, s3: S3Request) -> S3Error:
    not_found = "NoSuchKey" if s3.key else "NoSuchBucket"
    return native_failure(answer.status_int, answer.body, answer.headers.get(ERROR_HEADER, ""), not_found)


def get_acl(native: Native, owner: str, s3: S3Request, users: UserStore) -> Response:
    answer = native.call("GET", owner, s3.bucket, s3.key, query=_query(s3))
    if answer.status_int // 100 != 2:
        raise _failure(answer, s3)
    stored = acls.Acl.decode(answer.body.decode("utf-8"))
    return Response(body=serialize(policy_document(stored, display_names(users))), content_type="application/xml")


def policy_document(acl: acls.Acl, display_name: Callable[[str], str]) -> ET.Element:
    """``acl`` as S3's ``AccessControlPolicy`` document (the grants S3 can spell)."""
    root = document("AccessControlPolicy")
    owner = add(root, "Owner")
    add(owner, "ID", acl.owner)
    add(owner, "DisplayName", display_name(acl.owner))
    listed = add(root, "AccessControlList")
    for grant in acl.s3_grants():
        element = add(listed, "Grant")
        # xsi declared on each Grantee, as S3 writes it: clients that strip the root's xmlns
        # with a pattern (s3cmd) read nothing from a root that declares another namespace first
        grantee = add(element, "Grantee")
        grantee.set("xmlns:xsi", XSI)
        if grant.type == acls.USER:
            grantee.set("xsi:type", "CanonicalUser")
            add(grantee, "ID", grant.id)
            add(grantee, "DisplayName", display_name(grant.id))
        else:
            grantee.set("xsi:type", "Group")
            add(grantee, "URI", acls.GROUP_URIS[grant.id])
        add(element, "Permission", grant.permission)
    return root


def display_names(users: UserStore) -> Callable[[str], str]:
    """A user's display name, each looked up once; an id no user has is shown as it is."""
    known: dict[str, str] = {}

    def display_name(uid: str) -> str:
        if uid not in known:
            try:
                known[uid] = users.get(uid).display_name
            except NoSuchUser:
                known[uid] = uid  # a Swift user or account grant, or a user gone since
        return known[uid]

    return display_name


def put_acl(native: Native, owner: str, s3: S3Request) -> Response:
    body = s3.request.body_file.read(MAX_BODY + 1)
    headers = requested_acl_headers(s3, private_by_default=False)
    if body.strip() and headers:
        raise S3Error("UnexpectedContent", "This request does not support content with ACL headers")
    if body.strip():
        body = json.dumps(requested_document(body)).encode()
    elif not headers:
        raise S3Error("MalformedACLError", "Give an AccessControlPolicy document, x-amz-acl or x-amz-grant-* headers")
    answer = native.call("PUT", owner, s3.bucket, s3.key, headers, query=_query(s3), body=body if not headers else b"")
    if answer.status_int // 100 != 2:
        raise _failure(answer, s3)
    return Response(status=200)


def requested_document(body: bytes) -> dict:
    """An ``AccessControlPolicy`` document as the native API's JSON ACL document;
    ``MalformedACLError`` if it is not one."""
    try:
        root = parse(body)
    except S3Error:
        raise _malformed() from None
    listed = root.find("AccessControlList")
    if root.tag != "AccessControlPolicy" or listed is None:
        raise _malformed()
    doc: dict = {"grants": []}
    owner = (root.findtext("Owner/ID") or "").strip()
    if owner:
        doc["owner"] = owner
    for grant in listed.findall("Grant"):
        grantee = grant.find("Grantee")
        permission = (grant.findtext("Permission") or "").strip()
        if grantee is None or permission not in acls.S3_PERMISSIONS:
            raise _malformed()
        kind = XML_TYPES.get(grantee.get(XSI_TYPE) or grantee.get("type") or "")
        if kind is None:  # no (known) xsi:type: what the grantee holds says
            kind = next((k for k, tag in XML_GRANTEE_FIELDS.items() if grantee.find(tag) is not None), None)
        who = (grantee.findtext(XML_GRANTEE_FIELDS[kind]) or "").strip() if kind else ""
        if not who:
            raise _malformed()
        doc["grants"].append({"type": kind, "id": who, "permission": permission})
    return doc


def _malformed() -> S3Error:
    return S3Error(
        "MalformedACLError", "The XML you provided was not well-formed or did not validate against our published schema"
    )
