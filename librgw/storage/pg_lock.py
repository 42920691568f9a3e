"""Per-PG mutual exclusion across threads and processes.

Every write to a PG holds its lock across all of the PG's OSDs, so replicas apply the
same ops in the same order (what Ceph's primary OSD guarantees by sequencing). PGs hash
onto ``SLOTS`` byte-range locks (``lockf``) in one file, ``locks/pg.lock``, so a process
holds one descriptor however many pools and PGs there are; POSIX record locks do not
exclude threads of one process, so each slot also has a ``threading.Lock``.

The kernel's deadlock check sees a process, not a thread, as a lock's owner: when two
multi-threaded processes each have one thread holding a slot and another waiting for the
other's, it answers ``EDEADLK`` though no thread waits for itself. A thread holds one slot
at a time, so there is never a real deadlock here: ``hold`` waits a moment and asks again.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SLOTS = 4096
DEADLOCK_RETRY_S = 0.001  # how long to wait before asking again after a false EDEADLK


class PGLocks:
    def __init__(self, lock_dir: Path) -> None:
        lock_dir.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(lock_dir / "pg.lock", os.O_RDWR | os.O_CREAT, 0o644)
        self._threads = [threading.Lock() for _ in range(SLOTS)]

    @staticmethod
    def slot(pool: int, pg: int) -> int:
        return (pool * 1_000_003 + pg) % SLOTS

    @contextmanager
    def hold(self, pool: int, pg: int) -> Iterator[None]:
        slot = self.slot(pool, pg)
        with self._threads[slot]:
            while True:
                try:
                    fcntl.lockf(self._fd, fcntl.LOCK_EX, 1, slot)
                    break
                except OSError as error:
                    if error.errno != errno.EDEADLK:
                        raise
                    time.sleep(DEADLOCK_RETRY_S)
            try:
                yield
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, slot)

    @contextmanager
    def try_hold(self, pool: int, pg: int) -> Iterator[bool]:
        """Take the PG's lock if it is free at once; yields whether it was taken."""
        slot = self.slot(pool, pg)
        lock = self._threads[slot]
        if not lock.acquire(blocking=False):
            yield False
            return
        try:
            try:
                fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, slot)
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EDEADLK):
                    raise
                yield False
                return
            try:
                yield True
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, slot)
        finally:
            lock.release()

    def close(self) -> None:
        os.close(self._fd)
