"""The CRCs the OSD stores keep, per store format."""

import zlib

import pytest

from librgw.storage.checksum import FORMAT_CRCS, chunk_crcs, crc32c


def test_crc32c_is_castagnoli_and_continues_a_crc():
    assert crc32c(b"123456789") == 0xE3069283  # the standard check value of CRC-32C
    assert crc32c(b"6789", crc32c(b"12345")) == crc32c(b"123456789")
    assert crc32c(memoryview(bytearray(b"123456789"))[2:]) == crc32c(b"3456789")


def test_format_0_is_zlib_crc32_and_format_1_crc32c():
    assert FORMAT_CRCS[0](b"123456789", 0) == zlib.crc32(b"123456789")
    assert FORMAT_CRCS[1] is crc32c


@pytest.mark.parametrize("fmt", sorted(FORMAT_CRCS))
def test_chunk_crcs_match_the_crc_of_each_chunk_of_the_concatenation(fmt):
    crc = FORMAT_CRCS[fmt]
    data = bytes(range(256)) * 1000
    pieces = [data[:1000], data[1000:70000], data[70000:]]
    expected = [crc(data[i : i + 65536], 0) for i in range(0, len(data), 65536)]
    got = chunk_crcs(pieces, 65536, crc)
    assert [int.from_bytes(got[i : i + 4], "little") for i in range(0, len(got), 4)] == expected
