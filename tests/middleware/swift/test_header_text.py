"""The Swift API's pure checks of what a request sends: header values kept as text
(``metadata.header_text``/``to_wsgi``), transfer codings, 401 challenges and metadata limits."""

import re

import pytest
from webob import exc

from librgw.middleware.request_identity import www_authenticate
from librgw.middleware.swift.constraints import Limits, check_metadata
from librgw.middleware.swift.metadata import header_text, requested_changes, to_wsgi
from librgw.middleware.swift.request_body import UnsupportedTransferCoding, transfer_coding_refusal

SENDABLE = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")  # what gunicorn lets a response header value hold


def wsgi(raw: bytes) -> str:
    return raw.decode("latin-1")


@pytest.mark.parametrize("text", ["text/☃", "café", "😀", "\u0085", "a\tb", "%0A"])
def test_utf8_text_is_kept_and_goes_back_as_the_same_bytes(text):
    raw = text.encode()
    assert header_text(wsgi(raw), "Invalid") == text
    assert to_wsgi(text) == wsgi(raw)


@pytest.mark.parametrize("raw", [b"caf\xe9", b"\xff", b"\xed\xa0\x80", b"a\x01b", b"a\x7f", b"\x1b[0m"])
def test_bytes_that_are_not_utf8_or_hold_controls_are_400(raw):
    with pytest.raises(exc.HTTPBadRequest, match="Invalid Content-Type"):
        header_text(wsgi(raw), "Invalid Content-Type")


@pytest.mark.parametrize("stored", ["one\ntwo", "\x00", "tab\tkept", "del\x7f", "snow ☃\r"])
def test_whatever_was_stored_goes_out_as_a_sendable_value(stored):
    assert SENDABLE.fullmatch(to_wsgi(stored))
    assert "\t" not in stored or "\t" in to_wsgi(stored)


def test_metadata_values_lose_only_https_whitespace():
    to_set, to_remove = requested_changes(
        {"X-Object-Meta-Nel": wsgi("\u0085".encode()), "X-Object-Meta-Pad": "  x  ", "X-Object-Meta-Gone": " "},
        "object",
    )
    assert to_set == {"nel": "\u0085", "pad": "x"} and to_remove == {"gone"}
    with pytest.raises(exc.HTTPBadRequest, match="Metadata must be valid UTF-8"):
        requested_changes({"X-Container-Meta-Bad": wsgi(b"\xe9")}, "container")


@pytest.mark.parametrize(
    ("value", "refusal"),
    [(None, None), ("chunked", None), ("Chunked ", None), ("gzip, chunked", 501), ("chunked, chunked", 501),
     ("gzip", 400), ("identity", 400)],
)  # fmt: skip
def test_a_transfer_coding_is_chunked_or_refused_as_swob_refuses_it(value, refusal):
    environ = {} if value is None else {"HTTP_TRANSFER_ENCODING": value}
    answer = transfer_coding_refusal(environ)
    assert (answer.code if answer is not None else None) == refusal
    if refusal == 501:
        assert isinstance(answer, UnsupportedTransferCoding)


@pytest.mark.parametrize(
    ("path", "account", "challenge"),
    [
        ("/v1/AUTH_alice/c/o", "", 'Swift realm="AUTH_alice"'),
        ("/v1/AUTH_alice", "", 'Swift realm="AUTH_alice"'),
        ("/v1", "", 'Swift realm="unknown"'),
        ("/auth/v1.0", "", 'Swift realm="unknown"'),
        ("/auth/v1.0", "alice", 'Swift realm="alice"'),
        ('/v1/AUTH_x"\n', "", 'Swift realm="AUTH_x%22%0A"'),
    ],
)
def test_a_401_challenge_names_the_account_quoted(path, account, challenge):
    assert www_authenticate(path, account) == challenge


def test_metadata_limits_are_checked_item_by_item_in_bytes():
    limits = Limits(max_meta_count=2, max_meta_overall_size=20)
    check_metadata({"a": "é" * 9}, "object", limits)  # 1 + 18 bytes
    with pytest.raises(exc.HTTPBadRequest, match="Total metadata too large; max 20"):
        check_metadata({"a": "é" * 10}, "object", limits)
    with pytest.raises(exc.HTTPBadRequest, match="Too many metadata items; max 2"):
        check_metadata({"a": "", "b": "", "c": ""}, "account", limits)
    with pytest.raises(exc.HTTPBadRequest, match="Metadata name cannot be empty"):
        check_metadata({"": "x"}, "container", limits)
