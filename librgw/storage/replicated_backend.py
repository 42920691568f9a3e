"""The I/O of a replicated pool, as Ceph's ``ReplicatedBackend``.

A write is the same transaction, PG log entry included, on every copy of the PG's I/O set
(``pg_state.ActiveState.copies``), in parallel; each OSD's committer batches it with
others. Reads go to the first complete copy, primary first, and fail over to the next on
EIO (a bad copy, or an OSD that failed). Recovering a missing object onto a copy is an
export of the object (every checksum verified) from a copy that holds it and a
``restore`` on the target, which also drops it from the target's missing set.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TypeVar

from .errors import OSDFailure, StorageError, Unfound
from .osd_service import OSDService, Outcome
from .osd_store import OSDStore
from .osdmap import Copy, PoolInfo, pgid
from .pg_log import LogUpdate, ObjectName
from .pg_state import COMPLETE, RECOVERING, ActiveState
from .store_records import NO_SHARD, ObjectInfo, ObjectKey, ObjectRecord, Transaction

T = TypeVar("T")


def write(
    svc: OSDService,
    pool: PoolInfo,
    pg: int,
    state: ActiveState,
    obj: ObjectName,
    ops: list[tuple],
    log: LogUpdate,
) -> Outcome:
    txn = Transaction(ObjectKey(pool.id, pg, *obj), ops, log.version.seq, log.mtime_ns, log=log)
    return svc.apply_transactions([(c.copy, txn) for c in state.copies])


def read_sources(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName) -> list[Copy]:
    """The copies to read ``obj`` from: the complete ones, primary first; failing those,
    recovering ones that do not miss it. EAGAIN if none."""
    sources = [c.copy for c in state.with_role(COMPLETE)]
    if not sources:
        sources = [c.copy for c in state.with_role(RECOVERING) if not svc.misses(pool, pg, c.copy, obj)]
    if not sources:
        raise StorageError(errno.EAGAIN, f"pg {pgid(pool.id, pg)} has no complete copy up")
    return sources


def read(
    svc: OSDService,
    sources: list[Copy],
    pool: PoolInfo,
    pg: int,
    obj: ObjectName,
    fn: Callable[[OSDStore, ObjectKey], T],
) -> T:
    """``fn(store, key)`` on the first source; on EIO (a bad copy or a failed OSD) the next."""
    key = ObjectKey(pool.id, pg, *obj)
    error: StorageError | None = None
    for _, osd in sources:
        try:
            return fn(svc.store(osd), key)
        except OSDFailure as f:
            svc.osd_failed(f)
            error = error or f
        except StorageError as e:
            if e.errno != errno.EIO:
                raise
            error = error or e
    raise error


def object_version(svc: OSDService, copy: Copy, key: ObjectKey) -> ObjectInfo | None:
    """The copy's info of the object, None if it has none; raises OSDFailure."""
    try:
        return svc.store(copy[1]).stat(key)
    except StorageError as e:
        if e.errno != errno.ENOENT or isinstance(e, OSDFailure):
            raise
        return None


def recover_object(
    svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName, targets: list[Copy]
) -> int:
    """Bring ``targets`` to the authoritative version of ``obj`` (the caller holds the PG lock).
    Returns the bytes copied; raises ``Unfound`` if no source can give it."""
    key = ObjectKey(pool.id, pg, *obj, NO_SHARD)
    sources = [c for c in _sources_for(svc, pool, pg, state, obj) if c not in targets]
    record: ObjectRecord | None = None
    why = "no complete copy up holds it"
    for _, osd in sources:
        try:
            record = svc.store(osd).export_object(key)
            break
        except OSDFailure as f:
            svc.osd_failed(f)
            why = f.message
        except StorageError as e:
            if e.errno == errno.ENOENT:
                svc.apply_recovery([(c, Transaction(key, [("reset",)], 0, 0, recovered=True)) for c in targets])
                return 0
            if e.errno != errno.EIO:
                raise
            why = e.message
    else:
        raise Unfound(obj, f"pg {pgid(pool.id, pg)}: {obj[1]} is unfound: {why}")
    svc.apply_recovery([(c, Transaction(key, [("restore", record)], 0, 0, recovered=True)) for c in targets])
    return len(record.data) * len(targets)


def _sources_for(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName) -> list[Copy]:
    complete = [c.copy for c in state.with_role(COMPLETE)]
    recovering = [c.copy for c in state.with_role(RECOVERING) if not svc.misses(pool, pg, c.copy, obj)]
    return complete + recovering
