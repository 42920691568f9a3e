"""TokenStore: Swift tokens issued into the cluster and read back while their user may use them."""

import time

import pytest

from librgw.authorization import Identity
from librgw.tokens import TOKEN_RE, TokenStore


@pytest.fixture
def tokens(rgw):
    rgw.users.create("alice", "Alice")
    return TokenStore(rgw.client, rgw.users)


def alice(expires: float) -> Identity:
    return Identity("alice", "alice:swift", expires, "read")


def test_an_issued_token_reads_back_as_its_identity_expired_or_not(tokens):
    live, expired = alice(time.time() + 60), alice(time.time() - 1)
    for identity in (live, expired):
        token = tokens.issue(identity)
        assert TOKEN_RE.fullmatch(token) and tokens.lookup(token) == identity


def test_unknown_and_malformed_tokens_are_none(tokens):
    assert tokens.lookup("AUTH_tk" + "0" * 32) is None
    assert tokens.lookup("not-a-token") is None


def test_a_suspended_or_removed_users_tokens_are_none(rgw, tokens):
    token = tokens.issue(alice(time.time() + 60))
    rgw.users.suspend("alice")
    assert tokens.lookup(token) is None
    rgw.users.remove("alice")
    assert tokens.lookup(token) is None
