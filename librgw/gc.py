"""Garbage collection: tail objects no head refers to any more, deleted after a grace period.

When an object is overwritten or deleted, its old tails are not removed at once: a reader
that fetched the old manifest may still be streaming them. They are queued instead, as
RGW does, in the omap of ``gc.<n>`` (``GC_SHARDS`` objects) in ``default.rgw.log``
namespace ``gc``: key ``<due time>.<tag>``, value the JSON list of rados object names.
``process`` deletes what is due (everything with ``include_all``, as ``radosgw-admin gc
process --include-all``); it is idempotent, so any number of agents may run it.

Tails can be shared: a server-side copy points its manifest at the source's tails. A
shared tail carries the tags of the objects using it in its ``user.rgw.refcount`` xattr
(RGW's refcount), changed under a rados lock; a tail without it belongs to the one object
that wrote it. GC entries name the tag letting go, and a tail is deleted only when no tag
is left on it.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from librgw import rados

from .omap_pages import omap_items
from .record_lock import locked
from .zone import DATA_POOL, LOG_POOL

if TYPE_CHECKING:
    from .connection import RGW

GC_NS = "gc"
GC_SHARDS = 32  # rgw_gc_max_objs
MIN_WAIT_S = 7200.0  # rgw_gc_obj_min_wait: how long a replaced tail may still be read


REFCOUNT_ATTR = "user.rgw.refcount"


@dataclass
class GCEntry:
    tag: str
    due: float
    oids: list[str]
    owner_tag: str = ""  # the object letting go of them; "" when nothing else can share them


def add_refs(data: rados.Ioctx, oids: list[str], owner_tag: str, new_tag: str) -> None:
    """Record that the object ``new_tag`` shares tails ``oids`` of the object ``owner_tag``."""
    for oid in oids:
        with locked(data, oid):
            refs = _refs(data, oid) or [owner_tag]
            data.set_xattr(oid, REFCOUNT_ATTR, json.dumps(sorted(set(refs) | {new_tag})).encode())


def _refs(data: rados.Ioctx, oid: str) -> list[str]:
    try:
        return json.loads(data.get_xattr(oid, REFCOUNT_ATTR))
    except rados.NoData:
        return []


def _release(data: rados.Ioctx, oid: str, tag: str) -> bool:
    """Drop ``tag``'s reference to ``oid``, deleting it when none is left; True if deleted."""
    try:
        with locked(data, oid):
            refs = _refs(data, oid)
            left = [r for r in refs if r != tag]
            if refs and left:
                data.set_xattr(oid, REFCOUNT_ATTR, json.dumps(left).encode())
                return False
            data.remove_object(oid)
            return True
    except rados.ObjectNotFound:
        return False


class GarbageCollector:
    def __init__(self, rgw: RGW, min_wait_s: float = MIN_WAIT_S) -> None:
        self.rgw = rgw
        self.min_wait_s = min_wait_s

    def _log(self) -> rados.Ioctx:
        ioctx = self.rgw.client.open_ioctx(LOG_POOL)
        ioctx.set_namespace(GC_NS)
        return ioctx

    def enqueue(self, oids: list[str], owner_tag: str = "") -> None:
        """Queue ``oids`` (in the data pool), which object ``owner_tag`` lets go of, for deletion
        after the grace period."""
        if not oids:
            return
        tag = uuid.uuid4().hex
        due = time.time() + self.min_wait_s
        record = json.dumps({"oids": oids, "owner_tag": owner_tag}).encode()
        with self._log() as log, rados.WriteOpCtx() as op:
            log.set_omap(op, (f"{due:017.6f}.{tag}",), (record,))
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
                    removed += _release(data, oid, entry.owner_tag)
                with rados.WriteOpCtx() as op:
                    log.remove_omap_keys(op, (key,))
                    log.operate_write_op(op, shard)
        return removed

    @staticmethod
    def _entries(log: rados.Ioctx):
        for n in range(GC_SHARDS):
            shard = f"gc.{n}"
            for key, value in omap_items(log, shard):
                due, tag = key.rsplit(".", 1)
                record = json.loads(value)
                yield shard, key, GCEntry(tag, float(due), record["oids"], record["owner_tag"])
