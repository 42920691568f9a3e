"""Cluster health and PG states, in the shape of ``ceph status -f json``.

A PG's state comes from its active state (``pg_state``; ``peering.py`` peers a PG whose state
does not fit the present map first), spelled as Ceph spells it, flags in Ceph's order:

- ``active+clean``: all ``size`` copies up and complete;
- ``active``: at least ``min_size`` copies (EC: shards) that hold every acknowledged write;
  below that ``peered`` (reads only), and ``incomplete`` when too few copies holding its
  latest history are up to serve it at all (I/O to it fails at once);
- ``+recovery_wait`` / ``+recovering`` while copies miss objects their log names, waiting for
  or under a ``recover`` run; ``+backfill_wait`` / ``+backfilling`` for copies filled object
  by object; ``+recovery_unfound`` while objects no up copy can give are recorded;
- ``+undersized`` with fewer than ``size`` copies up; ``+degraded`` with any copy missing or
  incomplete; ``+remapped`` while strays (copies outside the up set) still serve it;
- ``+inconsistent`` while the last scrub of the PG left objects inconsistent (``scrub.ScrubLog``).

Health is HEALTH_ERR when any PG is inconsistent (``N scrub errors``, ``Possible data damage:
N pgs inconsistent``), HEALTH_WARN when an OSD is down, a PG inactive (``Reduced data
availability``) or degraded, or objects unfound, else HEALTH_OK: the checks and severities
of Ceph's monitor.
"""

from __future__ import annotations

from collections import Counter

from .cluster import Cluster
from .errors import OSDFailure, StorageError
from .osdmap import PoolInfo, pgid
from .peering import active_state
from .pg_state import BACKFILL, RECOVERING
from .recovery import read_progress
from .scrub import InconsistentObject, ScrubLog

PGInconsistencies = dict[tuple[int, int], list[InconsistentObject]]  # (pool id, pg) -> objects


def pg_state(cluster: Cluster, pool: PoolInfo, pg: int, recovering: bool, inconsistent: bool = False) -> str:
    """The PG's state string; ``recovering`` says whether a recovery run is going on now."""
    try:
        state = active_state(cluster, pool, pg, locked=False)
    except StorageError:
        return "peering"  # its OSDs kept failing while it peered
    if state.incomplete:
        return "incomplete+inconsistent" if inconsistent else "incomplete"
    erasure = pool.type == "erasure"
    participants = len({c.shard for c in state.participants}) if erasure else len(state.participants)
    up = cluster.up_copies(pool, pg)
    missing, backfill = state.with_role(RECOVERING), state.with_role(BACKFILL)
    unfound = bool(cluster.history.unfound(pool.id, pg))
    undersized = len(up) < pool.size
    remapped = any(c.copy not in up for c in state.copies)
    degraded = bool(missing or backfill or undersized or unfound)
    active = participants >= pool.min_size
    flags = ["active"] if active else []
    if active and not degraded and not remapped:
        flags.append("clean")
    if missing:
        flags.append("recovering" if recovering else "recovery_wait")
    if unfound:
        flags.append("recovery_unfound")
    flags += ["undersized"] * undersized + ["degraded"] * degraded + ["remapped"] * remapped
    if inconsistent:
        flags.append("inconsistent")
    if backfill:
        flags.append("backfilling" if recovering else "backfill_wait")
    if not active:
        flags.append("peered")
    return "+".join(flags)


def inconsistent_pgs(cluster: Cluster) -> PGInconsistencies:
    """(pool id, pg) -> what the last scrubs left inconsistent there, for the map's pools."""
    pools = cluster.osdmap.pools
    return {key: found for key, found in ScrubLog(cluster.conf.cluster_dir).inconsistent().items() if key[0] in pools}


def _pg_state_map(cluster: Cluster, inconsistent: PGInconsistencies) -> dict[tuple[int, int], str]:
    recovering = read_progress(cluster) is not None
    return {
        (pool.id, pg): pg_state(cluster, pool, pg, recovering, (pool.id, pg) in inconsistent)
        for pool in cluster.osdmap.pools.values()
        for pg in range(pool.pg_num)
    }


def pg_states(cluster: Cluster) -> Counter:
    return Counter(_pg_state_map(cluster, inconsistent_pgs(cluster)).values())


def osd_df(cluster: Cluster) -> dict:
    """Per-OSD usage as ``ceph osd df -f json`` gives it: nodes, and a summary."""
    nodes = []
    for osd in sorted(cluster.osdmap.osds.values(), key=lambda o: o.id):
        pgs = sum(
            1
            for pool in cluster.osdmap.pools.values()
            for pg in range(pool.pg_num)
            if osd.id in cluster.up_osds(pool, pg)
        )
        nodes.append(
            {
                "id": osd.id,
                "name": f"osd.{osd.id}",
                "crush_weight": osd.weight,
                "reweight": 1.0 if osd.in_ else 0.0,
                "kb_used": _used_bytes(cluster, osd.id) // 1024 if osd.up else 0,
                "pgs": pgs,
                "status": "up" if osd.up else "down",
            }
        )
    used = [n["kb_used"] for n in nodes if n["status"] == "up"]
    mean = sum(used) / len(used) if used else 0
    for n in nodes:
        n["var"] = round(n["kb_used"] / mean, 2) if mean else 0.0
    up_in = [n["var"] for n in nodes if n["status"] == "up" and n["reweight"]]
    summary = {
        "total_kb_used": sum(used),
        "average_kb_used": mean,
        "min_var": min(up_in, default=0.0),
        "max_var": max(up_in, default=0.0),
    }
    return {"nodes": nodes, "summary": summary}


def _used_bytes(cluster: Cluster, osd_id: int) -> int:
    try:
        return cluster.store(osd_id).used_bytes()
    except OSDFailure as f:
        cluster.osd_failed(f)
        return 0


def cluster_status(cluster: Cluster) -> dict:
    """``ceph status``: first a heartbeat, so OSDs that failed or came back show as such."""
    cluster.heartbeat()
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
    stats = cluster.cluster_stats()
    pools = {p.name: cluster.pool_stats(p) for p in osdmap.pools.values()}
    copies = sum(s.objects * osdmap.pool_by_name(name).size for name, s in pools.items())
    degraded_objects = sum(s.degraded for s in pools.values())
    if degraded:
        checks["PG_DEGRADED"] = _check(
            "HEALTH_WARN",
            f"Degraded data redundancy: {degraded_objects}/{copies} objects degraded"
            f" ({100 * degraded_objects / max(copies, 1):.3f}%), {degraded} pgs degraded",
            [],
        )
    unfound = cluster.history.all_unfound()
    if unfound:
        details = [f"pg {pgid(pool_id, pg)} has {n} unfound objects" for (pool_id, pg), n in sorted(unfound.items())]
        checks["OBJECT_UNFOUND"] = _check(
            "HEALTH_WARN", f"{sum(unfound.values())} objects unfound (see 'librgw pg <pgid> list_unfound')", details
        )
    if inactive:
        incomplete = sum(n for s, n in states.items() if "incomplete" in s)
        parts = [f"{inactive} pgs inactive"] + ([f"{incomplete} pgs incomplete"] if incomplete else [])
        checks["PG_AVAILABILITY"] = _check("HEALTH_WARN", f"Reduced data availability: {', '.join(parts)}", [])
    status = "HEALTH_OK"
    if checks:
        status = "HEALTH_ERR" if any(c["severity"] == "HEALTH_ERR" for c in checks.values()) else "HEALTH_WARN"
    progress = read_progress(cluster)
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
            "degraded_objects": degraded_objects,
            "degraded_total": copies,
            "degraded_ratio": degraded_objects / copies if copies else 0.0,
            **(
                {
                    "recovering_objects_per_sec": progress["objects_per_s"],
                    "recovering_bytes_per_sec": progress["bytes_per_s"],
                }
                if progress
                else {}
            ),
        },
        "recovery": progress,
        "osd_df": osd_df(cluster)["summary"],
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
