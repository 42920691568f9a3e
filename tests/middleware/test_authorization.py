"""authorization.decide: the one place that says who may do what."""

import pytest

from librgw.middleware.authorization import ADMIN, LIST, READ, WRITE, Access, Identity, decide, parse_acl


def who(uid: str, permissions: str = "full-control", admin: bool = False) -> Identity:
    return Identity(uid, f"{uid}:swift", 0.0, permissions, admin)


@pytest.mark.parametrize(
    ("permissions", "allowed"),
    [
        ("read", {READ, LIST}),
        ("write", {WRITE}),
        ("readwrite", {READ, LIST, WRITE}),
        ("full-control", {READ, LIST, WRITE, ADMIN}),
        ("bogus", set()),
    ],
)
def test_in_its_own_account_a_subuser_may_do_what_its_permission_says(permissions, allowed):
    for action in (READ, LIST, WRITE, ADMIN):
        expected = None if action in allowed else 403
        assert decide(who("alice", permissions), Access("alice", action)) == expected, action


def test_reseller_admin_may_do_anything_anywhere():
    assert decide(who("root", "read", admin=True), Access("alice", ADMIN)) is None


def test_elsewhere_only_acls_grant_and_refusals_are_401_without_a_token():
    bob = who("bob")
    assert decide(bob, Access("alice", READ)) == 403
    assert decide(None, Access("alice", READ)) == 401
    for grant in ("bob", "bob:swift", "AUTH_bob", "*", "*:*", "carol,bob"):
        assert decide(bob, Access("alice", READ, read_acl=grant)) is None, grant
        assert decide(bob, Access("alice", LIST, read_acl=grant)) is None, grant
        assert decide(bob, Access("alice", WRITE, write_acl=grant)) is None, grant
    assert decide(bob, Access("alice", WRITE, read_acl="bob")) == 403  # a read grant is not a write grant
    assert decide(bob, Access("alice", ADMIN, read_acl="bob", write_acl="bob")) == 403
    assert decide(bob, Access("alice", READ, read_acl="bobby,bo")) == 403


def test_referrer_grants_read_objects_and_listings_only_with_rlistings():
    assert decide(None, Access("alice", READ, read_acl=".r:*")) is None
    assert decide(None, Access("alice", LIST, read_acl=".r:*")) == 401
    assert decide(None, Access("alice", LIST, read_acl=".r:*,.rlistings")) is None
    assert decide(None, Access("alice", WRITE, write_acl=".r:*")) == 401
    domain = Access("alice", READ, read_acl=".r:.example.com", referrer="https://cdn.example.com/page")
    assert decide(None, domain) is None
    domain.referrer = "https://example.com.evil.org/"
    assert decide(None, domain) == 401


def test_parse_acl_rejects_what_is_not_a_grant():
    assert parse_acl(" bob , .r:*,.rlistings ") == ["bob", ".r:*", ".rlistings"]
    for bad in (".r:", ".bogus", "bob smith"):
        with pytest.raises(ValueError):
            parse_acl(bad)
