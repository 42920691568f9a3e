"""The I/O of an erasure-coded pool, as Ceph's ``ECBackend``.

**Writes.** An op that changes data rewrites the object whole, as Ceph's EC pools do without
``allow_ec_overwrites`` (RGW writes its data objects with ``write_full``): the new content is
encoded stripe by stripe (``erasure.py``) and each shard streams to its own OSD
(``piece_stream.py``), each with the same PG log entry. Every shard keeps what undoes the
write (``pg_log``: the replaced shard moved aside, or the old xattrs), so a write that
reached fewer than k shards, never acknowledged, is rolled back by peering and the object
stays readable at its previous version. Ops that only change xattrs go to every shard as
they are. Omap is refused with EOPNOTSUPP, as in Ceph.

**Reads** stat the object on the complete shards (and on their stashes: during a write, the
shards it has reached keep the old version beside the new one), take the newest version
that at least k shards hold, fetch only the stripes covering the range from k of them and
decode. A shard that fails its checksum or whose OSD fails is skipped for another.

**Recovery** of an object onto shards decodes it from k shards of its authoritative
version, encodes it again and writes each target's shard with ``restore``.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from .erasure import ErasureCodec
from .errors import OSDFailure, StorageError, Unfound, exists, io_error, not_found, unsupported
from .osd_service import OSDService, Outcome
from .osd_store import PendingTxn
from .osdmap import Copy, PoolInfo, pgid
from .pg_log import LogUpdate, ObjectName
from .pg_state import COMPLETE, RECOVERING, ActiveState
from .piece_stream import PieceFanout, PieceStream
from .store_records import ObjectInfo, ObjectKey, ObjectRecord, Transaction

DATA_OPS = frozenset({"write", "write_full", "append", "truncate", "zero"})
OMAP_OPS = frozenset({"omap_set", "omap_rm", "omap_clear", "omap_rm_range", "omap_set_header", "omap_cmp"})
READ_RETRIES = 5


@dataclass(frozen=True)
class ShardRead:
    """Where one shard of a version is read from: the shard's own row, or its stash."""

    shard: int
    osd: int
    key: ObjectKey


# -- writes ---------------------------------------------------------------------------------


def write(
    svc: OSDService,
    pool: PoolInfo,
    pg: int,
    state: ActiveState,
    obj: ObjectName,
    ops: list[tuple],
    log: LogUpdate,
) -> Outcome:
    if any(op[0] in OMAP_OPS for op in ops):
        raise unsupported(f"pool '{pool.name}' is erasure-coded: omap is not supported")
    copies = [c.copy for c in state.copies]
    key = ObjectKey(pool.id, pg, *obj)
    data_ops = [op for op in ops if op[0] in DATA_OPS]
    if not data_ops:
        if any(op[0] == "remove" for op in ops):
            logical = None
        else:
            found = current(svc, pool, pg, state, obj)
            logical = found[0].logical_size if found else 0
        return svc.apply_transactions(
            [
                ((s, osd), Transaction(_at(key, s), ops, log.version.seq, log.mtime_ns, logical, log=log))
                for s, osd in copies
            ]
        )
    if len(data_ops) > 1 or any(op[0] in ("lock", "unlock", "remove") for op in ops):
        raise unsupported("an erasure-coded write op may hold one data op and no lock or remove")
    found = current(svc, pool, pg, state, obj)
    _check_asserts(pool, obj, found, ops)
    codec = svc.codec(pool)
    data = _new_content(svc, pool, pg, state, obj, found, data_ops[0])
    keep = [("setxattr", k, v) for k, v in (found[1] if found else {}).items()]
    meta = keep + [op for op in ops if op[0] in ("setxattr", "rmxattr")]
    streams = {copy: PieceStream(codec.shard_size(len(data))) for copy in copies}
    pending: list[tuple[Copy, PendingTxn]] = []
    failures: list[tuple[Copy, OSDFailure]] = []
    try:
        for (s, osd), stream in streams.items():
            txn = Transaction(
                _at(key, s), [("write_full", stream), *meta], log.version.seq, log.mtime_ns, len(data), log=log
            )
            svc.submit((s, osd), txn, pending, failures)
        shards = range(codec.k + codec.m)
        codec.encode_to(data, [PieceFanout([v for (s, _), v in streams.items() if s == i]) for i in shards])
    except BaseException as e:
        for stream in streams.values():  # the stores waiting on them give up
            stream.fail(e)
        for _, p in pending:
            p.done.wait()
        raise
    return svc.settle(pending, failures)


def _at(key: ObjectKey, shard: int) -> ObjectKey:
    return ObjectKey(key.pool, key.pg, key.ns, key.name, shard)


def current(
    svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName
) -> tuple[ObjectInfo, dict[str, bytes]] | None:
    """The object's newest info and xattrs, None if it does not exist."""
    try:
        info, holders = newest(svc, pool, pg, state, obj)
    except StorageError as e:
        if e.errno == errno.ENOENT:
            return None
        raise
    first = holders[0]
    return info, svc.store(first.osd).get_xattrs(first.key)


def _check_asserts(pool: PoolInfo, obj: ObjectName, found, ops: list[tuple]) -> None:
    name = obj[1]
    for op in ops:
        if op[0] == "create" and op[1] and found is not None:
            raise exists(f"{pool.name}/{name}")
        if op[0] in ("assert_exists", "assert_version") and found is None:
            raise not_found(f"{pool.name}/{name}")
        if op[0] == "assert_version" and found[0].version != op[1]:
            raise StorageError(errno.ERANGE, f"{pool.name}/{name}: version is {found[0].version}")


def _new_content(
    svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName, found, op: tuple
) -> bytes | memoryview:
    """The object's whole content after one data op."""
    if op[0] == "write_full":
        return op[1]
    size = found[0].logical_size if found else 0
    if op[0] == "zero":
        op = ("write", op[1], bytes(max(0, min(size, op[1] + op[2]) - op[1])))
    elif op[0] == "append":
        op = ("write", size, op[1])
    content = bytearray(read(svc, pool, pg, state, obj, 0, size))
    if op[0] == "truncate":
        del content[op[1] :]
        content += bytes(op[1] - len(content))
    else:
        offset, data = op[1], op[2]
        if offset > len(content):
            content += bytes(offset - len(content))
        content[offset : offset + len(data)] = data
    return content


# -- reads ---------------------------------------------------------------------------------


def sources(
    svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName, exclude: list[Copy] = ()
) -> list[Copy]:
    """The shards to read ``obj`` from: the complete ones; with fewer than k of those, also
    recovering ones that do not miss it."""
    found = [c.copy for c in state.with_role(COMPLETE) if c.copy not in exclude]
    if len({s for s, _ in found}) < svc.codec(pool).k:
        for c in state.with_role(RECOVERING):
            if c.copy not in exclude and not svc.misses(pool, pg, c.copy, obj):
                found.append(c.copy)
    return found


def newest(
    svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName, exclude: list[Copy] = ()
) -> tuple[ObjectInfo, list[ShardRead]]:
    """The object's newest state that at least k shards share, and where each of its shards is
    read from (one per shard); ENOENT if that state is "absent", EIO if no state has k shards.

    A shard offers its own state: a version, "removed by write S" (it keeps only the stash that
    write made), or "absent" (it has nothing of the object: never written, or removed before
    its PG's last peering), which ranks below any other and agrees with any removal; and, while
    it keeps a stash, the version before the PG's last write. So while a write is under way, or if its writer died,
    the object reads as it was until k shards took the write, and as the write made it from
    then on: as peering will settle it.
    """
    k = svc.codec(pool).k
    # keyed by (the seq that made the state, whether it is a removal); absent is (-1, True).
    # Data versions group shards that an xattr-only write has and has not reached: they decode alike.
    states: dict[tuple[int, bool], list[tuple[ObjectInfo | None, ShardRead]]] = {}
    for shard, osd in sources(svc, pool, pg, state, obj, exclude):
        key = ObjectKey(pool.id, pg, *obj, shard)
        try:
            info, stashed, stashed_by = svc.store(osd).stat_with_stash(key)
        except OSDFailure as f:
            svc.osd_failed(f)
            continue
        except StorageError as e:
            if e.errno != errno.EIO:
                raise
            continue
        if info is not None:
            states.setdefault((info.data_version, False), []).append((info, ShardRead(shard, osd, key)))
        else:
            removed_by = -1 if stashed_by is None else stashed_by.seq
            states.setdefault((removed_by, True), []).append((None, ShardRead(shard, osd, key)))
        if stashed is not None:
            states.setdefault((stashed.data_version, False), []).append((stashed, ShardRead(shard, osd, key.stash)))
    absent = states.get((-1, True), [])
    for state_key, held in states.items():  # an absent shard agrees with any removal
        if state_key[1] and state_key != (-1, True):
            held += absent
    readable = [s for s, held in states.items() if len({r.shard for _, r in held}) >= k]
    if not readable:
        if not any(info for held in states.values() for info, _ in held):
            raise not_found(f"{pool.name}/{obj[1]}")
        raise io_error(f"{pool.name}/{obj[1]}: fewer than {k} consistent shards readable (unfound)")
    best = max(readable)
    if best[1]:
        raise not_found(f"{pool.name}/{obj[1]}")
    held = sorted(states[best], key=lambda h: (h[0].epoch, h[0].version), reverse=True)
    by_shard: dict[int, ShardRead] = {}
    for _, where in held:  # the shards with the newest metadata first
        by_shard.setdefault(where.shard, where)
    return held[0][0], list(by_shard.values())


def read(
    svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName, offset: int, length: int
) -> bytes:
    if length <= 0:
        return b""
    for _ in range(READ_RETRIES):
        info, holders = newest(svc, pool, pg, state, obj)
        data = _decode_range(svc, pool, info, holders, offset, length)
        if data is not None:
            return data
    raise io_error(f"{pool.name}/{obj[1]}: shards kept changing under the read")


def _decode_range(
    svc: OSDService, pool: PoolInfo, info: ObjectInfo, holders: list[ShardRead], offset: int, length: int
) -> bytes | None:
    codec = svc.codec(pool)
    size = info.logical_size
    end = min(size, offset + length)
    if offset >= end:
        return b""
    first, last = offset // codec.stripe_width, (end - 1) // codec.stripe_width
    shard_off = first * codec.fragment_size
    shard_len = codec.shard_size(min(size, (last + 1) * codec.stripe_width)) - shard_off
    fragments: dict[int, bytes] = {}
    for holder in holders:
        try:
            data, shard_info = svc.store(holder.osd).read(holder.key, shard_off, shard_len)
        except OSDFailure as f:
            svc.osd_failed(f)
            continue
        except StorageError as e:
            if e.errno in (errno.EIO, errno.ENOENT):
                continue
            raise
        if shard_info.data_version != info.data_version:
            return None  # a write landed between stat and read
        fragments[holder.shard] = data
        if len(fragments) == codec.k:
            break
    decoded = codec.decode(fragments, first, size)
    lo, hi = offset - first * codec.stripe_width, end - first * codec.stripe_width
    return decoded if (lo, hi) == (0, len(decoded)) else decoded[lo:hi]


def metadata(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName, fn):
    """``fn(store, key)`` on a shard of the newest version (its metadata is on every shard)."""
    _, holders = newest(svc, pool, pg, state, obj)
    error: StorageError | None = None
    for holder in holders:
        try:
            return fn(svc.store(holder.osd), holder.key)
        except OSDFailure as f:
            svc.osd_failed(f)
            error = error or f
        except StorageError as e:
            if e.errno != errno.EIO:
                raise
            error = error or e
    raise error


# -- recovery -------------------------------------------------------------------------------


def recover_object(
    svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState, obj: ObjectName, targets: list[Copy]
) -> int:
    """Rebuild ``targets``' shards of ``obj`` from k shards of its authoritative version (the
    caller holds the PG lock). Returns the bytes written; ``Unfound`` if it does not decode."""
    try:
        info, holders = newest(svc, pool, pg, state, obj, exclude=targets)
    except StorageError as e:
        if e.errno == errno.ENOENT:
            svc.apply_recovery(
                [
                    (c, Transaction(ObjectKey(pool.id, pg, *obj, c[0]), [("reset",)], 0, 0, recovered=True))
                    for c in targets
                ],
            )
            return 0
        if e.errno != errno.EIO:
            raise
        raise Unfound(obj, f"pg {pgid(pool.id, pg)}: {obj[1]} is unfound: {e.message}") from None
    codec: ErasureCodec = svc.codec(pool)
    data = _decode_range(svc, pool, info, holders, 0, info.logical_size)
    if data is None:
        raise Unfound(obj, f"pg {pgid(pool.id, pg)}: {obj[1]}: its shards changed under recovery")
    shards = codec.encode(data)
    xattrs = svc.store(holders[0].osd).get_xattrs(holders[0].key)
    txns = []
    for shard, osd in targets:
        shard_info = ObjectInfo(
            len(shards[shard]), info.logical_size, info.version, info.mtime_ns, info.data_version, info.epoch
        )
        record = ObjectRecord(shard_info, bytes(shards[shard]), dict(xattrs))
        txns.append(
            (
                (shard, osd),
                Transaction(ObjectKey(pool.id, pg, *obj, shard), [("restore", record)], 0, 0, recovered=True),
            )
        )
    svc.apply_recovery(txns)
    return sum(len(shards[s]) for s, _ in targets)
