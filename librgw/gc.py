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

A write queues an **intent** before it makes tails (or takes references on a source's) and
forgets it once its head is written: an entry naming the head (``head``) the write is for.
Whether a head whose write failed or whose writer died will ever show that write is known
only later (a head write that errored may still be rolled forward by the cluster), so the
intent decides when it is due: if the head's ``idtag`` is the write's, the tails are the
head's and the intent just goes; otherwise they become an ordinary entry, due a grace period
later (a reader of the head, had it landed and been replaced, keeps its time). A streamed
write's intent names its tails by the pattern they are written under (``marker``: they are
``<marker>__shadow_<tag>_<n>``, n = 1, 2, ... up to the first missing one), since how many
there will be is not known when it is queued; while the newest of them is younger than the
grace, the writer may still be streaming and the intent waits another grace.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from dataclasses import dataclass, replace

from librgw import rados

from .manifest import IDTAG_ATTR, tail_oid
from .omap_pages import omap_items
from .record_lock import locked
from .zone import DATA_POOL, LOG_POOL, Zone

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
    head: str = ""  # an intent: the head whose idtag says whether write ``owner_tag`` landed
    marker: str = ""  # an intent of a streamed write: its tails are tail_oid(marker, owner_tag, n)

    def encode(self) -> bytes:
        doc = {"oids": self.oids, "owner_tag": self.owner_tag}
        if self.head:
            doc.update(head=self.head, marker=self.marker)
        return json.dumps(doc).encode()

    @classmethod
    def decode(cls, key: str, raw: bytes) -> GCEntry:
        due, tag = key.rsplit(".", 1)
        doc = json.loads(raw)
        return cls(tag, float(due), doc["oids"], doc["owner_tag"], doc.get("head", ""), doc.get("marker", ""))

    @property
    def key(self) -> str:
        return f"{self.due:017.6f}.{self.tag}"


def add_refs(data: rados.Ioctx, oids: list[str], owner_tag: str, new_tag: str) -> None:
    """Record that the object ``new_tag`` shares tails ``oids`` of the object ``owner_tag``."""
    for oid in oids:
        with locked(data, oid):
            refs = _refs(data, oid) or [owner_tag]
            data.set_xattr(oid, REFCOUNT_ATTR, json.dumps(sorted(set(refs) | {new_tag})).encode())


def move_refs(data: rados.Ioctx, oids: list[str], old_tag: str, new_tag: str) -> None:
    """Hand the references object ``old_tag`` holds on shared tails ``oids`` to ``new_tag``, the
    object replacing it that uses them too."""
    for oid in oids:
        with locked(data, oid):
            refs = _refs(data, oid)
            if refs:
                data.set_xattr(oid, REFCOUNT_ATTR, json.dumps(sorted(set(refs) - {old_tag} | {new_tag})).encode())


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
    def __init__(self, zone: Zone, min_wait_s: float = MIN_WAIT_S) -> None:
        self.zone = zone
        self.min_wait_s = min_wait_s

    def _log(self) -> rados.Ioctx:
        ioctx = self.zone.client.open_ioctx(LOG_POOL)
        ioctx.set_namespace(GC_NS)
        return ioctx

    def enqueue(self, oids: list[str], owner_tag: str = "") -> None:
        """Queue ``oids`` (in the data pool), which object ``owner_tag`` lets go of, for deletion
        after the grace period."""
        if oids:
            self._queue(GCEntry(uuid.uuid4().hex, time.time() + self.min_wait_s, oids, owner_tag))

    def intend(self, owner_tag: str, head: str, oids: list[str] | None = None, marker: str = "") -> str:
        """Queue an intent for the tails write ``owner_tag`` is about to make head ``head`` use:
        ``oids``, and with ``marker`` the tails it streams (``tail_oid(marker, owner_tag, n)``).
        Returns the key to ``forget`` it by once the head is written."""
        due = time.time() + self.min_wait_s
        return self._queue(GCEntry(uuid.uuid4().hex, due, oids or [], owner_tag, head, marker))

    def forget(self, key: str) -> None:
        """Drop the queued entry ``key`` (an intent whose head was written)."""
        with self._log() as log, rados.WriteOpCtx() as op:
            log.remove_omap_keys(op, (key,))
            log.operate_write_op(op, _shard_of(key.rsplit(".", 1)[1]))

    def list(self, include_all: bool = False) -> list[GCEntry]:
        """The queued entries: those due now, or every one with ``include_all``."""
        now = time.time()
        with self._log() as log:
            return [e for _, _, e in self._entries(log) if include_all or e.due <= now]

    def process(self, include_all: bool = False) -> int:
        """Delete what is due (or everything queued); returns how many rados objects went."""
        now = time.time()
        removed = 0
        with self._log() as log, self.zone.client.open_ioctx(DATA_POOL) as data:
            for shard, key, entry in self._entries(log):
                if not include_all and entry.due > now:
                    continue
                oids = self._due_oids(data, entry, include_all) if entry.head else entry.oids
                for oid in reversed(oids):  # a streamed write's tails stay numbered from 1 if this stops midway
                    removed += _release(data, oid, entry.owner_tag)
                with rados.WriteOpCtx() as op:
                    log.remove_omap_keys(op, (key,))
                    log.operate_write_op(op, shard)
        return removed

    def _due_oids(self, data: rados.Ioctx, intent: GCEntry, include_all: bool) -> list[str]:
        """What a due intent releases now: nothing if its write landed (or may still be
        streaming, when the intent waits again), else its tails, at once with ``include_all``
        or queued for a grace period."""
        if _idtag(data, intent.head) == intent.owner_tag:
            return []
        oids = list(intent.oids)
        if intent.marker:
            streamed, newest = _streamed_tails(data, intent.marker, intent.owner_tag)
            if time.time() - newest < self.min_wait_s:
                self._queue(replace(intent, tag=uuid.uuid4().hex, due=time.time() + self.min_wait_s))
                return []
            oids += streamed
        if include_all:
            return oids
        self.enqueue(oids, intent.owner_tag)
        return []

    def _queue(self, entry: GCEntry) -> str:
        with self._log() as log, rados.WriteOpCtx() as op:
            log.set_omap(op, (entry.key,), (entry.encode(),))
            log.operate_write_op(op, _shard_of(entry.tag))
        return entry.key

    @staticmethod
    def _entries(log: rados.Ioctx):
        for n in range(GC_SHARDS):
            shard = f"gc.{n}"
            for key, value in omap_items(log, shard):
                yield shard, key, GCEntry.decode(key, value)


def _shard_of(tag: str) -> str:
    return f"gc.{zlib.crc32(tag.encode()) % GC_SHARDS}"


def _idtag(data: rados.Ioctx, head: str) -> str:
    try:
        return data.get_xattr(head, IDTAG_ATTR).decode()
    except (rados.ObjectNotFound, rados.NoData):
        return ""


def _streamed_tails(data: rados.Ioctx, marker: str, tag: str) -> tuple[list[str], float]:
    """The tails streamed write ``tag`` wrote (numbered from 1 up to the first missing one), and
    when the newest of them was written (0 if none)."""
    oids: list[str] = []
    newest = 0.0
    while True:
        oid = tail_oid(marker, tag, len(oids) + 1)
        try:
            _, mtime = data.stat(oid)
        except rados.ObjectNotFound:
            return oids, newest
        oids.append(oid)
        newest = max(newest, time.mktime(mtime))
