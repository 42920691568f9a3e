"""The cluster map each process caches: a change made by another process is seen by the very
next lookup, even when that process was killed while making it (``osdmap.ChangeCounter``)."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from librgw.storage.osdmap import MapStore

# Runs in a child: marks osd.1 out through the map lock, and is killed by SIGKILL right after the
# new map is in place, before the change counter says the change is over.
KILLED_MID_CHANGE = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from librgw.storage import osdmap

    real_write = osdmap.atomic_write

    def write_then_die(path, data):
        real_write(path, data)
        os.kill(os.getpid(), signal.SIGKILL)

    osdmap.atomic_write = write_then_die
    with osdmap.MapStore(Path(sys.argv[1])).update() as m:
        m.osds[1].in_ = False
    """
)


def _mark(cluster_dir: Path, osd: int, in_: bool) -> None:
    """Mark an OSD in or out from another process, through the CLI as an operator would."""
    verb = "in" if in_ else "out"
    conf = str(cluster_dir / "cluster.conf")
    subprocess.run([sys.executable, "-m", "librgw.cli.main", "-c", conf, "osd", verb, str(osd)], check=True)


def test_a_change_made_by_another_process_is_seen_by_the_next_lookup(cluster_dir):
    maps = MapStore(cluster_dir)
    epoch = maps.current().epoch
    assert maps.current().osds[2].in_
    for step in range(3):
        _mark(cluster_dir, 2, in_=step % 2 == 1)
        seen = maps.current()
        assert seen.epoch == epoch + step + 1
        assert seen.osds[2].in_ is (step % 2 == 1)


def test_a_writer_killed_mid_change_leaves_readers_reading_the_map_file(cluster_dir):
    maps = MapStore(cluster_dir)
    before = maps.current()
    assert before.osds[1].in_
    child = subprocess.run([sys.executable, "-c", KILLED_MID_CHANGE, str(cluster_dir)])
    assert child.returncode == -signal.SIGKILL
    assert maps.changes.read() % 2 == 1  # the change never said it was over
    after = maps.current()
    assert after.epoch == before.epoch + 1 and not after.osds[1].in_
    # the next change, by a writer that lives, is seen too, and the count is even again
    _mark(cluster_dir, 1, in_=True)
    assert maps.current().osds[1].in_ and maps.current().epoch == before.epoch + 2
    assert maps.changes.read() % 2 == 0


def test_a_read_only_cluster_directory_is_still_read(cluster_dir, tmp_path):
    """Without write access to the counter's file (it cannot be made), every lookup stats the map."""
    (cluster_dir / "osdmap.seq").unlink(missing_ok=True)
    os.chmod(cluster_dir, 0o555)
    try:
        if os.access(cluster_dir, os.W_OK):  # root writes anyway: take the counter's path away instead
            maps = MapStore(cluster_dir)
            maps.changes.path = tmp_path / "no-such-dir" / "osdmap.seq"
        else:
            maps = MapStore(cluster_dir)
        assert maps.changes.read() is None
        epoch = maps.current().epoch
    finally:
        os.chmod(cluster_dir, 0o755)
    _mark(cluster_dir, 3, in_=False)
    assert maps.current().epoch == epoch + 1 and not maps.current().osds[3].in_
