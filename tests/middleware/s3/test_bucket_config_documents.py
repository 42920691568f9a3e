"""The S3 documents of tagging, CORS and lifecycle: their shape checked (``MalformedXML``),
translated to the native JSON forms, and written back as S3 writes them."""

import pytest

from librgw.cors_rules import rules_from_json
from librgw.lifecycle_rules import LifecycleConfiguration
from librgw.middleware.s3 import cors, lifecycle, tagging
from librgw.middleware.s3.errors import S3Error
from librgw.middleware.s3.xml_doc import parse


def code_of(call, *args) -> str:
    with pytest.raises(S3Error) as caught:
        call(*args)
    return caught.value.code


def test_tagging_documents():
    doc = b"<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value/></Tag></TagSet></Tagging>"
    assert tagging.requested_tags(doc, 10) == {"a": "1", "b": ""}
    back = parse(tagging.tagging_document({"a": "1", "b": ""}))
    assert [(t.findtext("Key"), t.findtext("Value")) for t in back.iter("Tag")] == [("a", "1"), ("b", "")]
    assert code_of(tagging.requested_tags, b"<Tagging/>", 10) == "MalformedXML"
    assert code_of(tagging.requested_tags, b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>", 10) == (
        "MalformedXML"
    )
    twice = b"<Tagging><TagSet>" + b"<Tag><Key>a</Key><Value>1</Value></Tag>" * 2 + b"</TagSet></Tagging>"
    assert code_of(tagging.requested_tags, twice, 10) == "InvalidTag"
    many = (
        b"<Tagging><TagSet>"
        + b"".join(f"<Tag><Key>k{n}</Key><Value>v</Value></Tag>".encode() for n in range(11))
        + b"</TagSet></Tagging>"
    )
    assert code_of(tagging.requested_tags, many, 10) == "InvalidTag"
    assert len(tagging.requested_tags(many, 50)) == 11


CORS_DOC = b"""<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule><ID>web</ID><AllowedOrigin>https://*.example.com</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>
  <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>
</CORSConfiguration>"""


def test_cors_documents():
    rules = cors.requested_rules(CORS_DOC)
    assert rules[0] == {
        "id": "web",
        "allowed_origins": ["https://*.example.com"],
        "allowed_methods": ["GET", "PUT"],
        "allowed_headers": ["*"],
        "expose_headers": ["ETag"],
        "max_age_seconds": 3000,
    }
    stored = [rule.to_json() for rule in rules_from_json(rules)]
    assert cors.requested_rules(cors.configuration_document(stored)) == rules
    rule = b"<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
    for bad in (
        b"<CORSConfiguration/>",
        b"<CORSConfiguration>" + rule * 101 + b"</CORSConfiguration>",
        b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
        b"<CORS>" + rule + b"</CORS>",
        CORS_DOC.replace(b"3000", b"soon"),
        b"not xml",
    ):
        assert code_of(cors.requested_rules, bad) == "MalformedXML", bad


LIFECYCLE_DOC = b"""<LifecycleConfiguration>
  <Rule><ID>a</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>t</Key><Value>1</Value></Tag>
    <ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status>
    <Expiration><Days>30</Days></Expiration>
    <NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays></NoncurrentVersionExpiration></Rule>
  <Rule><ID>b</ID><Prefix>old/</Prefix><Status>Disabled</Status>
    <Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>
  <Rule><ID>c</ID><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status>
    <AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
  <Rule><ID>d</ID><Filter/><Status>Enabled</Status>
    <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>
  <Rule><ID>e</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>
    <Expiration><Days>1</Days></Expiration></Rule>
</LifecycleConfiguration>"""


def test_lifecycle_documents_round_trip_through_the_core():
    doc = lifecycle.requested_configuration(LIFECYCLE_DOC)
    assert doc["rules"][0]["filter"] == {"prefix": "logs/", "tags": {"t": "1"}, "object_size_greater_than": 10}
    assert doc["rules"][1]["prefix"] == "old/" and "filter" not in doc["rules"][1]
    assert doc["rules"][3] == {
        "id": "d",
        "status": "Enabled",
        "filter": {},
        "expiration": {"expired_object_delete_marker": True},
    }
    stored = LifecycleConfiguration.from_json(doc).to_json()
    again = lifecycle.requested_configuration(lifecycle.configuration_document(stored))
    assert LifecycleConfiguration.from_json(again) == LifecycleConfiguration.from_json(doc)


@pytest.mark.parametrize(
    "rule, code",
    [
        (b"<Filter/><Expiration><Days>1</Days></Expiration>", "MalformedXML"),  # no Status
        (b"<Status>On</Status><Filter/><Expiration><Days>1</Days></Expiration>", "MalformedXML"),
        (b"<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>", "MalformedXML"),  # no Filter or Prefix
        (b"<Status>Enabled</Status><Prefix/><Filter/><Expiration><Days>1</Days></Expiration>", "MalformedXML"),
        (b"<Status>Enabled</Status><Filter><Prefix/><Tag><Key>a</Key><Value/></Tag></Filter>", "MalformedXML"),
        (b"<Status>Enabled</Status><Filter/><Expiration><Days>x</Days></Expiration>", "MalformedXML"),
        (
            b"<Status>Enabled</Status><Filter/><Expiration><Days>1</Days><Date>2030-01-01</Date></Expiration>",
            "MalformedXML",
        ),
        (b"<Status>Enabled</Status><Filter/><Expiration/>", "MalformedXML"),
        (b"<Status>Enabled</Status><Filter><Colour/></Filter><Expiration><Days>1</Days></Expiration>", "MalformedXML"),
        (b"<Status>Enabled</Status><Filter/><Transition><Days>1</Days></Transition>", "NotImplemented"),
        (
            b"<Status>Enabled</Status><Filter><And><Tag><Key>a</Key><Value/></Tag><Tag><Key>a</Key><Value/></Tag>"
            b"</And></Filter><Expiration><Days>1</Days></Expiration>",
            "InvalidRequest",
        ),
    ],
)
def test_lifecycle_documents_of_the_wrong_shape(rule, code):
    body = b"<LifecycleConfiguration><Rule>" + rule + b"</Rule></LifecycleConfiguration>"
    assert code_of(lifecycle.requested_configuration, body) == code


def test_a_lifecycle_document_has_rules():
    assert code_of(lifecycle.requested_configuration, b"<LifecycleConfiguration/>") == "MalformedXML"
