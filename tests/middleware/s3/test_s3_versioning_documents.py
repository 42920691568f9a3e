"""The S3 side of versioning: the VersioningConfiguration it reads, the ListVersionsResult it
writes, the copy source it parses."""

import pytest
from webob import Request, Response

from librgw.middleware.s3.errors import S3Error
from librgw.middleware.s3.s3_request import S3Request
from librgw.middleware.s3.versioning import (
    add_deleted,
    object_failure,
    requested_state,
    version_query,
    versions_document,
)
from librgw.middleware.s3.xml_doc import document, serialize
from librgw.middleware.swift.versions import DELETE_MARKER_CONTENT_TYPE

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
VERSION = "a1B2" * 8


def s3_request(query: str = "", headers: dict | None = None) -> S3Request:
    request = Request.blank("/bucket/key" + (f"?{query}" if query else ""), headers=headers)
    return S3Request(request, "bucket", "key", dict(request.GET))


@pytest.mark.parametrize("status", ["Enabled", "Suspended"])
def test_a_versioning_configuration_names_the_state(status):
    body = f"<VersioningConfiguration {NS}><Status>{status}</Status></VersioningConfiguration>".encode()
    assert requested_state(body) == status
    body = (
        f"<VersioningConfiguration><MfaDelete>Disabled</MfaDelete><Status>{status}</Status></VersioningConfiguration>"
    )
    assert requested_state(body.encode()) == status


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "MalformedXML"),
        (b"<VersioningConfiguration/>", "MalformedXML"),
        (b"<VersioningConfiguration><Status>Off</Status></VersioningConfiguration>", "MalformedXML"),
        (b"<Versioning><Status>Enabled</Status></Versioning>", "MalformedXML"),
        (b'<!DOCTYPE x [<!ENTITY e "e">]><VersioningConfiguration/>', "MalformedXML"),
        (
            b"<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>",
            "NotImplemented",
        ),
    ],
)
def test_anything_else_is_refused(body, code):
    with pytest.raises(S3Error) as caught:
        requested_state(body)
    assert caught.value.code == code


def entry(name: str, version_id: str, latest: bool, marker: bool = False) -> dict:
    return {
        "name": name,
        "version_id": version_id,
        "is_latest": latest,
        "hash": "e" * 32,
        "bytes": 0 if marker else 3,
        "content_type": DELETE_MARKER_CONTENT_TYPE if marker else "text/plain",
        "last_modified": "2026-11-21T18:00:00.123456",
    }


def test_list_versions_result_has_versions_delete_markers_prefixes_and_next_markers():
    s3 = s3_request("versions&delimiter=/&key-marker=a&encoding-type=url")
    items = [entry("a b", "m1", True, marker=True), entry("a b", "v1", False), {"subdir": "dir/"}]
    xml = serialize(versions_document(s3, items, True, 3, "alice", "Alice")).decode()
    assert "<KeyMarker>a</KeyMarker>" in xml and "<Delimiter>/</Delimiter>" in xml
    assert "<NextKeyMarker>dir/</NextKeyMarker>" in xml and "NextVersionIdMarker" not in xml
    assert "<IsTruncated>true</IsTruncated>" in xml and "<EncodingType>url</EncodingType>" in xml
    assert xml.index("<DeleteMarker><Key>a%20b</Key><VersionId>m1</VersionId><IsLatest>true</IsLatest>") < xml.index(
        "<Version><Key>a%20b</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>"
    )
    assert "<LastModified>2026-11-21T18:00:00.123Z</LastModified>" in xml
    assert '<ETag>"' + "e" * 32 + '"</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass>' in xml
    assert "<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>" in xml
    last = serialize(versions_document(s3_request("versions"), items[:2], True, 2, "alice", "Alice")).decode()
    assert "<NextKeyMarker>a b</NextKeyMarker><NextVersionIdMarker>v1</NextVersionIdMarker>" in last


def test_version_query_and_answers_about_delete_markers():
    assert version_query(s3_request()) == {}
    assert version_query(s3_request(f"versionId={VERSION}")) == {"version-id": VERSION}
    with pytest.raises(S3Error):
        version_query(s3_request("versionId="))
    answer = Response(status=404, headerlist=[("X-Object-Delete-Marker", "true"), ("X-Object-Version-Id", "m")])
    current = object_failure(answer, s3_request())
    assert current.code == "NoSuchKey" and ("x-amz-delete-marker", "true") in current.headers
    named = object_failure(answer, s3_request("versionId=m"))
    assert named.code == "MethodNotAllowed" and named.status == 405 and ("x-amz-version-id", "m") in named.headers
    missing = Response(status=404, headerlist=[("X-Librgw-Error", "NoSuchVersion")])
    assert object_failure(missing, s3_request("versionId=v")).code == "NoSuchVersion"


def test_a_deleted_entry_names_the_version_and_the_marker():
    result = document("DeleteResult")
    add_deleted(
        result, "k", None, Response(headerlist=[("X-Object-Version-Id", "m"), ("X-Object-Delete-Marker", "true")])
    )
    add_deleted(result, "k", "v", Response(headerlist=[("X-Object-Version-Id", "v")]))
    xml = serialize(result).decode()
    assert (
        "<Deleted><Key>k</Key><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>m</DeleteMarkerVersionId>" in xml
    )
    assert "<Deleted><Key>k</Key><VersionId>v</VersionId></Deleted>" in xml
