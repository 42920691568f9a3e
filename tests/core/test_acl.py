"""acl.py: the one stored ACL form, canned ACLs, client documents and Swift's view of it."""

import pytest

from librgw import acl
from librgw.acl import ALL_USERS, AUTHENTICATED_USERS, Acl, AclError, Grant


def test_canned_acls_are_s3s():
    assert acl.canned("private", "alice", "alice").grants == [Grant("user", "alice", "FULL_CONTROL")]
    assert Grant("group", ALL_USERS, "READ") in acl.canned("public-read", "alice", "alice").grants
    rw = acl.canned("public-read-write", "alice", "alice").grants
    assert {Grant("group", ALL_USERS, "READ"), Grant("group", ALL_USERS, "WRITE")} <= set(rw)
    assert Grant("group", AUTHENTICATED_USERS, "READ") in acl.canned("authenticated-read", "a", "a").grants
    assert acl.canned("bucket-owner-read", "bob", "alice").grants == [
        Grant("user", "bob", "FULL_CONTROL"),
        Grant("user", "alice", "READ"),
    ]
    assert acl.canned("bucket-owner-full-control", "alice", "alice") == acl.default_acl("alice")  # its own bucket
    with pytest.raises(AclError):
        acl.canned("log-delivery-write", "alice", "alice")


def test_granted_spells_out_full_control_and_owners_keep_acp():
    policy = Acl("alice", [Grant("user", "bob", "FULL_CONTROL"), Grant("group", AUTHENTICATED_USERS, "READ")])
    assert policy.granted({"bob"}, True) == {"FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP"}
    assert policy.granted({"carl"}, True) == {"READ"}
    assert policy.granted(set(), False) == set()
    assert policy.granted({"alice"}, True) == {"READ", "READ_ACP", "WRITE_ACP"}  # the owner: ACP always


def test_stored_form_round_trips_and_the_default_is_not_stored():
    stored = Acl("bob", [Grant("user", "bob", "FULL_CONTROL"), Grant("referrer", ".example.com", "READ_OBJS")])
    assert Acl.decode(stored.encode()) == stored
    assert acl.stored_object_acl(acl.default_acl("alice"), "alice") == ""
    assert acl.object_acl("", "alice") == acl.default_acl("alice")
    assert acl.object_acl(stored.encode(), "alice") == stored


def test_client_documents_are_checked_and_cannot_change_the_owner():
    doc = {"grants": [{"type": "group", "id": "http://acs.amazonaws.com/groups/global/AllUsers", "permission": "READ"}]}
    assert acl.from_document(doc, "alice").grants == [Grant("group", ALL_USERS, "READ")]
    assert acl.from_document({**doc, "owner": "alice"}, "alice").owner == "alice"
    bad = [
        {**doc, "owner": "bob"},
        {"grants": [{"type": "user", "id": "bob", "permission": "EVERYTHING"}]},
        {"grants": [{"type": "group", "id": "Everyone", "permission": "READ"}]},
        {"grants": [{"type": "robot", "id": "x", "permission": "READ"}]},
        {"grants": [{"type": "user", "id": "bob smith", "permission": "READ"}]},
        {"grants": [{"type": "user", "permission": "READ"}]},
        {"grants": "all"},
        [],
    ]
    for document in bad:
        with pytest.raises(AclError):
            acl.from_document(document, "alice")
    assert acl.from_header("public-read", "bob", "alice") == acl.canned("public-read", "bob", "alice")
    assert acl.from_header('{"grants": []}', "bob", "alice") == Acl("bob", [])
    with pytest.raises(AclError):
        acl.from_header("{nope", "bob", "alice")


def test_email_grantees_are_resolved_to_users():
    document = acl.from_document({"grants": [{"type": "email", "id": "b@x.org", "permission": "READ"}]}, "alice")
    assert acl.resolve_emails(document, {"b@x.org": "bob"}.__getitem__).grants == [Grant("user", "bob", "READ")]


def test_swift_read_and_write_headers_are_views_of_the_one_acl():
    base = acl.canned("private", "alice", "alice")
    shared = acl.with_swift_grants(base, "bob,.r:*,.rlistings,*", "carl:swift,.r:*")
    assert set(shared.grants) == {
        Grant("user", "alice", "FULL_CONTROL"),
        Grant("user", "bob", "READ"),
        Grant("user", "bob", "READ_OBJS"),
        Grant("group", ALL_USERS, "READ_OBJS"),
        Grant("group", ALL_USERS, "READ"),
        Grant("group", AUTHENTICATED_USERS, "READ"),
        Grant("group", AUTHENTICATED_USERS, "READ_OBJS"),
        Grant("user", "carl:swift", "WRITE"),  # a referrer cannot write
    }
    assert acl.swift_headers(shared) == {"X-Container-Read": "bob,.r:*,*,.rlistings", "X-Container-Write": "carl:swift"}
    unread = acl.with_swift_grants(shared, "", None)  # replaces the read side only
    assert acl.swift_headers(unread) == {"X-Container-Write": "carl:swift"}
    assert Grant("user", "alice", "FULL_CONTROL") in unread.grants
    # what S3 grants shows where Swift can spell it: a public listing alone it cannot
    assert acl.swift_headers(acl.canned("public-read", "alice", "alice")) == {}
    assert acl.swift_headers(acl.with_swift_grants(base, ".r:.example.com,.rlistings", None)) == {
        "X-Container-Read": ".r:.example.com,.rlistings"
    }


def test_swift_acl_syntax_errors():
    assert acl.parse_swift_acl(" bob , .r:*,.rlistings ") == ["bob", ".r:*", ".rlistings"]
    for bad in (".r:", ".bogus", "bob smith"):
        with pytest.raises(AclError):
            acl.parse_swift_acl(bad)


def test_referrer_grants_match_by_host_or_domain():
    grants = acl.with_swift_grants(Acl("alice"), ".r:.example.com,.r:cdn.org", None)
    assert "READ_OBJS" in grants.granted(set(), False, "https://www.example.com/page")
    assert "READ_OBJS" in grants.granted(set(), False, "http://cdn.org/")
    assert grants.granted(set(), False, "http://example.com.evil.org/") == set()
    assert grants.granted(set(), False, "") == set()


def test_buckets_from_before_one_acl_keep_their_swift_grants():
    attrs = {"x-container-read": ".r:*", "x-container-meta-color": "blue"}
    legacy = acl.bucket_acl(attrs, "alice")
    assert Grant("group", ALL_USERS, "READ_OBJS") in legacy.grants
    rewritten = acl.with_bucket_acl(attrs, legacy)
    assert "x-container-read" not in rewritten and rewritten["x-container-meta-color"] == "blue"
    assert acl.bucket_acl(rewritten, "alice") == legacy
    assert acl.bucket_acl({}, "alice") == acl.default_acl("alice")
