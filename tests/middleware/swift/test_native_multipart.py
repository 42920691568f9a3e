"""The native upload sub-resources' pure parts: the uploads listing page, the copy range, the
part list of a complete request."""

import pytest
from webob import exc

from librgw.middleware.swift.multipart import UploadsQuery, copy_range, requested_parts, select_uploads
from librgw.multipart import Upload


def uploads(*pairs: tuple[str, str]) -> list[Upload]:
    return [Upload(key, upload_id, "alice", 0.0) for key, upload_id in sorted(pairs)]


def listed(page: dict) -> list:
    return [(u["object"], u["upload_id"]) for u in page["uploads"]]


ALL = uploads(("a", "1"), ("a", "2"), ("b", "1"), ("dir/x", "1"), ("dir/y", "1"), ("e", "1"))


def test_markers_skip_keys_and_upload_ids_already_listed():
    assert listed(select_uploads(ALL, UploadsQuery("", "", "a", "", 1000))) == [
        ("b", "1"),
        ("dir/x", "1"),
        ("dir/y", "1"),
        ("e", "1"),
    ]
    assert listed(select_uploads(ALL, UploadsQuery("", "", "a", "1", 2))) == [("a", "2"), ("b", "1")]


def test_pages_chain_through_next_markers():
    walked, key, upload_id = [], "", ""
    while True:
        page = select_uploads(ALL, UploadsQuery("", "", key, upload_id, 2))
        walked += listed(page)
        if not page["is_truncated"]:
            assert page["next_key_marker"] == page["next_upload_id_marker"] == ""
            break
        key, upload_id = page["next_key_marker"], page["next_upload_id_marker"]
    assert walked == [(u.key, u.upload_id) for u in ALL]


def test_delimiter_rolls_up_and_a_prefix_counts_once_and_is_not_repeated():
    page = select_uploads(ALL, UploadsQuery("", "/", "", "", 3))
    assert listed(page) == [("a", "1"), ("a", "2"), ("b", "1")] and page["prefixes"] == [] and page["is_truncated"]
    page = select_uploads(ALL, UploadsQuery("", "/", "", "", 4))
    assert listed(page) == [("a", "1"), ("a", "2"), ("b", "1")] and page["prefixes"] == ["dir/"]
    assert page["is_truncated"] and page["next_key_marker"] == "dir/" and page["next_upload_id_marker"] == ""
    rest = select_uploads(ALL, UploadsQuery("", "/", "dir/", "", 4))
    assert listed(rest) == [("e", "1")] and rest["prefixes"] == [] and not rest["is_truncated"]
    under = select_uploads(uploads(("dir/x", "1"), ("dir/y", "1")), UploadsQuery("dir/", "/", "", "", 10))
    assert listed(under) == [("dir/x", "1"), ("dir/y", "1")] and under["prefixes"] == []


def test_copy_range_is_first_to_last_within_the_source():
    assert copy_range(None, 10) is None
    assert copy_range("bytes=0-9", 10) == (0, 9)
    assert copy_range(" bytes=3-3 ", 10) == (3, 3)
    for header in ("bytes=5-", "bytes=-5", "5-9", "bytes=0-1,3-4", "items=0-1"):
        with pytest.raises(exc.HTTPBadRequest):
            copy_range(header, 10)
    for header in ("bytes=0-10", "bytes=10-12", "bytes=5-4"):
        with pytest.raises(exc.HTTPRequestRangeNotSatisfiable):
            copy_range(header, 10)


def test_requested_parts_take_a_list_of_numbers_and_etags():
    assert requested_parts(b'[{"part_number": 1, "etag": "a"}, {"part_number": 3, "etag": "b"}]') == [
        (1, "a"),
        (3, "b"),
    ]
    assert requested_parts(b"[]") == []  # the core says a complete needs parts
    bad = [b"", b"\xff", b"{}", b'[{"part_number": true, "etag": "a"}]', b'[{"part_number": 1}]', b"[1]"]
    for body in bad:
        with pytest.raises(exc.HTTPBadRequest):
            requested_parts(body)
