"""S3's additional checksums: the algorithms of ``x-amz-checksum-<algorithm>``.

A client may send the checksum of an upload's body as a header (``x-amz-checksum-crc32:
<base64>``) or, in an aws-chunked upload, as a trailer after the last chunk. The value is
the base64 of the digest, big-endian for the CRCs. ``new_checksum(name)`` gives a
hashlib-like object (``update``, ``digest``) for each algorithm S3 knows:

=============  ===========================================================================
``crc32``      zlib's CRC-32 (the default of boto3 1.36 and later)
``crc32c``     CRC-32C (Castagnoli), from the ``crc32c`` package (the CPU's CRC instruction)
``crc64nvme``  CRC-64/NVME, table-driven here in pure Python
``sha1``       hashlib
``sha256``     hashlib
=============  ===========================================================================

CRC-64/NVME is in neither the standard library nor this gateway's dependencies (botocore
computes it only with ``awscrt``), so it is computed a byte at a time, roughly 10 MB/s. It
costs that only when a client asks for it.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from typing import Protocol

import crc32c

CRC64NVME_POLYNOMIAL = 0x9A6C9329AC4BC9B5  # reflected NVMe


class Checksum(Protocol):
    def update(self, data: bytes) -> None: ...

    def digest(self) -> bytes: ...


def _crc_table(polynomial: int) -> tuple[int, ...]:
    """The byte table of a reflected CRC with ``polynomial``."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ polynomial if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


class _TableCRC:
    """A reflected CRC (initial value and final XOR all ones), a byte at a time."""

    def __init__(self, table: tuple[int, ...], width: int) -> None:
        self._table = table
        self._mask = (1 << width) - 1
        self._width = width
        self._crc = self._mask

    def update(self, data: bytes) -> None:
        crc, table = self._crc, self._table
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self._crc = crc

    def digest(self) -> bytes:
        return (self._crc ^ self._mask).to_bytes(self._width // 8, "big")


class _CRC32:
    """A 32-bit CRC that a function continues, ``crc(data, crc) -> crc``."""

    def __init__(self, crc: Callable[[bytes, int], int] = zlib.crc32) -> None:
        self._fn = crc
        self._crc = 0

    def update(self, data: bytes) -> None:
        self._crc = self._fn(data, self._crc)

    def digest(self) -> bytes:
        return self._crc.to_bytes(4, "big")


_CRC64NVME_TABLE = _crc_table(CRC64NVME_POLYNOMIAL)
ALGORITHMS = {
    "crc32": _CRC32,
    "crc32c": lambda: _CRC32(crc32c.crc32c),
    "crc64nvme": lambda: _TableCRC(_CRC64NVME_TABLE, 64),
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}
DIGEST_SIZE = {"crc32": 4, "crc32c": 4, "crc64nvme": 8, "sha1": 20, "sha256": 32}


def new_checksum(algorithm: str) -> Checksum:
    """A fresh checksum of ``algorithm`` (a key of ``ALGORITHMS``, lower-case)."""
    return ALGORITHMS[algorithm]()
