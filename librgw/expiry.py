"""Object expiry: objects with a delete-at time, found by time without scanning buckets.

An object's delete-at time (Swift's ``X-Delete-At``) is kept in its head
(``user.rgw.delete_at``) and in a queue in ``default.rgw.log``, namespace ``expiry``: one
object per hour, ``obj_delete_at_hint.<hour>``, whose omap keys are
``<delete at>:<bucket>:<key>``. An agent reads only the hours that are due. An expired
object is not served even before the agent deletes it; an entry whose object has since
been overwritten or given another time is dropped without deleting anything.

An entry leaves the queue only after its object is dealt with (``remove``, by the agent),
so an agent killed midway leaves the entries it had not finished for the next run, which
finds those it had finished already deleted or replaced and only drops them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from librgw import rados

from .omap_pages import omap_items
from .zone import LOG_POOL, Zone

EXPIRY_NS = "expiry"
HINT_PREFIX = "obj_delete_at_hint."
HOUR = 3600


@dataclass(frozen=True)
class ExpiryEntry:
    delete_at: float
    bucket: str
    key: str

    @property
    def omap_key(self) -> str:
        return f"{self.delete_at:017.6f}:{self.bucket}:{self.key}"

    @property
    def hint(self) -> str:
        """The queue object holding the entry: that of its hour."""
        return f"{HINT_PREFIX}{int(self.delete_at) // HOUR:010d}"


class ExpiryQueue:
    def __init__(self, zone: Zone) -> None:
        self.zone = zone

    def _log(self) -> rados.Ioctx:
        ioctx = self.zone.client.open_ioctx(LOG_POOL)
        ioctx.set_namespace(EXPIRY_NS)
        return ioctx

    def add(self, bucket: str, key: str, delete_at: float) -> None:
        entry = ExpiryEntry(delete_at, bucket, key)
        with self._log() as log, rados.WriteOpCtx() as op:
            log.set_omap(op, (entry.omap_key,), (b"",))
            log.operate_write_op(op, entry.hint)

    def due(self, now: float | None = None) -> list[ExpiryEntry]:
        """The entries whose time has come, oldest first."""
        now = time.time() if now is None else now
        with self._log() as log:
            return list(self._entries(log, now))

    def remove(self, entries: Iterable[ExpiryEntry]) -> None:
        """Drop ``entries`` from the queue: one write per hour's queue object."""
        by_hint: dict[str, list[str]] = defaultdict(list)
        for entry in entries:
            by_hint[entry.hint].append(entry.omap_key)
        with self._log() as log:
            for hint, keys in by_hint.items():
                with rados.WriteOpCtx() as op:
                    log.remove_omap_keys(op, keys)
                    log.operate_write_op(op, hint)

    @staticmethod
    def _entries(log: rados.Ioctx, now: float) -> Iterator[ExpiryEntry]:
        hints = sorted(o.key for o in log.list_objects() if o.key.startswith(HINT_PREFIX))
        for hint in hints:
            if int(hint[len(HINT_PREFIX) :]) * HOUR > now:
                break
            for omap_key, _ in omap_items(log, hint):
                at, bucket, key = omap_key.split(":", 2)
                if float(at) <= now:
                    yield ExpiryEntry(float(at), bucket, key)
