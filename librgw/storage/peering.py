"""Peering: after a map change, which copies of each PG are complete and which must be recovered.

In Ceph the OSDs of a PG agree on its authoritative history whenever its acting set
changes. Here every map change is made in one place, so the map itself records the
outcome, per PG (``OSDMap.pg_recovery``, keyed by pgid ``"<pool>.<pg hex>"``):

- **backfill targets**: (shard, OSD) pairs that joined the acting set (a new OSD, one
  marked in, one back up after missing writes). Until recovery has copied the PG to
  them they may lack objects or hold stale ones, so they are written to but never read.
- **strays**: pairs that left the acting set while their OSD stayed up (marked out, or
  moved by a new OSD or weight). Their copies stay as recovery sources until the targets
  are filled, then recovery removes them. An OSD that goes down is no stray: its PGs are
  just degraded, and it is a target when it comes back.

A PG's *authoritative* copies are its acting members that are not targets. Where too few
of those are up (every replica moved, or fewer than k EC shards), the strays serve too.
Replicated PGs use shard ``NO_SHARD``; EC PGs one pair per shard position.
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
            targets = (set(rec.targets) | (new - old)) & new
            left = {(shard, osd) for shard, osd in old - new if osd in after.osds and after.osds[osd].up}
            strays = (set(rec.strays) | left) - new
            if targets or strays:
                after.pg_recovery[pid] = PGRecovery(sorted(targets), sorted(strays))
            else:
                after.pg_recovery.pop(pid, None)


def authoritative(acting_copies: list[Copy], rec: PGRecovery | None, enough: int, is_up) -> list[Copy]:
    """The copies to read a PG from: complete acting members, plus up strays if fewer than ``enough``."""
    if rec is None:
        return acting_copies
    complete = [c for c in acting_copies if c not in rec.targets]
    if len(complete) >= enough:
        return complete
    return complete + [c for c in rec.strays if is_up(c[1]) and c not in complete]
