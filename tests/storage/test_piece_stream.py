"""The producer/consumer stream an EC write feeds its shard stores through."""

import threading

import pytest

from librgw.storage.piece_stream import PieceStream


def test_take_joins_and_splits_pieces_across_boundaries():
    stream = PieceStream(10)
    for piece in (b"abc", b"defg", b"hij"):
        stream.put(piece)
    stream.close()
    assert b"".join(stream.take(5)) == b"abcde"
    assert b"".join(stream.take(100)) == b"fghij"  # the rest, no more


def test_take_waits_for_the_producer_thread():
    stream = PieceStream(6)
    got = []
    consumer = threading.Thread(target=lambda: got.append(b"".join(stream.take(6))))
    consumer.start()
    stream.put(b"abc")
    stream.put(b"def")
    consumer.join(5)
    assert got == [b"abcdef"]


def test_a_failed_producer_fails_the_consumer_instead_of_hanging_it():
    stream = PieceStream(6)
    stream.put(b"abc")
    stream.fail(OSError("encoder died"))
    with pytest.raises(OSError, match="encoder died"):
        stream.take(6)


def test_a_stream_closed_short_raises_eof():
    stream = PieceStream(6)
    stream.put(b"abc")
    stream.close()
    with pytest.raises(EOFError):
        stream.take(6)
