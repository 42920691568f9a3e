"""Object expiry: objects with a delete-at time, found by time without scanning buckets.

An object's delete-at time (Swift's ``X-Delete-At``) is kept in its head
(``user.rgw.delete_at``) and in a queue in ``default.rgw.log``, namespace ``expiry``: one
object per hour, ``obj_delete_at_hint.<hour>``, whose omap keys are
``<delete at>:<bucket>:<key>``. An agent reads only the hours that are due. An expired
object is not served even before the agent deletes it; an entry whose object has since
been overwritten or given another time is dropped without deleting anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from librgw import rados

from .omap_pages import omap_items
from .zone import LOG_POOL, Zone

EXPIRY_NS = "expiry"
HINT_PREFIX = "obj_delete_at_hint."
HOUR = 3600


@dataclass
class ExpiryEntry:
    delete_at: float
    bucket: str
    key: str


def _hint_oid(delete_at: float) -> str:
    return f"{HINT_PREFIX}{int(delete_at) // HOUR:010d}"


class ExpiryQueue:
    def __init__(self, zone: Zone) -> None:
        self.zone = zone

    def _log(self) -> rados.Ioctx:
        ioctx = self.zone.client.open_ioctx(LOG_POOL)
        ioctx.set_namespace(EXPIRY_NS)
        return ioctx

    def add(self, bucket: str, key: str, delete_at: float) -> None:
        with self._log() as log, rados.WriteOpCtx() as op:
            log.set_omap(op, (f"{delete_at:017.6f}:{bucket}:{key}",), (b"",))
            log.operate_write_op(op, _hint_oid(delete_at))

    def due(self, now: float | None = None) -> list[ExpiryEntry]:
        """The entries whose time has come, oldest first."""
        now = time.time() if now is None else now
        with self._log() as log:
            return [entry for _, _, entry in self._entries(log, now)]

    def drain(self, expire: Callable[[ExpiryEntry], bool], now: float | None = None) -> int:
        """Hand each entry that is due to ``expire`` (which deletes its object if it still
        carries that delete-at time, and says whether it did), then drop it from the queue;
        returns how many objects went (``expirer.ObjectExpirer``)."""
        now = time.time() if now is None else now
        deleted = 0
        with self._log() as log:
            for hint, omap_key, entry in self._entries(log, now):
                deleted += expire(entry)
                with rados.WriteOpCtx() as op:
                    log.remove_omap_keys(op, (omap_key,))
                    log.operate_write_op(op, hint)
        return deleted

    @staticmethod
    def _entries(log: rados.Ioctx, now: float):
        hints = sorted(o.key for o in log.list_objects() if o.key.startswith(HINT_PREFIX))
        for hint in hints:
            if int(hint[len(HINT_PREFIX) :]) * HOUR > now:
                break
            for omap_key, _ in omap_items(log, hint):
                at, bucket, key = omap_key.split(":", 2)
                if float(at) <= now:
                    yield hint, omap_key, ExpiryEntry(float(at), bucket, key)
