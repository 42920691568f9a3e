"""The embedded cluster as one process sees it: pools, OSDs and the object ops on them.

A ``Cluster`` is the cluster's OSDs (``osd_service.OSDService``: the map, the OSD stores,
failure detection, placement) plus what a client and an operator do with them:

- **object ops**, routed to the object's placement group (``placement.py``) and done there
  (``pg.py``): writes under the PG lock with a PG log entry on every copy, reads from the
  PG's complete copies; the pool's I/O backend (``replicated_backend``, ``ec_backend``) does
  the I/O, peering (``peering.py``) keeps every PG's copies in agreement;
- **pools** (replicated, or erasure-coded with a profile; an EC pool's ``min_size`` is k + 1,
  as Ceph's, so an acknowledged write always has a redundant shard) and **OSDs** (add, up/down,
  in/out, reweight, upmap items, the balancer): map changes, made under the map's lock. A
  change that moves PG copies needs nothing else: the next op on each PG peers it, and
  ``recover`` fills the copies that must be filled (``recovery.py``).

One ``Cluster`` per cluster directory per process (``open_cluster``), shared by every
``Rados`` handle of that process, so its OSD committers batch all of their writes.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import pg as pg_ops
from .balancer import calc_pg_upmaps, upmap_changes
from .config import ClusterConfig, new_config
from .erasure import ErasureCodec
from .errors import OSDFailure, StorageError, exists, invalid, not_found, unsupported
from .osd_service import ADMIN, OSDService, read_quorum
from .osd_store import OSDStore
from .osdmap import Copy, MapStore, OSDInfo, OSDMap, PoolInfo, parse_pgid, pgid
from .pg_history import PGHistory
from .pg_log import ZERO, PGInfo
from .pg_state import COMPLETE
from .placement import apply_upmap, crush_set, domains_distinct, pg_of, straw2_set
from .store_records import ObjectInfo, ObjectKey, Transaction

log = logging.getLogger(__name__)

DEFAULT_EC_PROFILE = {
    "k": "2",
    "m": "2",
    "plugin": "jerasure",
    "technique": "reed_sol_van",
    "crush-failure-domain": "osd",
}


@dataclass
class PoolStats:
    objects: int
    bytes: int
    degraded: int


def create_cluster(cluster_dir: Path, osds: int, osd_paths: list[Path] | None = None, **options: str) -> ClusterConfig:
    """Make a new cluster: ``cluster.conf``, the map, and ``osds`` empty OSD directories."""
    cluster_dir.mkdir(parents=True, exist_ok=True)
    if (cluster_dir / "cluster.conf").exists():
        raise exists(f"a cluster in {cluster_dir}")
    paths = list(osd_paths or [])
    if len(paths) > osds:
        raise invalid(f"{len(paths)} --osd-path given for {osds} OSDs")
    paths += [Path(f"osd.{i}") for i in range(len(paths), osds)]
    conf = new_config(cluster_dir, paths, **options)
    for osd_id in conf.osd_paths:
        OSDStore.mkfs(conf.osd_data(osd_id), osd_id, conf.fsid)
    osdmap = OSDMap(fsid=conf.fsid, osds={i: OSDInfo(id=i) for i in conf.osd_paths})
    osdmap.erasure_code_profiles["default"] = dict(DEFAULT_EC_PROFILE)
    MapStore(cluster_dir).create(osdmap)
    conf.save()
    return conf


class Cluster(OSDService):
    # -- pools and OSDs ------------------------------------------------------------------

    def set_ec_profile(self, name: str, profile: dict[str, str], force: bool = False) -> None:
        ErasureCodec.from_profile(profile, self.conf.ec_stripe_unit)  # validate before storing
        with self.maps.update() as osdmap:
            old = osdmap.erasure_code_profiles.get(name)
            if old is not None and old != profile and not force:
                in_use = [p.name for p in osdmap.pools.values() if p.erasure_code_profile == name]
                if in_use:
                    raise StorageError(errno.EPERM, f"profile {name} is in use by pools {in_use}")
            osdmap.erasure_code_profiles[name] = profile

    def create_pool(
        self,
        name: str,
        pg_num: int | None = None,
        pool_type: str = "replicated",
        erasure_code_profile: str | None = None,
        size: int | None = None,
    ) -> PoolInfo:
        if not name or "/" in name:
            raise invalid(f"bad pool name {name!r}")
        if pool_type not in ("replicated", "erasure"):
            raise invalid(f"pool type must be replicated or erasure, not {pool_type!r}")
        pg_num = pg_num or self.conf.default_pg_num
        if pg_num < 1:
            raise invalid("pg_num must be at least 1")
        with self.maps.update() as osdmap:
            if osdmap.pool_by_name(name) is not None:
                raise exists(f"pool '{name}'")
            if pool_type == "erasure":
                profile_name = erasure_code_profile or "default"
                profile = osdmap.erasure_code_profiles.get(profile_name)
                if profile is None:
                    raise not_found(f"erasure-code profile '{profile_name}'")
                k, m = int(profile["k"]), int(profile["m"])
                size, min_size = k + m, k + 1  # one shard beyond k: an acknowledged write stays redundant
                domain = profile.get("crush-failure-domain", self.conf.failure_domain)
            else:
                profile_name = None
                size = size or self.conf.default_size
                if not 1 <= size <= 10:
                    raise invalid(f"pool size must be between 1 and 10, not {size}")
                min_size = min(self.conf.default_min_size, size)
                domain = self.conf.failure_domain
            osdmap.pool_max += 1
            pool = PoolInfo(
                id=osdmap.pool_max,
                name=name,
                type=pool_type,
                size=size,
                min_size=min_size,
                pg_num=pg_num,
                failure_domain=domain,
                erasure_code_profile=profile_name,
            )
            osdmap.pools[pool.id] = pool
            osdmap.pg_upmap_items = calc_pg_upmaps(osdmap, [pool.id])  # only the new, empty pool moves
        self._first_activation(self.pool_by_id(pool.id))
        return pool

    def _first_activation(self, pool: PoolInfo) -> None:
        """Give each PG of a new pool its PG state on the copies it is made on, and record them as
        its participants: from then on, a PG whose copies are all down is never taken for an
        empty one by copies that never held it."""
        epoch = self.osdmap.epoch
        txns = []
        placed: dict[int, list[Copy]] = {}
        for pg in range(pool.pg_num):
            placed[pg] = self.up_copies(pool, pg)
            for shard, osd in placed[pg]:
                info = PGInfo(shard, epoch, ZERO, ZERO)
                txns.append(((shard, osd), Transaction.pg_info(ObjectKey(pool.id, pg, "", "", shard), info)))
        outcome = self.apply_transactions(txns)
        if outcome.errors:
            raise outcome.errors[0][1]
        made = set(outcome.applied)
        self.history.put_many(
            pool.id, {pg: PGHistory(epoch, [c for c in copies if c in made]) for pg, copies in placed.items()}
        )

    def delete_pool(self, name: str) -> None:
        with self.maps.update() as osdmap:
            pool = osdmap.pool_by_name(name)
            if pool is None:
                raise not_found(f"pool '{name}'")
            del osdmap.pools[pool.id]
            osdmap.drop_pool_upmaps(pool.id)
            up = [o.id for o in osdmap.osds.values() if o.up]
        for osd_id in up:
            self.store(osd_id).purge_pool(pool.id)
        self.history.drop_pool(pool.id)

    def enable_application(self, name: str, app: str) -> None:
        """Tag the pool with the application using it (``rgw``, ``rbd``), as Ceph does."""
        with self.maps.update() as osdmap:
            pool = _named_pool(osdmap, name)
            if app not in pool.applications:
                pool.applications.append(app)

    def set_pool(self, name: str, var: str, value: int) -> None:
        with self.maps.update() as osdmap:
            pool = osdmap.pool_by_name(name)
            if pool is None:
                raise not_found(f"pool '{name}'")
            if var == "size":
                if pool.type == "erasure":
                    raise unsupported("can not change the size of an erasure-coded pool")
                if not 1 <= value <= 10:
                    raise invalid(f"pool size must be between 1 and 10, not {value}")
                pool.size, pool.min_size = value, min(pool.min_size, value)
            elif var == "min_size":
                lowest = read_quorum(osdmap, pool)
                if not lowest <= value <= pool.size:
                    raise invalid(f"pool min_size must be between {lowest} and {pool.size}, not {value}")
                pool.min_size = value
            else:
                raise invalid(f"unsupported pool variable {var!r}: size and min_size are")

    def add_osd(self, path: Path | None = None, weight: float = 1.0, host: str = "localhost") -> int:
        with self.maps.update() as osdmap:
            osd_id = max(osdmap.osds, default=-1) + 1
            conf = ClusterConfig.load(self.conf.path)
            conf.osd_paths[osd_id] = path or Path(f"osd.{osd_id}")
            conf.osd_hosts[osd_id] = host
            OSDStore.mkfs(conf.osd_data(osd_id), osd_id, conf.fsid)
            conf.save()
            self.conf = conf
            osdmap.osds[osd_id] = OSDInfo(id=osd_id, weight=weight, host=host, up_from=osdmap.epoch + 1)
            osdmap.pg_upmap_items = calc_pg_upmaps(osdmap)
        return osd_id

    def set_osd_state(self, ids: list[int], up: bool | None = None, in_: bool | None = None) -> list[int]:
        """Mark OSDs up/down and in/out; returns the ids whose state changed."""
        changed = []
        with self.maps.update() as osdmap:
            for osd_id in ids:
                osd = osdmap.osds.get(osd_id)
                if osd is None:
                    raise not_found(f"osd.{osd_id}")
                before = (osd.up, osd.in_)
                if up and not osd.up:
                    osdmap.mark_up(osd_id)
                elif up is False:
                    osd.up, osd.down_since, osd.down_reason = False, osd.down_since or time.time(), ADMIN
                if in_ is not None:
                    osd.in_ = in_
                if (osd.up, osd.in_) != before:
                    changed.append(osd_id)
            if in_ is not None and changed:
                osdmap.pg_upmap_items = calc_pg_upmaps(osdmap)
        return changed

    def reweight_osd(self, osd_id: int, weight: float) -> None:
        if weight < 0:
            raise invalid("weight must not be negative")
        with self.maps.update() as osdmap:
            if osd_id not in osdmap.osds:
                raise not_found(f"osd.{osd_id}")
            osdmap.osds[osd_id].weight = weight
            osdmap.pg_upmap_items = calc_pg_upmaps(osdmap)

    def run_balancer(self, pool_names: list[str] | None = None) -> int:
        """Balance PG copies now (``balancer.py``), over ``pool_names`` or all pools.

        Returns how many PGs' upmap items changed.
        """
        with self.maps.update() as osdmap:
            pool_ids = None if pool_names is None else [_named_pool(osdmap, name).id for name in pool_names]
            items = calc_pg_upmaps(osdmap, pool_ids)
            changed = upmap_changes(osdmap.pg_upmap_items, items)
            osdmap.pg_upmap_items = items
        return changed

    def set_pg_upmap_items(self, pg_id: str, pairs: list[tuple[int, int]]) -> None:
        """Ceph's ``osd pg-upmap-items``: the PG's ``[from, to]`` pairs, replacing any it had.

        Refused if the pairs would put two copies of the PG in one failure domain; a pair
        that does not apply (``to`` out or already in the set) is kept but ignored.
        """
        if not pairs:
            raise invalid("pg-upmap-items needs at least one from, to pair")
        with self.maps.update() as osdmap:
            pool, pg = _pg_in(osdmap, pg_id)
            for from_osd, to_osd in pairs:
                for osd_id in (from_osd, to_osd):
                    if osd_id not in osdmap.osds:
                        raise not_found(f"osd.{osd_id}")
                if from_osd == to_osd:
                    raise invalid(f"osd.{from_osd} is mapped to itself")
            upmapped = apply_upmap(osdmap, straw2_set(osdmap, pool, pg), pairs)
            if not domains_distinct(osdmap, pool, upmapped):
                raise invalid(f"{pg_id} -> {upmapped} would put two copies in one {pool.failure_domain}")
            osdmap.pg_upmap_items[pgid(pool.id, pg)] = [[f, t] for f, t in pairs]

    def rm_pg_upmap_items(self, pg_id: str) -> bool:
        """Ceph's ``osd rm-pg-upmap-items``; returns whether the PG had any."""
        with self.maps.update() as osdmap:
            pool, pg = _pg_in(osdmap, pg_id)
            return osdmap.pg_upmap_items.pop(pgid(pool.id, pg), None) is not None

    # -- object ops --------------------------------------------------------------------

    def operate(self, pool_name: str, ns: str, name: str, ops: list[tuple], mtime: float | None = None) -> None:
        """Apply ``ops`` (see ``store_records.Transaction``) to one object, atomically on every copy."""
        pool = self.pool(pool_name)
        mtime_ns = int((mtime if mtime else time.time()) * 1e9)
        self.heartbeat()
        pg_ops.write(self, pool, pg_of(pool, ns, name), (ns, name), ops, mtime_ns)

    def map_object(self, pool: PoolInfo, ns: str, name: str) -> tuple[int, list[int | None], list[int | None]]:
        """(pg, CRUSH set, up set) of an object."""
        pg = pg_of(pool, ns, name)
        return pg, crush_set(self.osdmap, pool, pg), self.up_osds(pool, pg)

    def _locate(self, pool_name: str, ns: str, name: str) -> tuple[PoolInfo, int]:
        self.heartbeat()
        pool = self.pool(pool_name)
        return pool, pg_of(pool, ns, name)

    def read(self, pool_name: str, ns: str, name: str, offset: int, length: int) -> bytes:
        pool, pg = self._locate(pool_name, ns, name)
        return pg_ops.read(self, pool, pg, (ns, name), offset, length)

    def stat(self, pool_name: str, ns: str, name: str) -> ObjectInfo:
        pool, pg = self._locate(pool_name, ns, name)
        return pg_ops.stat(self, pool, pg, (ns, name))

    def get_xattr(self, pool_name: str, ns: str, name: str, attr: str) -> bytes:
        pool, pg = self._locate(pool_name, ns, name)
        return pg_ops.metadata(self, pool, pg, (ns, name), lambda s, k: s.get_xattr(k, attr))

    def get_xattrs(self, pool_name: str, ns: str, name: str) -> dict[str, bytes]:
        pool, pg = self._locate(pool_name, ns, name)
        return pg_ops.metadata(self, pool, pg, (ns, name), lambda s, k: s.get_xattrs(k))

    def omap_get(self, pool_name: str, ns: str, name: str, **query) -> tuple[list[tuple[str, bytes]], bool]:
        pool, pg = self._locate(pool_name, ns, name)
        return pg_ops.omap(self, pool, pg, (ns, name), lambda s, k: s.omap_get(k, **query))

    def omap_get_header(self, pool_name: str, ns: str, name: str) -> bytes:
        pool, pg = self._locate(pool_name, ns, name)
        return pg_ops.omap(self, pool, pg, (ns, name), lambda s, k: s.omap_get_header(k))

    def list_objects(self, pool_name: str, ns: str | None) -> Iterator[tuple[str, str]]:
        """(namespace, name) of every object in the pool, PG by PG; ``ns=None`` for all namespaces."""
        pool = self.pool(pool_name)
        for pg in range(pool.pg_num):
            yield from pg_ops.list_objects(self, pool, pg, ns)

    # -- statistics ----------------------------------------------------------------------

    def pool_stats(self, pool: PoolInfo) -> PoolStats:
        """Objects and bytes of a pool, counted on one complete copy of each PG, and how many
        object copies its PGs lack (degraded)."""
        objects = nbytes = degraded = 0
        per_osd: dict[int, dict[int, tuple[int, int]]] = {}
        for pg in range(pool.pg_num):
            try:
                state = pg_ops.readable_state(self, pool, pg)
            except StorageError:
                continue
            complete = state.with_role(COMPLETE)
            if not complete:
                continue
            osd = complete[0].osd
            try:
                if osd not in per_osd:
                    per_osd[osd] = self.store(osd).pg_stats(pool.id)
            except OSDFailure as f:
                self.osd_failed(f)
                continue
            count, size = per_osd[osd].get(pg, (0, 0))
            objects += count
            nbytes += size
            whole = len([c for c in complete if c.copy in self.up_copies(pool, pg)])
            degraded += count * max(0, pool.size - whole)
        return PoolStats(objects, nbytes, degraded)

    def cluster_stats(self) -> dict[str, int]:
        devices: dict[int, os.statvfs_result] = {}
        used = 0
        for osd in self.osdmap.osds.values():
            if not osd.up:
                continue
            try:
                store = self.store(osd.id)
                used += store.used_bytes()
                devices.setdefault(os.stat(store.path).st_dev, os.statvfs(store.path))
            except OSDFailure as f:
                self.osd_failed(f)
        total = sum(v.f_blocks * v.f_frsize for v in devices.values())
        avail = sum(v.f_bavail * v.f_frsize for v in devices.values())
        objects = sum(self.pool_stats(p).objects for p in self.osdmap.pools.values())
        return {"kb": total // 1024, "kb_used": used // 1024, "kb_avail": avail // 1024, "num_objects": objects}


def _named_pool(osdmap: OSDMap, name: str) -> PoolInfo:
    pool = osdmap.pool_by_name(name)
    if pool is None:
        raise not_found(f"pool '{name}'")
    return pool


def _pg_in(osdmap: OSDMap, pg_id: str) -> tuple[PoolInfo, int]:
    """The pool and PG number of a pgid text such as ``1.1f``; ENOENT if there is no such PG."""
    pool_id, pg = parse_pgid(pg_id)
    pool = osdmap.pools.get(pool_id)
    if pool is None or pg >= pool.pg_num:
        raise not_found(f"pg {pg_id}")
    return pool, pg


_registry: dict[tuple[int, str], list] = {}
_registry_lock = threading.Lock()


def open_cluster(conf_path: str | Path) -> Cluster:
    """The process's shared ``Cluster`` for this conf file; pair with ``release_cluster``."""
    key = (os.getpid(), os.path.realpath(conf_path))
    with _registry_lock:
        entry = _registry.get(key)
        if entry is None:
            entry = _registry[key] = [Cluster(Path(conf_path)), 0]
        entry[1] += 1
        return entry[0]


def release_cluster(cluster: Cluster) -> None:
    with _registry_lock:
        for key, entry in list(_registry.items()):
            if entry[0] is cluster:
                entry[1] -= 1
                if entry[1] == 0:
                    del _registry[key]
                    cluster.close()
                return


def _forget_after_fork() -> None:
    # threads and locks of the parent are not ours; the child opens its own stores
    global _registry_lock
    _registry.clear()
    _registry_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
