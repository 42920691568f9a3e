"""The STS API on the S3 endpoint, as RGW serves it: ``GetSessionToken``.

A ``POST /`` with a form body (``Action=GetSessionToken&Version=2011-06-15&DurationSeconds=N``),
signed with SigV4 for service ``sts`` by one of a user's S3 keys, answers temporary
credentials (``librgw/sts.py``): an access key, a secret and a session token that act as
that key's owner until they expire (``DurationSeconds``, 900 to 129600, default 43200).
Answers and errors are STS's XML (``GetSessionTokenResponse``, ``ErrorResponse``).
Temporary credentials cannot ask for more (AWS refuses that too). ``AssumeRole`` needs
roles, which librgw does not have yet: it is ``NotImplemented``.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl

from webob import Response

import librgw
from librgw.errors import InvalidArgument

from ..s3_signature import SignatureError, parse_s3_auth, verify
from .authenticate import signing_key_of
from .errors import S3Error
from .s3_request import S3Request
from .xml_doc import s3_time

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
STS_SERVICE = "sts"
MAX_FORM = 64 * 1024
DEFAULT_DURATION = 43200
FORM_TYPE = "application/x-www-form-urlencoded"


def is_sts(s3: S3Request) -> bool:
    """A request for the STS API: to ``/``, with an ``Action`` in the form body or the query."""
    if s3.bucket:
        return False
    if "Action" in s3.params:
        return True
    return s3.request.method == "POST" and s3.request.content_type == FORM_TYPE


def handle(rgw: librgw.RGW, s3: S3Request, request_id: str) -> Response:
    try:
        return _answer(rgw, s3, request_id)
    except (S3Error, SignatureError) as error:
        return error_response(error.code, error.message, error.status, request_id)
    except InvalidArgument as error:
        return error_response("InvalidParameterValue", str(error), 400, request_id)


def _answer(rgw: librgw.RGW, s3: S3Request, request_id: str) -> Response:
    body = s3.request.body_file.read(MAX_FORM + 1)
    if len(body) > MAX_FORM:
        raise S3Error("InvalidRequest", f"The request body is larger than {MAX_FORM} bytes")
    try:
        form = {**s3.params, **dict(parse_qsl(body.decode("utf-8"), errors="strict"))}
    except UnicodeDecodeError:
        raise S3Error("InvalidRequest", "The request body is not URL-encoded UTF-8") from None
    claim = parse_s3_auth(s3.request.environ, service=STS_SERVICE, body_sha256=hashlib.sha256(body).hexdigest())
    if claim is None or not claim.version.startswith("v4"):
        raise S3Error("MissingAuthenticationToken", "STS requests must be signed with Signature Version 4", 403)
    key = signing_key_of(rgw, claim.access_key, s3.request.environ)
    verify(claim, key.secret_key)
    if key.access_key.startswith("ASIA") or rgw.users.get(key.user_id).suspended:
        raise S3Error("AccessDenied", "Temporary credentials and suspended users cannot get session tokens", 403)
    action = form.get("Action", "")
    if action == "AssumeRole":
        raise S3Error("NotImplemented", "AssumeRole needs roles, which this gateway does not have yet", 501)
    if action != "GetSessionToken":
        raise S3Error("InvalidAction", f"Could not find operation {action[:64]!r} for version 2011-06-15", 400)
    duration = form.get("DurationSeconds", str(DEFAULT_DURATION))
    if not duration.isascii() or not duration.isdigit():
        raise InvalidArgument("DurationSeconds must be a number of seconds")
    credentials = rgw.sessions.issue(key, int(duration))
    root = ET.Element("GetSessionTokenResponse", xmlns=STS_NS)
    result = ET.SubElement(ET.SubElement(root, "GetSessionTokenResult"), "Credentials")
    for tag, text in (
        ("AccessKeyId", credentials.access_key),
        ("SecretAccessKey", credentials.secret_key),
        ("SessionToken", credentials.session_token),
        ("Expiration", s3_time(credentials.expiration)),
    ):
        ET.SubElement(result, tag).text = text
    ET.SubElement(ET.SubElement(root, "ResponseMetadata"), "RequestId").text = request_id
    return Response(body=ET.tostring(root, xml_declaration=True, encoding="utf-8"), content_type="text/xml")


def error_response(code: str, message: str, status: int, request_id: str) -> Response:
    root = ET.Element("ErrorResponse", xmlns=STS_NS)
    error = ET.SubElement(root, "Error")
    for tag, text in (("Type", "Sender" if status < 500 else "Receiver"), ("Code", code), ("Message", message)):
        ET.SubElement(error, tag).text = text
    ET.SubElement(root, "RequestId").text = request_id
    body = ET.tostring(root, xml_declaration=True, encoding="utf-8")
    return Response(status=status, body=body, content_type="text/xml")
