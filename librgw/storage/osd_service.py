"""The cluster's OSDs as one process sees them: the map, the OSD stores, failure detection,
placement, and running transactions on a PG's copies.

This is what the PG-level modules (``peering``, the I/O backends, ``recovery``, ``pg``) work
with; ``cluster.Cluster`` adds the administration of pools and OSDs and the object ops.

- **Stores**: one ``OSDStore`` per OSD, opened on first use and checked to belong to this
  cluster; one whose directory is gone, unreadable or failing raises ``OSDFailure``.
- **Failure detection**: an OSD that fails under an op is marked down at once
  (``osd_failed``); ``heartbeat`` checks every OSD directory at most once per ``osd heartbeat
  interval``, marks failed ones down, returned ones up (not those an admin marked down) and
  ones down longer than ``mon osd down out interval`` out.
- **Shared PG state**: the PG locks (``pg_lock``), every PG's active state (``pg_state``) and
  its durable history (``pg_history``), all in the cluster directory.
- ``apply_transactions`` runs one transaction per copy, in parallel (each OSD's committer
  batches it with others), and reports what became of each (``Outcome``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import ClusterConfig
from .erasure import ErasureCodec
from .errors import OSDFailure, StorageError, io_error, not_found
from .osd_store import OSDStore, PendingTxn
from .osdmap import LOCK_DIR, Copy, MapStore, OSDMap, PoolInfo
from .pg_history import HistoryStore, PGHistory
from .pg_lock import PGLocks
from .pg_state import ActiveState, PGStates
from .placement import up_set
from .store_records import NO_SHARD, Transaction

log = logging.getLogger(__name__)

ADMIN = "admin"  # down_reason of an OSD marked down by hand: it stays down until marked up by hand


@dataclass
class Outcome:
    """What became of one op's transactions: the copies that applied it, the OSDs that failed
    under it (now marked down), and the copies that refused it with an error of the op."""

    applied: list[Copy] = field(default_factory=list)
    failed: list[Copy] = field(default_factory=list)
    errors: list[tuple[Copy, StorageError]] = field(default_factory=list)


class OSDService:
    def __init__(self, conf_path: Path) -> None:
        self.conf = ClusterConfig.load(conf_path)
        self.maps = MapStore(self.conf.cluster_dir)
        if self.maps.current().fsid != self.conf.fsid:
            raise io_error(f"{self.maps.path} belongs to another cluster than {conf_path}")
        self.pg_locks = PGLocks(self.conf.cluster_dir / LOCK_DIR)
        self.pg_states = PGStates(self.conf.cluster_dir / LOCK_DIR)
        self.history = HistoryStore(self.conf.cluster_dir)
        self._stores: dict[int, OSDStore] = {}
        self._stores_lock = threading.Lock()
        self._placements: dict[tuple[int, int], dict[int, list[int | None]]] = {}
        self._codecs: dict[tuple[int, int], ErasureCodec] = {}
        self._last_heartbeat = -float("inf")  # the first op checks the OSDs

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

    # -- stores and failures -----------------------------------------------------------

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

    def _conf_with(self, osd_id: int) -> ClusterConfig:
        if osd_id in self.conf.osd_paths:
            return self.conf
        conf = ClusterConfig.load(self.conf.path)  # another process added the OSD
        if osd_id not in conf.osd_paths:
            raise io_error(f"osd.{osd_id} is in the map but not in {conf.path}")
        return conf

    def osd_failed(self, failure: OSDFailure) -> None:
        """Mark an OSD that failed under an op down, so ops go on without it."""
        osd = self.osdmap.osds.get(failure.osd_id)
        if osd is not None and osd.up:
            log.warning("%s; marking it down", failure.message)
            with self.maps.update() as osdmap:
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
        if self._heartbeat_changes(self.osdmap, problems, conf.down_out_interval):
            with self.maps.update() as osdmap:
                for osd_id, change in self._heartbeat_changes(osdmap, problems, conf.down_out_interval).items():
                    osd = osdmap.osds[osd_id]
                    reason = f" ({problems[osd_id]})" if change == "down" else ""
                    log.warning("osd.%d: marked %s%s", osd_id, change, reason)
                    if change == "down":
                        osd.up, osd.down_since, osd.down_reason = False, time.time(), problems[osd_id]
                    elif change == "up":
                        osdmap.mark_up(osd_id)
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

    # -- placement ---------------------------------------------------------------------

    def up_osds(self, pool: PoolInfo, pg: int, osdmap: OSDMap | None = None) -> tuple[int | None, ...]:
        """The PG's up set: its CRUSH set without down OSDs (EC: None in their place), in
        ``osdmap`` (default: the current map)."""
        osdmap = osdmap or self.osdmap
        key = (pool.id, osdmap.epoch)
        cache = self._placements.get(key)
        if cache is None:
            self._placements = {k: v for k, v in self._placements.items() if k[1] == osdmap.epoch}
            cache = self._placements[key] = {}
        if pg not in cache:
            cache[pg] = tuple(up_set(osdmap, pool, pg))
        return cache[pg]

    def up_copies(self, pool: PoolInfo, pg: int) -> list[Copy]:
        """The (shard, osd) pairs of the PG's up set, primary first."""
        up = self.up_osds(pool, pg)
        erasure = pool.type == "erasure"
        return [(shard if erasure else NO_SHARD, osd) for shard, osd in enumerate(up) if osd is not None]

    def codec(self, pool: PoolInfo) -> ErasureCodec:
        key = (pool.id, self.osdmap.epoch)
        codec = self._codecs.get(key)
        if codec is None:
            profile = self.osdmap.erasure_code_profiles[pool.erasure_code_profile or "default"]
            codec = self._codecs[key] = ErasureCodec.from_profile(profile, self.conf.ec_stripe_unit)
        return codec

    # -- transactions on copies --------------------------------------------------------

    def submit(self, copy: Copy, txn: Transaction, pending: list, failures: list[tuple[Copy, OSDFailure]]) -> None:
        try:
            pending.append((copy, self.store(copy[1]).submit(txn)))
        except OSDFailure as f:
            failures.append((copy, f))

    def settle(self, pending: list[tuple[Copy, PendingTxn]], failures: list[tuple[Copy, OSDFailure]]) -> Outcome:
        """Wait for submitted transactions; OSDs that failed under them are marked down."""
        outcome = Outcome()
        for copy, p in pending:
            try:
                p.wait()
                outcome.applied.append(copy)
            except OSDFailure as f:
                failures.append((copy, f))
            except StorageError as e:
                outcome.errors.append((copy, e))
        for copy, failure in failures:
            self.osd_failed(failure)
            outcome.failed.append(copy)
        return outcome

    def apply_recovery(self, txns: list[tuple[Copy, Transaction]]) -> None:
        """Recovery's writes: a target that fails is marked down (and no longer one); an error of
        a transaction is raised."""
        outcome = self.apply_transactions(txns)
        if outcome.errors:
            raise outcome.errors[0][1]

    def misses(self, pool: PoolInfo, pg: int, copy: Copy, obj: tuple[str, str]) -> bool:
        """Whether ``obj`` is in the missing set of a copy (True if its OSD fails)."""
        try:
            return self.store(copy[1]).is_missing(pool.id, pg, copy[0], obj)
        except OSDFailure as f:
            self.osd_failed(f)
            return True

    def apply_transactions(self, txns: list[tuple[Copy, Transaction]]) -> Outcome:
        """Run each transaction on its copy's OSD, in parallel."""
        pending: list[tuple[Copy, PendingTxn]] = []
        failures: list[tuple[Copy, OSDFailure]] = []
        for copy, txn in txns:
            self.submit(copy, txn, pending, failures)
        return self.settle(pending, failures)

    # -- PG state ----------------------------------------------------------------------

    def record_state(self, pool: PoolInfo, pg: int, state: ActiveState) -> None:
        """Make a PG's participants durable (``pg_history``) if they changed, then its active
        state visible."""
        participants = sorted(c.copy for c in state.participants)
        recorded = self.history.get(pool.id, pg)
        if recorded is None or sorted(recorded.participants) != participants:
            self.history.put(pool.id, pg, PGHistory(state.epoch, participants))
        self.pg_states.write(pool.id, pg, state)

    def close(self) -> None:
        with self._stores_lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
        self.pg_locks.close()
        self.pg_states.close()
        self.history.close()


def is_up(osdmap: OSDMap, osd: int) -> bool:
    """Whether ``osd`` is in the map and up."""
    return osd in osdmap.osds and osdmap.osds[osd].up


def read_quorum(osdmap: OSDMap, pool: PoolInfo) -> int:
    """How many complete copies a read needs: one replica, or k shards of an EC pool."""
    if pool.type != "erasure":
        return 1
    return int(osdmap.erasure_code_profiles[pool.erasure_code_profile or "default"]["k"])
