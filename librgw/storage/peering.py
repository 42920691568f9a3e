"""Peering: after a map change, which copies of each PG are complete and which must be recovered.

In Ceph the OSDs of a PG agree on its authoritative history whenever its acting set
changes. Here every map change is made in one place, so the map itself records the
outcome, per PG (``OSDMap.pg_recovery``, keyed by pgid ``"<pool>.<pg hex>"``):

- **backfill targets**: (shard, OSD) pairs that joined the acting set (a new OSD, one
  marked in, one back up after missing writes). Until recovery has copied the PG to
  them they may lack objects or hold stale ones, so they are written to but never read.
- **strays**: pairs that left the acting set while their OSD stayed up (marked out, or
  moved by a new OSD or weight). Their copies stay as recovery sources until the targets
  are filled, then recovery removes them. Where too few complete acting copies are up to
  serve the PG (every replica moved, or fewer than k EC shards), up strays serve it and
  take its writes too, as Ceph's ``pg_temp`` keeps the old acting set until backfill ends.
- **current**: complete pairs whose OSD went down while the PG could take no write
  without them (fewer than ``min_size`` acting, or too few complete copies to serve), so
  they still hold its latest state. One that comes back is complete again, not a target;
  this is what lets a PG whose every copy went down serve again when they return. As soon
  as the PG can take writes without a down copy, that copy may miss one: it is dropped
  from ``current`` and comes back as a target, as any other down copy does.

A PG's *authoritative* copies are its acting members that are not targets. Replicated PGs
use shard ``NO_SHARD``; EC PGs one pair per shard position.
"""

from __future__ import annotations

from .osd_store import NO_SHARD
from .osdmap import Copy, OSDMap, PGRecovery, PoolInfo, parse_pgid, pgid
from .placement import up_set


def acting(osdmap: OSDMap, pool: PoolInfo, pg: int) -> list[Copy]:
    """The up (shard, OSD) pairs serving a PG."""
    up = up_set(osdmap, pool, pg)
    if pool.type == "erasure":
        return [(shard, osd) for shard, osd in enumerate(up) if osd is not None]
    return [(NO_SHARD, osd) for osd in up]


def read_quorum(osdmap: OSDMap, pool: PoolInfo) -> int:
    """How many complete copies a read needs: one replica, or k shards of an EC pool."""
    if pool.type != "erasure":
        return 1
    return int(osdmap.erasure_code_profiles[pool.erasure_code_profile or "default"]["k"])


def note_map_change(before: OSDMap, after: OSDMap) -> None:
    """Update ``after.pg_recovery`` for every PG whose acting set differs from ``before``'s."""
    for pid in [p for p in after.pg_recovery if parse_pgid(p)[0] not in after.pools]:
        del after.pg_recovery[pid]
    for pool in after.pools.values():
        old_pool = before.pools.get(pool.id)
        if old_pool is None:
            continue  # a new pool has nothing to recover
        for pg in range(pool.pg_num):
            old = set(acting(before, old_pool, pg)) if pg < old_pool.pg_num else set()
            new = set(acting(after, pool, pg))
            if old == new:
                continue
            pid = pgid(pool.id, pg)
            rec = after.pg_recovery.get(pid, PGRecovery())
            went_down = {c for c in old - new if not is_up(after, c[1])} - set(rec.targets)
            current = {c for c in set(rec.current) | went_down if c[1] in after.osds}
            targets = ((set(rec.targets) | (new - old)) & new) - current
            left = {c for c in old - new if is_up(after, c[1])}
            back_elsewhere = {c for c in current if is_up(after, c[1])} - new  # up again, but moved
            strays = (set(rec.strays) | left | back_elsewhere) - new
            current = {c for c in current if not is_up(after, c[1])}
            settle(after, pool, pg, PGRecovery(sorted(targets), sorted(strays), sorted(current)))


def settle(osdmap: OSDMap, pool: PoolInfo, pg: int, rec: PGRecovery) -> None:
    """Store ``rec`` as the PG's entry, first dropping its current copies if the PG can take
    writes without them (they may miss one from now on), or the entry if nothing is left."""
    pid = pgid(pool.id, pg)
    serving = acting(osdmap, pool, pg)
    enough = read_quorum(osdmap, pool)
    sources = authoritative(osdmap, serving, rec, enough)
    if len(serving) >= pool.min_size and len(sources) >= enough:
        rec = PGRecovery(rec.targets, rec.strays, [])
    if rec.targets or rec.strays or rec.current:
        osdmap.pg_recovery[pid] = rec
    else:
        osdmap.pg_recovery.pop(pid, None)


def authoritative(osdmap: OSDMap, acting_copies: list[Copy], rec: PGRecovery | None, enough: int) -> list[Copy]:
    """The copies to read a PG from: complete acting members, plus up strays if fewer than ``enough``."""
    if rec is None:
        return acting_copies
    complete = [c for c in acting_copies if c not in rec.targets]
    if len(complete) >= enough:
        return complete
    return complete + [c for c in rec.strays if is_up(osdmap, c[1]) and c not in complete]


def is_up(osdmap: OSDMap, osd: int) -> bool:
    """Whether ``osd`` is in the map and up."""
    return osd in osdmap.osds and osdmap.osds[osd].up
