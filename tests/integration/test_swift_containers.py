"""The Swift API's accounts and containers: listings, metadata, counts, deletes, bulk delete."""

import json
import xml.etree.ElementTree as ET

import pytest
from swiftclient.exceptions import ClientException

pytestmark = pytest.mark.slow

NAMES = ["a", "b/1", "b/2", "c/x/1", "d", "e"]


@pytest.fixture(scope="module")
def bob(gateway):
    conn = gateway.connection("bob:swift", "bob-key")
    conn.put_container("listed")
    for name in NAMES:
        conn.put_object("listed", name, name.encode())
    return conn


def names(listing: list[dict]) -> list[str]:
    return [item.get("name", item.get("subdir")) for item in listing]


def test_container_listing_parameters(bob):
    assert names(bob.get_container("listed")[1]) == NAMES
    assert names(bob.get_container("listed", limit=2)[1]) == ["a", "b/1"]
    assert names(bob.get_container("listed", marker="b/2")[1]) == ["c/x/1", "d", "e"]
    assert names(bob.get_container("listed", end_marker="c")[1]) == ["a", "b/1", "b/2"]
    assert names(bob.get_container("listed", prefix="b/")[1]) == ["b/1", "b/2"]
    assert names(bob.get_container("listed", delimiter="/")[1]) == ["a", "b/", "c/", "d", "e"]
    assert names(bob.get_container("listed", prefix="c/", delimiter="/")[1]) == ["c/x/"]
    _, listing = bob.get_container("listed", query_string="reverse=on")
    assert names(listing) == NAMES[::-1]
    _, listing = bob.get_container("listed", query_string="reverse=on&marker=d&limit=2")
    assert names(listing) == ["c/x/1", "b/2"]
    entry = bob.get_container("listed", prefix="d")[1][0]
    assert entry["bytes"] == 1 and entry["hash"] == "8277e0910d750195b448797616e091ad"
    assert entry["content_type"] == "application/octet-stream" and entry["last_modified"].count(":") == 2


def test_listing_formats_plain_xml_json(bob, gateway):
    url, token = bob.get_auth()
    path = url[len(gateway.url) :] + "/listed"
    status, headers, body = gateway.raw("GET", path, {"X-Auth-Token": token})
    assert status == 200 and headers["Content-Type"].startswith("text/plain") and body.decode().split() == NAMES
    status, headers, body = gateway.raw("GET", path + "?format=xml", {"X-Auth-Token": token})
    root = ET.fromstring(body)
    assert root.tag == "container" and root.get("name") == "listed"
    assert [o.findtext("name") for o in root.findall("object")] == NAMES
    status, headers, body = gateway.raw("GET", path, {"X-Auth-Token": token, "Accept": "application/json"})
    assert [o["name"] for o in json.loads(body)] == NAMES
    status, _, body = gateway.raw("GET", path + "?delimiter=/&format=xml", {"X-Auth-Token": token})
    assert [s.get("name") for s in ET.fromstring(body).findall("subdir")] == ["b/", "c/"]
    # Swift's listing_formats: a format it does not know is plain (test_swift_listings.py has the rest)
    status, headers, body = gateway.raw("GET", path + "?format=yaml", {"X-Auth-Token": token})
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8" and body.decode().split() == NAMES
    assert gateway.raw("GET", path + "?limit=10001", {"X-Auth-Token": token})[0] == 412


def test_account_head_counts_and_listing(gateway):
    carol = gateway.connection("root:swift", "root-key")  # an account of its own
    carol.put_container("one")
    carol.put_container("two")
    carol.put_object("one", "x", b"12345")
    carol.put_object("two", "y", b"123")
    head = carol.head_account()
    assert head["x-account-container-count"] == "2"
    assert head["x-account-object-count"] == "2" and head["x-account-bytes-used"] == "8"
    _, listing = carol.get_account()
    assert [(c["name"], c["count"], c["bytes"]) for c in listing] == [("one", 1, 5), ("two", 1, 3)]
    assert [c["name"] for c in carol.get_account(marker="one")[1]] == ["two"]
    assert [c["name"] for c in carol.get_account(prefix="t")[1]] == ["two"]
    url, token = carol.get_auth()
    status, _, body = gateway.raw("GET", url[len(gateway.url) :] + "?format=xml", {"X-Auth-Token": token})
    assert [c.findtext("name") for c in ET.fromstring(body).findall("container")] == ["one", "two"]
    status, _, body = gateway.raw("GET", url[len(gateway.url) :], {"X-Auth-Token": token})
    assert body == b"one\ntwo\n"


def test_account_and_container_metadata(bob):
    bob.post_account({"X-Account-Meta-Team": "storage"})
    assert bob.head_account()["x-account-meta-team"] == "storage"
    bob.post_account({"X-Remove-Account-Meta-Team": "x"})
    assert "x-account-meta-team" not in bob.head_account()
    bob.put_container("meta", headers={"X-Container-Meta-Color": "red"})
    bob.post_container("meta", {"X-Container-Meta-Size": "big"})
    head = bob.head_container("meta")
    assert head["x-container-meta-color"] == "red" and head["x-container-meta-size"] == "big"
    bob.post_container("meta", {"X-Container-Meta-Color": ""})
    assert "x-container-meta-color" not in bob.head_container("meta")
    with pytest.raises(ClientException) as caught:
        bob.post_container("meta", {"X-Container-Meta-Big": "v" * 257})
    assert caught.value.http_status == 400


def test_container_put_twice_is_202_and_delete_non_empty_is_409(bob, gateway):
    url, token = bob.get_auth()
    path = url[len(gateway.url) :] + "/twice"
    assert gateway.raw("PUT", path, {"X-Auth-Token": token}, b"")[0] == 201
    assert gateway.raw("PUT", path, {"X-Auth-Token": token}, b"")[0] == 202
    bob.put_object("twice", "o", b"x")
    with pytest.raises(ClientException) as caught:
        bob.delete_container("twice")
    assert caught.value.http_status == 409
    bob.delete_object("twice", "o")
    bob.delete_container("twice")
    with pytest.raises(ClientException) as caught:
        bob.head_container("twice")
    assert caught.value.http_status == 404
    alice = gateway.connection()
    with pytest.raises(ClientException) as caught:
        alice.put_container("listed")  # bob's
    assert caught.value.http_status == 409


def test_empty_listings(bob, gateway):
    bob.put_container("empty")
    url, token = bob.get_auth()
    path = url[len(gateway.url) :] + "/empty"
    assert gateway.raw("GET", path, {"X-Auth-Token": token})[0] == 204
    status, _, body = gateway.raw("GET", path + "?format=json", {"X-Auth-Token": token})
    assert (status, json.loads(body)) == (200, [])


def test_bulk_delete(bob, gateway):
    bob.put_container("bulk")
    for name in ("one", "two two", "ünï"):
        bob.put_object("bulk", name, b"x")
    url, token = bob.get_auth()
    body = b"/bulk/one\n/bulk/two%20two\n/bulk/%C3%BCn%C3%AF\n/bulk/missing\n/listed\n"
    status, headers, answer = gateway.raw(
        "POST",
        url[len(gateway.url) :] + "?bulk-delete",
        {"X-Auth-Token": token, "Accept": "application/json", "Content-Type": "text/plain"},
        body,
    )
    result = json.loads(answer)
    assert status == 200 and result["Number Deleted"] == 3 and result["Number Not Found"] == 1
    assert result["Errors"] == [["/listed", "409 Conflict"]] and result["Response Status"] == "409 Conflict"
    assert bob.get_container("bulk")[1] == []
    body = b"/bulk\n"
    status, _, answer = gateway.raw("DELETE", url[len(gateway.url) :] + "?bulk-delete", {"X-Auth-Token": token}, body)
    assert status == 200 and b"Number Deleted: 1" in answer and b"Response Status: 200 OK" in answer
    # another user's bulk delete of bob's objects is refused, object by object
    alice_url, alice_token = gateway.login("alice:swift", "alice-key")
    status, _, answer = gateway.raw(
        "POST",
        url[len(gateway.url) :] + "?bulk-delete",
        {"X-Auth-Token": alice_token, "Accept": "application/json"},
        b"/listed/a\n",
    )
    assert json.loads(answer)["Errors"] == [["/listed/a", "403 Forbidden"]]
    assert bob.head_object("listed", "a")["content-length"] == "1"
