import time

from librgw.cli.recovery_commands import format_bar
from librgw.cli.render import hexdump, human_bytes, table
from librgw.storage.recovery import RecoveryProgress


def test_human_bytes_uses_binary_units_like_ceph():
    assert human_bytes(0) == "0 B"
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(9 * 1024 * 1024) == "9.0 MiB"
    assert human_bytes(300 * 1024**3) == "300 GiB"


def test_hexdump_matches_hexdump_c_layout():
    assert hexdump(b"hello world, more") == (
        "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 6d 6f 72  |hello world, mor|\n"
        "00000010  65                                                |e|\n"
        "00000011"
    )
    assert hexdump(b"") == "00000000"


def test_table_aligns_columns_and_strips_trailing_space():
    assert table([["ID", "NAME", "X"], ["10", "a", ""]], "rll") == ["ID  NAME  X", "10  a"]


def test_recovery_bar_shows_objects_bytes_rate_and_eta():
    progress = RecoveryProgress(objects_total=200, objects_done=50, bytes_copied=50 * 1024 * 1024)
    progress.started = time.time() - 10
    bar = format_bar(progress)
    assert bar.startswith("recovery [######..................] 50/200 objects, 50 MiB copied,")
    assert "5 objects/s" in bar and "5.0 MiB/s" in bar and "ETA 0:30" in bar
