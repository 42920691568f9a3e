"""CORS rules: their checks (with S3's error codes) and which rule lets a request in."""

import pytest

from librgw.cors_rules import (
    CORSConfigError,
    allow_headers,
    encode_rules,
    matching_rule,
    requested_headers,
    rules_from_json,
    rules_of,
    wildcard_match,
)

RULES = rules_from_json(
    [
        {
            "id": "site",
            "allowed_origins": ["https://*.example.com", "https://example.com"],
            "allowed_methods": ["GET", "PUT"],
            "allowed_headers": ["Content-Type", "x-amz-*"],
            "expose_headers": ["ETag"],
            "max_age_seconds": 60,
        },
        {"allowed_origins": ["*"], "allowed_methods": ["GET"]},
    ]
)


def test_one_wildcard_stands_for_any_characters():
    assert wildcard_match("https://*.example.com", "https://a.b.example.com")
    assert not wildcard_match("https://*.example.com", "https://example.com")
    assert not wildcard_match("https://*.example.com", "http://a.example.com")
    assert wildcard_match("*", "") and wildcard_match("x-amz-*", "x-amz-") and not wildcard_match("ab*ba", "aba")
    assert wildcard_match("exact", "exact") and not wildcard_match("exact", "Exact")


def test_the_first_rule_allowing_origin_method_and_every_header_applies():
    assert matching_rule(RULES, "https://a.example.com", "PUT", ["content-type", "X-Amz-Meta-A"]).id == "site"
    assert matching_rule(RULES, "https://a.example.com", "PUT", ["authorization"]) is None
    assert matching_rule(RULES, "https://other.org", "GET", []).id == ""
    assert matching_rule(RULES, "https://other.org", "PUT", []) is None
    assert matching_rule(RULES, "https://a.example.com", "DELETE", []) is None
    assert requested_headers(" Content-Type ,x-amz-date,, ") == ["Content-Type", "x-amz-date"]


def test_allow_headers_echo_the_origin_unless_any_origin_is_allowed():
    site, anyone = RULES
    assert dict(allow_headers(site, "https://a.example.com")) == {
        "Access-Control-Allow-Origin": "https://a.example.com",
        "Access-Control-Allow-Methods": "GET, PUT",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": "ETag",
        "Access-Control-Max-Age": "60",
    }
    assert dict(allow_headers(anyone, "https://x.org")) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET",
    }


def test_rules_round_trip_through_the_bucket_attribute():
    assert rules_of({"cors": encode_rules(RULES)}) == RULES
    assert rules_of({}) is None


@pytest.mark.parametrize(
    "doc, code",
    [
        ([], "InvalidArgument"),
        ({}, "InvalidArgument"),
        ([{"allowed_origins": ["*"], "allowed_methods": ["GET"]}] * 101, "InvalidArgument"),
        ([{"allowed_origins": [], "allowed_methods": ["GET"]}], "InvalidArgument"),
        ([{"allowed_origins": ["*"]}], "InvalidArgument"),
        ([{"allowed_origins": ["*"], "allowed_methods": ["GET"], "colour": "red"}], "InvalidArgument"),
        ([{"allowed_origins": ["*"], "allowed_methods": ["GET"], "max_age_seconds": -1}], "InvalidArgument"),
        ([{"allowed_origins": ["*"], "allowed_methods": ["GET"], "id": "x" * 256}], "InvalidArgument"),
        ([{"allowed_origins": "*", "allowed_methods": ["GET"]}], "InvalidArgument"),
        ([{"allowed_origins": ["*"], "allowed_methods": ["get"]}], "InvalidRequest"),
        ([{"allowed_origins": ["*"], "allowed_methods": ["PATCH"]}], "InvalidRequest"),
        ([{"allowed_origins": ["*.*"], "allowed_methods": ["GET"]}], "InvalidRequest"),
        ([{"allowed_origins": ["*"], "allowed_methods": ["GET"], "allowed_headers": ["x-*-*"]}], "InvalidRequest"),
    ],
)
def test_configurations_s3_would_refuse_name_its_code(doc, code):
    with pytest.raises(CORSConfigError) as caught:
        rules_from_json(doc)
    assert caught.value.code == code
