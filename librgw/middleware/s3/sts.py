"""The STS API on the S3 endpoint, as RGW serves it: ``GetSessionToken`` and ``AssumeRole``.

A ``POST /`` with a form body (``Action=GetSessionToken&Version=2011-06-15&DurationSeconds=N``),
signed with SigV4 for service ``sts`` by one of a user's S3 keys, answers temporary
credentials (``librgw/sts.py``): an access key, a secret and a session token that act as
that key's owner until they expire (``DurationSeconds``, 900 to 129600, default 43200).

``Action=AssumeRole&RoleArn=arn:aws:iam:::role/R&RoleSessionName=S[&DurationSeconds=N]``
answers credentials that act as role ``R`` (``librgw/roles.py``), if its trust policy lets
the signing key's user assume it (an explicit deny wins), for ``DurationSeconds`` from 900
to the role's maximum session duration (default 3600): ``AssumeRoleResponse`` with the
``Credentials`` and the ``AssumedRoleUser`` (``arn:aws:sts:::assumed-role/R/S``, id
``<role id>:S``). Those credentials may do only what the role's permission policies allow
(``authorization.py``). As RGW: a role that does not exist is ``NoSuchEntity`` (404), one
whose trust policy does not allow the user ``AccessDenied``, a bad session name or duration
``ValidationError`` (400).

Answers and errors are STS's XML (``...Response``, ``ErrorResponse``) in STS's namespace.
Temporary credentials cannot ask for more (AWS refuses that too)::

    aws sts assume-role --endpoint-url http://gateway:8080 \
        --role-arn arn:aws:iam:::role/reader --role-session-name nightly-report
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl

from webob import Response

import librgw
from librgw.errors import InvalidArgument, NoSuchEntity
from librgw.roles import assumed_role_arn, role_name_of_arn
from librgw.sts import MIN_DURATION, SessionCredentials
from librgw.users import AccessKey

from .authenticate import signing_key_of
from .errors import S3Error
from .s3_request import S3Request
from .signature import SignatureError, parse_s3_auth, verify
from .xml_doc import s3_time, schema_int

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
STS_SERVICE = "sts"
MAX_FORM = 64 * 1024
DEFAULT_DURATION = 43200
DEFAULT_ROLE_DURATION = 3600
SESSION_NAME_RE = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
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
        return assume_role(rgw, key, form, request_id)
    if action != "GetSessionToken":
        raise S3Error("InvalidAction", f"Could not find operation {action[:64]!r} for version 2011-06-15", 400)
    duration = schema_int(form.get("DurationSeconds", str(DEFAULT_DURATION)))
    if duration is None or duration < 0:
        raise InvalidArgument("DurationSeconds must be a number of seconds")
    credentials = rgw.sessions.issue(key, duration)
    root, _ = _response("GetSessionToken", credentials)
    return _answer_of(root, request_id)


def assume_role(rgw: librgw.RGW, key: AccessKey, form: dict[str, str], request_id: str) -> Response:
    """Credentials acting as the role ``RoleArn`` names, for the user of ``key``."""
    session_name = form.get("RoleSessionName", "")
    if not SESSION_NAME_RE.fullmatch(session_name):
        raise S3Error("ValidationError", "RoleSessionName must be 2 to 64 characters of [\\w+=,.@-]", 400)
    role_arn = form.get("RoleArn", "")
    if not role_arn:
        raise S3Error("ValidationError", "RoleArn is required", 400)
    name = role_name_of_arn(role_arn)
    try:
        role = rgw.roles.get(name) if name is not None else None
    except NoSuchEntity:
        role = None
    if role is None:
        raise S3Error("NoSuchEntity", f"The role {role_arn[:200]!r} cannot be found.", 404)
    duration = schema_int(form.get("DurationSeconds", str(DEFAULT_ROLE_DURATION)))
    if duration is None or duration < 0:
        raise S3Error("ValidationError", "DurationSeconds must be a number of seconds", 400)
    if not MIN_DURATION <= duration <= role.max_session_duration:
        raise S3Error(
            "ValidationError",
            f"DurationSeconds must be from {MIN_DURATION} to the role's maximum, {role.max_session_duration}",
            400,
        )
    if not role.trust_policy.allows(key.user_id):
        raise S3Error("AccessDenied", f"User {key.user_id} is not authorized to assume role {role.name}", 403)
    credentials = rgw.sessions.issue(key, duration, role.name, session_name, role.max_session_duration)
    root, result = _response("AssumeRole", credentials)
    user = ET.SubElement(result, "AssumedRoleUser")
    ET.SubElement(user, "Arn").text = assumed_role_arn(role.name, session_name)
    ET.SubElement(user, "AssumedRoleId").text = f"{role.id}:{session_name}"
    return _answer_of(root, request_id)


def _response(action: str, credentials: SessionCredentials) -> tuple[ET.Element, ET.Element]:
    """An ``<action>Response`` with its ``<action>Result`` holding ``credentials``."""
    root = ET.Element(f"{action}Response", xmlns=STS_NS)
    result = ET.SubElement(root, f"{action}Result")
    shown = ET.SubElement(result, "Credentials")
    for tag, text in (
        ("AccessKeyId", credentials.access_key),
        ("SecretAccessKey", credentials.secret_key),
        ("SessionToken", credentials.session_token),
        ("Expiration", s3_time(credentials.expiration)),
    ):
        ET.SubElement(shown, tag).text = text
    return root, result


def _answer_of(root: ET.Element, request_id: str) -> Response:
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
