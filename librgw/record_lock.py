"""An exclusive rados lock on a metadata record while it is read, changed and written back.

Rados locks fail at once when held; this waits with a growing pause, as RGW's
metadata writers retry, until the lock is free or ``LOCK_SECONDS`` have passed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from librgw import rados

LOCK_NAME = "record"
LOCK_SECONDS = 30.0
FIRST_PAUSE_S = 0.002
MAX_PAUSE_S = 0.1


@contextmanager
def locked(ioctx: rados.Ioctx, name: str) -> Iterator[None]:
    """Hold the record's lock inside the block. Locking a missing object creates it empty:
    callers check that the record exists first, and treat an empty one as gone."""
    cookie = uuid.uuid4().hex
    deadline = time.monotonic() + LOCK_SECONDS
    pause = FIRST_PAUSE_S
    while True:
        try:
            ioctx.lock_exclusive(name, LOCK_NAME, cookie, duration=LOCK_SECONDS)
            break
        except rados.ObjectBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)
    try:
        yield
    finally:
        try:
            ioctx.unlock(name, LOCK_NAME, cookie)
        except rados.ObjectNotFound:
            pass
