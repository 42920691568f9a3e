"""Recovery and backfill: bring every PG back to full redundancy, what Ceph's OSDs do by
themselves; here ``librgw recover`` runs it.

Every PG is peered first (``peering.py``), which tells what each of its copies is. Then, PG
by PG, object by object and each under the PG lock (client ops interleave between objects):

1. **log-based recovery**: each recovering copy (one that was away briefly: its log met the
   authoritative one) gets exactly the objects of its missing set, copied (replicated) or
   rebuilt from k shards (EC) from the copies that hold them;
2. **backfill**: each copy too far behind for its log (new, returned after a long time, or
   from before PG logs) is walked object by object in name order from its backfill cursor,
   every object compared with the authoritative version and copied where it differs, objects
   it has that the PG has not removed; the cursor is saved as it goes, so a killed backfill
   resumes where it stopped;
3. once every copy of the up set is complete, the PG is peered again on the up set alone and
   the strays (copies on OSDs that no longer serve the PG) are removed.

An object no copy can give is **unfound**: it is recorded for its PG (``pg <id>
list_unfound``), recovery goes on with everything else, and the PG stays degraded until its
OSDs return or an operator gives it up (``mark_unfound_lost revert|delete``). A PG with too
few of its latest-history copies up is **incomplete**, and one whose up set lacks an OSD that
is down but still in waits for it; both are reported, the latter with when that OSD will be
marked out (``mon osd down out interval``) and its data re-replicated elsewhere.

Each step compares versions first, so recovery is idempotent and safe to run concurrently,
and pauses ``osd recovery sleep`` seconds after each object. Its progress is kept in
``recovery.json`` in the cluster directory while it runs, for ``status`` to show.
"""

from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .atomic_file import atomic_write
from .errors import OSDFailure, StorageError, Unfound
from .osd_service import OSDService, is_up
from .osdmap import Copy, PoolInfo, pgid
from .peering import active_state, peer
from .pg import require_writable
from .pg_log import Eversion, LogUpdate, ObjectName, PGInfo
from .pg_recovery import (
    missing_objects,
    recover_one,
    reference_version,
    same_version,
    settle_roles,
    version_on,
)
from .pg_state import BACKFILL, COMPLETE, RECOVERING, ActiveState
from .placement import crush_set
from .store_records import ObjectKey, Transaction

PROGRESS_FILE = "recovery.json"
PROGRESS_EVERY_S = 1.0
MAX_PASSES = 5
CURSOR_EVERY = 64  # a backfill saves its cursor after this many objects


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
    incomplete: list[str] = field(default_factory=list)  # pgids whose latest history is on down OSDs
    unfound: dict[str, int] = field(default_factory=dict)  # pgid -> objects no copy can give
    waiting: list[dict] = field(default_factory=list)  # down-but-in OSDs the PGs wait for

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
            "unfound": self.unfound,
            "waiting": self.waiting,
        }


@dataclass
class _PGWork:
    pool: PoolInfo
    pg: int
    missing: dict[ObjectName, list[Copy]]
    backfill: list[Copy]
    strays: list[Copy]


def recover(svc: OSDService, report: Callable[[RecoveryProgress], None] | None = None) -> RecoveryProgress:
    """Recover every PG that needs it; returns the totals. Safe to run again, or concurrently."""
    svc.heartbeat(force=True)
    progress = RecoveryProgress()
    progress_path = svc.conf.cluster_dir / PROGRESS_FILE
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
            progress.incomplete.clear()
            work = _work(svc, progress)
            if not work:
                break
            for item in work:
                _recover_pg(svc, item, progress, tick)
                progress.pgs_done += 1
                tick()
        progress.unfound = {pgid(p, g): n for (p, g), n in sorted(svc.history.all_unfound().items())}
        progress.waiting = waiting_osds(svc)
        tick(force=True)
    finally:
        progress_path.unlink(missing_ok=True)
    return progress


def read_progress(svc: OSDService) -> dict | None:
    """The progress a recovery running now has saved, if any (``status`` shows it)."""
    try:
        doc = json.loads((svc.conf.cluster_dir / PROGRESS_FILE).read_bytes())
        os.kill(doc["pid"], 0)
    except (OSError, ValueError, KeyError):
        return None
    return doc


def _work(svc: OSDService, progress: RecoveryProgress) -> list[_PGWork]:
    """The PGs with something to recover now, counted into ``progress``'s totals."""
    work = []
    for pool in sorted(svc.osdmap.pools.values(), key=lambda p: p.id):
        for pg in range(pool.pg_num):
            try:
                state = active_state(svc, pool, pg, locked=False)
            except StorageError as e:
                if e.errno != errno.EAGAIN:
                    raise
                progress.incomplete.append(pgid(pool.id, pg))
                continue
            if state.incomplete:
                progress.incomplete.append(pgid(pool.id, pg))
                continue
            item = _PGWork(
                pool,
                pg,
                missing_objects(svc, pool, pg, state),
                [c.copy for c in state.with_role(BACKFILL)],
                stray_copies(svc, pool, pg),
            )
            settling = any(c.role != COMPLETE for c in state.copies)  # copies whose missing set emptied meanwhile
            if item.missing or item.backfill or item.strays or settling:
                progress.objects_total += len(item.missing) + _backfill_size(svc, pool, pg, state, item.backfill)
                work.append(item)
    progress.pgs_total += len(work)
    return work


def stray_copies(svc: OSDService, pool: PoolInfo, pg: int) -> list[Copy]:
    """Copies of the PG on up OSDs outside its up set: its strays."""
    up = set(svc.up_copies(pool, pg))
    strays = []
    for osd in sorted(o.id for o in svc.osdmap.osds.values() if o.up):
        try:
            shards = svc.store(osd).pg_infos(pool.id, pg)
        except OSDFailure as f:
            svc.osd_failed(f)
            continue
        strays += [(shard, osd) for shard in shards if (shard, osd) not in up]
    return strays


def _backfill_size(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, targets: list[Copy]) -> int:
    if not targets:
        return 0
    source = state.with_role(COMPLETE)[:1]
    if not source:
        return 0
    counts = svc.store(source[0].osd).pg_stats(pool.id)
    return counts.get(pg, (0, 0))[0] * len(targets)


def _recover_pg(svc: OSDService, item: _PGWork, progress: RecoveryProgress, tick) -> None:
    pool, pg = item.pool, item.pg
    unfound: dict[ObjectName, Eversion] = {}
    for obj, targets in sorted(item.missing.items()):
        with svc.pg_locks.hold(pool.id, pg):
            state = active_state(svc, pool, pg, locked=True)
            targets = [c for c in targets if c in {x.copy for x in state.with_role(RECOVERING)}]
            if targets:
                try:
                    copied = recover_one(svc, pool, pg, state, obj, targets)
                    progress.objects_copied += copied > 0
                    progress.bytes_copied += copied
                except Unfound:
                    unfound[obj] = Eversion(0, 0)
        progress.objects_done += 1
        tick()
        _pause(svc)
    with svc.pg_locks.hold(pool.id, pg):
        state = active_state(svc, pool, pg, locked=True)
        svc.history.set_unfound(pool.id, pg, _needs(svc, pool, pg, state, unfound))
        svc.record_state(pool, pg, settle_roles(svc, pool, pg, state))
    for target in item.backfill:
        _backfill(svc, pool, pg, target, progress, tick)
    _finish(svc, pool, pg, progress)


def _needs(
    svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, unfound: dict[ObjectName, Eversion]
) -> dict[ObjectName, Eversion]:
    """The versions the unfound objects are needed at, from the missing sets naming them."""
    needs = dict(unfound)
    for c in state.with_role(RECOVERING):
        for obj, version in svc.store(c.osd).pg_missing(pool.id, pg, c.shard).items():
            if obj in needs:
                needs[obj] = version
    return needs


def _pause(svc: OSDService) -> None:
    if svc.conf.recovery_sleep:
        time.sleep(svc.conf.recovery_sleep)


# -- backfill -------------------------------------------------------------------------------


def _backfill(svc: OSDService, pool: PoolInfo, pg: int, target: Copy, progress: RecoveryProgress, tick) -> None:
    shard, osd = target
    info = _info(svc, pool, pg, target)
    if info is None or info.backfill is None:
        return
    with svc.pg_locks.hold(pool.id, pg):
        state = active_state(svc, pool, pg, locked=True)
        complete = state.with_role(COMPLETE)
        if target not in {c.copy for c in state.with_role(BACKFILL)} or not complete:
            return
        names = set(_names(svc, pool, pg, complete[0].copy)) | set(_names(svc, pool, pg, target))
    done = 0
    for obj in sorted(n for n in names if n > info.backfill):
        with svc.pg_locks.hold(pool.id, pg):
            state = active_state(svc, pool, pg, locked=True)
            if target not in {c.copy for c in state.with_role(BACKFILL)}:
                return  # peered again meanwhile: the next pass takes it from its cursor
            copied, removed = _backfill_object(svc, pool, pg, state, target, obj)
            done += 1
            if done % CURSOR_EVERY == 0:
                _save_cursor(svc, pool, pg, target, obj)
        progress.objects_done += 1
        progress.objects_copied += copied > 0
        progress.bytes_copied += copied
        progress.objects_removed += removed
        tick()
        _pause(svc)
    with svc.pg_locks.hold(pool.id, pg):
        state = active_state(svc, pool, pg, locked=True)
        if target not in {c.copy for c in state.with_role(BACKFILL)}:
            return
        _save_cursor(svc, pool, pg, target, None)
        copies = [c if c.copy != target else type(c)(shard, osd, COMPLETE) for c in state.copies]
        svc.record_state(pool, pg, ActiveState(state.epoch, state.seq, state.up, copies, state.dirty))


def _info(svc: OSDService, pool: PoolInfo, pg: int, copy: Copy) -> PGInfo | None:
    return svc.store(copy[1]).pg_infos(pool.id, pg).get(copy[0])


def _names(svc: OSDService, pool: PoolInfo, pg: int, copy: Copy) -> list[ObjectName]:
    shard = copy[0] if pool.type == "erasure" else None
    return [(k.ns, k.name) for k in svc.store(copy[1]).pg_objects(pool.id, pg, shard)]


def _backfill_object(
    svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, target: Copy, obj: ObjectName
) -> tuple[int, int]:
    """Bring one object of the target to the authoritative version; (bytes copied, removed)."""
    reference = reference_version(svc, pool, pg, state, obj)
    held = version_on(svc, pool, pg, target, obj)
    if same_version(reference, held):
        return 0, 0
    try:
        copied = recover_one(svc, pool, pg, state, obj, [target])
    except Unfound:
        return 0, 0  # left for the PG's log-based recovery to report
    return copied, int(reference is None and held is not None)


def _save_cursor(svc: OSDService, pool: PoolInfo, pg: int, target: Copy, cursor: ObjectName | None) -> None:
    info = _info(svc, pool, pg, target)
    if info is None:
        return
    info.backfill = cursor
    outcome = svc.apply_transactions([(target, Transaction.pg_info(ObjectKey(pool.id, pg, "", "", target[0]), info))])
    if outcome.errors:
        raise outcome.errors[0][1]


# -- once whole -------------------------------------------------------------------------------


def _finish(svc: OSDService, pool: PoolInfo, pg: int, progress: RecoveryProgress) -> None:
    """Once every up copy is complete: peer on the up set alone, then remove the strays."""
    with svc.pg_locks.hold(pool.id, pg):
        state = active_state(svc, pool, pg, locked=True)
        up = svc.up_copies(pool, pg)
        roles = {c.copy: c.role for c in state.copies}
        if len(up) < pool.size or any(roles.get(c) != COMPLETE for c in up):
            return
        if any(c.copy not in up for c in state.copies):
            state = peer(svc, pool, pg)
            if any(c.copy not in up for c in state.copies):
                return
        for shard, osd in stray_copies(svc, pool, pg):
            try:
                svc.store(osd).purge_pg(pool.id, pg, shard)
                progress.objects_removed += 1
            except OSDFailure as f:
                svc.osd_failed(f)


def waiting_osds(svc: OSDService) -> list[dict]:
    """The OSDs that are down but still in, with the PGs whose up set lacks them and when they
    will be marked out (then their PGs' data is re-replicated elsewhere)."""
    osdmap = svc.osdmap
    now = time.time()
    waiting: dict[int, list[str]] = {}
    for pool in osdmap.pools.values():
        for pg in range(pool.pg_num):
            for osd in crush_set(osdmap, pool, pg):
                if osd is not None and not is_up(osdmap, osd) and osdmap.osds[osd].in_:
                    waiting.setdefault(osd, []).append(pgid(pool.id, pg))
    found = []
    for osd_id, pgs in sorted(waiting.items()):
        osd = osdmap.osds[osd_id]
        down_for = now - osd.down_since if osd.down_since else 0.0
        out_in = None if osd.down_reason == "admin" else max(0.0, svc.conf.down_out_interval - down_for)
        found.append({"osd": osd_id, "down_for_s": round(down_for, 1), "out_in_s": out_in, "pgs": pgs})
    return found


# -- unfound objects ----------------------------------------------------------------------------


def list_unfound(svc: OSDService, pool: PoolInfo, pg: int) -> dict[ObjectName, Eversion]:
    return svc.history.unfound(pool.id, pg)


def mark_unfound_lost(svc: OSDService, pool: PoolInfo, pg: int, how: str) -> int:
    """Give up a PG's unfound objects, as Ceph's ``mark_unfound_lost``: ``revert`` puts back the
    newest older version some copy still holds (or deletes the object if none does),
    ``delete`` deletes it. Either is a write with a PG log entry. Returns how many."""
    if how not in ("revert", "delete"):
        raise StorageError(errno.EINVAL, f"mark_unfound_lost takes revert or delete, not {how!r}")
    with svc.pg_locks.hold(pool.id, pg):
        state = active_state(svc, pool, pg, locked=True)
        require_writable(svc, pool, pg, state)
        lost = svc.history.unfound(pool.id, pg)
        for obj in sorted(lost):
            record = _older_version(svc, pool, pg, state, obj) if how == "revert" else None
            state = _replace(svc, pool, pg, state, obj, record)
        svc.history.set_unfound(pool.id, pg, {})
        svc.record_state(pool, pg, settle_roles(svc, pool, pg, state))
    return len(lost)


def _older_version(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName):
    """A whole, readable older copy of a replicated object on any up OSD (None for EC: an older
    version needs k shards of it, which recovery would have found)."""
    if pool.type == "erasure":
        return None
    best = None
    for shard, osd in [c.copy for c in state.copies] + stray_copies(svc, pool, pg):
        try:
            record = svc.store(osd).export_object(ObjectKey(pool.id, pg, *obj, shard))
        except StorageError:
            continue
        if best is None or (record.info.epoch, record.info.version) > (best.info.epoch, best.info.version):
            best = record
    return best


def _replace(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName, record) -> ActiveState:
    """Write ``record`` (None: no object) as the object's new version on every copy, with a log
    entry, dropping it from every missing set."""
    version = Eversion(state.epoch, state.seq + 1)
    state.seq = version.seq
    svc.pg_states.write(pool.id, pg, state)
    if record is None:
        ops = [("reset",)]
    else:
        ops = [("write_full", record.data)] + [("setxattr", k, v) for k, v in record.xattrs.items()]
        ops += [("omap_set", record.omap)] if record.omap else []
        ops += [("omap_set_header", record.omap_header)] if record.omap_header else []
    log = LogUpdate(version, time.time_ns(), rollback=pool.type == "erasure")
    if record is not None:
        ops = [("reset",), *ops]
    txns = [
        (
            c.copy,
            Transaction(ObjectKey(pool.id, pg, *obj, c.shard), ops, version.seq, log.mtime_ns, log=log, recovered=True),
        )
        for c in state.copies
    ]
    outcome = svc.apply_transactions(txns)
    if outcome.errors:
        raise outcome.errors[0][1]
    if outcome.failed:
        return peer(svc, pool, pg)
    return state
