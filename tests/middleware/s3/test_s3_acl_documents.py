"""The S3 side of ACLs: the AccessControlPolicy document and the x-amz-acl / x-amz-grant-*
headers, as the native API's ACL documents."""

import json

import pytest
from webob import Request

from librgw.acl import Acl, Grant
from librgw.middleware.s3.acl import policy_document, requested_acl_headers, requested_document
from librgw.middleware.s3.errors import S3Error
from librgw.middleware.s3.s3_request import S3Request
from librgw.middleware.s3.xml_doc import serialize

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def s3_with(headers: dict) -> S3Request:
    return S3Request(Request.blank("/photos/cat", headers=headers), "photos", "cat")


def test_access_control_policy_becomes_the_native_document():
    body = f"""<AccessControlPolicy {NS}><Owner><ID>alice</ID></Owner><AccessControlList>
      <Grant><Grantee {XSI} xsi:type="CanonicalUser"><ID>bob</ID></Grantee><Permission>READ</Permission></Grant>
      <Grant><Grantee {XSI} xsi:type="Group"><URI>{ALL_USERS}</URI></Grantee><Permission>WRITE</Permission></Grant>
      <Grant><Grantee><EmailAddress>c@x.org</EmailAddress></Grantee><Permission>READ_ACP</Permission></Grant>
    </AccessControlList></AccessControlPolicy>""".encode()
    assert requested_document(body) == {
        "owner": "alice",
        "grants": [
            {"type": "user", "id": "bob", "permission": "READ"},
            {"type": "group", "id": ALL_USERS, "permission": "WRITE"},
            {"type": "email", "id": "c@x.org", "permission": "READ_ACP"},
        ],
    }


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<AccessControlPolicy/>",
        b"<Other><AccessControlList/></Other>",
        b"<AccessControlPolicy><AccessControlList><Grant><Permission>READ</Permission></Grant>"
        b"</AccessControlList></AccessControlPolicy>",
        b"<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>bob</ID></Grantee>"
        b"<Permission>READ_OBJS</Permission></Grant></AccessControlList></AccessControlPolicy>",
        b"<AccessControlPolicy><AccessControlList><Grant><Grantee><Name>bob</Name></Grantee>"
        b"<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>",
    ],
)
def test_anything_else_is_malformed_acl(body):
    with pytest.raises(S3Error) as caught:
        requested_document(body)
    assert caught.value.code == "MalformedACLError"


def test_the_answer_shows_what_s3_can_spell():
    stored = Acl(
        "alice",
        [
            Grant("user", "alice", "FULL_CONTROL"),
            Grant("group", "AllUsers", "READ"),
            Grant("group", "AllUsers", "READ_OBJS"),
            Grant("referrer", ".example.com", "READ_OBJS"),
        ],
    )
    text = serialize(policy_document(stored, str.title)).decode()
    assert "<Owner><ID>alice</ID><DisplayName>Alice</DisplayName></Owner>" in text
    assert 'xsi:type="CanonicalUser"><ID>alice</ID><DisplayName>Alice</DisplayName></Grantee>' in text
    assert f'xsi:type="Group"><URI>{ALL_USERS}</URI></Grantee><Permission>READ</Permission>' in text
    assert text.count("<Grant>") == 2 and "READ_OBJS" not in text and "example.com" not in text


def test_canned_and_grant_headers():
    assert requested_acl_headers(s3_with({"x-amz-acl": "public-read"}), False) == {"X-Librgw-Acl": "public-read"}
    assert requested_acl_headers(s3_with({}), True) == {"X-Librgw-Acl": "private"}
    assert requested_acl_headers(s3_with({}), False) == {}
    headers = {"x-amz-grant-read": f'id="bob", uri="{ALL_USERS}"', "x-amz-grant-full-control": "emailAddress=c@x.org"}
    document = json.loads(requested_acl_headers(s3_with(headers), True)["X-Librgw-Acl"])
    assert document == {
        "grants": [
            {"type": "user", "id": "bob", "permission": "READ"},
            {"type": "group", "id": ALL_USERS, "permission": "READ"},
            {"type": "email", "id": "c@x.org", "permission": "FULL_CONTROL"},
        ]
    }


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"x-amz-acl": "world-writable"}, "InvalidArgument"),
        ({"x-amz-acl": "private", "x-amz-grant-read": 'id="bob"'}, "InvalidRequest"),
        ({"x-amz-grant-read": "bob"}, "InvalidArgument"),
        ({"x-amz-grant-read": 'name="bob"'}, "InvalidArgument"),
        ({"x-amz-grant-read": 'id="bob" uri="x"'}, "InvalidArgument"),
    ],
)
def test_bad_acl_headers(headers, code):
    with pytest.raises(S3Error) as caught:
        requested_acl_headers(s3_with(headers), True)
    assert caught.value.code == code
