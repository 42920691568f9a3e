"""The bucket index: one listing entry per object, in the omap of the bucket's index shards.

On disk (pool ``default.rgw.buckets.index``):

- Shard objects ``.dir.<marker>.<shard>``, or ``.dir.<marker>.<gen>.<shard>`` once a reshard
  has moved the index to layout generation ``gen`` (``BucketInfo.index_object``).
- A key lives on shard ``bucket_shard_index(key, num_shards)``: RGW's choice, the Linux dcache
  hash of the key's UTF-8 bytes (``ceph_str_hash_linux``), its low byte folded into the high
  one, reduced modulo a prime (7877, or 65521 above 7877 shards) and then the shard count.
- Omap key: the object key, as is. Value: ``IndexEntry.encode()``, JSON with ``key``, ``size``,
  ``etag``, ``mtime``, ``content_type``, ``owner``, ``storage_class``, ``version_id``, ``tag``
  (the write that made the head the entry describes: the head's ``idtag``), ``exists`` and
  ``pending``; ``listed_etag`` too for an object whose listing shows another hash than its ETag
  (a Swift symlink's, ``objects.LISTED_ETAG``).
- ``pending`` maps an operation tag to ``{"op": "write" | "delete", "since": <time>}``:
  ``prepare`` records it just before the object head is written, ``complete`` clears it
  afterwards, as RGW's ``pending_map``. A key that only ``prepare`` made is a placeholder
  (``exists: false``): ``get`` and ``list`` skip it, so a crash after ``prepare`` never shows
  a phantom.
- The shard header: python-rados cannot write a real omap header (RGW sets it through the
  ``cls_rgw`` object class, which ``execute`` does not offer), so the header is the omap entry
  with the empty key, which no object key can be and which sorts before every entry. JSON:
  ``ver`` (bumped by every change), ``num_objects`` and ``size`` (completed entries), and
  ``resharding``/``resharding_since`` while a reshard has frozen the shard.

Pending operations left behind (a gateway killed between its head write and ``complete``, a
head write or ``complete`` that failed) resolve themselves, as RGW's ``check_disk_state`` and
``dir_suggest_changes`` do: a listing that meets an entry whose pending operations are all
older than ``PENDING_EXPIRY_S`` (RGW's ``rgw_pending_bucket_index_op_expiration``, 120 s) asks
what the key's head says now (``RGW.versions.index_entry``: the head, or a versioned key's
current version) and makes the entry that, or removes it if there is no head, in the same
guarded write as any change, then lists what it wrote. The change applies only if the entry is
still exactly as the listing read it before asking, so an operation that lands meanwhile
always wins. A younger pending operation is left to its writer: the entry lists as it is (the
old object, or nothing for a placeholder). Entries without pending operations cost a listing
nothing more. ``check`` (``radosgw-admin bucket check``) resolves every pending entry, young or
old, and recounts the stats.

Concurrency: every change to a shard is one compound write op on the shard object that begins
with ``omap_cmp(header, <the header text read>, EQ)`` and then sets the entry and the header
with ``ver + 1`` and the new stats, so the entry and the stats change together or not at all.
A concurrent change to the same shard makes the compare fail (``ECANCELED``) and the loser
re-reads and retries; changes to different shards never meet. A process's threads do not race
each other: changes they make to one shard at once go in one write (``index_batches``). We chose this compare-and-swap
over a rados lock per shard because it costs no extra round trips, leaves nothing held when a
writer dies, and uses only plain librados ops, so it runs the same on a real Ceph cluster.

Reshard freezes each old shard by setting ``resharding`` in its header (writers then wait and
re-read the bucket instance), copies the entries to the new generation, points the instance at
it, and removes the old shards. Readers keep reading the frozen old shards until they vanish,
then re-read the instance.
"""

from __future__ import annotations

import errno
import json
import random
import time
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from librgw import rados

from .errors import IndexBusy, InvalidArgument
from .index_batches import ShardChange, ShardQueues
from .zone import INDEX_POOL, Zone

if TYPE_CHECKING:
    from .bucket_info import BucketInfo

HEADER_KEY = ""
PENDING_OPS = ("write", "delete")
SHARDS_PRIME_0 = 7877
SHARDS_PRIME_1 = 65521
MAX_KEY_CHAR = "\U0010ffff"  # sorts after every other character: prefix + it is past the prefix's keys
MIN_SHARD_PAGE = 32
MAX_SHARD_PAGE = 1000  # omap entries per read, under the OSD's per-request limit
COPY_BATCH = 500
BUSY_SECONDS = 30.0
FIRST_PAUSE_S = 0.001
MAX_PAUSE_S = 0.05
RESHARD_STALE_S = 600.0  # a frozen shard older than this belongs to a reshard that died
PENDING_EXPIRY_S = 120.0  # rgw_pending_bucket_index_op_expiration: a pending op this old has died


def ceph_str_hash_linux(data: bytes) -> int:
    """The Linux dcache string hash Ceph uses for names, on 32 bits."""
    value = 0
    for byte in data:
        value = ((value + (byte << 4) + (byte >> 4)) * 11) & 0xFFFFFFFF
    return value


def bucket_shard_index(key: str, num_shards: int) -> int:
    """The index shard of ``key``, as RGW's ``rgw_bucket_shard_index`` picks it."""
    value = ceph_str_hash_linux(key.encode())
    value = (value ^ ((value & 0xFF) << 24)) & 0xFFFFFFFF
    prime = SHARDS_PRIME_0 if num_shards <= SHARDS_PRIME_0 else SHARDS_PRIME_1
    return value % prime % num_shards


def common_prefix(key: str, prefix: str, delimiter: str) -> str:
    """The common prefix ``key`` rolls up into (through the first delimiter after ``prefix``), or ""."""
    if not delimiter or not key.startswith(prefix):
        return ""
    at = key.find(delimiter, len(prefix))
    return key[: at + len(delimiter)] if at >= 0 else ""


def usage(num_objects: int, size: int) -> dict:
    """Stats as ``radosgw-admin bucket stats`` prints them."""
    return {"rgw.main": {"size": size, "num_objects": num_objects}}


@dataclass
class PendingOp:
    """An operation on a key between ``prepare`` and ``complete``."""

    op: str  # "write" | "delete"
    since: float  # when it was prepared, seconds since the epoch

    def expired(self, now: float) -> bool:
        return now - self.since > PENDING_EXPIRY_S


@dataclass
class IndexEntry:
    """One object's listing entry."""

    key: str
    size: int
    etag: str
    mtime: float  # seconds since the epoch
    content_type: str = ""
    owner: str = ""
    storage_class: str = "STANDARD"
    version_id: str = ""  # in a versioned bucket, the current version's id
    tag: str = ""  # the write that made the head this entry describes (the head's idtag)
    exists: bool = True  # False: a placeholder that only pending operations made
    pending: dict[str, PendingOp] = field(default_factory=dict)  # by operation tag
    listed_etag: str = ""  # what a listing shows as the hash, if not ``etag`` (``objects.LISTED_ETAG``)

    def encode(self) -> bytes:
        doc = asdict(self)
        if not self.listed_etag:  # most entries have none: they are stored as before it existed
            del doc["listed_etag"]
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> IndexEntry:
        doc = json.loads(raw)
        # an op stored as a bare "write"/"delete" predates the time stamp: as old as can be
        doc["pending"] = {
            tag: PendingOp(op, 0.0) if isinstance(op, str) else PendingOp(**op) for tag, op in doc["pending"].items()
        }
        return cls(**doc)

    @classmethod
    def placeholder(cls, key: str, pending: dict[str, PendingOp]) -> IndexEntry:
        return cls(key, 0, "", 0.0, exists=False, pending=pending)


@dataclass
class ShardHeader:
    """A shard's stats over its completed entries, and its change counter."""

    ver: int = 0
    num_objects: int = 0
    size: int = 0
    resharding: str = ""  # the id of the reshard that froze this shard
    resharding_since: float = 0.0

    def account(self, old: IndexEntry | None, new: IndexEntry | None) -> None:
        """Count ``new`` instead of ``old``."""
        for entry, sign in ((old, -1), (new, 1)):
            if entry is not None and entry.exists:
                self.num_objects += sign
                self.size += sign * entry.size

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> ShardHeader:
        return cls(**json.loads(raw)) if raw else cls()


@dataclass
class ListPage:
    entries: list[IndexEntry]
    prefixes: list[str]  # common prefixes when a delimiter is given
    is_truncated: bool
    next_marker: str  # the marker for the next page; "" if not truncated

    @property
    def objects(self) -> list[IndexEntry]:
        """The entries, under the name the high-level API gives them."""
        return self.entries


def init_shard(ioctx: rados.Ioctx, oid: str) -> None:
    """Make (or empty) an index shard with a zero header, so its header is never absent while it is in use."""
    with rados.WriteOpCtx() as op:
        op.write_full(b"")
        ioctx.clear_omap(op)
        ioctx.set_omap(op, (HEADER_KEY,), (ShardHeader().encode(),))
        ioctx.operate_write_op(op, oid)


class _ShardCursor:
    """One shard's entries (placeholders included) in key order after a point, read a page at a time."""

    def __init__(self, ioctx: rados.Ioctx, oid: str, prefix: str, after: str, page: int) -> None:
        self.ioctx, self.oid, self.prefix = ioctx, oid, prefix
        self.after = after  # the last key read (or skipped to)
        self.page = page
        self.keys: list[str] = []
        self.entries: list[IndexEntry] = []
        self.pos = 0
        self.done = False

    def peek(self) -> IndexEntry | None:
        while self.pos >= len(self.keys):
            if self.done:
                return None
            self._fetch()
        return self.entries[self.pos]

    def pop(self) -> None:
        self.pos += 1

    def seek_past(self, after: str) -> None:
        """Skip every key up to ``after``, re-reading from there only if it is beyond what was read."""
        if after <= self.after:
            self.pos = max(self.pos, bisect_right(self.keys, after, self.pos))
            return
        self.keys, self.entries, self.pos = [], [], 0
        self.after = after
        self.page = MIN_SHARD_PAGE  # past a rolled-up prefix, the next one may be just as short

    def __iter__(self) -> Iterator[IndexEntry]:
        while (entry := self.peek()) is not None:
            self.pop()
            yield entry

    def _fetch(self) -> None:
        with rados.ReadOpCtx() as op:
            got, _ = self.ioctx.get_omap_vals(op, self.after, self.prefix, self.page)
            self.ioctx.operate_read_op(op, self.oid)
            rows = list(got)
        self.done = len(rows) < self.page
        after = self.after
        if rows:
            self.after = rows[-1][0]
        # start_after is exclusive in Ceph; a store that also returns a key equal to the prefix must not repeat it
        rows = [(k, v) for k, v in rows if k > after and k != HEADER_KEY]
        self.keys = [k for k, _ in rows]
        self.entries = [IndexEntry.decode(v) for _, v in rows]
        self.pos = 0
        self.page = min(self.page * 2, MAX_SHARD_PAGE)


class BucketRecords(Protocol):
    """What an index needs of the bucket store (``buckets.BucketStore``): the bucket's
    instance as it is now, and recording a new index layout after a reshard."""

    def get(self, name: str) -> BucketInfo: ...

    def set_index_layout(self, name: str, num_shards: int, index_gen: int) -> BucketInfo: ...


# The entry the head of a key says the index should have (a versioned key's current
# version's), or None: ``versioning.Versions.index_entry``, what a listing resolves a
# pending operation that expired against.
EntryOfHead = Callable[["BucketInfo", str], "IndexEntry | None"]


class BucketIndexes:
    """Opens buckets' indexes, with what every index needs given once."""

    def __init__(self, zone: Zone, buckets: BucketRecords, entry_of_head: EntryOfHead) -> None:
        self.zone = zone
        self.buckets = buckets
        self.entry_of_head = entry_of_head
        self.shard_queues = ShardQueues()

    def open(self, info: BucketInfo) -> BucketIndex:
        """The index of bucket ``info``; close it (or use it as a context manager) when done."""
        return BucketIndex(self, info)


class BucketIndex:
    """A bucket's index: two-phase entry updates, listing, stats, check and reshard."""

    def __init__(self, indexes: BucketIndexes, info: BucketInfo) -> None:
        self.buckets = indexes.buckets
        self.entry_of_head = indexes.entry_of_head
        self.shard_queues = indexes.shard_queues
        self.info = info
        self.ioctx = indexes.zone.client.open_ioctx(INDEX_POOL)

    def close(self) -> None:
        self.ioctx.close()

    def __enter__(self) -> BucketIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def shard_of(self, key: str) -> int:
        return bucket_shard_index(key, self.info.num_shards)

    # -- the two phases of a change -------------------------------------------------

    def prepare(self, key: str, tag: str, op: str) -> None:
        """Record pending operation ``tag`` (``write`` or ``delete``) on ``key``, before the head changes."""
        if op not in PENDING_OPS:
            raise InvalidArgument(f"a pending index operation is one of {PENDING_OPS}, not {op!r}")

        def change(old: IndexEntry | None) -> IndexEntry:
            entry = old or IndexEntry.placeholder(key, {})
            entry.pending[tag] = PendingOp(op, time.time())
            return entry

        self._update(key, change)

    def complete(self, key: str, tag: str, entry: IndexEntry | None, current: Callable[[], bool] | None = None) -> None:
        """The head was written (``entry``) or removed (None): set the entry, clear ``tag``, update the stats.

        ``current``, asked inside the guarded update, says whether the head is still as this
        operation left it. If a later write or delete has changed it since, only ``tag`` is
        cleared: that later operation's ``complete`` sets the entry, so the entry ends as the
        head is, in whatever order concurrent operations on one key complete."""

        def change(old: IndexEntry | None) -> IndexEntry | None:
            if current is not None and not current():
                return _without_pending(old, tag)
            pending = {t: o for t, o in (old.pending if old else {}).items() if t != tag}
            if entry is not None:
                return replace(entry, key=key, exists=True, pending=pending)
            return IndexEntry.placeholder(key, pending) if pending else None

        self._update(key, change)

    # -- reading --------------------------------------------------------------------

    def get(self, key: str) -> IndexEntry | None:
        """The completed entry of ``key``; None if absent or only pending."""
        entry = self.stored(key)
        return entry if entry is not None and entry.exists else None

    def stored(self, key: str) -> IndexEntry | None:
        """The entry of ``key`` as stored, pending operations and placeholders included."""
        while True:
            try:
                return self._read_entry(self.info.index_object(self.shard_of(key)), key)[1]
            except rados.ObjectNotFound:
                if not self._reload():
                    raise

    def suggest(self, entry: IndexEntry, current: Callable[[], bool]) -> None:
        """A reader found the head that ``entry`` describes where the index says otherwise (its
        write, ``entry.tag``, never completed): make the entry that, and forget that write's
        pending operation, if ``current()``, asked inside the guarded update, says the head is
        still that one."""

        def change(old: IndexEntry | None) -> IndexEntry | None:
            if not current():
                return old
            pending = {t: o for t, o in (old.pending if old else {}).items() if t != entry.tag}
            return replace(entry, exists=True, pending=pending)

        self._update(entry.key, change)

    def list(self, prefix: str = "", delimiter: str = "", marker: str = "", max_keys: int = 1000) -> ListPage:
        """A page of entries after ``marker`` in key order, as S3's ListObjects (v1) returns it."""
        if max_keys <= 0:
            return ListPage([], [], False, "")
        while True:
            try:
                return self._list(prefix, delimiter, marker, max_keys)
            except rados.ObjectNotFound:
                if not self._reload():
                    raise

    def stats(self) -> tuple[int, int]:
        """(objects, bytes) summed over the shards' headers."""
        headers = [self._read_header(oid)[1] for oid in self.info.index_objects()]
        return sum(h.num_objects for h in headers), sum(h.size for h in headers)

    def holds_objects(self) -> bool:
        """Whether any key has an object, as a bucket delete asks (RGW's ``check_bucket_empty``,
        whose listing checks each pending entry's head): an entry whose pending operations left
        no head (a write cut off before its head, whatever its age) does not count, and is
        removed on the way, so it never keeps an empty bucket from being deleted. Stops at the
        first entry that counts."""
        for oid in self.info.index_objects():
            for entry in _ShardCursor(self.ioctx, oid, "", "", MIN_SHARD_PAGE):
                if not entry.pending or self._resolve(entry, self._head_of(entry.key)) is not None:
                    return True
        return False

    # -- repair and reshard ---------------------------------------------------------

    def check(self, head_of: Callable[[str], IndexEntry | None] | None = None, fix: bool = False) -> dict:
        """Resolve pending entries against ``head_of(key)`` (the entry the key's head says it
        should have, None if no head; by default as a listing asks it) and compare the header
        stats with the entries; with ``fix``, rewrite both to match."""
        head_of = head_of or self._head_of
        pending: list[dict] = []
        calculated = ShardHeader()
        existing = ShardHeader()
        for shard, oid in enumerate(self.info.index_objects()):
            header = self._read_header(oid)[1]
            existing.num_objects += header.num_objects
            existing.size += header.size
            for entry in _ShardCursor(self.ioctx, oid, "", "", MAX_SHARD_PAGE):
                truth = entry
                if entry.pending:
                    truth = head_of(entry.key)
                    pending.append(_pending_report(shard, entry, truth))
                    if fix:
                        self._resolve(entry, truth)
                calculated.account(None, truth)
            if fix:
                self._recount(oid)
        return {
            "pending_entries": pending,
            "check_result": {
                "existing_header": {"usage": usage(existing.num_objects, existing.size)},
                "calculated_header": {"usage": usage(calculated.num_objects, calculated.size)},
            },
            "fixed": fix,
        }

    def reshard(self, num_shards: int) -> BucketInfo:
        """Move the index online to a new generation of ``num_shards`` shards; returns the new instance."""
        if num_shards < 1:
            raise InvalidArgument("a bucket needs at least one index shard")
        self._reload()
        old = self.info
        new = replace(old, num_shards=num_shards, index_gen=old.index_gen + 1)
        claim = uuid.uuid4().hex
        for oid in old.index_objects():
            self._freeze(oid, claim)
        self._copy(old, new)
        self.info = self.buckets.set_index_layout(old.name, num_shards, new.index_gen)
        for oid in old.index_objects():
            try:
                self.ioctx.remove_object(oid)
            except rados.ObjectNotFound:
                pass
        return self.info

    # -- internals --------------------------------------------------------------------

    def _list(self, prefix: str, delimiter: str, marker: str, max_keys: int) -> ListPage:
        page = min(max(MIN_SHARD_PAGE, 2 * (max_keys + 1) // self.info.num_shards), MAX_SHARD_PAGE)
        cursors = [_ShardCursor(self.ioctx, oid, prefix, marker, page) for oid in self.info.index_objects()]
        skipping = common_prefix(marker, prefix, delimiter)  # a marker inside a common prefix: skip all of it
        if skipping:
            for cursor in cursors:
                cursor.seek_past(skipping + MAX_KEY_CHAR)
        entries: list[IndexEntry] = []
        prefixes: list[str] = []
        last = ""
        while True:
            live = [(entry.key, cursor) for cursor in cursors if (entry := cursor.peek()) is not None]
            if not live:
                return ListPage(entries, prefixes, False, "")
            key, cursor = min(live, key=lambda pair: pair[0])
            entry = cursor.peek()
            rolled = common_prefix(key, prefix, delimiter)
            if entry.pending and not (rolled and rolled == skipping):
                entry = self._settled(entry)
            if entry is None or not entry.exists or (rolled and rolled == skipping):
                cursor.pop()
                continue
            if len(entries) + len(prefixes) == max_keys:
                return ListPage(entries, prefixes, True, last)
            if rolled:
                prefixes.append(rolled)
                skipping = last = rolled
                for each in cursors:
                    each.seek_past(rolled + MAX_KEY_CHAR)
            else:
                entries.append(entry)
                last = key
                cursor.pop()

    def _update(self, key: str, change: Callable[[IndexEntry | None], IndexEntry | None]) -> IndexEntry | None:
        """Apply ``change`` to the entry of ``key`` and the shard's stats in one guarded write, with
        the changes other threads of this process make to the shard meanwhile (``index_batches``);
        retry on a race. Returns the entry as it then is."""
        deadline = time.monotonic() + BUSY_SECONDS
        pause = FIRST_PAUSE_S
        while True:
            oid = self.info.index_object(self.shard_of(key))
            asked = ShardChange(key, change)
            self.shard_queues.apply(oid, asked, self._write_batch)
            if asked.error is not None:
                raise asked.error
            if asked.stale is None:
                return asked.result
            if isinstance(asked.stale, rados.ObjectNotFound):
                if not self._reload():
                    raise asked.stale
                continue
            self._reload()  # the shard is frozen by a reshard: wait for the new index
            if time.monotonic() > deadline:
                raise IndexBusy(f"index shard {oid} of bucket {self.info.name!r} stayed busy")
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, MAX_PAUSE_S)

    def _write_batch(self, oid: str, batch: list[ShardChange]) -> None:
        """Apply the changes of ``batch`` in order, in one guarded write of shard ``oid``; on a race
        with another process, read again and apply them again."""
        deadline = time.monotonic() + BUSY_SECONDS
        pause = FIRST_PAUSE_S
        while True:
            live = [asked for asked in batch if asked.error is None]
            try:
                raw, stored = self._read_entries(oid, {asked.key for asked in live})
            except rados.ObjectNotFound as e:
                for asked in live:
                    asked.stale = e
                return
            header = ShardHeader.decode(raw)
            if header.resharding:
                for asked in live:
                    asked.stale = "resharding"
                return
            changed: set[str] = set()
            for asked in live:
                old = stored.get(asked.key)
                try:
                    new = asked.change(replace(old, pending=dict(old.pending)) if old else None)
                except Exception as e:
                    asked.error = e
                    continue
                asked.result = new
                if new != old:
                    header.account(old, new)
                    stored[asked.key] = new
                    changed.add(asked.key)
            if not changed:
                return
            puts = [stored[key] for key in sorted(changed) if stored[key] is not None]
            removes = [key for key in sorted(changed) if stored[key] is None]
            if self._commit(oid, raw, header, puts, removes):
                return
            if time.monotonic() > deadline:
                raise IndexBusy(f"index shard {oid} of bucket {self.info.name!r} stayed busy")
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, MAX_PAUSE_S)

    def _commit(
        self, oid: str, raw_header: bytes, header: ShardHeader, puts: list[IndexEntry], removes: list[str]
    ) -> bool:
        """Write entries and the header if the header is still ``raw_header``; False if another change won."""
        header.ver += 1
        with rados.WriteOpCtx() as op:
            op.omap_cmp(HEADER_KEY, raw_header.decode(), rados.LIBRADOS_CMPXATTR_OP_EQ)  # python-rados takes str
            keys = [HEADER_KEY, *(e.key for e in puts)]
            self.ioctx.set_omap(op, keys, [header.encode(), *(e.encode() for e in puts)])
            if removes:
                self.ioctx.remove_omap_keys(op, removes)
            try:
                self.ioctx.operate_write_op(op, oid)
            except rados.Error as e:
                if e.errno != errno.ECANCELED:
                    raise
                return False
        return True

    def _read_entry(self, oid: str, key: str) -> tuple[bytes, IndexEntry | None]:
        """The shard's raw header and the entry of ``key``, read together."""
        raw, entries = self._read_entries(oid, {key})
        return raw, entries.get(key)

    def _read_entries(self, oid: str, keys: set[str]) -> tuple[bytes, dict[str, IndexEntry | None]]:
        """The shard's raw header and the entries of ``keys`` (None where there is none), read together."""
        with rados.ReadOpCtx() as op:
            got, _ = self.ioctx.get_omap_vals_by_keys(op, (HEADER_KEY, *sorted(keys)))
            self.ioctx.operate_read_op(op, oid)
            found = dict(got)
        entries = {key: IndexEntry.decode(found[key]) if key in found else None for key in keys}
        return found.get(HEADER_KEY, b""), entries

    def _read_header(self, oid: str) -> tuple[bytes, ShardHeader]:
        with rados.ReadOpCtx() as op:
            got, _ = self.ioctx.get_omap_vals_by_keys(op, (HEADER_KEY,))
            self.ioctx.operate_read_op(op, oid)
            raw = dict(got).get(HEADER_KEY, b"")
        return raw, ShardHeader.decode(raw)

    def _reload(self) -> bool:
        """Re-read the bucket instance; whether the index moved (a reshard finished)."""
        info = self.buckets.get(self.info.name)
        moved = (info.marker, info.index_gen) != (self.info.marker, self.info.index_gen)
        self.info = info
        return moved

    def _head_of(self, key: str) -> IndexEntry | None:
        """The entry the head of ``key`` says it should have (a versioned key's current version's), or None."""
        return self.entry_of_head(self.info, key)

    def _settled(self, seen: IndexEntry) -> IndexEntry | None:
        """The entry ``seen`` (as a listing read it) to list: as it is while any of its pending
        operations is young, else resolved against the head."""
        now = time.time()
        if not all(op.expired(now) for op in seen.pending.values()):
            return seen
        try:
            return self._resolve(seen, self._head_of(seen.key))
        except rados.ObjectNotFound:
            raise  # a reshard moved the index: the listing starts again on the new one
        except (rados.Error, IndexBusy):
            return seen  # a repair is a favour: a cluster that cannot do it now lists the entry as read

    def _resolve(self, seen: IndexEntry, truth: IndexEntry | None) -> IndexEntry | None:
        """Make the entry what the head says (``truth``; None: no head), if it is still ``seen``,
        as read before the head was asked; a change since (a writer completing, another
        starting) wins. Returns the entry as it then is."""

        def change(old: IndexEntry | None) -> IndexEntry | None:
            if old != seen:
                return old
            return replace(truth, key=seen.key, exists=True, pending={}) if truth is not None else None

        return self._update(seen.key, change)

    def _recount(self, oid: str) -> None:
        """Set the shard's header stats to its entries', if no change lands while they are counted."""
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            raw, header = self._read_header(oid)
            counted = ShardHeader(header.ver, 0, 0, header.resharding, header.resharding_since)
            for entry in _ShardCursor(self.ioctx, oid, "", "", MAX_SHARD_PAGE):
                counted.account(None, entry)
            if (counted.num_objects, counted.size) == (header.num_objects, header.size) and raw:
                return
            if self._commit(oid, raw, counted, [], []):
                return
            if time.monotonic() > deadline:
                raise IndexBusy(f"index shard {oid} of bucket {self.info.name!r} kept changing")

    def _freeze(self, oid: str, claim: str) -> None:
        """Stop writers on an old shard: mark it as being resharded by ``claim``."""
        while True:
            raw, header = self._read_header(oid)
            if header.resharding and time.time() - header.resharding_since < RESHARD_STALE_S:
                raise IndexBusy(f"bucket {self.info.name!r} is being resharded")
            header.resharding, header.resharding_since = claim, time.time()
            if self._commit(oid, raw, header, [], []):
                return

    def _copy(self, old: BucketInfo, new: BucketInfo) -> None:
        """Copy every entry of the frozen ``old`` shards into ``new``'s, and set their headers."""
        targets = new.index_objects()
        for oid in targets:
            init_shard(self.ioctx, oid)  # also empties the leftovers of a reshard that died
        headers = [ShardHeader() for _ in targets]
        batches: list[list[IndexEntry]] = [[] for _ in targets]
        for oid in old.index_objects():
            for entry in _ShardCursor(self.ioctx, oid, "", "", MAX_SHARD_PAGE):
                shard = bucket_shard_index(entry.key, new.num_shards)
                headers[shard].account(None, entry)
                batches[shard].append(entry)
                if len(batches[shard]) >= COPY_BATCH:
                    self._put(targets[shard], batches[shard])
                    batches[shard] = []
        for oid, batch, header in zip(targets, batches, headers, strict=True):
            self._put(oid, batch, header)

    def _put(self, oid: str, entries: list[IndexEntry], header: ShardHeader | None = None) -> None:
        with rados.WriteOpCtx() as op:
            keys = [e.key for e in entries]
            values = [e.encode() for e in entries]
            if header is not None:
                keys.append(HEADER_KEY)
                values.append(header.encode())
            self.ioctx.set_omap(op, keys, values)
            self.ioctx.operate_write_op(op, oid)


def _without_pending(old: IndexEntry | None, tag: str) -> IndexEntry | None:
    """``old`` without pending operation ``tag``; None if only that operation had made it."""
    if old is None:
        return None
    pending = {t: o for t, o in old.pending.items() if t != tag}
    return replace(old, pending=pending) if old.exists or pending else None


def _pending_report(shard: int, entry: IndexEntry, truth: IndexEntry | None) -> dict:
    if truth is not None:
        action = "restore"
    else:
        action = "remove" if entry.exists else "drop"
    return {
        "key": entry.key,
        "shard": shard,
        "pending": {tag: asdict(op) for tag, op in entry.pending.items()},
        "head": "present" if truth is not None else "absent",
        "action": action,
    }
