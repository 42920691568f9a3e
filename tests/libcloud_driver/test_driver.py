"""The driver's pure parts, without a gateway: provider registration, how streams are cut
into multipart chunks, S3's multipart ETag, and the date formats objects carry."""

import datetime
import hashlib
import io

from libcloud.storage.providers import get_driver

import libcloud_driver
from libcloud_driver.driver import LibrgwStorageDriver, fill_chunks, http_date, listing_date, multipart_etag
from libcloud_driver.http_transport import HTTPTransport


def test_importing_the_package_registers_the_provider():
    assert get_driver(libcloud_driver.PROVIDER) is LibrgwStorageDriver
    assert get_driver("librgw") is LibrgwStorageDriver


def test_the_constructor_takes_libclouds_arguments():
    driver = LibrgwStorageDriver("key", "secret", host="10.0.0.1", port=8080, secure=False)
    assert isinstance(driver.transport, HTTPTransport)
    assert driver.transport.client.meta.endpoint_url == "http://10.0.0.1:8080"
    assert LibrgwStorageDriver("key", "secret", host="gw.example").transport.client.meta.endpoint_url == (
        "https://gw.example:443"
    )


def test_fill_chunks_cuts_iterators_of_any_piece_size_into_full_chunks():
    pieces = [b"a", b"bcdefg", b"", b"hij", b"klmnopqrstu"]
    assert list(fill_chunks(iter(pieces), 5)) == [b"abcde", b"fghij", b"klmno", b"pqrst", b"u"]


def test_fill_chunks_reads_files_and_ends_with_the_rest():
    assert list(fill_chunks(io.BytesIO(b"0123456789"), 5)) == [b"01234", b"56789", b""]
    assert list(fill_chunks(io.BytesIO(b""), 5)) == [b""]
    assert list(fill_chunks(iter([]), 5)) == [b""]


def test_multipart_etag_is_the_md5_of_the_parts_md5s_and_their_count():
    parts = [b"x" * 10, b"y"]
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    assert multipart_etag([hashlib.md5(p).digest() for p in parts]) == hashlib.md5(digests).hexdigest() + "-2"


def test_dates_as_a_head_and_a_listing_say_them():
    when = datetime.datetime(2026, 12, 7, 10, 17, 28, 751000, tzinfo=datetime.UTC)
    assert http_date(when) == "Mon, 07 Dec 2026 10:17:28 GMT"
    assert listing_date(when) == "2026-12-07T10:17:28.751Z"
