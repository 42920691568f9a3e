"""No request, however malformed, gets a 500 or leaves a partial object visible: bad UTF-8
and NUL in paths, ``..`` segments, huge headers, lying or invalid Content-Length, broken
chunked bodies, clients that hang up mid-upload, bad listing parameters, bad copy sources,
unknown methods and garbage tokens. Requests are sent byte for byte, over raw sockets where
http.client would refuse to send them."""

import http.client
import json
import socket
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

import librgw
from librgw import rados
from librgw.manifest import SHADOW
from librgw.zone import DATA_POOL

pytestmark = pytest.mark.slow

CONTAINER = "junk"


@pytest.fixture(scope="module")
def alice(gateway):
    """(account path, token) of alice, with the container ``junk`` made."""
    conn = gateway.connection()
    conn.put_container(CONTAINER)
    url, token = conn.get_auth()
    return url[len(gateway.url) :], token


def request_bytes(method: str, path: bytes | str, headers: dict, body: bytes = b"") -> bytes:
    """A request as it goes on the wire; the caller says whether it has a Content-Length."""
    path = path.encode("latin-1") if isinstance(path, str) else path
    lines = [method.encode() + b" " + path + b" HTTP/1.1", b"Host: 127.0.0.1"]
    for name, value in headers.items():
        lines.append(name.encode() + b": " + (value.encode("latin-1") if isinstance(value, str) else value))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(gateway, data: bytes, method: str = "PUT") -> tuple[int, bytes]:
    """Send ``data`` on a new connection and read one response: (status, body)."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return response.status, response.read()


def hang_up_after(gateway, data: bytes) -> None:
    """Send ``data`` and close the connection without waiting for an answer."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(data)


def logged(gateway, method: str, path: str) -> list[int]:
    """The statuses the access log gives requests ``method path``, oldest first."""
    return [status for m, p, status in gateway.access_log() if (m, p) == (method, path)]


def logged_status(gateway, method: str, path: str, before: int = 0, timeout: float = 15.0) -> int:
    """The status of the request ``method path`` after the ``before`` ones logged earlier, once it is logged."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = logged(gateway, method, path)
        if len(statuses) > before:
            return statuses[before]
        time.sleep(0.05)
    raise AssertionError(f"{method} {path} was never logged")


def head_status(gateway, alice, name: str) -> int:
    return gateway.raw("HEAD", f"{alice[0]}/{CONTAINER}/{name}", {"X-Auth-Token": alice[1]})[0]


def listed_names(gateway, alice, container: str = CONTAINER) -> list[str]:
    status, _, body = gateway.raw("GET", f"{alice[0]}/{container}?format=json", {"X-Auth-Token": alice[1]})
    assert status == 200
    return [item["name"] for item in json.loads(body)]


def is_client_error(status: int) -> bool:
    return 400 <= status < 500


@pytest.mark.parametrize("bad", ["%FF", "%C3%28", "%00", "a%00b"])
def test_bad_utf8_or_nul_in_any_path_segment_is_412(gateway, alice, bad):
    account, token = alice
    for path in (f"{account}{bad}/{CONTAINER}/o", f"{account}/{CONTAINER}{bad}/o", f"{account}/{CONTAINER}/o{bad}"):
        for method, body in (("GET", None), ("HEAD", None), ("PUT", b"x"), ("POST", b""), ("DELETE", None)):
            assert gateway.raw(method, path, {"X-Auth-Token": token}, body)[0] == 412, (method, path)
    assert gateway.raw("GET", f"{account}/{CONTAINER}{bad}", {"X-Auth-Token": token})[0] == 412


@pytest.mark.parametrize("raw", [b"\xff", b"\xc3\x28", b"\x00", b"\x80abc"])
def test_raw_non_utf8_or_nul_bytes_in_the_path_are_4xx(gateway, alice, raw):
    account, token = alice
    for path in (
        account.encode() + raw,
        f"{account}/{CONTAINER}".encode() + raw,
        f"{account}/{CONTAINER}/o".encode() + raw,
    ):
        for method in ("GET", "PUT"):
            headers = {"X-Auth-Token": token, "Content-Length": "1"}
            status, _ = exchange(gateway, request_bytes(method, path + b"/x", headers, b"x"), method)
            assert is_client_error(status), (method, path, status)


DOT_NAMES = ["..", ".", "../x", "./x", "a/../b", "a/./b", "a/..", "...", "../../../../../../../../../../tmp/{escape}"]


def test_dot_segments_in_object_names_are_literal_keys(gateway, alice):
    account, token = alice
    escape = f"librgw-escape-{uuid.uuid4().hex}"
    stored = {}
    for template in DOT_NAMES:
        name = template.format(escape=escape)
        status = gateway.raw("PUT", f"{account}/{CONTAINER}/{name}", {"X-Auth-Token": token}, name.encode())[0]
        assert status == 201 or is_client_error(status), (name, status)
        if status == 201:
            stored[name] = name.encode()
    assert stored, "every dot name was refused"
    for name, data in stored.items():
        status, _, body = gateway.raw("GET", f"{account}/{CONTAINER}/{name}", {"X-Auth-Token": token})
        assert (status, body) == (200, data), name
        encoded = name.replace(".", "%2E").replace("/", "%2F")  # the same key, spelled another way
        assert gateway.raw("GET", f"{account}/{CONTAINER}/{encoded}", {"X-Auth-Token": token})[2] == data
    assert set(stored) <= set(listed_names(gateway, alice))
    # nothing was written outside the cluster: not where the name points, nor beside the cluster
    assert not Path("/tmp", escape).exists()
    if not gateway.conf.startswith(rados.CEPH_PREFIX):  # an embedded cluster's files: nothing beside them
        assert sorted(p.name for p in Path(gateway.conf).parents[1].iterdir()) == ["cluster", "gunicorn.log"]


def test_control_characters_in_a_name_are_kept_and_cannot_forge_log_lines(gateway, alice):
    account, token = alice
    forged = '127.0.0.1 - - [01/Jan/2000:00:00:00 +0000] "GET /forged HTTP/1.1" 500 0 0.000 tx0'
    name = f"line\n{forged}\r\x1b[31m\x7f"
    path = f"{account}/{CONTAINER}/{quote(name)}"
    assert gateway.raw("PUT", path, {"X-Auth-Token": token}, b"ctl")[0] == 201
    assert gateway.raw("GET", path, {"X-Auth-Token": token})[2] == b"ctl"
    assert name in listed_names(gateway, alice)
    assert logged_status(gateway, "GET", f"{account}/{CONTAINER}/line%0A{forged}%0D%1B[31m%7F") == 200
    assert not [line for line in gateway.log.read_text(errors="replace").splitlines() if line.startswith(forged[:30])]


@pytest.mark.parametrize("name", ["..", ".", "%2E%2E", "%2e"])
def test_a_container_named_dot_or_dot_dot_is_400(gateway, alice, name):
    account, token = alice
    for method in ("PUT", "GET", "HEAD", "POST", "DELETE"):
        assert gateway.raw(method, f"{account}/{name}", {"X-Auth-Token": token}, b"")[0] == 400, method
        assert gateway.raw(method, f"{account}/{name}/o", {"X-Auth-Token": token}, b"")[0] == 400, method
    assert gateway.raw("GET", f"{account}/{name}/../{CONTAINER}/o", {"X-Auth-Token": token})[0] == 400


def test_huge_headers_and_request_lines_are_4xx(gateway, alice):
    account, token = alice
    path = f"{account}/{CONTAINER}/o"
    assert is_client_error(gateway.raw("GET", path, {"X-Auth-Token": token, "X-Big": "b" * 20_000})[0])
    many = {f"X-Header-{i}": "v" for i in range(200)}
    assert is_client_error(gateway.raw("GET", path, {"X-Auth-Token": token, **many})[0])
    assert is_client_error(gateway.raw("GET", path + "x" * 10_000, {"X-Auth-Token": token})[0])
    assert is_client_error(gateway.raw("PUT", path, {"X-Auth-Token": token, "X-Object-Meta-Big": "m" * 20_000}, b"")[0])


def test_hanging_up_before_the_announced_length_leaves_no_object(gateway, alice):
    account, token = alice
    assert gateway.raw("PUT", f"{account}/{CONTAINER}/lying-kept", {"X-Auth-Token": token}, b"old")[0] == 201
    for name in ("lying-new", "lying-kept"):
        path, before = f"{account}/{CONTAINER}/{name}", len(logged(gateway, "PUT", f"{account}/{CONTAINER}/{name}"))
        headers = {"X-Auth-Token": token, "Content-Length": "1000000"}
        hang_up_after(gateway, request_bytes("PUT", path, headers, b"n" * 1000))
        assert is_client_error(logged_status(gateway, "PUT", path, before))
    assert head_status(gateway, alice, "lying-new") == 404
    assert "lying-new" not in listed_names(gateway, alice)
    assert gateway.raw("GET", f"{account}/{CONTAINER}/lying-kept", {"X-Auth-Token": token})[2] == b"old"


def test_a_body_longer_than_its_content_length_is_cut_at_it(gateway, alice):
    account, token = alice
    data = request_bytes(
        "PUT", f"{account}/{CONTAINER}/short", {"X-Auth-Token": token, "Content-Length": "10"}, b"0123456789EXTRA"
    )
    status, _ = exchange(gateway, data)
    if status == 201:
        assert gateway.raw("GET", f"{account}/{CONTAINER}/short", {"X-Auth-Token": token})[2] == b"0123456789"
    else:
        assert is_client_error(status) and head_status(gateway, alice, "short") == 404


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1e3", b"0x10", b"", b"+5", b"\xb2", b"5, 6"])
def test_an_invalid_content_length_is_400(gateway, alice, length):
    account, token = alice
    path = f"{account}/{CONTAINER}/badlength"
    status, _ = exchange(
        gateway, request_bytes("PUT", path, {"X-Auth-Token": token, "Content-Length": length}, b"12345")
    )
    assert status == 400
    assert head_status(gateway, alice, "badlength") == 404


def test_conflicting_or_impossible_lengths_are_4xx(gateway, alice):
    account, token = alice
    path = f"{account}/{CONTAINER}/conflict"
    twice = request_bytes("PUT", path, {"X-Auth-Token": token, "Content-Length": "5"}, b"")[:-2]
    twice += b"Content-Length: 6\r\n\r\n12345"
    assert exchange(gateway, twice)[0] == 400
    both = {"X-Auth-Token": token, "Content-Length": "5", "Transfer-Encoding": "chunked"}
    assert exchange(gateway, request_bytes("PUT", path, both, b"5\r\n12345\r\n0\r\n\r\n"))[0] == 400
    huge = {"X-Auth-Token": token, "Content-Length": "9" * 30}
    assert exchange(gateway, request_bytes("PUT", path, huge, b"12345"))[0] == 413
    assert head_status(gateway, alice, "conflict") == 404


def test_a_chunked_upload_cut_mid_chunk_leaves_no_object(gateway, alice):
    account, token = alice
    headers = {"X-Auth-Token": token, "Transfer-Encoding": "chunked"}
    body = b"400\r\n" + b"c" * 1024 + b"\r\n" + b"100000\r\n" + b"c" * 1000  # announces 1 MiB, sends 1000
    hang_up_after(gateway, request_bytes("PUT", f"{account}/{CONTAINER}/chunk-cut", headers, body))
    assert is_client_error(logged_status(gateway, "PUT", f"{account}/{CONTAINER}/chunk-cut"))
    assert head_status(gateway, alice, "chunk-cut") == 404
    assert "chunk-cut" not in listed_names(gateway, alice)


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",  # not hex
        b"5\r\nhello\r\nzz\r\n\r\n",  # a good chunk, then a bad size
        b"5\r\nhelloXX0\r\n\r\n",  # no CRLF after the chunk
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"5;\x00=x\r\nhello\r\n0\r\n\r\n",  # a broken chunk extension
        b"5\r\nhello\r\n0\r\n",  # the last chunk, then the connection ends without its CRLF
    ],
)
def test_a_broken_chunked_body_is_4xx_and_leaves_no_object(gateway, alice, body):
    account, token = alice
    name = f"chunk-bad-{uuid.uuid4().hex[:8]}"
    headers = {"X-Auth-Token": token, "Transfer-Encoding": "chunked"}
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(request_bytes("PUT", f"{account}/{CONTAINER}/{name}", headers, body))
        sock.shutdown(socket.SHUT_WR)  # the client sends nothing more
        response = http.client.HTTPResponse(sock, method="PUT")
        response.begin()
        assert is_client_error(response.status), response.read()
    assert head_status(gateway, alice, name) == 404


def send_then_stop(gateway, method: str, path: str, headers: dict, body: bytes) -> int:
    """The status of ``method path`` sent with ``body`` byte for byte, the client sending nothing more."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
        sock.sendall(request_bytes(method, path, headers, body))
        sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return response.status


def documents(gateway, alice) -> list:
    """What a container's document-reading requests could change: its policy, ACL and objects."""
    account, token = alice
    answers = [
        gateway.raw("GET", f"{account}/{CONTAINER}?{name}", {"X-Auth-Token": token}) for name in ("policy", "acl")
    ]
    return [(status, body) for status, _, body in answers] + [sorted(listed_names(gateway, alice))]


@pytest.mark.parametrize(
    "body",
    [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n", b"400\r\n{", b"2\r\n{}\r\n"],
    ids=["bad-size", "no-terminator", "cut-mid-chunk", "no-last-chunk"],
)
@pytest.mark.parametrize(
    ("method", "where"),
    [("PUT", "/junk?policy"), ("PUT", "/junk?acl"), ("POST", "?bulk-delete"), ("DELETE", "?bulk-delete")],
)
def test_a_broken_chunked_document_is_4xx_and_changes_nothing(gateway, alice, method, where, body):
    account, token = alice
    assert gateway.raw("PUT", f"{account}/{CONTAINER}/doc-kept", {"X-Auth-Token": token}, b"kept")[0] == 201
    before = documents(gateway, alice)
    headers = {"X-Auth-Token": token, "Transfer-Encoding": "chunked", "Content-Type": "text/plain"}
    status = send_then_stop(gateway, method, account + where, headers, body)
    assert status in (400, 499), status  # a broken body, or one that ended early (Swift's 499)
    assert documents(gateway, alice) == before


@pytest.mark.parametrize("digits", [4000, 5000])
def test_a_range_of_thousands_of_digits_is_clipped_or_416(gateway, alice, digits):
    account, token = alice
    path = f"{account}/{CONTAINER}/ranged"
    assert gateway.raw("PUT", path, {"X-Auth-Token": token}, b"0123456789")[0] == 201
    huge = "9" * digits
    status, headers, body = gateway.raw("GET", path, {"X-Auth-Token": token, "Range": f"bytes=4-{huge}"})
    assert (status, headers["Content-Range"], body) == (206, "bytes 4-9/10", b"456789")
    status, headers, _ = gateway.raw("GET", path, {"X-Auth-Token": token, "Range": f"bytes={huge}-"})
    assert (status, headers["Content-Range"]) == (416, "bytes */10")
    assert gateway.raw("GET", path, {"X-Auth-Token": token})[2] == b"0123456789"


def test_hanging_up_after_tails_were_written_leaves_no_object_and_no_tails(gateway, alice):
    account, token = alice
    with librgw.connect(gateway.conf) as rgw:
        marker = rgw.buckets.get(CONTAINER).marker
        with rgw.client.open_ioctx(DATA_POOL) as data:
            before = {o.key for o in data.list_objects()}
            headers = {"X-Auth-Token": token, "Content-Length": str(20 * 1024 * 1024)}
            path = f"{account}/{CONTAINER}/cut-after-tails"
            with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as sock:
                # 4 MiB go to the head, the next 4 MiB to a first tail object, written at once
                sock.sendall(request_bytes("PUT", path, headers, b"t" * (9 * 1024 * 1024)))
                deadline = time.monotonic() + 15
                while not (tails := {o.key for o in data.list_objects()} - before) and time.monotonic() < deadline:
                    time.sleep(0.05)
            assert tails and all(t.startswith(marker + SHADOW) for t in tails), "no tail was written"
            assert is_client_error(logged_status(gateway, "PUT", path))
            assert {o.key for o in data.list_objects()} == before  # the tails went at once
        queued = {oid for entry in rgw.objects.gc.list(include_all=True) for oid in entry.oids}
        assert not tails & queued  # removed, not left to the GC
    assert head_status(gateway, alice, "cut-after-tails") == 404
    assert "cut-after-tails" not in listed_names(gateway, alice)


@pytest.mark.parametrize("where", ["account", "container"])
def test_bad_listing_parameters_are_4xx(gateway, alice, where):
    account, token = alice
    path = account if where == "account" else f"{account}/{CONTAINER}"
    for query, expected in (
        ("format=%FF", 400),
        ("limit=10001", 412),
        ("limit=99999999999999999999999999", 412),
        ("marker=%FF", 400),
        ("prefix=%C3%28", 400),
    ):
        status = gateway.raw("GET", f"{path}?{query}", {"X-Auth-Token": token})[0]
        assert status == expected, (query, status)
    # what Swift takes (listing_formats.py: an unknown format is plain; request_helpers.py
    # constrain_req_limit: a limit that is not all digits is ignored; any delimiter), a listing
    for query in ("format=bogus", "limit=abc", "limit=-1", "limit=", "limit=%C2%B2", "limit=%D9%A3", "limit=1%00"):
        status = gateway.raw("GET", f"{path}?{query}", {"X-Auth-Token": token})[0]
        assert status in (200, 204), (query, status)
    assert gateway.raw("GET", f"{path}?delimiter=ab", {"X-Auth-Token": token})[0] in (200, 204)
    status = gateway.raw("GET", path, {"X-Auth-Token": token, "Accept": "\xff/;;q=x,,*"})[0]
    assert status in (200, 204) or is_client_error(status)


# <container>/<object> header values (X-Copy-From, Destination) naming no object that could exist
BAD_OBJECT_PATHS = [
    ("%FF%FE/x", 412),  # not UTF-8
    (f"/{CONTAINER}", 412),  # no object
    ("//", 412),
    ("", 412),
    (f"/{CONTAINER}/%00", 412),  # NUL, as in a path
    (f"/{CONTAINER}/a%00b", 412),
    ("/no-such-container/copy-src", 404),
    ("/../copy-src", 404),  # a container named .., which no container is
    ("/" + "c" * 300 + "/x", 404),  # too long a name for any container
    (f"/{CONTAINER}/" + "x" * 1100, 400),  # too long an object name
]


def test_bad_copy_sources_and_destinations_are_4xx(gateway, alice):
    account, token = alice
    assert gateway.raw("PUT", f"{account}/{CONTAINER}/copy-src", {"X-Auth-Token": token}, b"src")[0] == 201
    for value, expected in [*BAD_OBJECT_PATHS, (f"/{CONTAINER}/missing", 404)]:
        headers = {"X-Auth-Token": token, "X-Copy-From": value}
        assert gateway.raw("PUT", f"{account}/{CONTAINER}/copy-dst", headers, b"")[0] == expected, value
    for value, expected in BAD_OBJECT_PATHS:
        headers = {"X-Auth-Token": token, "Destination": value}
        assert gateway.raw("COPY", f"{account}/{CONTAINER}/copy-src", headers)[0] == expected, value
    assert head_status(gateway, alice, "copy-dst") == 404
    assert [name for name in listed_names(gateway, alice) if "\x00" in name] == []


def test_unknown_methods_are_405(gateway, alice):
    account, token = alice
    for path in (account, f"{account}/{CONTAINER}", f"{account}/{CONTAINER}/o"):
        for method in ("BREW", "PATCH", "PROPFIND"):
            assert gateway.raw(method, path, {"X-Auth-Token": token})[0] == 405, (method, path)
    assert is_client_error(exchange(gateway, request_bytes("brew", account, {"X-Auth-Token": token}), "brew")[0])


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "AUTH_tk",
        "AUTH_tk" + "0" * 32,
        "AUTH_tk" + "f" * 8000,
        "x" * 8000,
        "AUTH_tk../../../../etc/passwd",
        "AUTH_tk/",
        "AUTH_tk\xe9\xff\xfe",
        "\xe9t\xe9",
        "AUTH_tk%00",
    ],
)
def test_garbage_tokens_are_401(gateway, alice, token):
    account, _ = alice
    for header in ("X-Auth-Token", "X-Storage-Token"):
        for path in (account, f"{account}/{CONTAINER}", f"{account}/{CONTAINER}/o"):
            assert gateway.raw("GET", path, {header: token})[0] == 401, (header, path)
        assert gateway.raw("PUT", f"{account}/{CONTAINER}/o", {header: token}, b"x")[0] == 401


def test_garbage_credentials_are_401(gateway):
    for user, key in (("\xff:\xfe", "\xe9"), (":", "k"), ("alice:", "k"), (":swift", "k"), ("a" * 5000 + ":s", "k")):
        assert gateway.raw("GET", "/auth/v1.0", {"X-Auth-User": user, "X-Auth-Key": key})[0] == 401, user
        assert gateway.raw("GET", "/auth/v1.0", {"X-Auth-User": user})[0] == 401, user


def test_afterwards_the_log_is_clean_and_the_gateway_still_serves(gateway, alice):
    conn = gateway.connection()
    conn.put_object(CONTAINER, "after", b"still fine")
    assert conn.get_object(CONTAINER, "after")[1] == b"still fine"
    logged_status(gateway, "GET", f"{alice[0]}/{CONTAINER}/after")
    log = gateway.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-5000:]
    assert [line for line in gateway.access_log() if line[2] >= 500] == []
