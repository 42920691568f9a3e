"""The CRCs an OSD store keeps on what it stores, and the store format that names them.

Format 1 (every store made by ``mkfs`` now) checksums with CRC-32C (Castagnoli), computed
by the ``crc32c`` package with the CPU's CRC instruction where there is one (about 10 GB/s
against zlib CRC-32's 2-5 GB/s). Format 0, the first one, used zlib's CRC-32; its stores
are still read and written with it. A store records its format in SQLite's
``user_version``.

The CRC is computed without releasing the GIL. A 64 KiB chunk takes a few microseconds;
releasing the GIL for it would cost more, because during an erasure-coded write six store
threads would each wait to take the GIL back from the encoding thread, once per chunk.

Scrub's digests compare copies on different OSDs, so they use one CRC (``digest``)
whatever the formats of the stores.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Sequence
from typing import Protocol

import crc32c as _crc32c

Buffer = bytes | bytearray | memoryview


class CRC(Protocol):
    def __call__(self, data: Buffer, crc: int = 0, /) -> int: ...


NEWEST_FORMAT = 1


def crc32c(data: Buffer, crc: int = 0, /) -> int:
    """CRC-32C of ``data``, continuing ``crc``."""
    return _crc32c.crc32c(data, crc, gil_release_mode=0)


def crc32(data: Buffer, crc: int = 0, /) -> int:
    """zlib's CRC-32 of ``data``, continuing ``crc`` (format 0)."""
    return zlib.crc32(data, crc)


FORMAT_CRCS: dict[int, CRC] = {0: crc32, 1: crc32c}
digest: CRC = crc32c


class ChunkCRCs:
    """The CRC of every ``chunk`` bytes of a byte stream fed in pieces, packed as uint32s."""

    def __init__(self, chunk: int, crc_of: CRC) -> None:
        self._chunk, self._crc_of = chunk, crc_of
        self._crcs = array("I")
        self._crc = self._filled = 0

    def update(self, pieces: Sequence[Buffer]) -> None:
        for piece in pieces:
            view = memoryview(piece).cast("B")
            while view:
                part = view[: self._chunk - self._filled]
                self._crc = self._crc_of(part, self._crc)
                self._filled += len(part)
                view = view[len(part) :]
                if self._filled == self._chunk:
                    self._crcs.append(self._crc)
                    self._crc = self._filled = 0

    def packed(self) -> bytes:
        """Every chunk's CRC, the last (short) chunk's included."""
        return (self._crcs + array("I", [self._crc] if self._filled else [])).tobytes()


def chunk_crcs(pieces: Sequence[Buffer], chunk: int, crc_of: CRC) -> bytes:
    """``crc_of`` every ``chunk`` bytes of the concatenated ``pieces``, packed as uint32s."""
    crcs = ChunkCRCs(chunk, crc_of)
    crcs.update(pieces)
    return crcs.packed()
