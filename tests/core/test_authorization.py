"""authorization.decide: the one place that says who may do what, from roles, ACLs and policies."""

import json

import pytest

from librgw import acl
from librgw.acl import Acl, Grant
from librgw.authorization import (
    ADMIN,
    CONTAINERS,
    LIST,
    READ,
    READ_ACP,
    WRITE,
    WRITE_ACP,
    Access,
    Identity,
    decide,
    native_s3_action,
)
from librgw.policy import parse_identity_policy, parse_policy

KIND_OF = {
    "s3:GetObject": READ,
    "s3:PutObject": WRITE,
    "s3:DeleteObject": WRITE,
    "s3:ListBucket": LIST,
    "s3:GetBucketAcl": READ_ACP,
    "s3:PutBucketAcl": WRITE_ACP,
    "s3:GetObjectAcl": READ_ACP,
    "s3:PutObjectAcl": WRITE_ACP,
    "s3:DeleteBucket": WRITE,
    "s3:PutBucketPolicy": ADMIN,
}


def who(uid: str, permissions: str = "full-control", admin: bool = False) -> Identity:
    return Identity(uid, f"{uid}:swift", 0.0, permissions, admin)


def ask(
    s3_action: str,
    bucket_acl: Acl | None = None,
    object_acl: Acl | None = None,
    policy: dict | None = None,
    key: str | None = "doc",
    **extra,
) -> Access:
    """A request for ``s3_action`` in alice's bucket ``photos``."""
    on_bucket = s3_action in ("s3:ListBucket", "s3:GetBucketAcl", "s3:PutBucketAcl", "s3:DeleteBucket")
    return Access(
        "alice",
        KIND_OF[s3_action],
        s3_action,
        "photos",
        bucket_acl or acl.default_acl("alice"),
        parse_policy(json.dumps(policy), "photos") if policy else None,
        None if on_bucket else key,
        object_acl,
        **extra,
    )


def swift(read: str | None = None, write: str | None = None) -> Acl:
    return acl.with_swift_grants(acl.default_acl("alice"), read, write)


@pytest.mark.parametrize(
    ("permissions", "allowed"),
    [
        ("read", {READ, LIST}),
        ("write", {WRITE}),
        ("readwrite", {READ, LIST, WRITE}),
        ("full-control", {READ, LIST, WRITE, CONTAINERS, ADMIN, READ_ACP, WRITE_ACP}),
        ("bogus", set()),
    ],
)
def test_in_its_own_account_a_subuser_may_do_what_its_permission_says(permissions, allowed):
    for action in (READ, LIST, WRITE, CONTAINERS, ADMIN, READ_ACP, WRITE_ACP):
        expected = None if action in allowed else 403
        assert decide(who("alice", permissions), Access("alice", action)) == expected, action


def test_reseller_admin_may_do_anything_anywhere():
    assert decide(who("root", "read", admin=True), Access("alice", ADMIN)) is None
    deny_all = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::*"}]}
    assert decide(who("root", admin=True), ask("s3:GetObject", policy=deny_all)) is None


def test_elsewhere_only_grants_allow_and_refusals_are_401_without_credentials():
    bob = who("bob")
    assert decide(bob, ask("s3:GetObject")) == 403
    assert decide(None, ask("s3:GetObject")) == 401
    for grant in ("bob", "bob:swift", "AUTH_bob", "*", "*:*", "carol,bob"):
        assert decide(bob, ask("s3:GetObject", swift(read=grant))) is None, grant
        assert decide(bob, ask("s3:ListBucket", swift(read=grant))) is None, grant
        assert decide(bob, ask("s3:PutObject", swift(write=grant))) is None, grant
        assert decide(bob, ask("s3:DeleteObject", swift(write=grant))) is None, grant
    assert decide(bob, ask("s3:PutObject", swift(read="bob"))) == 403  # a read grant is not a write grant
    assert decide(bob, ask("s3:GetObject", swift(read="bobby,bo"))) == 403
    assert decide(who("carl"), ask("s3:GetObject", swift(read="bob:swift"))) == 403
    assert decide(None, ask("s3:GetObject", swift(read="*"))) == 401  # * is anyone authenticated


def test_owner_only_actions_are_never_granted():
    everything = Acl("alice", [Grant("user", "bob", "FULL_CONTROL"), Grant("group", "AllUsers", "FULL_CONTROL")])
    allow_all = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::*"}]}
    for request in (ask("s3:DeleteBucket", everything, policy=allow_all), ask("s3:PutBucketPolicy", everything)):
        assert decide(who("bob"), request) == 403
    assert decide(who("bob"), Access("alice", ADMIN)) == 403
    assert decide(who("alice"), ask("s3:DeleteBucket", everything)) is None


def test_a_subusers_permission_limits_what_grants_give_it_too():
    grants = swift(read="bob", write="bob")
    assert decide(who("bob", "read"), ask("s3:GetObject", grants)) is None
    assert decide(who("bob", "read"), ask("s3:PutObject", grants)) == 403
    assert decide(who("bob", "write"), ask("s3:GetObject", grants)) == 403
    acp = Acl("alice", [Grant("user", "bob", "FULL_CONTROL")])
    assert decide(who("bob", "readwrite"), ask("s3:GetBucketAcl", acp)) == 403
    assert decide(who("bob"), ask("s3:GetBucketAcl", acp)) is None


def test_referrer_grants_read_objects_and_listings_only_with_rlistings():
    assert decide(None, ask("s3:GetObject", swift(read=".r:*"))) is None
    assert decide(None, ask("s3:ListBucket", swift(read=".r:*"))) == 401
    assert decide(None, ask("s3:ListBucket", swift(read=".r:*,.rlistings"))) is None
    assert decide(None, ask("s3:PutObject", swift(write=".r:*"))) == 401
    domain = swift(read=".r:.example.com")
    assert decide(None, ask("s3:GetObject", domain, referrer="https://cdn.example.com/page")) is None
    assert decide(None, ask("s3:GetObject", domain, referrer="https://example.com.evil.org/")) == 401
    assert decide(None, ask("s3:GetObject", domain)) == 401


def test_s3_bucket_read_lists_but_reading_an_object_takes_its_own_grant():
    public_bucket = acl.canned("public-read", "alice", "alice")
    assert decide(None, ask("s3:ListBucket", public_bucket)) is None
    assert decide(None, ask("s3:GetObject", public_bucket, acl.default_acl("alice"))) == 401
    public_object = acl.canned("public-read", "alice", "alice")
    assert decide(None, ask("s3:GetObject", acl.default_acl("alice"), public_object)) is None
    assert decide(None, ask("s3:GetObjectAcl", acl.default_acl("alice"), public_object)) == 401
    authenticated = acl.canned("authenticated-read", "alice", "alice")
    assert decide(who("bob"), ask("s3:GetObject", object_acl=authenticated)) is None
    assert decide(None, ask("s3:GetObject", object_acl=authenticated)) == 401


def test_bucket_write_grant_puts_and_deletes_any_object():
    writable = acl.canned("public-read-write", "alice", "alice")
    assert decide(None, ask("s3:PutObject", writable)) is None
    assert decide(None, ask("s3:DeleteObject", writable)) is None
    assert decide(who("bob"), ask("s3:PutBucketAcl", writable)) == 403


def test_an_objects_writer_owns_it_and_shares_it_with_the_bucket_owner_by_its_acl():
    bobs = acl.canned("private", "bob", "alice")
    assert decide(who("bob"), ask("s3:GetObject", object_acl=bobs)) is None
    assert decide(who("bob"), ask("s3:PutObjectAcl", object_acl=Acl("bob", []))) is None
    assert decide(who("bob"), ask("s3:GetObject", object_acl=Acl("bob", []))) == 403
    assert decide(who("alice"), ask("s3:GetObject", object_acl=bobs)) == 403  # as in S3
    assert decide(who("alice"), ask("s3:GetObjectAcl", object_acl=bobs)) == 403
    assert decide(who("alice"), ask("s3:DeleteObject", object_acl=bobs)) is None  # but it is in her bucket
    assert decide(who("alice"), ask("s3:PutObject", object_acl=bobs)) is None
    shared = acl.canned("bucket-owner-read", "bob", "alice")
    assert decide(who("alice"), ask("s3:GetObject", object_acl=shared)) is None
    assert decide(who("alice"), ask("s3:GetObjectAcl", object_acl=shared)) == 403
    full = acl.canned("bucket-owner-full-control", "bob", "alice")
    assert decide(who("alice"), ask("s3:PutObjectAcl", object_acl=full)) is None
    assert decide(who("alice"), ask("s3:GetObject", object_acl=acl.default_acl("alice"))) is None  # no ACL of its own
    assert decide(who("alice"), ask("s3:GetObject")) is None  # the object not known: the owner's
    acp = Acl("alice", [Grant("user", "bob", "READ_ACP"), Grant("user", "carl", "WRITE_ACP")])
    assert decide(who("bob"), ask("s3:GetObjectAcl", object_acl=acp)) is None
    assert decide(who("bob"), ask("s3:PutObjectAcl", object_acl=acp)) == 403
    assert decide(who("carl"), ask("s3:PutObjectAcl", object_acl=acp)) is None


def test_a_policy_allow_grants_and_an_explicit_deny_beats_every_grant_and_the_owner():
    allow_bob = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam:::user/bob"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::photos/*",
            }
        ]
    }
    assert decide(who("bob"), ask("s3:GetObject", policy=allow_bob)) is None
    assert decide(who("bob"), ask("s3:PutObject", policy=allow_bob)) == 403
    assert decide(who("carl"), ask("s3:GetObject", policy=allow_bob)) == 403
    assert decide(None, ask("s3:GetObject", policy=allow_bob)) == 401
    deny_secret = {
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::photos/secret/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:PutBucketPolicy", "Resource": "arn:aws:s3:::photos"},
        ]
    }
    granted = swift(read="bob")
    assert decide(who("bob"), ask("s3:GetObject", granted, policy=deny_secret, key="open")) is None
    assert decide(who("bob"), ask("s3:GetObject", granted, policy=deny_secret, key="secret/x")) == 403
    assert decide(who("alice"), ask("s3:GetObject", policy=deny_secret, key="secret/x")) == 403
    assert decide(who("alice"), ask("s3:PutBucketPolicy", policy=deny_secret)) is None  # never locked out


def test_policy_conditions_on_source_address_and_https():
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::photos/*",
                "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}},
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::photos/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    }
    assert decide(None, ask("s3:GetObject", policy=policy, source_ip="10.1.2.3", secure=True)) is None
    assert decide(None, ask("s3:GetObject", policy=policy, source_ip="10.1.2.3", secure=False)) == 401
    assert decide(None, ask("s3:GetObject", policy=policy, source_ip="192.168.1.1", secure=True)) == 401


def test_native_requests_are_the_s3_action_of_their_method():
    assert native_s3_action(READ, "GET", on_object=True) == "s3:GetObject"
    assert native_s3_action(READ, "HEAD", on_object=True) == "s3:GetObject"
    assert native_s3_action(WRITE, "PUT", on_object=True) == "s3:PutObject"
    assert native_s3_action(WRITE, "POST", on_object=True) == "s3:PutObject"
    assert native_s3_action(WRITE, "DELETE", on_object=True) == "s3:DeleteObject"
    assert native_s3_action(LIST, "GET", on_object=False) == "s3:ListBucket"
    assert native_s3_action(WRITE, "DELETE", on_object=False) == "s3:DeleteBucket"
    assert native_s3_action(WRITE, "POST", on_object=False) == ""  # container metadata: the owner's
    assert native_s3_action(ADMIN, "POST", on_object=False) == ""
    assert native_s3_action(READ, "GET", on_object=True, versions=True) == "s3:GetObjectVersion"
    assert native_s3_action(WRITE, "DELETE", on_object=True, versions=True) == "s3:DeleteObjectVersion"
    assert native_s3_action(WRITE_ACP, "PUT", on_object=True, versions=True) == "s3:PutObjectVersionAcl"
    assert native_s3_action(LIST, "GET", on_object=False, versions=True) == "s3:ListBucketVersions"


def test_removing_a_version_is_the_bucket_owners_unless_a_policy_allows_it():
    writable = acl.canned("public-read-write", "alice", "alice")
    request = Access("alice", WRITE, "s3:DeleteObjectVersion", "photos", writable, None, "doc")
    assert decide(who("bob"), request) == 403  # WRITE gives DeleteObject, not DeleteObjectVersion
    assert decide(who("alice"), request) is None
    request.policy = parse_policy(
        json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "bob"},
                        "Action": "s3:DeleteObjectVersion",
                        "Resource": "arn:aws:s3:::photos/*",
                    }
                ]
            }
        ),
        "photos",
    )
    assert decide(who("bob"), request) is None


def test_a_role_may_do_only_what_its_policies_allow_and_any_deny_refuses():
    role_policy = parse_identity_policy(
        json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Resource": "arn:aws:s3:::photos*",
                    },
                    {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/secret/*"},
                ]
            }
        )
    )
    role = Identity("alice", "arn:aws:sts:::assumed-role/r/s", 0.0, role="arn:aws:sts:::assumed-role/r/s",
                    role_policy=role_policy)  # fmt: skip
    assert decide(role, ask("s3:GetObject")) is None
    assert decide(role, ask("s3:ListBucket")) is None
    assert decide(role, ask("s3:GetObject", key="secret/x")) == 403
    assert decide(role, ask("s3:PutObject")) == 403  # alice owns the bucket: that counts for nothing
    assert decide(role, Access("alice", LIST)) == 403  # the account itself has no S3 action
    deny_all = {
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::photos/*"}]
    }
    assert decide(role, ask("s3:GetObject", policy=deny_all)) == 403
    allow_alice = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "alice"},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::photos/*",
            }
        ]
    }
    assert decide(role, ask("s3:PutObject", policy=allow_alice)) == 403  # the role is not alice
    everything = swift(read=".r:*", write="*")
    assert decide(role, ask("s3:PutObject", everything)) == 403  # nor do ACLs grant a role anything
