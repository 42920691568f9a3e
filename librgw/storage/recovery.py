"""Recovery and backfill: bring every PG the map lists in ``pg_recovery`` back to full redundancy.

Peering (``peering.py``) records, per PG, the copies that joined its acting set (backfill
targets, which may lack objects or hold stale ones) and the copies that left it (strays).
Recovery then works PG by PG:

1. it lists the objects on the PG's authoritative copies and on its targets;
2. object by object, under the PG lock (client ops interleave between objects), it makes
   every target hold the authoritative version: copied whole from a source in a replicated
   pool; in an EC pool the target's shard is rebuilt by decoding k shards and re-encoding.
   An object the sources do not have is removed from the targets (it was deleted while the
   target was away);
3. once the acting set is full, it removes the PG from its strays, and clears the PG's entry
   in the map unless a map change rewrote it meanwhile (then the next pass takes it again).

Each step compares versions before it copies, so recovery is idempotent: killed halfway, the
next run skips what is done. A client write to a PG under recovery first recovers the object
it touches (``recover_object``), so a partial write never lands on a stale copy. Recovery
pauses ``osd recovery sleep`` seconds after each object. While it runs, its progress is kept
in ``recovery.json`` in the cluster directory for ``status`` to show.
"""

from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .atomic_file import atomic_write
from .errors import OSDFailure, StorageError
from .osd_store import ObjectInfo, ObjectKey, ObjectRecord, Transaction
from .osdmap import Copy, PGRecovery, PoolInfo, parse_pgid, pgid
from .peering import is_up, settle

if TYPE_CHECKING:
    from .cluster import Cluster

PROGRESS_FILE = "recovery.json"
PROGRESS_EVERY_S = 1.0
MAX_PASSES = 5


@dataclass
class RecoveryProgress:
    """What a recovery run has done so far; ``report`` is called with it as it goes."""

    pgs_total: int = 0
    pgs_done: int = 0
    objects_total: int = 0
    objects_done: int = 0
    objects_copied: int = 0
    bytes_copied: int = 0
    objects_removed: int = 0
    started: float = field(default_factory=time.time)
    incomplete: list[str] = field(default_factory=list)  # pgids with too few authoritative copies up

    @property
    def elapsed(self) -> float:
        return max(time.time() - self.started, 1e-9)

    @property
    def eta_s(self) -> float | None:
        if not self.objects_done or self.objects_done >= self.objects_total:
            return None
        return self.elapsed / self.objects_done * (self.objects_total - self.objects_done)

    def to_json(self) -> dict:
        return {
            "pid": os.getpid(),
            "pgs_total": self.pgs_total,
            "pgs_done": self.pgs_done,
            "objects_total": self.objects_total,
            "objects_done": self.objects_done,
            "objects_copied": self.objects_copied,
            "bytes_copied": self.bytes_copied,
            "objects_removed": self.objects_removed,
            "started": self.started,
            "elapsed_s": round(self.elapsed, 3),
            "objects_per_s": round(self.objects_done / self.elapsed, 1),
            "bytes_per_s": round(self.bytes_copied / self.elapsed),
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            "incomplete": self.incomplete,
        }


def recover(cluster: Cluster, report: Callable[[RecoveryProgress], None] | None = None) -> RecoveryProgress:
    """Recover every PG that needs it; returns the totals. Safe to run again, or concurrently."""
    cluster.heartbeat(force=True)
    progress = RecoveryProgress()
    progress_path = cluster.conf.cluster_dir / PROGRESS_FILE
    last_report = 0.0

    def tick(force: bool = False) -> None:
        nonlocal last_report
        if force or time.monotonic() - last_report >= PROGRESS_EVERY_S:
            last_report = time.monotonic()
            atomic_write(progress_path, json.dumps(progress.to_json()).encode())
            if report is not None:
                report(progress)

    try:
        for _ in range(MAX_PASSES):
            work = _work(cluster, progress)
            if not work:
                break
            for pool, pg, rec, names in work:
                if names is None or not _recover_pg(cluster, pool, pg, rec, names, progress, tick):
                    progress.incomplete.append(pgid(pool.id, pg))
                progress.pgs_done += 1
                tick()
            if progress.incomplete:
                break
        tick(force=True)
    finally:
        progress_path.unlink(missing_ok=True)
    return progress


def read_progress(cluster: Cluster) -> dict | None:
    """The progress a recovery running now has saved, if any (``status`` shows it)."""
    try:
        doc = json.loads((cluster.conf.cluster_dir / PROGRESS_FILE).read_bytes())
        os.kill(doc["pid"], 0)
    except (OSError, ValueError, KeyError):
        return None
    return doc


def _work(cluster: Cluster, progress: RecoveryProgress) -> list[tuple[PoolInfo, int, PGRecovery, set | None]]:
    """The PGs to recover now, each with the objects its authoritative copies hold (None if
    too few of those are up), counted into ``progress``'s totals. Objects written later reach
    the targets by themselves: a write to a PG under recovery recovers its object first."""
    osdmap = cluster.osdmap
    work = []
    for pid, rec in sorted(osdmap.pg_recovery.items()):
        pool_id, pg = parse_pgid(pid)
        pool = osdmap.pools.get(pool_id)
        if pool is None or not (rec.targets or rec.strays):
            continue  # only down copies that missed nothing: nothing to copy until they return
        try:
            names = _source_objects(cluster, pool, pg)
        except StorageError as e:
            if e.errno != errno.EAGAIN:
                raise
            names = None
        progress.objects_total += len(names or ())
        work.append((pool, pg, rec, names))
    progress.pgs_total += len(work)
    return work


def _source_objects(cluster: Cluster, pool: PoolInfo, pg: int) -> set[tuple[str, str]]:
    names: set[tuple[str, str]] = set()
    for _, osd in cluster.read_sources(pool, pg):
        listing = _listing(cluster, osd, pool, pg)
        if listing is not None:
            names.update(listing)
    return names


def _listing(cluster: Cluster, osd: int, pool: PoolInfo, pg: int) -> set[tuple[str, str]] | None:
    try:
        return {(k.ns, k.name) for k in cluster.store(osd).pg_objects(pool.id, pg)}
    except OSDFailure as f:
        cluster.osd_failed(f)
        return None


def _recover_pg(
    cluster: Cluster, pool: PoolInfo, pg: int, rec: PGRecovery, names: set, progress: RecoveryProgress, tick
) -> bool:
    """Recover the objects ``names`` of one PG, and whatever its targets hold beyond them."""
    acting = cluster.acting(pool, pg)
    names = set(names)
    for _, osd in [c for c in rec.targets if c in acting]:
        names |= _listing(cluster, osd, pool, pg) or set()
    for ns, name in sorted(names):
        with cluster.pg_locks.hold(pool.id, pg):
            copied, removed = recover_object(cluster, pool, pg, ns, name)
        progress.objects_done += 1
        progress.objects_copied += copied > 0
        progress.bytes_copied += copied
        progress.objects_removed += removed
        tick()
        if cluster.conf.recovery_sleep:
            time.sleep(cluster.conf.recovery_sleep)
    _finish_pg(cluster, pool, pg, rec)
    return True


def _finish_pg(cluster: Cluster, pool: PoolInfo, pg: int, rec: PGRecovery) -> None:
    """Drop the strays' copies once the acting set is whole, and the PG's entry in the map."""
    pid = pgid(pool.id, pg)
    whole = len(cluster.acting(pool, pg)) >= pool.size
    if whole:
        with cluster.pg_locks.hold(pool.id, pg):
            if cluster.osdmap.pg_recovery.get(pid) != rec:
                return
            for shard, osd in rec.strays:
                if is_up(cluster.osdmap, osd):
                    try:
                        cluster.store(osd).purge_pg(pool.id, pg, shard)
                    except OSDFailure as f:
                        cluster.osd_failed(f)
    with cluster.changing_map() as osdmap:
        if osdmap.pg_recovery.get(pid) != rec:
            return  # the map moved on meanwhile: the next pass recovers the PG again
        settle(osdmap, pool, pg, PGRecovery([], [] if whole else rec.strays, rec.current))


def recover_object(cluster: Cluster, pool: PoolInfo, pg: int, ns: str, name: str) -> tuple[int, int]:
    """Bring the PG's backfill targets to the authoritative version of one object.

    The caller holds the PG lock. Returns (bytes copied, copies removed).
    """
    rec = cluster.osdmap.pg_recovery.get(pgid(pool.id, pg))
    if rec is None:
        return 0, 0
    acting = cluster.acting(pool, pg)
    targets = [c for c in rec.targets if c in acting]
    if not targets:
        return 0, 0
    if pool.type == "erasure":
        return _recover_ec_object(cluster, pool, pg, ns, name, targets)
    return _recover_replicated_object(cluster, pool, pg, ns, name, targets)


def _stat(cluster: Cluster, osd: int, key: ObjectKey) -> ObjectInfo | None:
    """The copy's info, None if absent; raises OSDFailure (after marking the OSD down)."""
    try:
        return cluster.store(osd).stat(key)
    except OSDFailure as f:
        cluster.osd_failed(f)
        raise
    except StorageError as e:
        if e.errno == errno.ENOENT:
            return None
        raise


def _same(a: ObjectInfo | None, b: ObjectInfo | None) -> bool:
    """The same version of a replicated object."""
    return _same_version(a, b) and (a is None or a.size == b.size)


def _same_version(a: ObjectInfo | None, b: ObjectInfo | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.version, a.data_version) == (b.version, b.data_version)


def _recover_replicated_object(
    cluster: Cluster, pool: PoolInfo, pg: int, ns: str, name: str, targets: list[Copy]
) -> tuple[int, int]:
    key = ObjectKey(pool.id, pg, ns, name)
    newest: list[tuple[ObjectInfo, int]] = []
    for _, osd in cluster.read_sources(pool, pg):
        try:
            info = _stat(cluster, osd, key)
        except OSDFailure:
            continue
        if info is not None:
            newest.append((info, osd))
    newest.sort(key=lambda pair: pair[0].version, reverse=True)
    stale = [c for c in targets if not _same(_stat_or_skip(cluster, c[1], key), newest[0][0] if newest else None)]
    if not stale:
        return 0, 0
    if not newest:
        _restore(cluster, pool, pg, [(c, _remove_txn(key)) for c in stale])
        return 0, len(stale)
    record = _export(cluster, key, [osd for info, osd in newest if info.version == newest[0][0].version])
    _restore(cluster, pool, pg, [(c, _restore_txn(key, record)) for c in stale])
    return record.info.size * len(stale), 0


def _stat_or_skip(cluster: Cluster, osd: int, key: ObjectKey) -> ObjectInfo | None:
    try:
        return _stat(cluster, osd, key)
    except OSDFailure:
        return None


def _export(cluster: Cluster, key: ObjectKey, holders: list[int]) -> ObjectRecord:
    """The object from the first holder whose copy reads back clean."""
    error: StorageError | None = None
    for osd in holders:
        try:
            return cluster.store(osd).export_object(key)
        except OSDFailure as f:
            cluster.osd_failed(f)
            error = f
        except StorageError as e:
            if e.errno != errno.EIO:
                raise
            error = e
    raise error or StorageError(errno.EIO, f"{key}: no readable authoritative copy")


def _remove_txn(key: ObjectKey) -> Transaction:
    now = time.time_ns()
    return Transaction(key, [("remove",)], now, now)


def _restore_txn(key: ObjectKey, record: ObjectRecord) -> Transaction:
    return Transaction(key, [("restore", record)], record.info.version, record.info.mtime_ns)


def _restore(cluster: Cluster, pool: PoolInfo, pg: int, txns: list[tuple[Copy, Transaction]]) -> None:
    cluster.apply_transactions(pool, pg, txns, need=0)  # a target that fails is marked down, no longer one


def _recover_ec_object(
    cluster: Cluster, pool: PoolInfo, pg: int, ns: str, name: str, targets: list[Copy]
) -> tuple[int, int]:
    try:
        info, holders = cluster.ec_newest(pool, pg, ns, name, locked=True)
    except StorageError as e:
        if e.errno != errno.ENOENT:
            raise
        info, holders = None, []
    stale = [
        (shard, osd)
        for shard, osd in targets
        if not _same_version(_stat_or_skip(cluster, osd, ObjectKey(pool.id, pg, ns, name, shard)), info)
    ]
    if not stale:
        return 0, 0
    if info is None:
        _restore(cluster, pool, pg, [(c, _remove_txn(ObjectKey(pool.id, pg, ns, name, c[0]))) for c in stale])
        return 0, len(stale)
    data = cluster.ec_read(pool, pg, ns, name, 0, info.logical_size, locked=True)
    shards = cluster.codec(pool).encode(data)
    holder_shard, holder_osd = holders[0]
    holder = cluster.store(holder_osd)
    holder_key = ObjectKey(pool.id, pg, ns, name, holder_shard)
    holder_info, xattrs = holder.stat(holder_key), holder.get_xattrs(holder_key)  # not its data: decoded above
    txns = []
    for shard, osd in stale:
        key = ObjectKey(pool.id, pg, ns, name, shard)
        record = ObjectRecord(replace(holder_info, size=len(shards[shard])), shards[shard], xattrs)
        txns.append(((shard, osd), _restore_txn(key, record)))
    _restore(cluster, pool, pg, txns)
    return sum(len(shards[s]) for s, _ in stale), 0
