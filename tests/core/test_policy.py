"""policy.py: bucket policies checked as S3 checks them, and evaluated as AWS evaluates them."""

import json

import pytest

from librgw.policy import (
    ALLOW,
    DENY,
    MalformedPolicy,
    PolicyRequest,
    UnsupportedPolicy,
    parse_identity_policy,
    parse_policy,
    stored_policy,
)


def policy_of(*statements, **document):
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements), **document}), "photos")


def allow(**fields):
    return {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::photos/*",
        **fields,
    }


def get(key="cat.jpg", user=None, action="s3:GetObject", **extra):
    resource = "arn:aws:s3:::photos" + (f"/{key}" if key is not None else "")
    return PolicyRequest(user, action, resource, **extra)


def test_principals_actions_and_resources_match_with_wildcards():
    policy = policy_of(
        allow(Principal={"AWS": ["arn:aws:iam:::user/bob", "carl", "arn:aws:iam::dave:root"]}),
        allow(Principal={"CanonicalUser": "erin"}, Action="s3:Put*", Resource="arn:aws:s3:::photos/erin/*"),
    )
    assert policy.users == {"bob", "carl", "dave", "erin"}
    for user in ("bob", "carl", "dave"):
        assert policy.evaluate(get(user=user)) == ALLOW
    assert policy.evaluate(get(user="erin")) is None
    assert policy.evaluate(get(user=None)) is None
    assert policy.evaluate(get("erin/x", user="erin", action="s3:PutObject")) == ALLOW
    assert policy.evaluate(get("erin/x", user="erin", action="s3:putobjectacl")) == ALLOW  # actions ignore case
    assert policy.evaluate(get("other/x", user="erin", action="s3:PutObject")) is None
    assert policy_of(allow(Principal={"AWS": "*"})).evaluate(get()) == ALLOW  # anyone, anonymous too


def test_an_explicit_deny_wins_over_any_allow():
    policy = policy_of(
        allow(Action="s3:*"),
        {"Effect": "Deny", "Principal": "*", "Action": "s3:Get?bject", "Resource": "arn:aws:s3:::photos/private/*"},
    )
    assert policy.evaluate(get("public/x")) == ALLOW
    assert policy.evaluate(get("private/x")) == DENY
    assert policy.evaluate(get("private/x", action="s3:DeleteObject")) == ALLOW
    assert policy.evaluate(get(None, action="s3:ListBucket")) is None  # no statement names the bucket itself


def test_keys_match_literally_but_for_wildcards():
    policy = policy_of(allow(Resource="arn:aws:s3:::photos/a.b[c]+"))
    assert policy.evaluate(get("a.b[c]+")) == ALLOW
    assert policy.evaluate(get("aXb[c]+")) is None
    assert policy_of(allow(Resource="arn:aws:s3:::photos/line*")).evaluate(get("line\nbreak")) == ALLOW


def test_conditions_on_the_source_address_and_https():
    inside = policy_of(allow(Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}))
    assert inside.evaluate(get(source_ip="10.9.8.7")) == ALLOW
    assert inside.evaluate(get(source_ip="2001:db8::1")) == ALLOW
    assert inside.evaluate(get(source_ip="192.0.2.1")) is None
    assert inside.evaluate(get(source_ip="")) is None
    outside = policy_of(allow(Condition={"NotIpAddress": {"aws:sourceip": "10.0.0.0/8"}}))
    assert outside.evaluate(get(source_ip="192.0.2.1")) == ALLOW
    assert outside.evaluate(get(source_ip="10.0.0.1")) is None
    https = policy_of(allow(Condition={"Bool": {"aws:SecureTransport": "true"}}))
    assert https.evaluate(get(secure=True)) == ALLOW
    assert https.evaluate(get(secure=False)) is None


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[]",
        json.dumps({"Version": "2012-10-17"}),
        json.dumps({"Version": "2020-01-01", "Statement": [allow()]}),
        json.dumps({"Statement": []}),
        json.dumps({"Statement": [allow()], "Extra": 1}),
        json.dumps({"Statement": [allow(Sid="a"), allow(Sid="a")]}),
        json.dumps({"Statement": [allow(Effect="allow")]}),
        json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/*"}]}),
        json.dumps({"Statement": [allow(Principal="bob")]}),
        json.dumps({"Statement": [allow(Principal={"Service": "s3.amazonaws.com"})]}),
        json.dumps({"Statement": [allow(Principal={"AWS": "arn:aws:iam::bob:group/x"})]}),
        json.dumps({"Statement": [allow(Action="ec2:RunInstances")]}),
        json.dumps({"Statement": [allow(Action="s3:Fly")]}),
        json.dumps({"Statement": [allow(Action=[])]}),
        json.dumps({"Statement": [allow(Action="s3:ListBucket")]}),
        json.dumps({"Statement": [allow(Resource="arn:aws:s3:::photos")]}),
        json.dumps({"Statement": [allow(Resource="arn:aws:s3:::photos2/*")]}),
        json.dumps({"Statement": [allow(Resource="arn:aws:s3:::photo")]}),
        json.dumps({"Statement": [allow(Resource="arn:aws:s3:::other*")]}),
        json.dumps({"Statement": [allow(Condition={"IpAddress": {"aws:SourceIp": "nowhere"}})]}),
        json.dumps({"Statement": [allow(Condition={"Bool": {"aws:SecureTransport": "maybe"}})]}),
        "{" + " " * 21 * 1024 + "}",
    ],
)
def test_what_is_not_a_policy_of_this_bucket_is_malformed(document):
    with pytest.raises(MalformedPolicy):
        parse_policy(document, "photos")


@pytest.mark.parametrize(
    "statement",
    [
        allow(Condition={"StringEquals": {"s3:prefix": "home/"}}),
        allow(Condition={"IpAddress": {"aws:UserAgent": "curl"}}),
        {**allow(), "NotAction": "s3:DeleteObject"},
        {"Effect": "Deny", "NotPrincipal": {"AWS": "bob"}, "Action": "s3:*", "Resource": "arn:aws:s3:::photos/*"},
    ],
)
def test_what_is_not_served_is_refused_not_ignored(statement):
    with pytest.raises(UnsupportedPolicy):
        parse_policy(json.dumps({"Statement": [statement]}), "photos")


def test_valid_forms_s3_accepts():
    policy_of(allow(Action="*", Resource=["arn:aws:s3:::photos", "arn:aws:s3:::photos/*"]))
    policy_of(allow(Action=["s3:ListBucket", "s3:GetObject"], Resource="arn:aws:s3:::photos*"))
    parse_policy(json.dumps({"Statement": allow()}), "photos")  # one statement, no list, no version
    policy_of(allow(Sid="one"), allow(Sid="two"), Id="mine")


def test_stored_policies_are_parsed_once():
    text = json.dumps({"Statement": [allow()]})
    assert stored_policy({"iam-policy": text}, "photos") is stored_policy({"iam-policy": text}, "photos")
    assert stored_policy({}, "photos") is None


def test_a_role_policy_has_no_principal_and_may_name_any_bucket():
    statement = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "arn:aws:s3:::*"}
    policy = parse_identity_policy(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    assert (
        policy.evaluate(PolicyRequest("arn:aws:sts:::assumed-role/r/s", "s3:GetObject", "arn:aws:s3:::any/k")) == ALLOW
    )
    assert policy.evaluate(PolicyRequest(None, "s3:PutObject", "arn:aws:s3:::any/k")) is None
    for bad in (
        {**statement, "Principal": "*"},
        {**statement, "Resource": "arn:aws:iam:::user/bob"},
        {**statement, "Action": "iam:CreateRole"},
        {"Effect": "Allow", "Action": "s3:GetObject"},
    ):
        with pytest.raises(MalformedPolicy):
            parse_identity_policy(json.dumps({"Statement": [bad]}))
