"""Recovering objects onto the copies of a PG that lack them, as Ceph's primary does: a
recovering copy's missing set (log-based recovery), and the object a write is about to
change, first, on every copy that lacks it (so a partial write never lands on a stale copy).

Every function here runs with the PG lock held; the I/O backend of the pool does the
copying (``replicated_backend.recover_object``, ``ec_backend.recover_object``). An object no
copy can give is **unfound**: it stays in the missing sets, is recorded per PG
(``pg_history``), and the rest goes on.
"""

from __future__ import annotations

import errno
from types import ModuleType

from . import ec_backend, replicated_backend
from .errors import OSDFailure, StorageError, Unfound
from .osd_service import OSDService
from .osdmap import Copy, PoolInfo, pgid
from .pg_log import Eversion, ObjectName
from .pg_state import BACKFILL, COMPLETE, RECOVERING, ActiveState, CopyState
from .store_records import ObjectInfo, ObjectKey


def backend(pool: PoolInfo) -> ModuleType:
    """The I/O backend of a pool: ``ec_backend`` or ``replicated_backend``."""
    return ec_backend if pool.type == "erasure" else replicated_backend


def missing_objects(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState) -> dict[ObjectName, list[Copy]]:
    """Each object the PG's recovering copies miss, with the copies missing it."""
    needs: dict[ObjectName, list[Copy]] = {}
    for c in state.with_role(RECOVERING):
        for obj in svc.store(c.osd).pg_missing(pool.id, pg, c.shard):
            needs.setdefault(obj, []).append(c.copy)
    return needs


def recover_one(
    svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName, targets: list[Copy]
) -> int:
    """Recover one object onto ``targets``; the bytes written. Raises ``Unfound``."""
    return backend(pool).recover_object(svc, pool, pg, state, obj, targets)


def recover_missing(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState) -> ActiveState:
    """Recover every missing object of the PG now; the state with the copies made whole."""
    unfound: dict[ObjectName, Eversion] = {}
    for obj, targets in sorted(missing_objects(svc, pool, pg, state).items()):
        try:
            recover_one(svc, pool, pg, state, obj, targets)
        except Unfound:
            unfound[obj] = svc.store(targets[0][1]).pg_missing(pool.id, pg, targets[0][0]).get(obj, Eversion(0, 0))
    if unfound or svc.history.unfound(pool.id, pg):
        svc.history.set_unfound(pool.id, pg, unfound)
    return settle_roles(svc, pool, pg, state)


def settle_roles(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState) -> ActiveState:
    """The state with every recovering copy whose missing set is empty now complete."""
    copies = []
    for c in state.copies:
        if c.role == RECOVERING and not svc.store(c.osd).pg_missing(pool.id, pg, c.shard):
            c = CopyState(c.shard, c.osd, COMPLETE)
        copies.append(c)
    return ActiveState(state.epoch, state.seq, state.up, copies, state.dirty, state.incomplete)


def prepare_write(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName) -> ActiveState:
    """Before a write to ``obj``: recover it on the copies that lack it or hold it stale, so the
    write applies to the authoritative version everywhere; the state, with a recovering copy
    that had nothing else to recover now complete. EAGAIN if the object is unfound."""
    if all(c.role == COMPLETE for c in state.copies):
        return state
    targets = [c.copy for c in state.with_role(RECOVERING) if svc.store(c.osd).is_missing(pool.id, pg, c.shard, obj)]
    backfilling = state.with_role(BACKFILL)
    if backfilling:
        reference = reference_version(svc, pool, pg, state, obj)
        for c in backfilling:
            if not same_version(version_on(svc, pool, pg, c.copy, obj), reference):
                targets.append(c.copy)
    if not targets:
        return state
    try:
        recover_one(svc, pool, pg, state, obj, targets)
    except Unfound as e:
        raise StorageError(errno.EAGAIN, f"{e.message}: writes to it wait for its recovery") from None
    settled = settle_roles(svc, pool, pg, state)
    if settled.copies != state.copies:
        svc.record_state(pool, pg, settled)
    return settled


def version_on(svc: OSDService, pool: PoolInfo, pg: int, copy: Copy, obj: ObjectName) -> ObjectInfo | None:
    """The copy's info of the object, None if it has none; raises OSDFailure."""
    try:
        return svc.store(copy[1]).stat(ObjectKey(pool.id, pg, *obj, copy[0]))
    except StorageError as e:
        if e.errno != errno.ENOENT or isinstance(e, OSDFailure):
            raise
        return None


def reference_version(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName):
    """The object's version on the complete copies (None if absent there)."""
    for c in state.with_role(COMPLETE):
        try:
            return version_on(svc, pool, pg, c.copy, obj)
        except OSDFailure as f:
            svc.osd_failed(f)
    raise StorageError(errno.EAGAIN, f"pg {pgid(pool.id, pg)}: no complete copy up to compare with")


def same_version(a: ObjectInfo | None, b: ObjectInfo | None) -> bool:
    """The same version of an object (both None: absent from both)."""
    if a is None or b is None:
        return a is b
    return (a.epoch, a.version) == (b.epoch, b.version)
