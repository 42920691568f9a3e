"""roles.py: roles with trust policies and permission policies, stored as RGW stores them."""

import json

import pytest

from librgw.errors import DeleteConflict, EntityAlreadyExists, InvalidArgument, MalformedPolicyDocument, NoSuchEntity
from librgw.roles import assumed_role_arn, parse_trust_policy, role_name_of_arn


def trust(*principals, effect="Allow"):
    return {"Effect": effect, "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}


def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


READ_PHOTOS = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/*"})


def test_create_get_list_and_delete_a_role(rgw):
    role = rgw.roles.create("reader", doc(trust("arn:aws:iam:::user/alice")), path="/app/")
    assert role.arn == "arn:aws:iam:::role/reader" and role.path == "/app/" and role.max_session_duration == 3600
    assert len(role.id) == 21 and role.create_date.endswith("Z")
    assert rgw.roles.get("reader") == role
    assert [r.name for r in rgw.roles.list()] == ["reader"]
    assert rgw.roles.get("reader").to_json()["assume_role_policy_document"]["Statement"][0]["Effect"] == "Allow"
    with pytest.raises(EntityAlreadyExists):
        rgw.roles.create("reader", doc(trust("bob")))
    rgw.roles.delete("reader")
    assert rgw.roles.list() == []
    with pytest.raises(NoSuchEntity):
        rgw.roles.get("reader")
    with pytest.raises(NoSuchEntity):
        rgw.roles.delete("reader")


def test_permission_policies_are_named_and_a_role_with_some_cannot_be_deleted(rgw):
    rgw.roles.create("reader", doc(trust("alice")))
    rgw.roles.put_policy("reader", "photos", READ_PHOTOS)
    rgw.roles.put_policy("reader", "more", READ_PHOTOS)
    assert rgw.roles.list_policies("reader") == ["more", "photos"]
    assert rgw.roles.get_policy("reader", "photos") == READ_PHOTOS
    with pytest.raises(DeleteConflict):
        rgw.roles.delete("reader")
    rgw.roles.delete_policy("reader", "photos")
    rgw.roles.delete_policy("reader", "more")
    with pytest.raises(NoSuchEntity):
        rgw.roles.delete_policy("reader", "more")
    with pytest.raises(NoSuchEntity):
        rgw.roles.get_policy("reader", "more")
    with pytest.raises(NoSuchEntity):
        rgw.roles.put_policy("nobody", "p", READ_PHOTOS)
    with pytest.raises(MalformedPolicyDocument):
        rgw.roles.put_policy("reader", "p", "[not an object]")
    rgw.roles.delete("reader")


def test_roles_are_checked_when_created(rgw):
    with pytest.raises(InvalidArgument):
        rgw.roles.create("bad name", doc(trust("alice")))
    with pytest.raises(InvalidArgument):
        rgw.roles.create("r", doc(trust("alice")), path="no-slash")
    with pytest.raises(InvalidArgument):
        rgw.roles.create("r", doc(trust("alice")), max_session_duration=60)
    with pytest.raises(MalformedPolicyDocument):
        rgw.roles.create("r", doc({**trust("alice"), "Action": "s3:GetObject"}))
    assert rgw.roles.list() == []


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Maybe", "Principal": "*", "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Service": "ec2"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam:::group/g"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {}},
        {"Effect": "Allow", "Principal": "*"},
    ],
)
def test_what_is_not_a_trust_policy_is_malformed(statement):
    with pytest.raises(MalformedPolicyDocument):
        parse_trust_policy(doc(statement))


def test_trust_policies_allow_named_users_and_a_deny_wins():
    policy = parse_trust_policy(doc(trust("arn:aws:iam:::user/alice", "bob"), trust("bob", effect="Deny")))
    assert policy.allows("alice") and not policy.allows("bob") and not policy.allows("carl")
    anyone = parse_trust_policy(doc({"Effect": "Allow", "Principal": "*", "Action": ["sts:AssumeRole"]}))
    assert anyone.allows("carl")


def test_arns():
    assert role_name_of_arn("arn:aws:iam:::role/reader") == "reader"
    assert role_name_of_arn("arn:aws:iam:::role/app/reader") == "reader"
    assert role_name_of_arn("arn:aws:iam:::user/reader") is None
    assert assumed_role_arn("reader", "s1") == "arn:aws:sts:::assumed-role/reader/s1"
