"""A placement group's object ops, as Ceph's ``PrimaryLogPG``: every read and write of an object
goes through here, on the PG's active state (``peering.active_state`` peers it first when it
needs it), and the pool's I/O backend does the I/O.

**Writes** hold the PG lock, so one writer at a time gives the PG's versions out:

1. the PG must be able to take writes: at least ``min_size`` copies (EC: shards) of its I/O set
   are participants (complete or recovering); else EAGAIN at once, never a wait;
2. the object is recovered first on every copy that lacks it (``pg_recovery.prepare_write``);
3. the write gets the next version ``(activation epoch, seq + 1)``; the active state is marked
   ``dirty`` with it before anything is sent;
4. every copy of the I/O set applies it with its PG log entry; the log is trimmed to the last
   ``osd min pg log entries`` when the PG is clean, ``osd max pg log entries`` when not (so a
   copy away for a while can still catch up from the log);
5. it is **acknowledged** once ``min_size`` participants committed it. An OSD that failed
   under it is marked down, and the PG is peered again before the acknowledgement, which
   records durably that the failed copy missed the write. A write refused by every copy (an
   op error: ENOENT, EEXIST, ECANCELED...) changed nothing; its version is given back. Any
   other outcome leaves the PG ``dirty``: the next op peers it, which rolls the write forward
   or back on every copy, never leaving it half visible.

**Reads** do not take the lock: they use the active state's complete copies (a replicated
object from the primary, failing over on EIO; an EC object from k shards).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from typing import TypeVar

from . import ec_backend, replicated_backend
from .errors import StorageError, unsupported
from .osd_service import OSDService, Outcome
from .osd_store import OSDStore
from .osdmap import PoolInfo, pgid
from .peering import active_state, peer, waiting_for
from .pg_log import Eversion, LogUpdate, ObjectName
from .pg_recovery import backend, prepare_write
from .pg_state import COMPLETE, ActiveState
from .store_records import ObjectInfo, ObjectKey

T = TypeVar("T")
# Errors of an op's own checks, raised before anything is sent: the write changed nothing.
REFUSALS = frozenset(
    {errno.ENOENT, errno.EEXIST, errno.ERANGE, errno.EOVERFLOW, errno.EOPNOTSUPP, errno.EINVAL, errno.ECANCELED}
)


# -- writes -----------------------------------------------------------------------------------


def write(svc: OSDService, pool: PoolInfo, pg: int, obj: ObjectName, ops: list[tuple], mtime_ns: int) -> None:
    """Apply ``ops`` to one object, atomically on every copy; see the module docstring."""
    with svc.pg_locks.hold(pool.id, pg):
        state = active_state(svc, pool, pg, locked=True)
        require_writable(svc, pool, pg, state)
        state = prepare_write(svc, pool, pg, state, obj)
        version = Eversion(state.epoch, state.seq + 1)
        state.seq, state.dirty = version.seq, True
        svc.pg_states.write(pool.id, pg, state)
        log = LogUpdate(
            version, mtime_ns, rollback=pool.type == "erasure", trim_to=version.seq - _log_keep(svc, pool, state)
        )
        try:
            outcome = backend(pool).write(svc, pool, pg, state, obj, ops, log)
        except StorageError as e:
            if e.errno in REFUSALS:  # the op's own checks refused it before anything was sent
                _give_back(svc, pool, pg, state)
            raise
        _conclude(svc, pool, pg, state, outcome)


def require_writable(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState) -> None:
    if state.incomplete:
        raise _incomplete(svc, pool, pg)
    have = _count(pool, [c.copy for c in state.participants])
    if have < pool.min_size:
        raise StorageError(
            errno.EAGAIN, f"pg {pgid(pool.id, pg)} has {have} complete copies up, below min_size {pool.min_size}"
        )


def _incomplete(svc: OSDService, pool: PoolInfo, pg: int) -> StorageError:
    osds = ", ".join(f"osd.{o}" for o in waiting_for(svc, pool, pg)) or "OSDs that are down"
    return StorageError(errno.EAGAIN, f"pg {pgid(pool.id, pg)} is incomplete: its latest history is on {osds}")


def _count(pool: PoolInfo, copies) -> int:
    """Copies of a replicated PG, distinct shards of an EC one."""
    return len({c[0] for c in copies}) if pool.type == "erasure" else len(copies)


def _log_keep(svc: OSDService, pool: PoolInfo, state: ActiveState) -> int:
    clean = len(state.copies) == pool.size and all(c.role == COMPLETE for c in state.copies)
    return svc.conf.min_pg_log_entries if clean else svc.conf.max_pg_log_entries


def _give_back(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState) -> None:
    """A write that changed nothing: its version is not used, the PG is clean again."""
    state.seq, state.dirty = state.seq - 1, False
    svc.pg_states.write(pool.id, pg, state)


def _conclude(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, outcome: Outcome) -> None:
    if not outcome.failed and not outcome.errors:  # every copy took it
        state.dirty = False
        svc.pg_states.write(pool.id, pg, state)
        return
    participants = {c.copy for c in state.participants}
    applied = [c for c in outcome.applied if c in participants]
    refused = [e for c, e in outcome.errors if c in participants]
    if not outcome.applied and not outcome.failed:  # every copy refused it: nothing changed
        _give_back(svc, pool, pg, state)
        raise outcome.errors[0][1]
    if refused:  # copies disagree about it: it stays dirty, the next op peers
        raise refused[0]
    if _count(pool, applied) < pool.min_size:
        raise _too_few(pool, pg, applied)
    # Copies failed under it or refused it: peer now, so that those that missed it stop
    # counting (durably, in pg_history) before the write is acknowledged.
    peer(svc, pool, pg)


def _too_few(pool: PoolInfo, pg: int, applied: list) -> StorageError:
    return StorageError(
        errno.EAGAIN,
        f"pg {pgid(pool.id, pg)}: only {_count(pool, applied)} copies took the write, below min_size {pool.min_size}",
    )


# -- reads ------------------------------------------------------------------------------------


def readable_state(svc: OSDService, pool: PoolInfo, pg: int) -> ActiveState:
    state = active_state(svc, pool, pg, locked=False)
    if state.incomplete:
        raise _incomplete(svc, pool, pg)
    return state


def read(svc: OSDService, pool: PoolInfo, pg: int, obj: ObjectName, offset: int, length: int) -> bytes:
    state = readable_state(svc, pool, pg)
    if pool.type == "erasure":
        return ec_backend.read(svc, pool, pg, state, obj, offset, length)
    return _replicated(svc, pool, pg, state, obj, lambda s, k: s.read(k, offset, length)[0])


def stat(svc: OSDService, pool: PoolInfo, pg: int, obj: ObjectName) -> ObjectInfo:
    state = readable_state(svc, pool, pg)
    if pool.type == "erasure":
        return ec_backend.newest(svc, pool, pg, state, obj)[0]
    return _replicated(svc, pool, pg, state, obj, lambda s, k: s.stat(k))


def metadata(svc: OSDService, pool: PoolInfo, pg: int, obj: ObjectName, fn: Callable[[OSDStore, ObjectKey], T]) -> T:
    """``fn(store, key)`` where the object's metadata is: a complete replica, or a newest EC shard."""
    state = readable_state(svc, pool, pg)
    if pool.type == "erasure":
        return ec_backend.metadata(svc, pool, pg, state, obj, fn)
    return _replicated(svc, pool, pg, state, obj, fn)


def omap(svc: OSDService, pool: PoolInfo, pg: int, obj: ObjectName, fn: Callable[[OSDStore, ObjectKey], T]) -> T:
    if pool.type == "erasure":
        raise unsupported(f"pool '{pool.name}' is erasure-coded: omap is not supported")
    return metadata(svc, pool, pg, obj, fn)


def _replicated(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName, fn):
    sources = replicated_backend.read_sources(svc, pool, pg, state, obj)
    return replicated_backend.read(svc, sources, pool, pg, obj, fn)


def list_objects(svc: OSDService, pool: PoolInfo, pg: int, ns: str | None) -> Iterator[ObjectName]:
    """(namespace, name) of the PG's objects, from a complete copy."""
    state = readable_state(svc, pool, pg)
    complete = [c.copy for c in state.with_role(COMPLETE)]
    if not complete:
        raise StorageError(errno.EAGAIN, f"pg {pgid(pool.id, pg)} has no complete copy up to list")
    listing = replicated_backend.read(svc, complete, pool, pg, ("", ""), lambda s, _k: s.list_objects(pool.id, pg, ns))
    yield from listing
