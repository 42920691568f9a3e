"""Garbage collection: tail objects no head refers to any more, deleted after a grace period.

When an object is overwritten or deleted, its old tails are not removed at once: a reader
that fetched the old manifest may still be streaming them. They are queued instead, as
RGW does, in the omap of ``gc.<n>`` (``GC_SHARDS`` objects) in ``default.rgw.log``
namespace ``gc``: key ``<due time>.<tag>``, value the JSON list of rados object names.
``process`` deletes what is due (everything with ``include_all``, as ``radosgw-admin gc
process --include-all``); it is idempotent, so any number of agents may run it.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from librgw import rados

from .zone import DATA_POOL, LOG_POOL

if TYPE_CHECKING:
    from .connection import RGW

GC_NS = "gc"
GC_SHARDS = 32  # rgw_gc_max_objs
MIN_WAIT_S = 7200.0  # rgw_gc_obj_min_wait: how long a replaced tail may still be read
PAGE = 1000


@dataclass
class GCEntry:
    tag: str
    due: float
    oids: list[str]


class GarbageCollector:
    def __init__(self, rgw: RGW, min_wait_s: float = MIN_WAIT_S) -> None:
        self.rgw = rgw
        self.min_wait_s = min_wait_s

    def _log(self) -> rados.Ioctx:
        ioctx = self.rgw.client.open_ioctx(LOG_POOL)
        ioctx.set_namespace(GC_NS)
        return ioctx

    def enqueue(self, oids: list[str]) -> None:
        """Queue ``oids`` (in the data pool) for deletion after the grace period."""
        if not oids:
            return
        tag = uuid.uuid4().hex
        due = time.time() + self.min_wait_s
        with self._log() as log, rados.WriteOpCtx() as op:
            log.set_omap(op, (f"{due:017.6f}.{tag}",), (json.dumps(oids).encode(),))
            log.operate_write_op(op, f"gc.{zlib.crc32(tag.encode()) % GC_SHARDS}")

    def list(self, include_all: bool = False) -> list[GCEntry]:
        """The queued entries: those due now, or every one with ``include_all``."""
        now = time.time()
        with self._log() as log:
            return [e for _, _, e in self._entries(log) if include_all or e.due <= now]

    def process(self, include_all: bool = False) -> int:
        """Delete what is due (or everything queued); returns how many rados objects went."""
        now = time.time()
        removed = 0
        with self._log() as log, self.rgw.client.open_ioctx(DATA_POOL) as data:
            for shard, key, entry in self._entries(log):
                if not include_all and entry.due > now:
                    continue
                for oid in entry.oids:
                    try:
                        data.remove_object(oid)
                        removed += 1
                    except rados.ObjectNotFound:
                        pass
                with rados.WriteOpCtx() as op:
                    log.remove_omap_keys(op, (key,))
                    log.operate_write_op(op, shard)
        return removed

    @staticmethod
    def _entries(log: rados.Ioctx):
        for n in range(GC_SHARDS):
            shard, after = f"gc.{n}", ""
            while True:
                with rados.ReadOpCtx() as op:
                    page, _ = log.get_omap_vals(op, after, "", PAGE)
                    try:
                        log.operate_read_op(op, shard)
                    except rados.ObjectNotFound:
                        break
                    items = list(page)
                for key, value in items:
                    due, tag = key.rsplit(".", 1)
                    yield shard, key, GCEntry(tag, float(due), json.loads(value))
                if len(items) < PAGE:
                    break
                after = items[-1][0]
