"""PG locks across the threads of several processes."""

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from librgw.storage.pg_lock import PGLocks

ROOT = Path(__file__).resolve().parents[2]
# Another process: one thread holds PG 2, a second then waits for PG 1.
OTHER_PROCESS = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from librgw.storage.pg_lock import PGLocks

    locks = PGLocks(Path(sys.argv[1]))
    holding, done = threading.Event(), threading.Event()

    def hold_pg_2():
        with locks.hold(0, 2):
            holding.set()
            done.wait()

    def wait_for_pg_1():
        with locks.hold(0, 1):
            pass
        done.set()

    holder = threading.Thread(target=hold_pg_2)
    holder.start()
    holding.wait()
    print("holding", flush=True)
    wait_for_pg_1()
    holder.join()
    """
)


def test_threads_of_two_processes_waiting_on_each_others_pgs_are_no_deadlock(tmp_path):
    """The kernel sees process A wait for B and B for A and calls it a deadlock (EDEADLK), though
    the threads involved are all different and each will get its lock in turn."""
    locks = PGLocks(tmp_path)
    released, failures = threading.Event(), []

    def hold_pg_1():
        with locks.hold(0, 1):
            released.wait()

    holder = threading.Thread(target=hold_pg_1)
    holder.start()
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER_PROCESS, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout.readline() == "holding\n"
        time.sleep(0.3)  # the other process's second thread is now waiting for PG 1, held here

        def take_pg_2():
            try:
                with locks.hold(0, 2):  # held by the other process, which waits for this one
                    pass
            except OSError as error:
                failures.append(error)

        taker = threading.Thread(target=take_pg_2)
        taker.start()
        time.sleep(0.3)
        released.set()  # now PG 1 goes to the other process, which then lets PG 2 go
        taker.join(10)
        holder.join(10)
        assert other.wait(10) == 0
    finally:
        released.set()
        other.kill()
    assert failures == []
    locks.close()
