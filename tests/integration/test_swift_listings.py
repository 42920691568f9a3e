"""Account and container listings byte for byte as OpenStack Swift writes them, through a real
gateway. Each test names the Swift source it follows:

- ``swift/common/middleware/listing_formats.py``: ``get_listing_content_type`` (``format=``,
  else ``Accept``'s best match; 406 for none), ``to_xml``/``container_to_xml``/
  ``account_to_xml`` (ElementTree, the declaration and a newline), ``listing_to_text``, and
  ``ListingFilter`` (``Content-Type: <type>; charset=utf-8``, ``Vary: Accept``, 204 for an
  empty body, ``Content-Length: 0`` on HEAD);
- ``swift/container/server.py``'s ``update_object_record`` (a container entry's fields and
  their order) and ``swift/account/utils.py``'s ``account_listing_response`` (an account
  entry's, with ``last_modified`` and ``storage_policy``);
- ``swift/common/request_helpers.py``'s ``constrain_req_limit`` (``limit``);
- the container broker's ``list_objects_iter`` (a delimiter of any length).
"""

import json
import re
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.slow

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


@pytest.fixture(scope="module")
def bob(gateway):
    """bob's storage path and a caller of ``(method, path under it, headers)``."""
    url, token = gateway.login("bob:swift", "bob-key")
    base = url[len(gateway.url) :]

    def call(method: str, path: str = "", headers: dict | None = None, body: bytes | None = None):
        return gateway.raw(method, base + path, {"X-Auth-Token": token, **(headers or {})}, body)

    for container in ("listed", "empty"):
        assert call("PUT", f"/{container}")[0] == 201
    for name, data, content_type in [
        ("a", b"1", "text/plain"),
        ("b/x", b"22", "image/png"),
        ("b/y", b"333", "application/octet-stream"),
        ('q&<>"é', b"4444", "text/plain"),
    ]:
        assert call("PUT", f"/listed/{quote(name)}", {"Content-Type": content_type}, data)[0] == 201
    return call


def entries(call, path: str) -> list[dict]:
    status, _, body = call("GET", path + ("&" if "?" in path else "?") + "format=json")
    assert status == 200
    return json.loads(body)


def names(call, path: str) -> list[str]:
    return [e.get("name", e.get("subdir")) for e in entries(call, path)]


def test_container_json_fields_are_the_container_servers_in_its_order(bob):
    # container/server.py update_object_record: bytes, hash, name, content_type, then last_modified
    status, headers, body = bob("GET", "/listed?format=json")
    assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
    listing = json.loads(body)
    assert [list(e) for e in listing] == [["bytes", "hash", "name", "content_type", "last_modified"]] * 4
    assert listing[0] == {
        "bytes": 1,
        "hash": "c4ca4238a0b923820dcc509a6f75849b",  # unquoted, as every Swift listing
        "name": "a",
        "content_type": "text/plain",
        "last_modified": listing[0]["last_modified"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", listing[0]["last_modified"])
    assert body == json.dumps(listing).encode("ascii")  # json.dumps(...).encode('ascii'): é as \u00e9
    assert b'q&<>\\"\\u00e9' in body


def test_container_xml_is_byte_for_byte_swifts(bob):
    # listing_formats.container_to_xml + to_xml: no text between elements, subdir with a name child
    listing = entries(bob, "/listed?delimiter=/")
    a, subdir, odd = listing
    status, headers, body = bob("GET", "/listed?format=xml&delimiter=/")
    assert status == 200 and headers["Content-Type"] == "application/xml; charset=utf-8"
    expected = (
        '<container name="listed">'
        f"<object><name>a</name><hash>{a['hash']}</hash><bytes>1</bytes>"
        f"<content_type>text/plain</content_type><last_modified>{a['last_modified']}</last_modified></object>"
        '<subdir name="b/"><name>b/</name></subdir>'
        f'<object><name>q&amp;&lt;&gt;"é</name><hash>{odd["hash"]}</hash><bytes>4</bytes>'
        f"<content_type>text/plain</content_type><last_modified>{odd['last_modified']}</last_modified></object>"
        "</container>"
    )
    assert subdir == {"subdir": "b/"} and body == DECLARATION + expected.encode()
    # an empty container: ElementTree's empty element
    assert bob("GET", "/empty?format=xml")[2] == DECLARATION + b'<container name="empty" />'


def test_account_listing_has_count_bytes_last_modified_and_storage_policy(bob):
    # account/utils.py account_listing_response: name, count, bytes, last_modified, storage_policy
    status, headers, body = bob("GET", "?format=json")
    assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
    listing = json.loads(body)
    assert [list(e) for e in listing] == [["name", "count", "bytes", "last_modified", "storage_policy"]] * 2
    listed = {e["name"]: e for e in listing}
    assert (listed["listed"]["count"], listed["listed"]["bytes"]) == (4, 10)
    assert (listed["empty"]["count"], listed["empty"]["bytes"]) == (0, 0)
    head = bob("HEAD", "/listed")[1]
    assert listed["listed"]["storage_policy"] == head["X-Storage-Policy"]
    seconds, fraction = head["X-Timestamp"].split(".")
    assert listed["listed"]["last_modified"].endswith(f".{fraction}0")  # the container's X-Timestamp, in µs


def test_account_xml_is_byte_for_byte_swifts(bob):
    # listing_formats.account_to_xml: a newline after the root's start tag and after each entry
    listing = entries(bob, "")
    status, headers, body = bob("GET", "?format=xml")
    assert status == 200 and headers["Content-Type"] == "application/xml; charset=utf-8"
    rows = "".join(
        f"<container><name>{e['name']}</name><count>{e['count']}</count><bytes>{e['bytes']}</bytes>"
        f"<last_modified>{e['last_modified']}</last_modified>"
        f"<storage_policy>{e['storage_policy']}</storage_policy></container>\n"
        for e in listing
    )
    assert body == DECLARATION + f'<account name="AUTH_bob">\n{rows}</account>'.encode()
    # with a delimiter: an account's subdir is an empty element, a newline after it as after any entry
    rolled = entries(bob, "?delimiter=ste")
    rows = "".join(
        f'<subdir name="{e["subdir"]}" />\n'
        if "subdir" in e
        else f"<container><name>{e['name']}</name><count>{e['count']}</count><bytes>{e['bytes']}</bytes>"
        f"<last_modified>{e['last_modified']}</last_modified>"
        f"<storage_policy>{e['storage_policy']}</storage_policy></container>\n"
        for e in rolled
    )
    assert {"subdir": "liste"} in rolled
    assert (
        bob("GET", "?format=xml&delimiter=ste")[2]
        == DECLARATION + f'<account name="AUTH_bob">\n{rows}</account>'.encode()
    )


def test_plain_listings_are_names_a_line_and_empty_ones_204(bob):
    # listing_formats.listing_to_text; ListingFilter: an empty body is 204
    status, headers, body = bob("GET", "/listed?delimiter=/")
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert body == 'a\nb/\nq&<>"é\n'.encode()
    status, headers, body = bob("GET", "/empty")
    assert status == 204 and body == b"" and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert bob("GET", "/empty?format=json")[2] == b"[]"


def test_delimiters_of_any_length_roll_names_up(bob):
    # the container broker's list_objects_iter: the prefix runs through the whole delimiter
    assert bob("PUT", "/delim")[0] == 201
    for name in ("2024--01--x", "2024--02--y", "2024-03", "z"):
        assert bob("PUT", f"/delim/{name}", body=b"")[0] == 201
    assert names(bob, "/delim?delimiter=--") == ["2024--", "2024-03", "z"]
    assert names(bob, "/delim?delimiter=--&prefix=2024--") == ["2024--01--", "2024--02--"]
    assert "liste" in names(bob, "?delimiter=ste") and "listed" not in names(bob, "?delimiter=ste")


def test_limit_is_swifts_constrain_req_limit(bob):
    # request_helpers.constrain_req_limit: only all-digit values count; over the maximum is 412
    everything = names(bob, "/listed")
    for ignored in ("5000.0", "-1", "abc", "", "1e3"):
        assert names(bob, f"/listed?limit={ignored}") == everything, ignored
        assert len(entries(bob, f"?limit={ignored}")) >= 2, ignored
    assert names(bob, "/listed?limit=2") == everything[:2]
    status, _, body = bob("GET", "/listed?limit=10001")
    assert status == 412 and b"Maximum limit is 10000" in body
    assert bob("GET", "?limit=10001")[0] == 412
    assert bob("GET", "/listed?limit=0&format=json")[2] == b"[]"


def test_format_and_accept_are_negotiated_as_swift_does(bob):
    # listing_formats.get_listing_content_type and ListingFilter's Vary
    status, headers, _ = bob("GET", "/listed")
    assert headers["Content-Type"] == "text/plain; charset=utf-8" and headers["Vary"] == "Accept"
    status, headers, _ = bob("GET", "/listed?format=JSON")
    assert headers["Content-Type"] == "application/json; charset=utf-8" and "Vary" not in headers
    status, headers, _ = bob("GET", "/listed?format=yaml")  # a format it does not know: plain
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
    status, headers, body = bob("GET", "/listed", {"Accept": "text/xml"})
    assert headers["Content-Type"] == "text/xml; charset=utf-8" and body.startswith(DECLARATION)
    status, headers, _ = bob("GET", "/listed", {"Accept": "application/json;q=0.5, application/xml"})
    assert headers["Content-Type"] == "application/xml; charset=utf-8"
    assert bob("GET", "/listed", {"Accept": "image/png"})[0] == 406
    assert bob("HEAD", "/listed", {"Accept": "image/png"})[0] == 406
    assert bob("GET", "", {"Accept": "image/png"})[0] == 406
    assert bob("GET", "/listed?format=json", {"Accept": "image/png"})[0] == 200  # format= wins
    # HEAD says what its GET would be, with no body. (Swift also sends Content-Length: 0 on these
    # 204s; gunicorn leaves it out, as RFC 9110 section 8.6 has a server do on any 204.)
    status, headers, body = bob("HEAD", "/listed?format=json")
    assert status == 204 and headers["Content-Type"] == "application/json; charset=utf-8" and body == b""
    status, headers, body = bob("HEAD", "")
    assert status == 204 and headers["Content-Type"] == "text/plain; charset=utf-8" and headers["Vary"] == "Accept"
