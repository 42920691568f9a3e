"""Static web sites (``staticweb``) on their own host names (``domain_remap``), and ``/info``'s
admin part, over a real gunicorn gateway: ``paste.ini``'s pipeline with a storage domain for
each of ``domain_remap`` (``example.com``) and ``s3`` (``s3.test``) and an ``admin_key``; the site
is set up with python-swiftclient and read anonymously with curl, as a browser would."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.integration.conftest import ROOT, Gateway, make_cluster, start_gateway, stop_gateway

pytestmark = pytest.mark.slow

ADMIN_KEY = "info-admin-secret"
SITE_HOST = "site.auth-alice.example.com"


@pytest.fixture(scope="module")
def backend() -> str:
    return "embedded"  # host names and /info are the protocol's, the same on every backend


@pytest.fixture(scope="module")
def gateway(request, backend: str, tmp_path_factory) -> Iterator[Gateway]:
    base = tmp_path_factory.mktemp("static-sites")
    ini = (ROOT / "paste.ini").read_text()
    ini = ini.replace(
        "use = egg:librgw#domain_remap\n", "use = egg:librgw#domain_remap\nstorage_domain = example.com\n"
    )
    ini = ini.replace("use = egg:librgw#s3\n", "use = egg:librgw#s3\nstorage_domain = s3.test\n")
    ini = ini.replace("use = egg:librgw#gateway\n", f"use = egg:librgw#gateway\nadmin_key = {ADMIN_KEY}\n")
    (base / "paste.ini").write_text(ini)
    command = ["gunicorn", "--paste", str(base / "paste.ini"), "--workers", "1", "--threads", "4"]
    gateway = start_gateway(make_cluster(request, backend, base), base / "gunicorn.log", command=command)
    yield gateway
    stop_gateway(gateway)


@pytest.fixture(scope="module")
def site(gateway):
    """AUTH_alice/site: public, with an index, listings, an error page and a few documents."""
    conn = gateway.connection()
    conn.put_container(
        "site",
        {
            "X-Container-Read": ".r:*,.rlistings",
            "X-Container-Meta-Web-Index": "index.html",
            "X-Container-Meta-Web-Listings": "true",
            "X-Container-Meta-Web-Error": "error.html",
        },
    )
    for name, body in (("index.html", b"<p>home</p>"), ("404error.html", b"<p>lost</p>"), ("docs/a.txt", b"a")):
        conn.put_object("site", name, body, content_type="text/html")
    return gateway


def curl(url: str, *headers: str) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-cased names, body) of an anonymous ``curl`` GET."""
    command = ["curl", "-sS", "-D", "-", "-o", "-", url]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(command, capture_output=True, timeout=60, check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in fields.items()}, body


def test_a_public_container_is_a_web_site(site):
    status, headers, _ = curl(f"{site.url}/v1/AUTH_alice/site")
    assert (status, headers["location"]) == (301, f"{site.url}/v1/AUTH_alice/site/")
    assert curl(f"{site.url}/v1/AUTH_alice/site/")[::2] == (200, b"<p>home</p>")
    status, headers, body = curl(f"{site.url}/v1/AUTH_alice/site/docs/")
    assert status == 200 and headers["content-type"] == "text/html; charset=UTF-8"
    assert b'<a href="./a%2Etxt">a.txt</a>' in body
    assert curl(f"{site.url}/v1/AUTH_alice/site/nowhere")[::2] == (404, b"<p>lost</p>")
    # its owner sees the Swift API, and the site with X-Web-Mode
    _, token = site.login("alice:swift", "alice-key")
    assert curl(f"{site.url}/v1/AUTH_alice/site/", f"X-Auth-Token: {token}")[2].startswith(b"404error.html\n")
    assert curl(f"{site.url}/v1/AUTH_alice/site/", f"X-Auth-Token: {token}", "X-Web-Mode: true")[2] == b"<p>home</p>"


def test_a_site_on_its_own_host_name(site):
    assert curl(f"{site.url}/", f"Host: {SITE_HOST}")[::2] == (200, b"<p>home</p>")
    status, headers, _ = curl(f"{site.url}/docs", f"Host: {SITE_HOST}")
    assert (status, headers["location"]) == (301, f"http://{SITE_HOST}/docs/")  # the host's path, not /v1/...
    assert b"Listing of /docs/" not in curl(f"{site.url}/docs/", f"Host: {SITE_HOST}")[2]
    assert curl(f"{site.url}/site/index.html", "Host: AUTH-alice.example.com")[::2] == (200, b"<p>home</p>")
    assert curl(f"{site.url}/", "Host: a.site.auth-alice.example.com")[::2] == (400, b"Bad domain in host header")


def test_s3_keeps_its_own_virtual_hosts(site):
    """A host under the s3 filter's storage domain is a bucket's, never remapped to Swift's path."""
    status, headers, body = curl(f"{site.url}/index.html", "Host: site.s3.test")  # public: S3 reads it too
    assert (status, body) == (200, b"<p>home</p>") and "x-amz-request-id" in headers
    status, headers, body = curl(f"{site.url}/docs/", "Host: site.s3.test")  # a key to S3, not a listing
    assert status == 404 and headers["content-type"].startswith("application/xml")
    assert b"<Code>NoSuchKey</Code>" in body


def signed_info(url: str, expires: int, key: str = ADMIN_KEY) -> str:
    sig = hmac.new(key.encode(), f"GET\n{expires}\n/info".encode(), hashlib.sha1).hexdigest()
    return f"{url}/info?swiftinfo_sig={sig}&swiftinfo_expires={expires}"


def test_info_lists_the_filters_and_its_admin_part_needs_the_key(site):
    status, _, body = curl(f"{site.url}/info")
    public = json.loads(body)
    assert status == 200 and "admin" not in public
    assert public["staticweb"] == {} and public["domain_remap"] == {"default_reseller_prefix": None}
    status, headers, body = curl(signed_info(site.url, int(time.time()) + 60))
    assert status == 200 and headers["content-type"] == "application/json; charset=UTF-8"
    assert json.loads(body)["admin"] == {
        "disallowed_sections": ["swift.auto_create_account_prefix", "swift.valid_api_versions"]
    }
    assert curl(signed_info(site.url, int(time.time()) - 1))[0] == 401  # expired
    assert curl(signed_info(site.url, int(time.time()) + 60, "guess"))[0] == 401
