"""Placement: object -> placement group -> ordered OSD set, CRUSH-style.

An object's PG is a stable hash of its name (with its namespace, as Ceph's
``hash_key`` does) folded onto ``pg_num`` with Ceph's ``stable_mod``, so growing
``pg_num`` splits PGs rather than reshuffling them.

A PG's OSDs come from straw2: every candidate draws ``ln(u) / weight`` with ``u`` a
hash of (pool, pg, candidate, attempt) in (0, 1], and the largest draw wins. Each
candidate's draw is independent of the others, so adding or removing an OSD only
moves the choices it wins or held: about its share of the weight. With the ``host``
failure domain the draw is made among hosts (weight = sum of their OSDs) and then
among the chosen host's OSDs, so no two copies share a host.

Replicated pools use Ceph's *firstn* rule (a down OSD drops out and the rest shift
up); erasure-coded pools use *indep* (each shard keeps its position; a down OSD
leaves a hole, ``None``), so a shard's OSD does not change when another's does.

The PG's ``pg_upmap_items`` (``osdmap.py``) then override the straw2 choice, as Ceph's
``OSDMap::_apply_upmap`` does: each ``[from, to]`` pair, in order, puts ``to`` where
``from`` is. A pair is ignored if ``from`` is not in the set or ``to`` is not in the map,
is out (or has weight 0) or already holds a copy of the PG, so a stale pair can never put
two copies on one OSD or data on an out OSD. Keeping failure domains apart is the job of
whoever sets the pairs (``balancer.py``), which needs both halves: ``straw2_set`` is the
CRUSH choice alone, ``crush_set`` the choice with the upmaps applied.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterable, Sequence

from .osdmap import OSDMap, PoolInfo, pgid

CHOOSE_TRIES = 50


def object_hash(namespace: str, name: str) -> int:
    key = f"{namespace}\037{name}" if namespace else name
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "little")


def pg_mask(pg_num: int) -> int:
    return (1 << max(pg_num - 1, 0).bit_length()) - 1


def stable_mod(x: int, b: int, bmask: int) -> int:
    """Ceph's ceph_stable_mod: ``x mod b`` that stays put for most x when b grows."""
    return x & bmask if (x & bmask) < b else x & (bmask >> 1)


def pg_of(pool: PoolInfo, namespace: str, name: str) -> int:
    return stable_mod(object_hash(namespace, name), pool.pg_num, pg_mask(pool.pg_num))


def _draw(seed: bytes, item: int, attempt: int, weight: float) -> float:
    digest = hashlib.blake2b(seed + struct.pack("<qq", item, attempt), digest_size=8).digest()
    u = (int.from_bytes(digest, "little") + 1) / 2.0**64
    return math.log(u) / weight


def straw2(candidates: dict[int, float], seed: bytes, attempt: int) -> int | None:
    """The candidate with the largest weighted draw; None if no candidate has weight."""
    best, best_draw = None, -math.inf
    for item, weight in candidates.items():
        if weight <= 0:
            continue
        draw = _draw(seed, item, attempt, weight)
        if draw > best_draw:
            best, best_draw = item, draw
    return best


def _leaf_choice(osdmap: OSDMap, failure_domain: str, seed: bytes, attempt: int) -> int | None:
    weights = {o.id: (o.weight if o.in_ else 0.0) for o in osdmap.osds.values()}
    if failure_domain == "osd":
        return straw2(weights, seed, attempt)
    hosts: dict[str, dict[int, float]] = {}
    for osd_id, weight in weights.items():
        hosts.setdefault(osdmap.osds[osd_id].host, {})[osd_id] = weight
    host_ids = {i: name for i, name in enumerate(sorted(hosts))}
    host_weights = {i: sum(hosts[name].values()) for i, name in host_ids.items()}
    host = straw2(host_weights, seed + b"host", attempt)
    if host is None:
        return None
    return straw2(hosts[host_ids[host]], seed, attempt)


def domain_of(osdmap: OSDMap, failure_domain: str, osd_id: int) -> object:
    """The failure domain ``osd_id`` belongs to: itself, or its host."""
    return osd_id if failure_domain == "osd" else osdmap.osds[osd_id].host


def domains_distinct(osdmap: OSDMap, pool: PoolInfo, osds: list[int | None]) -> bool:
    """Whether no two of ``osds`` share a failure domain of ``pool``."""
    domains = [domain_of(osdmap, pool.failure_domain, o) for o in osds if o is not None]
    return len(domains) == len(set(domains))


def straw2_set(osdmap: OSDMap, pool: PoolInfo, pg: int) -> list[int | None]:
    """The PG's OSDs as the CRUSH rule alone chooses them, over the OSDs that are in.

    ``None`` marks a position no OSD could fill (fewer failure domains than ``size``).
    """
    seed = struct.pack("<qq", pool.id, pg)
    chosen: list[int | None] = []
    used: set[object] = set()
    for position in range(pool.size):
        pick = None
        for tries in range(CHOOSE_TRIES):
            attempt = position + tries * pool.size
            osd_id = _leaf_choice(osdmap, pool.failure_domain, seed, attempt)
            if osd_id is None:
                break
            if domain_of(osdmap, pool.failure_domain, osd_id) not in used:
                pick = osd_id
                break
        if pick is not None:
            used.add(domain_of(osdmap, pool.failure_domain, pick))
        chosen.append(pick)
    return chosen


def can_hold(osdmap: OSDMap, osd_id: int) -> bool:
    """Whether an upmap may send data to ``osd_id``: it exists, is in and has weight."""
    osd = osdmap.osds.get(osd_id)
    return osd is not None and osd.in_ and osd.weight > 0


def apply_upmap(osdmap: OSDMap, chosen: list[int | None], pairs: Iterable[Sequence[int]]) -> list[int | None]:
    """``chosen`` with each applicable ``[from, to]`` pair applied, in order."""
    result = list(chosen)
    for from_osd, to_osd in pairs:
        if from_osd in result and to_osd not in result and can_hold(osdmap, to_osd):
            result[result.index(from_osd)] = to_osd
    return result


def crush_set(osdmap: OSDMap, pool: PoolInfo, pg: int) -> list[int | None]:
    """The PG's OSDs by CRUSH and its upmap items, before taking down ones out."""
    chosen = straw2_set(osdmap, pool, pg)
    pairs = osdmap.pg_upmap_items.get(pgid(pool.id, pg))
    return apply_upmap(osdmap, chosen, pairs) if pairs else chosen


def up_set(osdmap: OSDMap, pool: PoolInfo, pg: int) -> list[int | None]:
    """The OSDs that serve the PG now, primary first.

    Replicated: the up OSDs of the CRUSH set, shifted together. Erasure-coded: one entry
    per shard position, ``None`` where that shard's OSD is down or missing.
    """
    raw = crush_set(osdmap, pool, pg)
    if pool.type == "erasure":
        return [o if o is not None and osdmap.osds[o].up else None for o in raw]
    return [o for o in raw if o is not None and osdmap.osds[o].up]
