"""The Swift API's objects, driven by python-swiftclient and raw HTTP over a real gunicorn."""

import hashlib
import io
import json
import os

import pytest
from swiftclient.exceptions import ClientException

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def alice(gateway):
    conn = gateway.connection()
    conn.put_container("objs")
    return conn


def test_put_get_head_round_trip_keeps_type_metadata_and_content_headers(alice):
    etag = alice.put_object(
        "objs",
        "photos/cat.jpg",
        b"meow" * 1000,
        headers={
            "X-Object-Meta-Color": "black",
            "Content-Disposition": 'attachment; filename="cat.jpg"',
            "Content-Encoding": "identity",
        },
    )
    assert etag == hashlib.md5(b"meow" * 1000).hexdigest()
    headers, body = alice.get_object("objs", "photos/cat.jpg")
    assert body == b"meow" * 1000
    assert headers["content-type"] == "image/jpeg"  # guessed from the name
    assert headers["x-object-meta-color"] == "black"
    assert headers["content-disposition"] == 'attachment; filename="cat.jpg"'
    assert headers["content-encoding"] == "identity"
    assert headers["etag"].strip('"') == etag
    assert headers["content-length"] == "4000"
    head = alice.head_object("objs", "photos/cat.jpg")
    assert head["content-length"] == "4000" and head["x-object-meta-color"] == "black"
    assert "last-modified" in head and "x-timestamp" in head


def test_put_with_a_wrong_etag_is_422_and_leaves_the_old_object(alice):
    alice.put_object("objs", "checked", b"old")
    with pytest.raises(ClientException) as caught:
        alice.put_object("objs", "checked", b"new", etag=hashlib.md5(b"other").hexdigest())
    assert caught.value.http_status == 422
    assert alice.get_object("objs", "checked")[1] == b"old"


def test_chunked_upload_of_a_big_file_streams_and_reads_back(alice):
    data = os.urandom(9 * 1024 * 1024 + 17)
    # a file object without a length makes swiftclient send Transfer-Encoding: chunked
    etag = alice.put_object("objs", "big", io.BytesIO(data), chunk_size=65536)
    assert etag == hashlib.md5(data).hexdigest()
    headers, body = alice.get_object("objs", "big", resp_chunk_size=1 << 20)
    assert hashlib.md5(b"".join(body)).hexdigest() == etag and headers["content-length"] == str(len(data))


def test_ranges_single_suffix_multiple_and_unsatisfiable(alice, gateway):
    data = bytes(range(256)) * 40
    alice.put_object("objs", "ranged", data)
    headers, body = alice.get_object("objs", "ranged", headers={"Range": "bytes=10-19"})
    assert body == data[10:20] and headers["content-range"] == f"bytes 10-19/{len(data)}"
    assert alice.get_object("objs", "ranged", headers={"Range": "bytes=-5"})[1] == data[-5:]
    assert alice.get_object("objs", "ranged", headers={"Range": "bytes=10200-"})[1] == data[10200:]
    headers, body = alice.get_object("objs", "ranged", headers={"Range": "bytes=0-1,100-102"})
    assert headers["content-type"].startswith("multipart/byteranges;boundary=")
    boundary = headers["content-type"].split("boundary=")[1].encode()
    parts = body.split(b"--" + boundary)
    assert len(parts) == 4 and parts[-1] == b"--"
    assert parts[1].endswith(b"\r\n\r\n" + data[0:2] + b"\r\n") and b"bytes 0-1/10240" in parts[1]
    assert parts[2].endswith(b"\r\n\r\n" + data[100:103] + b"\r\n")
    assert int(headers["content-length"]) == len(body)
    with pytest.raises(ClientException) as caught:
        alice.get_object("objs", "ranged", headers={"Range": "bytes=99999-"})
    assert caught.value.http_status == 416
    assert caught.value.http_response_headers["content-range"] == f"bytes */{len(data)}"
    # a Range that does not parse is ignored, as in Swift
    assert alice.get_object("objs", "ranged", headers={"Range": "bytes=z-1"})[1] == data


def test_conditional_gets(alice):
    etag = alice.put_object("objs", "cond", b"x")
    head = alice.head_object("objs", "cond")
    for headers, status in (
        ({"If-None-Match": f'"{etag}"'}, 304),
        ({"If-None-Match": "*"}, 304),
        ({"If-Match": '"nope"'}, 412),
        ({"If-Modified-Since": head["last-modified"]}, 304),
        ({"If-Unmodified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}, 412),
    ):
        with pytest.raises(ClientException) as caught:
            alice.get_object("objs", "cond", headers=headers)
        assert caught.value.http_status == status, headers
    assert alice.get_object("objs", "cond", headers={"If-Match": f'"{etag}"'})[1] == b"x"
    assert alice.get_object("objs", "cond", headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})[1] == b"x"


def test_if_none_match_star_refuses_to_overwrite(alice):
    alice.put_object("objs", "once", b"1", headers={"If-None-Match": "*"})
    with pytest.raises(ClientException) as caught:
        alice.put_object("objs", "once", b"2", headers={"If-None-Match": "*"})
    assert caught.value.http_status == 412 and alice.get_object("objs", "once")[1] == b"1"


def test_if_match_replaces_only_the_object_with_that_etag(alice):
    alice.put_object("objs", "cas", b"1")
    with pytest.raises(ClientException) as caught:
        alice.put_object("objs", "cas", b"2", headers={"If-Match": '"' + "0" * 32 + '"'})
    assert caught.value.http_status == 412 and alice.get_object("objs", "cas")[1] == b"1"
    alice.put_object("objs", "cas", b"2", headers={"If-Match": f'"{hashlib.md5(b"1").hexdigest()}"'})
    assert alice.get_object("objs", "cas")[1] == b"2"
    with pytest.raises(ClientException) as caught:  # no object to match: a failed precondition, as RFC 9110 says
        alice.put_object("objs", "cas-absent", b"x", headers={"If-Match": "*"})
    assert caught.value.http_status == 412 and caught.value.http_response_headers["X-Librgw-Error"] == "NoSuchKey"
    with pytest.raises(ClientException):
        alice.head_object("objs", "cas-absent")


def test_post_replaces_metadata_and_keeps_data(alice):
    alice.put_object("objs", "posted", b"data", headers={"X-Object-Meta-A": "1", "X-Object-Meta-B": "2"})
    alice.post_object("objs", "posted", headers={"X-Object-Meta-C": "3", "Content-Type": "text/x-test"})
    headers, body = alice.get_object("objs", "posted")
    assert body == b"data" and headers["content-type"] == "text/x-test"
    assert headers["x-object-meta-c"] == "3" and "x-object-meta-a" not in headers
    with pytest.raises(ClientException) as caught:
        alice.post_object("objs", "never-was", headers={"X-Object-Meta-C": "3"})
    assert caught.value.http_status == 404


def test_copy_with_copy_from_and_with_the_copy_verb(alice, gateway):
    data = os.urandom(5 * 1024 * 1024)
    alice.put_container("copies")
    alice.put_object("objs", "source", data, headers={"X-Object-Meta-Kept": "yes"})
    alice.put_object("copies", "dest", None, headers={"X-Copy-From": "/objs/source", "X-Object-Meta-Added": "1"})
    headers, body = alice.get_object("copies", "dest")
    assert body == data and headers["x-object-meta-kept"] == "yes" and headers["x-object-meta-added"] == "1"
    alice.copy_object("objs", "source", "/copies/dest2")
    assert alice.get_object("copies", "dest2")[1] == data
    alice.delete_object("objs", "source")  # the copies share its tails, which must stay
    assert alice.get_object("copies", "dest")[1] == data and alice.get_object("copies", "dest2")[1] == data
    with pytest.raises(ClientException) as caught:
        alice.put_object("copies", "x", None, headers={"X-Copy-From": "no-slash"})
    assert caught.value.http_status == 412


def test_delete_then_404(alice):
    alice.put_object("objs", "doomed", b"x")
    alice.delete_object("objs", "doomed")
    for call in (alice.get_object, alice.head_object, alice.delete_object):
        with pytest.raises(ClientException) as caught:
            call("objs", "doomed")
        assert caught.value.http_status == 404


def test_limits_are_4xx(alice, gateway):
    url, token = alice.get_auth()
    path = url[len(gateway.url) :]
    auth = {"X-Auth-Token": token}
    assert gateway.raw("PUT", f"{path}/objs/{'n' * 1025}", auth, b"x")[0] == 400
    assert gateway.raw("PUT", f"{path}/{'c' * 257}", auth, b"")[0] == 400
    assert gateway.raw("PUT", f"{path}/objs/m", {**auth, "X-Object-Meta-" + "k" * 129: "v"}, b"x")[0] == 400
    assert gateway.raw("PUT", f"{path}/objs/m", {**auth, "X-Object-Meta-K": "v" * 257}, b"x")[0] == 400
    many = {f"X-Object-Meta-K{i}": "v" for i in range(91)}
    assert gateway.raw("PUT", f"{path}/objs/m", {**auth, **many}, b"x")[0] == 400
    big = {f"X-Object-Meta-K{i}": "v" * 250 for i in range(17)}
    assert gateway.raw("PUT", f"{path}/objs/m", {**auth, **big}, b"x")[0] == 400
    assert gateway.raw("PUT", f"{path}/objs/m", {**auth, "Content-Length": str(6 * 1024**3)}, b"")[0] == 413
    conn_status = gateway.raw("PUT", f"{path}/objs/nolength", {**auth})[0]
    assert conn_status == 411
    assert json.loads(gateway.raw("GET", "/info")[2])["swift"]["max_meta_count"] == 90
