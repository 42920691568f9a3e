"""Changes to one bucket-index shard, combined: one guarded write for all the changes a process's
threads want to make to the shard at the same time.

Every change to a shard is a compare-and-swap on the shard's header (``bucket_index``), so
threads changing one shard at once raced: all but one lost, backed off and tried again, and
under 16 concurrent PUTs into one bucket a write could wait seconds for its turn (issue 19).
Here the first thread that wants a shard leads: its ``write_batch`` reads the shard once,
applies every change queued for it in the order they came, and writes them all in one guarded
op. Threads that come meanwhile queue; when the write is done, the first of them leads the next
batch with the rest. Threads of other processes still meet on the compare-and-swap, and a batch
that loses it is tried again as a whole.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Entry = TypeVar("Entry")


@dataclass(eq=False)
class ShardChange(Generic[Entry]):
    """One thread's change to the entry of ``key``, and what became of it: ``result`` (the entry
    as it then is), ``error``, or ``stale`` (why the shard could not be written: the caller
    re-reads the bucket and asks again)."""

    key: str
    change: Callable[[Entry | None], Entry | None]
    result: Entry | None = None
    error: BaseException | None = None
    stale: BaseException | str | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    lead: list[ShardChange[Entry]] | None = field(default=None, repr=False)  # the batch its thread is to write


class ShardQueues:
    """The changes waiting for each shard object of one process, by object name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, list[ShardChange]] = {}  # a shard being written: what waits for it

    def apply(self, oid: str, change: ShardChange, write_batch: Callable[[str, list[ShardChange]], None]) -> None:
        """Apply ``change`` to shard ``oid``, alone or with others, with ``write_batch``, which sets
        each change's outcome; returns once it has one."""
        with self._lock:
            waiting = self._waiting.get(oid)
            if waiting is None:
                self._waiting[oid] = []
            else:
                waiting.append(change)
        if waiting is not None:
            change.done.wait()
            if change.lead is None:
                return  # another thread's batch took it
        batch = change.lead or [change]
        try:
            write_batch(oid, batch)
        except BaseException as e:  # the batch failed as a whole
            for each in batch:
                each.error = each.error or e
        finally:
            with self._lock:
                following = self._waiting.pop(oid)
                if following:
                    self._waiting[oid] = []
            if following:
                following[0].lead = following
                following[0].done.set()
            for each in batch:
                each.done.set()
