"""The embedded cluster as one process sees it: routes object ops to OSD stores.

A ``Cluster`` reads ``cluster.conf`` and the cluster map, places each object
(``placement.py``), and runs its ops on the PG's OSDs under the PG lock:

- replicated pools: the same transaction goes to every up OSD of the PG, in parallel
  (each OSD's committer batches it with others), and needs ``min_size`` of them up;
  reads go to the primary and fail over to another replica on EIO;
- erasure-coded pools: writes are re-encoded stripe by stripe (``erasure.py``) and
  each shard goes to its own OSD; reads fetch the stripes they need from k shards of
  the newest version and decode. Omap is refused with EOPNOTSUPP, as in Ceph.

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
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from .balancer import calc_pg_upmaps, upmap_changes
from .config import ClusterConfig, new_config
from .erasure import ErasureCodec
from .errors import OSDFailure, StorageError, exists, invalid, io_error, not_found, unsupported
from .osd_store import NO_SHARD, PENDING_SHARD, ObjectInfo, ObjectKey, OSDStore, PendingTxn, Transaction
from .osdmap import LOCK_DIR, Copy, MapStore, OSDInfo, OSDMap, PoolInfo, parse_pgid, pgid
from .peering import authoritative, note_map_change, read_quorum
from .pg_lock import PGLocks
from .piece_stream import PieceFanout, PieceStream
from .placement import apply_upmap, crush_set, domains_distinct, pg_of, straw2_set, up_set
from .recovery import recover_object

log = logging.getLogger(__name__)

DATA_OPS = frozenset({"write", "write_full", "append", "truncate", "zero"})
OMAP_OPS = frozenset({"omap_set", "omap_rm", "omap_clear", "omap_rm_range", "omap_set_header", "omap_cmp"})
EC_READ_RETRIES = 5
ADMIN = "admin"  # down_reason of an OSD marked down by hand: it stays down until marked up by hand
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


class Cluster:
    def __init__(self, conf_path: Path) -> None:
        self.conf = ClusterConfig.load(conf_path)
        self.maps = MapStore(self.conf.cluster_dir)
        if self.maps.current().fsid != self.conf.fsid:
            raise io_error(f"{self.maps.path} belongs to another cluster than {conf_path}")
        self.pg_locks = PGLocks(self.conf.cluster_dir / LOCK_DIR)
        self._stores: dict[int, OSDStore] = {}
        self._stores_lock = threading.Lock()
        self._placements: dict[tuple[int, int], dict[int, list[int | None]]] = {}
        self._codecs: dict[tuple[int, int], ErasureCodec] = {}
        self._last_heartbeat = -float("inf")  # the first op checks the OSDs

    # -- map, pools and OSDs ---------------------------------------------------

    @property
    def osdmap(self) -> OSDMap:
        return self.maps.current()

    def pool(self, name: str) -> PoolInfo:
        pool = self.osdmap.pool_by_name(name)
        if pool is None:
            raise not_found(f"pool '{name}'")
        return pool

    def pool_by_id(self, pool_id: int) -> PoolInfo:
        pool = self.osdmap.pools.get(pool_id)
        if pool is None:
            raise not_found(f"pool {pool_id}")
        return pool

    @contextmanager
    def changing_map(self) -> Iterator[OSDMap]:
        """Change the map under its lock; peering then notes the PG copies that need recovery."""
        with self.maps.update() as osdmap:
            before = OSDMap.from_json(osdmap.to_json())
            yield osdmap
            note_map_change(before, osdmap)

    def store(self, osd_id: int) -> OSDStore:
        with self._stores_lock:
            store = self._stores.get(osd_id)
            if store is None:
                self.conf = self._conf_with(osd_id)
                store = OSDStore(osd_id, self.conf.osd_data(osd_id))
                store.check(self.conf.fsid)
                self._stores[osd_id] = store
            return store

    def _forget_store(self, osd_id: int) -> None:
        with self._stores_lock:
            store = self._stores.pop(osd_id, None)
        if store is not None:
            store.close()

    # -- failure detection -----------------------------------------------------

    def osd_failed(self, failure: OSDFailure) -> None:
        """Mark an OSD that failed under an op down, so ops go on without it."""
        osd = self.osdmap.osds.get(failure.osd_id)
        if osd is not None and osd.up:
            log.warning("%s; marking it down", failure.message)
            with self.changing_map() as osdmap:
                osd = osdmap.osds[failure.osd_id]
                if osd.up:
                    osd.up, osd.down_since, osd.down_reason = False, time.time(), failure.message
        self._forget_store(failure.osd_id)

    def heartbeat(self, force: bool = False) -> None:
        """Check every OSD directory, at most once per ``osd heartbeat interval`` unless forced:
        mark failed OSDs down, recovered ones up (not those an admin marked down), and OSDs
        down longer than ``mon osd down out interval`` out."""
        now = time.monotonic()
        if not force and now - self._last_heartbeat < self.conf.heartbeat_interval:
            return
        self._last_heartbeat = now
        conf = ClusterConfig.load(self.conf.path)
        problems = {o: OSDStore.probe(conf.osd_data(o), o, conf.fsid) for o in self.osdmap.osds if o in conf.osd_paths}
        if not self._heartbeat_changes(self.osdmap, problems, conf.down_out_interval):
            return
        with self.changing_map() as osdmap:
            for osd_id, change in self._heartbeat_changes(osdmap, problems, conf.down_out_interval).items():
                osd = osdmap.osds[osd_id]
                log.warning("osd.%d: marked %s%s", osd_id, change, f" ({problems[osd_id]})" if change == "down" else "")
                if change == "down":
                    osd.up, osd.down_since, osd.down_reason = False, time.time(), problems[osd_id]
                elif change == "up":
                    osd.up, osd.down_since, osd.down_reason = True, None, None
                else:
                    osd.in_ = False
        for osd_id, problem in problems.items():
            if problem is not None:
                self._forget_store(osd_id)

    @staticmethod
    def _heartbeat_changes(osdmap: OSDMap, problems: dict[int, str | None], out_after: int) -> dict[int, str]:
        changes = {}
        for osd_id, problem in problems.items():
            osd = osdmap.osds[osd_id]
            if osd.up and problem is not None:
                changes[osd_id] = "down"
            elif not osd.up and problem is None and osd.down_reason != ADMIN:
                changes[osd_id] = "up"
            elif not osd.up and osd.in_ and osd.down_since is not None and time.time() - osd.down_since >= out_after:
                changes[osd_id] = "out (down too long)"
        return changes

    def _conf_with(self, osd_id: int) -> ClusterConfig:
        if osd_id in self.conf.osd_paths:
            return self.conf
        conf = ClusterConfig.load(self.conf.path)  # another process added the OSD
        if osd_id not in conf.osd_paths:
            raise io_error(f"osd.{osd_id} is in the map but not in {conf.path}")
        return conf

    def up_osds(self, pool: PoolInfo, pg: int) -> list[int | None]:
        osdmap = self.osdmap
        key = (pool.id, osdmap.epoch)
        cache = self._placements.get(key)
        if cache is None:
            self._placements = {k: v for k, v in self._placements.items() if k[1] == osdmap.epoch}
            cache = self._placements[key] = {}
        if pg not in cache:
            cache[pg] = up_set(osdmap, pool, pg)
        return cache[pg]

    def map_object(self, pool: PoolInfo, ns: str, name: str) -> tuple[int, list[int | None], list[int | None]]:
        """(pg, CRUSH set, up set) of an object."""
        pg = pg_of(pool, ns, name)
        return pg, crush_set(self.osdmap, pool, pg), self.up_osds(pool, pg)

    def codec(self, pool: PoolInfo) -> ErasureCodec:
        key = (pool.id, self.osdmap.epoch)
        codec = self._codecs.get(key)
        if codec is None:
            profile = self.osdmap.erasure_code_profiles[pool.erasure_code_profile or "default"]
            codec = self._codecs[key] = ErasureCodec.from_profile(profile, self.conf.ec_stripe_unit)
        return codec

    def set_ec_profile(self, name: str, profile: dict[str, str], force: bool = False) -> None:
        ErasureCodec.from_profile(profile, self.conf.ec_stripe_unit)  # validate before storing
        with self.changing_map() as osdmap:
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
        with self.changing_map() as osdmap:
            if osdmap.pool_by_name(name) is not None:
                raise exists(f"pool '{name}'")
            if pool_type == "erasure":
                profile_name = erasure_code_profile or "default"
                profile = osdmap.erasure_code_profiles.get(profile_name)
                if profile is None:
                    raise not_found(f"erasure-code profile '{profile_name}'")
                k, m = int(profile["k"]), int(profile["m"])
                size, min_size = k + m, k
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
        return pool

    def delete_pool(self, name: str) -> None:
        with self.changing_map() as osdmap:
            pool = osdmap.pool_by_name(name)
            if pool is None:
                raise not_found(f"pool '{name}'")
            del osdmap.pools[pool.id]
            osdmap.drop_pool_upmaps(pool.id)
            up = [o.id for o in osdmap.osds.values() if o.up]
        for osd_id in up:
            self.store(osd_id).purge_pool(pool.id)

    def enable_application(self, name: str, app: str) -> None:
        """Tag the pool with the application using it (``rgw``, ``rbd``), as Ceph does."""
        with self.changing_map() as osdmap:
            pool = _named_pool(osdmap, name)
            if app not in pool.applications:
                pool.applications.append(app)

    def set_pool(self, name: str, var: str, value: int) -> None:
        with self.changing_map() as osdmap:
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
        with self.changing_map() as osdmap:
            osd_id = max(osdmap.osds, default=-1) + 1
            conf = ClusterConfig.load(self.conf.path)
            conf.osd_paths[osd_id] = path or Path(f"osd.{osd_id}")
            conf.osd_hosts[osd_id] = host
            OSDStore.mkfs(conf.osd_data(osd_id), osd_id, conf.fsid)
            conf.save()
            self.conf = conf
            osdmap.osds[osd_id] = OSDInfo(id=osd_id, weight=weight, host=host)
            osdmap.pg_upmap_items = calc_pg_upmaps(osdmap)
        return osd_id

    def set_osd_state(self, ids: list[int], up: bool | None = None, in_: bool | None = None) -> list[int]:
        """Mark OSDs up/down and in/out; returns the ids whose state changed."""
        changed = []
        with self.changing_map() as osdmap:
            for osd_id in ids:
                osd = osdmap.osds.get(osd_id)
                if osd is None:
                    raise not_found(f"osd.{osd_id}")
                before = (osd.up, osd.in_)
                if up is not None:
                    osd.up = up
                    osd.down_since = None if up else (osd.down_since or time.time())
                    osd.down_reason = None if up else ADMIN
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
        with self.changing_map() as osdmap:
            if osd_id not in osdmap.osds:
                raise not_found(f"osd.{osd_id}")
            osdmap.osds[osd_id].weight = weight
            osdmap.pg_upmap_items = calc_pg_upmaps(osdmap)

    def run_balancer(self, pool_names: list[str] | None = None) -> int:
        """Balance PG copies now (``balancer.py``), over ``pool_names`` or all pools.

        Returns how many PGs' upmap items changed.
        """
        with self.changing_map() as osdmap:
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
        with self.changing_map() as osdmap:
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
        with self.changing_map() as osdmap:
            pool, pg = _pg_in(osdmap, pg_id)
            return osdmap.pg_upmap_items.pop(pgid(pool.id, pg), None) is not None

    # -- object writes ---------------------------------------------------------

    def operate(self, pool_name: str, ns: str, name: str, ops: list[tuple], mtime: float | None = None) -> None:
        """Apply ``ops`` (see ``osd_store.Transaction``) to one object, atomically on every copy."""
        pool = self.pool(pool_name)
        pg = pg_of(pool, ns, name)
        mtime_ns = int((mtime if mtime else time.time()) * 1e9)
        self.heartbeat()
        with self.pg_locks.hold(pool.id, pg):
            if pgid(pool.id, pg) in self.osdmap.pg_recovery:
                recover_object(self, pool, pg, ns, name)
            if pool.type == "erasure":
                self._ec_operate(pool, pg, ns, name, ops, mtime_ns)
            else:
                self._replicated_operate(pool, pg, ns, name, ops, mtime_ns)

    def _writable(self, pool: PoolInfo, pg: int) -> list[Copy]:
        """The (shard, osd) copies to write: the acting set, plus any strays serving the PG until its
        targets are filled (``peering.py``), which must stay current. EAGAIN if fewer than min_size
        are acting."""
        copies = self.acting(pool, pg)
        if len(copies) < pool.min_size:
            raise StorageError(
                errno.EAGAIN, f"pg {pgid(pool.id, pg)} has {len(copies)} OSDs up, below min_size {pool.min_size}"
            )
        rec = self.osdmap.pg_recovery.get(pgid(pool.id, pg))
        if rec is not None and rec.strays:
            copies += [c for c in self.read_sources(pool, pg) if c not in copies]
        return copies

    def acting(self, pool: PoolInfo, pg: int) -> list[Copy]:
        up = self.up_osds(pool, pg)
        return [(shard if pool.type == "erasure" else NO_SHARD, osd) for shard, osd in enumerate(up) if osd is not None]

    def _submit(self, copy: Copy, txn: Transaction, pending: list, failures: list[OSDFailure]) -> None:
        try:
            pending.append((copy, self.store(copy[1]).submit(txn)))
        except OSDFailure as f:
            failures.append(f)

    def _settle(
        self, pool: PoolInfo, pg: int, pending: list[tuple[Copy, PendingTxn]], failures: list, need: int | None = None
    ) -> list[Copy]:
        """Wait for an op's transactions; returns the copies that applied it.

        OSDs that failed under it are marked down and the op stands if at least ``need``
        (default ``min_size``) copies applied it (a degraded write); otherwise EAGAIN. Any
        other error is raised.
        """
        need = pool.min_size if need is None else need
        done, error = [], None
        for copy, p in pending:
            try:
                p.wait()
                done.append(copy)
            except OSDFailure as f:
                failures.append(f)
            except StorageError as e:
                error = error or e
        for failure in failures:
            self.osd_failed(failure)
        if error is not None:
            raise error
        if failures and len(done) < need:
            raise StorageError(
                errno.EAGAIN,
                f"pg {pgid(pool.id, pg)}: only {len(done)} copies took the write, below min_size {need}"
                f" ({failures[0]})",
            )
        return done

    def apply_transactions(
        self, pool: PoolInfo, pg: int, txns: list[tuple[Copy, Transaction]], need: int | None = None
    ) -> list[Copy]:
        """Run each transaction on its copy's OSD, in parallel; see ``_settle`` for the outcome."""
        pending: list[tuple[Copy, PendingTxn]] = []
        failures: list[OSDFailure] = []
        for copy, txn in txns:
            self._submit(copy, txn, pending, failures)
        return self._settle(pool, pg, pending, failures, need)

    def _replicated_operate(self, pool: PoolInfo, pg: int, ns: str, name: str, ops: list[tuple], mtime_ns: int) -> None:
        copies = self._writable(pool, pg)
        txn = Transaction(ObjectKey(pool.id, pg, ns, name), ops, time.time_ns(), mtime_ns)
        self.apply_transactions(pool, pg, [(c, txn) for c in copies])

    def _ec_operate(self, pool: PoolInfo, pg: int, ns: str, name: str, ops: list[tuple], mtime_ns: int) -> None:
        """EC writes. Ops that change data run in two phases so a crash cannot strand a version on
        fewer than k shards: every shard's new content is first written whole to its pending key;
        only when all are durable does each shard "promote" it (an atomic rename). A reader that
        finds a promote half done finishes it (``_ec_roll_forward``). Other ops go straight to
        every shard; they leave ``data_version``, which readers group shards by, unchanged."""
        if any(op[0] in OMAP_OPS for op in ops):
            raise unsupported(f"pool '{pool.name}' is erasure-coded: omap is not supported")
        copies = self._writable(pool, pg)
        key = ObjectKey(pool.id, pg, ns, name)
        data_ops = [op for op in ops if op[0] in DATA_OPS]
        if not data_ops:
            logical = None if any(op[0] == "remove" for op in ops) else self._ec_current_size(pool, pg, ns, name)
            version = time.time_ns()
            self.apply_transactions(
                pool,
                pg,
                [((s, osd), Transaction(replace(key, shard=s), ops, version, mtime_ns, logical)) for s, osd in copies],
            )
            return
        if len(data_ops) > 1 or any(op[0] in ("lock", "unlock", "remove") for op in ops):
            raise unsupported("an erasure-coded write op may hold one data op and no lock or remove")
        current = self._ec_current(pool, pg, ns, name)
        self._ec_check_asserts(pool, name, current, ops)
        codec = self.codec(pool)
        data = self._ec_new_content(pool, pg, ns, name, current, data_ops[0])
        keep = [("setxattr", k, v) for k, v in (current[1] if current else {}).items()]
        meta = keep + [op for op in ops if op[0] in ("setxattr", "rmxattr")]
        version = time.time_ns()
        streams = {copy: PieceStream(codec.shard_size(len(data))) for copy in copies}
        pending: list[tuple[Copy, PendingTxn]] = []
        failures: list[OSDFailure] = []
        try:
            for (s, osd), stream in streams.items():
                txn = Transaction(
                    replace(key, shard=s + PENDING_SHARD),
                    [("reset",), ("write_full", stream), *meta],
                    version,
                    mtime_ns,
                    len(data),
                )
                self._submit((s, osd), txn, pending, failures)
            shards = range(codec.k + codec.m)
            codec.encode_to(data, [PieceFanout([v for (s, _), v in streams.items() if s == i]) for i in shards])
        except BaseException as e:
            for stream in streams.values():  # the stores waiting on them give up
                stream.fail(e)
            for _, p in pending:
                p.done.wait()
            raise
        written = self._settle(pool, pg, pending, failures)
        self.apply_transactions(
            pool, pg, [(c, Transaction(replace(key, shard=c[0]), [("promote",)], version, mtime_ns)) for c in written]
        )

    def _ec_current(self, pool: PoolInfo, pg: int, ns: str, name: str) -> tuple[ObjectInfo, dict[str, bytes]] | None:
        try:
            info, holders = self.ec_newest(pool, pg, ns, name, locked=True)
        except StorageError as e:
            if e.errno == errno.ENOENT:
                return None
            raise
        shard, osd = holders[0]
        return info, self.store(osd).get_xattrs(ObjectKey(pool.id, pg, ns, name, shard))

    @staticmethod
    def _ec_check_asserts(pool: PoolInfo, name: str, current, ops: list[tuple]) -> None:
        for op in ops:
            if op[0] == "create" and op[1] and current is not None:
                raise exists(f"{pool.name}/{name}")
            if op[0] in ("assert_exists", "assert_version") and current is None:
                raise not_found(f"{pool.name}/{name}")
            if op[0] == "assert_version" and current[0].version != op[1]:
                raise StorageError(errno.ERANGE, f"{pool.name}/{name}: version is {current[0].version}")

    def _ec_current_size(self, pool: PoolInfo, pg: int, ns: str, name: str) -> int:
        current = self._ec_current(pool, pg, ns, name)
        return current[0].logical_size if current else 0

    def _ec_new_content(self, pool: PoolInfo, pg: int, ns: str, name: str, current, op: tuple) -> bytes | memoryview:
        """The object's whole content after one data op (EC pools rewrite objects whole, as
        Ceph's do without ``allow_ec_overwrites``; RGW writes them with write_full)."""
        if op[0] == "write_full":
            return op[1]
        size = current[0].logical_size if current else 0
        if op[0] == "zero":
            op = ("write", op[1], bytes(max(0, min(size, op[1] + op[2]) - op[1])))
        elif op[0] == "append":
            op = ("write", size, op[1])
        content = bytearray(self.ec_read(pool, pg, ns, name, 0, size, locked=True))
        if op[0] == "truncate":
            del content[op[1] :]
            content += bytes(op[1] - len(content))
        else:
            offset, data = op[1], op[2]
            if offset > len(content):
                content += bytes(offset - len(content))
            content[offset : offset + len(data)] = data
        return content

    # -- object reads ----------------------------------------------------------

    def read_sources(self, pool: PoolInfo, pg: int) -> list[Copy]:
        """The copies a PG is read from: its authoritative ones (``peering.py``), primary first.

        Raises EAGAIN when too few are up to serve it (none, or fewer than k EC shards).
        """
        osdmap = self.osdmap
        enough = read_quorum(osdmap, pool)
        rec = osdmap.pg_recovery.get(pgid(pool.id, pg))
        sources = authoritative(osdmap, self.acting(pool, pg), rec, enough)
        if len(sources) < enough:
            raise StorageError(
                errno.EAGAIN, f"pg {pgid(pool.id, pg)} has {len(sources)} complete copies up, needs {enough}"
            )
        return sources

    def _read_from_sources(self, pool: PoolInfo, pg: int, fn):
        """Run ``fn(store)`` on the primary; on EIO (a bad copy or a failed OSD) try the others."""
        error = None
        for _, osd in self.read_sources(pool, pg):
            try:
                return fn(self.store(osd))
            except OSDFailure as f:
                self.osd_failed(f)
                error = error or f
            except StorageError as e:
                if e.errno != errno.EIO:
                    raise
                error = error or e
        raise error

    def ec_newest(
        self, pool: PoolInfo, pg: int, ns: str, name: str, locked: bool = False
    ) -> tuple[ObjectInfo, list[tuple[int, int]]]:
        """The newest data version's info and the (shard, osd) pairs holding it, at least k of them."""
        k = self.codec(pool).k
        committed: dict[int, tuple[ObjectInfo, list[tuple[int, int]]]] = {}
        pending: dict[int, list[tuple[int, int]]] = {}
        for shard, osd in self.read_sources(pool, pg):
            try:
                info, staged = self.store(osd).stat_with_pending(ObjectKey(pool.id, pg, ns, name, shard))
            except OSDFailure as f:
                self.osd_failed(f)
                continue
            except StorageError as e:
                if e.errno != errno.EIO:
                    raise
                continue
            if info is not None:
                committed.setdefault(info.data_version, (info, []))[1].append((shard, osd))
            if staged is not None:
                pending.setdefault(staged.data_version, []).append((shard, osd))
        readable = [v for v, (_, holders) in committed.items() if len(holders) >= k]
        best = max(readable, default=None)
        # a promote that reached some shards but not all: finish it, then look again
        for version in sorted(pending, reverse=True):
            if version in committed and (best is None or version > best):
                if len(committed[version][1]) + len(pending[version]) >= k:
                    self._ec_roll_forward(pool, pg, ns, name, version, pending[version], locked)
                    return self.ec_newest(pool, pg, ns, name, locked)
        if best is not None:
            return committed[best]
        if not committed:
            raise not_found(f"{pool.name}/{name}")
        raise io_error(f"{pool.name}/{name}: fewer than {k} consistent shards readable (unfound)")

    def _ec_roll_forward(
        self, pool: PoolInfo, pg: int, ns: str, name: str, version: int, holders, locked: bool
    ) -> None:
        def promote() -> None:
            txns = []
            for shard, osd in holders:
                info, staged = self.store(osd).stat_with_pending(ObjectKey(pool.id, pg, ns, name, shard))
                if staged is not None and staged.data_version == version:
                    txns.append(
                        ((shard, osd), Transaction(ObjectKey(pool.id, pg, ns, name, shard), [("promote",)], version, 0))
                    )
            self.apply_transactions(pool, pg, txns)

        if locked:
            promote()
        else:
            with self.pg_locks.hold(pool.id, pg):
                promote()

    def ec_read(
        self, pool: PoolInfo, pg: int, ns: str, name: str, offset: int, length: int, locked: bool = False
    ) -> bytes:
        if length <= 0:
            return b""
        for _ in range(EC_READ_RETRIES):
            info, holders = self.ec_newest(pool, pg, ns, name, locked)
            data = self._ec_decode_range(pool, pg, ns, name, info, holders, offset, length)
            if data is not None:
                return data
        raise io_error(f"{pool.name}/{name}: shards kept changing under the read")

    def _ec_decode_range(self, pool, pg, ns, name, info: ObjectInfo, holders, offset: int, length: int) -> bytes | None:
        codec = self.codec(pool)
        size = info.logical_size
        end = min(size, offset + length)
        if offset >= end:
            return b""
        first, last = offset // codec.stripe_width, (end - 1) // codec.stripe_width
        shard_off = first * codec.fragment_size
        shard_len = codec.shard_size(min(size, (last + 1) * codec.stripe_width)) - shard_off
        fragments: dict[int, bytes] = {}
        for shard, osd in holders:
            try:
                data, shard_info = self.store(osd).read(ObjectKey(pool.id, pg, ns, name, shard), shard_off, shard_len)
            except OSDFailure as f:
                self.osd_failed(f)
                continue
            except StorageError as e:
                if e.errno in (errno.EIO, errno.ENOENT):
                    continue
                raise
            if shard_info.data_version != info.data_version:
                return None  # a write landed between stat and read
            fragments[shard] = data
            if len(fragments) == codec.k:
                break
        decoded = codec.decode(fragments, first, size)
        lo, hi = offset - first * codec.stripe_width, end - first * codec.stripe_width
        return decoded if (lo, hi) == (0, len(decoded)) else decoded[lo:hi]

    def read(self, pool_name: str, ns: str, name: str, offset: int, length: int) -> bytes:
        self.heartbeat()
        pool = self.pool(pool_name)
        pg = pg_of(pool, ns, name)
        if pool.type == "erasure":
            return self.ec_read(pool, pg, ns, name, offset, length)
        key = ObjectKey(pool.id, pg, ns, name)
        return self._read_from_sources(pool, pg, lambda s: s.read(key, offset, length)[0])

    def stat(self, pool_name: str, ns: str, name: str) -> ObjectInfo:
        self.heartbeat()
        pool = self.pool(pool_name)
        pg = pg_of(pool, ns, name)
        if pool.type == "erasure":
            return self.ec_newest(pool, pg, ns, name)[0]
        key = ObjectKey(pool.id, pg, ns, name)
        return self._read_from_sources(pool, pg, lambda s: s.stat(key))

    def _metadata_read(self, pool_name: str, ns: str, name: str, fn):
        """Run ``fn(store, key)`` where the object's metadata is: the primary, or a newest EC shard."""
        self.heartbeat()
        pool = self.pool(pool_name)
        pg = pg_of(pool, ns, name)
        if pool.type == "erasure":
            _, holders = self.ec_newest(pool, pg, ns, name)
            shard, osd = holders[0]
            return fn(self.store(osd), ObjectKey(pool.id, pg, ns, name, shard))
        key = ObjectKey(pool.id, pg, ns, name)
        return self._read_from_sources(pool, pg, lambda s: fn(s, key))

    def get_xattr(self, pool_name: str, ns: str, name: str, attr: str) -> bytes:
        return self._metadata_read(pool_name, ns, name, lambda s, k: s.get_xattr(k, attr))

    def get_xattrs(self, pool_name: str, ns: str, name: str) -> dict[str, bytes]:
        return self._metadata_read(pool_name, ns, name, lambda s, k: s.get_xattrs(k))

    def omap_get(self, pool_name: str, ns: str, name: str, **query) -> tuple[list[tuple[str, bytes]], bool]:
        if self.pool(pool_name).type == "erasure":
            raise unsupported(f"pool '{pool_name}' is erasure-coded: omap is not supported")
        return self._metadata_read(pool_name, ns, name, lambda s, k: s.omap_get(k, **query))

    def omap_get_header(self, pool_name: str, ns: str, name: str) -> bytes:
        if self.pool(pool_name).type == "erasure":
            raise unsupported(f"pool '{pool_name}' is erasure-coded: omap is not supported")
        return self._metadata_read(pool_name, ns, name, lambda s, k: s.omap_get_header(k))

    # -- listing and statistics --------------------------------------------------

    def list_objects(self, pool_name: str, ns: str | None) -> Iterator[tuple[str, str]]:
        """(namespace, name) of every object in the pool, PG by PG; ``ns=None`` for all namespaces."""
        pool = self.pool(pool_name)
        for pg in range(pool.pg_num):
            yield from self._read_from_sources(pool, pg, lambda s, pg=pg: s.list_objects(pool.id, pg, ns))

    def pool_stats(self, pool: PoolInfo) -> PoolStats:
        per_osd: dict[int, dict[int, tuple[int, int]]] = {}
        objects = nbytes = degraded = 0
        for pg in range(pool.pg_num):
            try:
                sources = self.read_sources(pool, pg)
            except StorageError:
                continue
            osd = sources[0][1]
            if osd not in per_osd:
                per_osd[osd] = self._read_from_sources(pool, pg, lambda s: s.pg_stats(pool.id))
            count, size = per_osd[osd].get(pg, (0, 0))
            objects += count
            nbytes += size
            rec = self.osdmap.pg_recovery.get(pgid(pool.id, pg))
            missing = pool.size - len(self.acting(pool, pg)) + (len(rec.targets) if rec else 0)
            degraded += count * missing
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

    def close(self) -> None:
        with self._stores_lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
        self.pg_locks.close()


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
