"""A byte stream handed from a producer thread to a consumer thread as a list of pieces.

An erasure-coded write produces each shard stripe by stripe; the shard's OSD store writes
it out as the stripes arrive, so encoding (which holds the GIL) overlaps the stores' file
writes (which release it). The pieces are the encoder's own fragment
buffers: nothing is joined or copied on the way to the block files.
"""

from __future__ import annotations

import threading
from collections import deque

Buffer = bytes | bytearray | memoryview


class PieceStream:
    """``length`` bytes, put in pieces by one thread and taken by another."""

    def __init__(self, length: int) -> None:
        self.length = length
        self._pieces: deque[memoryview] = deque()
        self._available = 0
        self._taken = 0
        self._wanted = 0  # what the consumer waits for: waking it sooner only costs the GIL
        self._closed = False
        self._error: BaseException | None = None
        self._cv = threading.Condition()

    def __len__(self) -> int:
        return self.length

    def put(self, piece: Buffer) -> None:
        with self._cv:
            self._pieces.append(memoryview(piece).cast("B"))
            self._available += len(piece)
            if self._available >= self._wanted:
                self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def fail(self, error: BaseException) -> None:
        """End the stream with an error, which ``take`` raises in the consumer."""
        with self._cv:
            self._error = error
            self._cv.notify_all()

    def take(self, n: int) -> list[memoryview]:
        """The next ``n`` bytes (fewer only at the end of the stream), as pieces."""
        n = min(n, self.length - self._taken)
        with self._cv:
            self._wanted = n
            while self._available < n:
                if self._error is not None:
                    raise self._error
                if self._closed:
                    raise EOFError(f"stream ended after {self._taken + self._available} of {self.length} bytes")
                self._cv.wait()
            out, want = [], n
            while want:
                piece = self._pieces.popleft()
                if len(piece) > want:
                    self._pieces.appendleft(piece[want:])
                    piece = piece[:want]
                out.append(piece)
                want -= len(piece)
            self._available -= n
            self._taken += n
            return out


class PieceFanout:
    """Puts each piece to several streams: one shard written to two OSDs (a stray kept current)."""

    def __init__(self, streams: list[PieceStream]) -> None:
        self.streams = streams

    def put(self, piece: Buffer) -> None:
        for stream in self.streams:
            stream.put(piece)

    def close(self) -> None:
        for stream in self.streams:
            stream.close()

    def fail(self, error: BaseException) -> None:
        for stream in self.streams:
            stream.fail(error)
