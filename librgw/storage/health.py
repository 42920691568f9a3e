"""Cluster health and PG states, computed from the map, in the shape of ``ceph status -f json``.

A PG is ``active+clean`` with all ``size`` OSDs up, ``active+undersized+degraded`` with
fewer but at least ``min_size``, and ``undersized+degraded+peered`` (inactive: I/O fails)
below ``min_size``; ``+inconsistent`` is added while the last scrub of the PG left objects
inconsistent (``scrub.ScrubLog``). Health is HEALTH_ERR when any PG is inactive or
inconsistent (``N scrub errors``, ``Possible data damage: N pgs inconsistent``, as Ceph
says), HEALTH_WARN when an OSD is down or a PG degraded, else HEALTH_OK.
"""

from __future__ import annotations

from collections import Counter

from .cluster import Cluster
from .scrub import InconsistentObject, ScrubLog, pgid

PGInconsistencies = dict[tuple[int, int], list[InconsistentObject]]  # (pool id, pg) -> objects


def pg_state(up_count: int, size: int, min_size: int, inconsistent: bool = False) -> str:
    if up_count >= size:
        state = "active+clean"
    elif up_count >= min_size:
        state = "active+undersized+degraded"
    else:
        state = "undersized+degraded+peered"
    return state + "+inconsistent" if inconsistent else state


def inconsistent_pgs(cluster: Cluster) -> PGInconsistencies:
    """(pool id, pg) -> what the last scrubs left inconsistent there, for the map's pools."""
    pools = cluster.osdmap.pools
    return {key: found for key, found in ScrubLog(cluster.conf.cluster_dir).inconsistent().items() if key[0] in pools}


def _pg_state_map(cluster: Cluster, inconsistent: PGInconsistencies) -> dict[tuple[int, int], str]:
    states = {}
    for pool in cluster.osdmap.pools.values():
        for pg in range(pool.pg_num):
            up = sum(1 for o in cluster.up_osds(pool, pg) if o is not None)
            states[(pool.id, pg)] = pg_state(up, pool.size, pool.min_size, (pool.id, pg) in inconsistent)
    return states


def pg_states(cluster: Cluster) -> Counter:
    return Counter(_pg_state_map(cluster, inconsistent_pgs(cluster)).values())


def cluster_status(cluster: Cluster) -> dict:
    osdmap = cluster.osdmap
    osds = list(osdmap.osds.values())
    inconsistent = inconsistent_pgs(cluster)
    state_map = _pg_state_map(cluster, inconsistent)
    states = Counter(state_map.values())
    checks: dict[str, dict] = {}
    down = [o.id for o in osds if not o.up]
    if down:
        checks["OSD_DOWN"] = _check("HEALTH_WARN", f"{len(down)} osds down", [f"osd.{i} is down" for i in down])
    if inconsistent:
        checks.update(_scrub_checks(cluster, inconsistent, state_map))
    degraded = sum(n for s, n in states.items() if "degraded" in s)
    inactive = sum(n for s, n in states.items() if not s.startswith("active"))
    if degraded:
        checks["PG_DEGRADED"] = _check("HEALTH_WARN", f"Degraded data redundancy: {degraded} pgs degraded", [])
    if inactive:
        checks["PG_AVAILABILITY"] = _check(
            "HEALTH_ERR", f"Reduced data availability: {inactive} pgs inactive (below min_size)", []
        )
    status = "HEALTH_OK"
    if checks:
        status = "HEALTH_ERR" if any(c["severity"] == "HEALTH_ERR" for c in checks.values()) else "HEALTH_WARN"
    stats = cluster.cluster_stats()
    pools = {p.name: cluster.pool_stats(p) for p in osdmap.pools.values()}
    return {
        "fsid": cluster.conf.fsid,
        "health": {"status": status, "checks": checks},
        "osdmap": {
            "epoch": osdmap.epoch,
            "num_osds": len(osds),
            "num_up_osds": sum(o.up for o in osds),
            "num_in_osds": sum(o.in_ for o in osds),
        },
        "pgmap": {
            "pgs_by_state": [{"state_name": s, "count": n} for s, n in sorted(states.items())],
            "num_pgs": sum(states.values()),
            "num_pools": len(osdmap.pools),
            "num_objects": sum(s.objects for s in pools.values()),
            "data_bytes": sum(s.bytes for s in pools.values()),
            "bytes_used": stats["kb_used"] * 1024,
            "bytes_avail": stats["kb_avail"] * 1024,
            "bytes_total": stats["kb"] * 1024,
        },
        "pools": [
            {
                "name": name,
                "id": osdmap.pool_by_name(name).id,
                "objects": s.objects,
                "bytes": s.bytes,
                "degraded": s.degraded,
            }
            for name, s in pools.items()
        ],
    }


def _scrub_checks(cluster: Cluster, inconsistent: PGInconsistencies, state_map: dict[tuple[int, int], str]) -> dict:
    errors = sum(o.scrub_errors for found in inconsistent.values() for o in found)
    details = []
    for pool_id, pg in sorted(inconsistent):
        acting = [o for o in cluster.up_osds(cluster.osdmap.pools[pool_id], pg) if o is not None]
        details.append(f"pg {pgid(pool_id, pg)} is {state_map[(pool_id, pg)]}, acting [{','.join(map(str, acting))}]")
    return {
        "OSD_SCRUB_ERRORS": _check("HEALTH_ERR", f"{errors} scrub errors", []),
        "PG_DAMAGED": _check("HEALTH_ERR", f"Possible data damage: {len(inconsistent)} pgs inconsistent", details),
    }


def _check(severity: str, message: str, details: list[str]) -> dict:
    return {"severity": severity, "summary": {"message": message}, "detail": [{"message": d} for d in details]}
