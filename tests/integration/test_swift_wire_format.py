"""The headers OpenStack Swift's proxy sends on objects, containers and accounts, through a real
gateway. Each test names the Swift source or documentation it follows:

- ETags: the proxy strips the quotes from every backend ``ETag`` (``update_headers`` in
  ``swift/proxy/controllers/base.py``), so PUT, COPY, GET, HEAD, 304 and 412 all send the bare
  MD5 (the API reference's "Create or replace object" example: ``Etag:
  d41d8cd98f00b204e9800998ecf8427e``); a large object's ETag is no MD5 and is sent quoted
  (``swift/common/middleware/slo.py``: ``'Etag': '"%s"' % slo_etag``). S3 quotes them all.
- ``swift/common/middleware/catch_errors.py``: ``X-Trans-Id`` and ``X-Openstack-Request-Id``,
  the same id, on every response.
- ``swift/account/utils.py`` ``get_response_headers`` and ``swift/container/server.py``
  ``gen_resp_headers``: ``X-Timestamp`` (``Timestamp.normal``, five decimals; their
  ``X-Put-Timestamp`` does not come through the proxy, as the parity test sees); the proxy's object PUT answer (``Last-Modified``, ``Etag``,
  ``Content-Type: text/html; charset=UTF-8``, ``Content-Length: 0``).
- ``swift/common/utils/timestamp.py``: a listing's ``last_modified`` is ``Timestamp.isoformat``
  of the same time, and ``Last-Modified`` is ``Timestamp.ceil()`` of it (object server GET/HEAD
  and container server GET/HEAD: ``resp.last_modified = ...ceil()``).
"""

import hashlib
import json
import math
import re
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime

import pytest

pytestmark = pytest.mark.slow

BODY = b"swift wire format"
MD5 = hashlib.md5(BODY).hexdigest()
NORMAL = re.compile(r"\d{10}\.\d{5}")


@pytest.fixture(scope="module")
def alice(gateway):
    url, token = gateway.login("alice:swift", "alice-key")
    base = url[len(gateway.url) :]

    def call(method: str, path: str = "", headers: dict | None = None, body: bytes | None = None):
        return gateway.raw(method, base + path, {"X-Auth-Token": token, **(headers or {})}, body)

    assert call("PUT", "/wire")[0] == 201
    return call


def test_object_etags_are_unquoted_everywhere_swift_sends_them(alice):
    status, headers, body = alice("PUT", "/wire/obj", {"Content-Type": "text/plain"}, BODY)
    assert status == 201 and headers["ETag"] == MD5
    assert alice("HEAD", "/wire/obj")[1]["ETag"] == MD5
    assert alice("GET", "/wire/obj")[1]["ETag"] == MD5
    assert alice("GET", "/wire/obj", {"Range": "bytes=0-4"})[1]["ETag"] == MD5
    status, headers, _ = alice("COPY", "/wire/obj", {"Destination": "/wire/copy"})
    assert status == 201 and headers["ETag"] == MD5
    status, headers, _ = alice("PUT", "/wire/copy2", {"X-Copy-From": "/wire/obj", "Content-Length": "0"})
    assert status == 201 and headers["ETag"] == MD5
    status, headers, _ = alice("GET", "/wire/obj", {"If-None-Match": MD5})
    assert status == 304 and headers["ETag"] == MD5
    status, headers, _ = alice("GET", "/wire/obj", {"If-Match": "0" * 32})
    assert status == 412 and headers["ETag"] == MD5
    assert alice("GET", "/wire/obj", {"If-Match": f'"{MD5}"'})[0] == 200  # quoted or not, it matches
    listing = json.loads(alice("GET", "/wire?format=json&prefix=obj")[2])
    assert listing[0]["hash"] == MD5
    # a PUT's own ETag check takes it bare or quoted
    assert alice("PUT", "/wire/checked", {"ETag": MD5}, BODY)[0] == 201
    assert alice("PUT", "/wire/checked", {"ETag": f'"{MD5}"'}, BODY)[0] == 201


def test_a_multipart_objects_etag_is_quoted_as_swift_quotes_a_large_objects(alice):
    status, _, body = alice("POST", "/wire/big?uploads")
    upload_id = json.loads(body)["upload_id"]
    part = alice("PUT", f"/wire/big?upload-id={upload_id}&part-number=1", body=BODY)[1]["ETag"].strip('"')
    doc = json.dumps([{"part_number": 1, "etag": part}]).encode()
    status, headers, body = alice("POST", f"/wire/big?upload-id={upload_id}", body=doc)
    etag = json.loads(body)["etag"]
    assert status == 201 and etag.endswith("-1") and headers["ETag"] == f'"{etag}"'
    assert alice("HEAD", "/wire/big")[1]["ETag"] == f'"{etag}"'
    assert json.loads(alice("GET", "/wire?format=json&prefix=big")[2])[0]["hash"] == etag  # listings: bare


def test_s3_keeps_quoting_etags(gateway, alice):
    s3 = gateway.s3("alice")
    answer = s3.put_object(Bucket="wire", Key="s3obj", Body=BODY)
    assert answer["ETag"] == f'"{MD5}"'
    assert s3.head_object(Bucket="wire", Key="s3obj")["ETag"] == f'"{MD5}"'
    assert s3.get_object(Bucket="wire", Key="s3obj")["ETag"] == f'"{MD5}"'
    copied = s3.copy_object(Bucket="wire", Key="s3copy", CopySource={"Bucket": "wire", "Key": "s3obj"})
    assert copied["CopyObjectResult"]["ETag"] == f'"{MD5}"'
    listed = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket="wire")["Contents"]}
    assert listed["s3obj"] == f'"{MD5}"'


def test_every_response_carries_the_request_id_twice(gateway, alice):
    answers = [
        alice("HEAD"),
        alice("GET", "/wire"),
        alice("PUT", "/wire/id", body=b"x"),
        alice("GET", "/wire/missing"),
        gateway.raw("GET", "/v1/AUTH_alice/wire"),  # 401
        gateway.raw("GET", "/info"),
    ]
    for status, headers, _ in answers:
        assert headers["X-Openstack-Request-Id"] == headers["X-Trans-Id"], status
        assert re.fullmatch(r"tx[0-9a-f]{21}-[0-9a-f]{10}", headers["X-Trans-Id"])
    assert len({headers["X-Trans-Id"] for _, headers, _ in answers}) == len(answers)


def test_a_put_answers_as_swifts_proxy_does(alice):
    # the proxy answers a write with best_response: swob.Response with its default text/html type, no body
    status, headers, body = alice("PUT", "/wire-made")
    assert status == 201 and body == b"" and headers["Content-Length"] == "0"
    assert headers["Content-Type"] == "text/html; charset=UTF-8"
    status, headers, body = alice("PUT", "/wire/answer", body=BODY)
    assert status == 201 and body == b""
    assert headers["Content-Type"] == "text/html; charset=UTF-8" and headers["Content-Length"] == "0"
    # ETag and Last-Modified, no X-Timestamp (Swift 2.38's proxy, as tests/integration/test_swift_parity.py sees it)
    assert headers["ETag"] == MD5 and "X-Timestamp" not in headers
    assert headers["Last-Modified"] == alice("HEAD", "/wire/answer")[1]["Last-Modified"]
    status, headers, body = alice("COPY", "/wire/answer", {"Destination": "/wire/answer2"})
    assert status == 201 and headers["Content-Type"] == "text/html; charset=UTF-8" and headers["Content-Length"] == "0"
    status, headers, body = alice("POST", "/wire/answer2", {"X-Object-Meta-A": "b"})
    assert status == 202 and headers["Content-Type"] == "text/html; charset=UTF-8"
    assert body == b"<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>"  # swob's 202
    status, headers, body = alice("DELETE", "/wire/answer2")
    assert status == 204 and headers["Content-Type"] == "text/html; charset=UTF-8" and body == b""


def test_head_sends_content_length_and_type(alice):
    alice("PUT", "/wire/sized", {"Content-Type": "image/png"}, BODY)
    alice("PUT", "/wire/nothing", {"Content-Type": "text/plain"}, b"")
    status, headers, body = alice("HEAD", "/wire/sized")
    assert status == 200 and headers["Content-Length"] == str(len(BODY)) and body == b""
    assert headers["Content-Type"] == "image/png"
    status, headers, _ = alice("HEAD", "/wire/nothing")
    assert status == 200 and headers["Content-Length"] == "0" and headers["Content-Type"] == "text/plain"
    status, headers, _ = alice("HEAD", "/wire/sized", {"Range": "bytes=2-5"})
    assert status == 206 and headers["Content-Length"] == "4"
    # containers and accounts: 204 with the listing's Content-Type (listing_formats.py); gunicorn
    # leaves out Swift's Content-Length: 0 on a 204, as RFC 9110 section 8.6 has a server do
    for path in ("/wire", ""):
        status, headers, body = alice("HEAD", path)
        assert status == 204 and headers["Content-Type"] == "text/plain; charset=utf-8" and body == b""


def test_containers_and_accounts_send_x_timestamp(alice):
    # the container and account servers send X-Put-Timestamp too, but Swift 2.38's proxy does not pass it on
    status, headers, _ = alice("HEAD", "/wire")
    assert NORMAL.fullmatch(headers["X-Timestamp"]) and "X-Put-Timestamp" not in headers
    assert headers["Last-Modified"] == formatdate(math.ceil(float(headers["X-Timestamp"])), usegmt=True)
    assert alice("GET", "/wire")[1]["Last-Modified"] == headers["Last-Modified"]
    status, account, _ = alice("HEAD")
    assert NORMAL.fullmatch(account["X-Timestamp"]) and "X-Put-Timestamp" not in account
    assert float(account["X-Timestamp"]) <= float(headers["X-Timestamp"])  # made with its first container
    policy = headers["X-Storage-Policy"].title()
    assert account[f"X-Account-Storage-Policy-{policy}-Container-Count"] == account["X-Account-Container-Count"]
    assert account[f"X-Account-Storage-Policy-{policy}-Object-Count"] == account["X-Account-Object-Count"]
    assert account[f"X-Account-Storage-Policy-{policy}-Bytes-Used"] == account["X-Account-Bytes-Used"]


def test_last_modified_agrees_between_put_head_get_and_the_listing(alice):
    for n in range(5):
        put = alice("PUT", f"/wire/time{n}", body=BODY)[1]
        head = alice("HEAD", f"/wire/time{n}")[1]
        get = alice("GET", f"/wire/time{n}")[1]
        (entry,) = json.loads(alice("GET", f"/wire?format=json&prefix=time{n}")[2])
        timestamp = head["X-Timestamp"]
        assert get["X-Timestamp"] == timestamp
        assert head["Last-Modified"] == get["Last-Modified"] == put["Last-Modified"]
        # Timestamp.isoformat: the same five-decimal time, in microseconds
        seconds, fraction = timestamp.split(".")
        listed = datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction}0"
        assert entry["last_modified"] == listed
        # Timestamp.ceil(): Last-Modified is that time rounded up to the second
        assert parsedate_to_datetime(head["Last-Modified"]).timestamp() == math.ceil(float(timestamp))
        assert alice("GET", f"/wire/time{n}", {"If-Modified-Since": head["Last-Modified"]})[0] == 304
