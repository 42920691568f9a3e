"""authorization.AccountAcl: Swift's account ACL levels, and what decide lets their grantees do."""

import pytest

from librgw.authorization import ADMIN, CONTAINERS, LIST, READ, WRITE, Access, AccountAcl, Identity, decide


def who(uid: str, permissions: str = "full-control") -> Identity:
    return Identity(uid, f"{uid}:swift", 0.0, permissions)


def in_alices_account(action: str, acl: AccountAcl | None) -> Access:
    return Access("alice", action, account_acl=acl)


def test_the_document_round_trips_and_names_only_levels_that_grant():
    acl = AccountAcl.decode('{"read-only": ["bob", "AUTH_carol"], "admin": ["dave:swift"], "read-write": []}')
    assert acl == AccountAcl(admin=("dave:swift",), read_only=("bob", "AUTH_carol"))
    assert AccountAcl.decode(acl.encode()) == acl
    assert acl.encode() == '{"admin":["dave:swift"],"read-only":["bob","AUTH_carol"]}'
    assert AccountAcl.decode("") == AccountAcl()


@pytest.mark.parametrize(
    ("level", "allowed"),
    [
        ("read-only", {READ, LIST}),
        ("read-write", {READ, LIST, WRITE, CONTAINERS}),
        ("admin", {READ, LIST, WRITE, CONTAINERS, ADMIN}),
    ],
)
def test_each_level_grants_its_actions_in_the_account(level, allowed):
    acl = AccountAcl.from_levels({level: ["bob"]})
    for action in (READ, LIST, WRITE, CONTAINERS, ADMIN):
        expected = None if action in allowed else 403
        assert decide(who("bob"), in_alices_account(action, acl)) == expected, action


def test_a_grantee_is_named_by_user_subuser_or_account():
    for name in ("bob", "bob:swift", "AUTH_bob"):
        assert decide(who("bob"), in_alices_account(WRITE, AccountAcl(read_write=(name,)))) is None
    assert decide(who("bob"), in_alices_account(READ, AccountAcl(read_write=("carol",)))) == 403


def test_without_a_grant_another_user_and_anonymous_are_refused():
    assert decide(who("bob"), in_alices_account(LIST, None)) == 403
    assert decide(None, in_alices_account(LIST, AccountAcl(read_only=("bob",)))) == 401


def test_a_subusers_permission_still_masks_what_the_acl_grants():
    acl = AccountAcl(admin=("bob",))
    assert decide(who("bob", "read"), in_alices_account(READ, acl)) is None
    assert decide(who("bob", "read"), in_alices_account(WRITE, acl)) == 403


@pytest.mark.parametrize(("permission", "may_make_containers"), [("read", False), ("write", True), ("readwrite", True)])
def test_subusers_of_the_owner_follow_rgw(permission, may_make_containers):
    """RGW masks the owner's rights with the subuser's permission: creating a bucket takes WRITE,
    the account's metadata and ACLs full-control."""
    alice = who("alice", permission)
    assert (decide(alice, Access("alice", WRITE)) is None) == may_make_containers
    assert decide(alice, Access("alice", ADMIN)) == 403
    assert decide(who("alice"), Access("alice", ADMIN)) is None
