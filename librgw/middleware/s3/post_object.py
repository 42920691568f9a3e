"""PostObject: browser uploads with an HTML form, authorized by a signed policy document.

``POST /<bucket>`` with ``multipart/form-data`` fields ``key`` (``${filename}`` is replaced
by the file's name), ``policy`` (base64 JSON), the signature fields (SigV4:
``x-amz-algorithm``, ``x-amz-credential``, ``x-amz-date``, ``x-amz-signature``; SigV2:
``AWSAccessKeyId``, ``signature``), optional ``Content-Type``, ``x-amz-meta-*``, ``acl`` (a
canned ACL; ``private`` by default), ``success_action_status`` / ``success_action_redirect``,
and last the ``file``. A form asking for server-side encryption (an
``x-amz-server-side-encryption*`` field) is ``NotImplemented`` (``encryption.py``), once signed.

The signature is over the base64 policy, by the key's secret. The policy must not have
expired, and each of its conditions must hold: exact matches (``{"bucket": "b"}``,
``["eq", "$key", "k"]``), ``["starts-with", "$key", "user/"]`` and
``["content-length-range", min, max]``. As AWS requires, every form field but the file,
the policy, the signature and ``x-ignore-*`` ones must be named by a condition. Then the
file goes to a native PUT as the signer. The form is parsed by WebOb, which spools file
fields to a temporary file, so an upload is never held in memory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from webob import Response

import librgw
from librgw.authorization import Identity
from librgw.users import AccessKey

from .acl import canned_acl_header
from .authenticate import identity_of_key, signing_key_of
from .encryption import asked_for, refuse
from .errors import S3Error, from_native
from .native import Native, StreamedBody, s3_etag
from .s3_request import S3Request
from .signature import v4_signing_key
from .xml_doc import add, document, serialize

SIGNATURE_FIELDS = {"policy", "x-amz-signature", "signature", "file", "awsaccesskeyid"}
META_PREFIX = "x-amz-meta-"
MAX_FORM_FIELD = 20 * 1024  # the form's text fields; the file goes to disk


def is_post_object(s3: S3Request) -> bool:
    return (
        s3.request.method == "POST"
        and bool(s3.bucket)
        and not s3.key
        and s3.request.content_type == "multipart/form-data"
    )


def _fields(s3: S3Request) -> tuple[dict[str, str], object]:
    form = s3.request.POST
    fields: dict[str, str] = {}
    upload = None
    for name, value in form.items():
        if hasattr(value, "file"):
            if name.lower() == "file":
                upload = value
            continue
        if len(value) > MAX_FORM_FIELD:
            raise S3Error("InvalidArgument", f"The form field {name[:64]} is too long")
        fields[name.lower()] = value
    if upload is None:
        raise S3Error("InvalidArgument", "POST requires exactly one file upload per request.", ArgumentName="file")
    return fields, upload


def _check_signature(rgw: librgw.RGW, s3: S3Request, fields: dict[str, str]) -> AccessKey:
    """The key that signed the form's policy; ``SignatureDoesNotMatch`` if none did."""
    policy = fields.get("policy", "")
    if "x-amz-signature" in fields:
        if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
            raise S3Error("InvalidArgument", "Only AWS4-HMAC-SHA256 is supported", ArgumentName="x-amz-algorithm")
        parts = fields.get("x-amz-credential", "").split("/")
        if len(parts) != 5 or parts[3] != "s3" or parts[4] != "aws4_request":
            raise S3Error("InvalidArgument", "Malformed x-amz-credential", ArgumentName="x-amz-credential")
        access_key, date, region = parts[0], parts[1], parts[2]
        signer = signing_key_of(rgw, access_key, s3.request.environ)
        key = v4_signing_key(signer.secret_key, date, region, "s3")
        expected = hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()
        given = fields["x-amz-signature"]
    elif "signature" in fields:
        signer = signing_key_of(rgw, fields.get("awsaccesskeyid", ""), s3.request.environ)
        digest = hmac.new(signer.secret_key.encode(), policy.encode(), hashlib.sha1).digest()
        expected, given = base64.b64encode(digest).decode(), fields["signature"]
    else:
        raise S3Error("AccessDenied", "Anonymous form uploads are not allowed here")
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise S3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature")
    return signer


def _policy(fields: dict[str, str]) -> dict:
    try:
        policy = json.loads(base64.b64decode(fields.get("policy", ""), validate=True))
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp()
        conditions = policy["conditions"]
        assert isinstance(conditions, list)
    except (binascii.Error, ValueError, KeyError, TypeError, AssertionError, AttributeError):
        raise S3Error("MalformedPOSTRequest", "The body of your POST request is not well-formed policy") from None
    if expiration < time.time():
        raise S3Error("AccessDenied", "Invalid according to Policy: Policy expired.")
    return policy


def _check_conditions(conditions: list, fields: dict[str, str], bucket: str, size: int) -> None:
    values = {**fields, "bucket": bucket}
    covered = {"bucket"}
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            (name, wanted), op = next(iter(condition.items())), "eq"
        elif isinstance(condition, list) and len(condition) == 3:
            op, name, wanted = condition
            op = str(op).lower()
        else:
            raise S3Error("MalformedPOSTRequest", f"Invalid Policy: Invalid condition {str(condition)[:64]}")
        if op == "content-length-range":
            if not (isinstance(name, int) and isinstance(wanted, int)) or not name <= size <= wanted:
                raise S3Error(
                    "EntityTooLarge" if size > wanted else "EntityTooSmall",
                    "Your proposed upload size is outside the policy's content-length-range",
                )
            continue
        field = str(name).lower().lstrip("$")
        covered.add(field)
        value = values.get(field, "")
        if (op == "eq" and value != wanted) or (op == "starts-with" and not value.startswith(str(wanted))):
            raise S3Error("AccessDenied", f"Invalid according to Policy: Policy Condition failed: {condition}")
        if op not in ("eq", "starts-with"):
            raise S3Error("MalformedPOSTRequest", f"Invalid Policy: Invalid condition operator {op[:32]}")
    extra = [
        name
        for name in fields
        if name not in covered and name not in SIGNATURE_FIELDS and not name.startswith("x-ignore-")
    ]  # fmt: skip
    if extra:
        raise S3Error("AccessDenied", f"Invalid according to Policy: Extra input fields: {extra[0][:64]}")


def post_object(rgw: librgw.RGW, native_of: Callable[[Identity], Native], owner: str, s3: S3Request) -> Response:
    """Check the form's policy and signature, then store its file as the signer."""
    fields, upload = _fields(s3)
    key = fields.get("key", "").replace("${filename}", upload.filename or "")
    if not key:
        raise S3Error("InvalidArgument", "Bucket POST must contain a field named 'key'.", ArgumentName="key")
    signer = _check_signature(rgw, s3, fields)
    if (name := asked_for(fields)) is not None:
        refuse(name)
    policy = _policy(fields)
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    _check_conditions(policy["conditions"], fields, s3.bucket, size)
    native = native_of(identity_of_key(rgw, signer))
    headers = {"Content-Type": fields.get("content-type") or upload.type or "binary/octet-stream"}
    headers.update(
        {"X-Object-Meta-" + n[len(META_PREFIX) :]: v for n, v in fields.items() if n.startswith(META_PREFIX)}
    )
    headers.update(canned_acl_header(fields.get("acl"), private_by_default=True, name="acl"))
    answer = native.call("PUT", owner, s3.bucket, key, headers, body=StreamedBody(upload.file, str(size)))
    if answer.status_int // 100 != 2:
        raise from_native(answer.status_int, answer.body, "NoSuchKey")
    etag = s3_etag(answer)
    redirect = fields.get("success_action_redirect")
    if redirect:
        query = urlencode({"bucket": s3.bucket, "key": key, "etag": etag})
        return Response(
            status=303, headerlist=[("Location", f"{redirect}{'&' if '?' in redirect else '?'}{query}"), ("ETag", etag)]
        )
    status = fields.get("success_action_status", "204")
    if status == "201":
        root = document("PostResponse")
        add(root, "Location", f"{s3.request.host_url}/{s3.bucket}/{key}")
        add(root, "Bucket", s3.bucket)
        add(root, "Key", key)
        add(root, "ETag", etag)
        response = Response(status=201, body=serialize(root), headerlist=[("ETag", etag)])
        response.content_type = "application/xml"
        return response
    return Response(status=200 if status == "200" else 204, headerlist=[("ETag", etag)])
