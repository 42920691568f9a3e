"""Swift's three views of one time (``swift/common/utils/timestamp.py``'s ``Timestamp``:
``normal``, ``isoformat`` and ``ceil``), all from the five-decimal form, never the raw clock."""

from librgw.middleware.swift.timestamps import http_date, modified_second, normal, swift_time, timestamp_headers

T = 1700000000.0  # Tue, 14 Nov 2023 22:13:20 GMT


def test_normal_is_five_decimals_rounded():
    assert normal(T + 0.123456) == "1700000000.12346"
    assert normal(12.5) == "0000000012.50000"


def test_the_listing_time_is_the_normal_time_in_microseconds():
    assert swift_time(T + 0.123456) == "2023-11-14T22:13:20.123460"
    assert swift_time(T) == "2023-11-14T22:13:20.000000"
    assert swift_time(T + 0.999996) == "2023-11-14T22:13:21.000000"  # rounds into the next second


def test_last_modified_rounds_the_normal_time_up():
    assert modified_second(T + 0.1) == T + 1
    assert modified_second(T) == T
    assert modified_second(T + 0.000001) == T  # 1 µs is below X-Timestamp's resolution: not a second later
    assert http_date(T + 0.5) == "Tue, 14 Nov 2023 22:13:21 GMT"
    assert timestamp_headers(T + 0.5) == [("X-Timestamp", "1700000000.50000"), ("Last-Modified", http_date(T + 0.5))]
