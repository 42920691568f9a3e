"""Range headers: which bytes a GET sends."""

import pytest

from librgw.middleware.swift.ranges import Unsatisfiable, multipart_body, satisfiable_ranges


def test_ranges_are_clipped_to_the_object():
    assert satisfiable_ranges("bytes=0-9", 100) == [(0, 9)]
    assert satisfiable_ranges("bytes=90-200", 100) == [(90, 99)]
    assert satisfiable_ranges("bytes=-10", 100) == [(90, 99)]
    assert satisfiable_ranges("bytes=-1000", 100) == [(0, 99)]
    assert satisfiable_ranges("bytes=50-", 100) == [(50, 99)]
    assert satisfiable_ranges("bytes=0-0,-1, 10-19", 100) == [(0, 0), (99, 99), (10, 19)]
    assert satisfiable_ranges("bytes=0-9,200-300", 100) == [(0, 9)]  # the unsatisfiable one is dropped


@pytest.mark.parametrize(
    "header", [None, "", "bytes=", "bytes=a-b", "bytes=5-1", "items=0-1", "bytes=-", "bytes=1-2-3"]
)
def test_a_header_that_does_not_parse_means_the_whole_object(header):
    assert satisfiable_ranges(header, 100) is None


def test_too_many_ranges_are_ignored():
    assert satisfiable_ranges("bytes=" + ",".join(f"{i}-{i}" for i in range(51)), 100) is None


@pytest.mark.parametrize(("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=0-", 0)])
def test_nothing_satisfiable_is_416_with_the_size(header, size):
    with pytest.raises(Unsatisfiable) as caught:
        satisfiable_ranges(header, size)
    assert caught.value.headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("digits", [4_000, 4_301, 8_000])  # int() refuses more than 4,300 digits
def test_positions_of_any_length_are_past_every_object(digits):
    huge = "9" * digits
    with pytest.raises(Unsatisfiable):
        satisfiable_ranges(f"bytes={huge}-", 100)
    with pytest.raises(Unsatisfiable):
        satisfiable_ranges(f"bytes={huge}-{huge}", 100)
    assert satisfiable_ranges(f"bytes=0-{huge}", 100) == [(0, 99)]
    assert satisfiable_ranges(f"bytes=-{huge}", 100) == [(0, 99)]
    assert satisfiable_ranges(f"bytes=0-9,{huge}-", 100) == [(0, 9)]
    assert satisfiable_ranges(f"bytes={'0' * digits}5-{'0' * digits}9", 100) == [(5, 9)]  # zeros count for nothing
    assert satisfiable_ranges(f"bytes={huge}-5", 100) is None  # last before first: not a range


def test_multipart_body_length_matches_what_it_sends():
    data = bytes(range(100))
    content_type, length, body = multipart_body(
        [(0, 1), (50, 59)], 100, "text/plain", lambda first, last: iter([data[first : last + 1]])
    )
    sent = b"".join(body)
    boundary = content_type.split("boundary=")[1]
    assert len(sent) == length and sent.endswith(f"--{boundary}--".encode())
    assert b"Content-Range: bytes 50-59/100\r\n\r\n" + data[50:60] + b"\r\n" in sent
