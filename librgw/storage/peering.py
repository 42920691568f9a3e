"""Peering: the copies of a PG agree on its authoritative history, as Ceph's ``PeeringState``.

A PG is peered again whenever its active state (``pg_state``) does not fit the present: after
a map change that changes its up set or takes down a copy it does I/O on, after a reboot,
and after a write that did not end cleanly (its writer was killed, or too few copies took
it). Whoever meets that first peers it, holding the PG lock: a client op, ``recover``,
``scrub`` or ``status``. Peering:

1. **gathers** the PG state (``pg_log.PGInfo``) of every copy of the PG on every up OSD:
   the up set's copies and any strays;
2. **chooses the authoritative history** from the copies that can prove they saw every
   acknowledged write: the participants of the PG's last activation (``pg_history``), as
   Ceph takes it only from OSDs of the last interval that could go active. In a replicated
   pool that is the participant with the newest ``last_update``. In an erasure-coded pool it
   is the newest version that at least k participant shards hold: a write on fewer than k
   shards was never acknowledged and cannot be read back, so it is rolled back. With too few
   participants up (none, or fewer than k shards), the PG is **incomplete** and waits for
   them: an older copy is never served as if it were current;
3. **compares each copy's log with it**: entries the copy lacks make its **missing set**;
   entries only the copy has are **divergent** and undone (EC shards with the rollback
   information their write kept; anything else by recovering the object); a copy whose log
   does not reach back to the authoritative one (too long away, new, or from before PG
   logs) is **backfilled** object by object;
4. **activates** the PG at the current map epoch: every copy of its I/O set gets the
   authoritative log, its missing set and ``les`` in one transaction (``("activate", ...)``),
   then the participants are recorded (``pg_history``), then the active state. The I/O set is
   the up set, plus strays that still hold the PG whole while up copies are being filled (as
   Ceph's ``pg_temp``), so no write ever lands only on copies that are still incomplete;
5. recovers at once the few objects a crash left missing (``INLINE_RECOVERY_MAX``), so a
   killed writer leaves no copy behind for long; more wait for ``recover`` (or for the next
   write of each object, which recovers it first).

A copy whose state holds data the others lack (a newer ``last_update``) is never a backfill
target: what a copy is follows from its log alone, not from where the map puts it.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

from .errors import OSDFailure, StorageError
from .osd_service import OSDService, is_up, read_quorum
from .osdmap import Copy, PoolInfo, pgid
from .pg_log import ZERO, Activation, Eversion, LogEntry, ObjectName, PGInfo
from .pg_recovery import recover_missing
from .pg_state import BACKFILL, COMPLETE, RECOVERING, ActiveState, CopyState
from .store_records import ObjectKey, Transaction

PEER_RETRIES = 10
INLINE_RECOVERY_MAX = 16  # missing objects recovered during peering itself; more wait for recover
BACKFILL_START: ObjectName = ("", "")


def active_state(svc: OSDService, pool: PoolInfo, pg: int, locked: bool) -> ActiveState:
    """The PG's active state for the present map, peering it first if it needs it. Without
    ``locked`` the PG lock is taken only to peer, and a write in progress is not waited for."""
    state = svc.pg_states.read(pool.id, pg)
    if is_current(svc, pool, pg, state):
        if not state.dirty:
            return state
        if locked:
            return peer(svc, pool, pg)
        with svc.pg_locks.try_hold(pool.id, pg) as held:
            if not held:
                return state  # its writer is still at it
            return active_state(svc, pool, pg, locked=True)
    if locked:
        return peer(svc, pool, pg)
    with svc.pg_locks.hold(pool.id, pg):
        return active_state(svc, pool, pg, locked=True)


def is_current(svc: OSDService, pool: PoolInfo, pg: int, state: ActiveState | None) -> bool:
    """Whether ``state`` was made for the present up set, with every copy it does I/O on up since
    before (an incomplete PG: for the present map, as a returning stray may complete it)."""
    osdmap = svc.osdmap
    if state is None or state.up != svc.up_osds(pool, pg, osdmap):
        return False
    if state.incomplete:
        return state.epoch == osdmap.epoch
    # a copy whose OSD went down and came back since (a disk replaced, say) may hold anything
    return all(is_up(osdmap, c.osd) and osdmap.osds[c.osd].up_from <= state.epoch for c in state.copies)


def peer(svc: OSDService, pool: PoolInfo, pg: int) -> ActiveState:
    """Peer the PG now (the caller holds its lock) and return its new active state."""
    for _ in range(PEER_RETRIES):
        try:
            return _Peering(svc, pool, pg).run()
        except OSDFailure as f:
            svc.osd_failed(f)  # the map changed: peer again
    raise StorageError(errno.EAGAIN, f"pg {pgid(pool.id, pg)}: OSDs kept failing while it peered")


def waiting_for(svc: OSDService, pool: PoolInfo, pg: int) -> list[int]:
    """The down OSDs holding the latest history of an incomplete PG."""
    history = svc.history.get(pool.id, pg)
    if history is None:
        return []
    return sorted({osd for _, osd in history.participants if not is_up(svc.osdmap, osd)})


@dataclass
class _Plan:
    """What peering decided for one copy."""

    role: str
    activation: Activation | None  # None: its state already fits
    divergent: bool = False


@dataclass
class _Peering:
    svc: OSDService
    pool: PoolInfo
    pg: int
    infos: dict[Copy, PGInfo] = field(default_factory=dict)
    logs: dict[Copy, list[LogEntry]] = field(default_factory=dict)

    def run(self) -> ActiveState:
        svc, pool, pg = self.svc, self.pool, self.pg
        osdmap = svc.osdmap
        self.epoch = osdmap.epoch
        self.up = svc.up_osds(pool, pg)
        self.up_copies = svc.up_copies(pool, pg)
        self.history = svc.history.get(pool.id, pg)
        self._gather()
        previous = svc.pg_states.read(pool.id, pg)
        seq = max([i.last_update.seq for i in self.infos.values()] + [previous.seq if previous else 0])
        if self.history is None and all(i.last_update == ZERO and not i.legacy for i in self.infos.values()):
            # A new PG (or one whose first activation died half done): no write ever took place,
            # so every copy of the up set holds its history; each copy's PG state is made by its
            # first write. Nothing is written here: touching a PG first costs next to nothing.
            state = ActiveState(self.epoch, seq, self.up, [CopyState(s, o, COMPLETE) for s, o in self.up_copies])
            svc.pg_states.write(pool.id, pg, state)
            return state
        if not self._choose_authoritative():
            state = ActiveState(self.epoch, seq, self.up, incomplete=True)
            svc.pg_states.write(pool.id, pg, state)
            return state
        plans = {c: self._plan(c) for c in self._io_candidates()}
        io = self._io_set(plans)
        self._activate(io, plans)
        state = ActiveState(self.epoch, seq, self.up, [CopyState(c[0], c[1], plans[c].role) for c in io])
        state = self._final_roles(state, plans)
        self._record(state)
        if 0 < self._missing_total(state) <= INLINE_RECOVERY_MAX:
            state = recover_missing(svc, pool, pg, state)
            self._record(state)
        return state

    # -- 1. gather ---------------------------------------------------------------------

    def _gather(self) -> None:
        for osd in sorted(o.id for o in self.svc.osdmap.osds.values() if o.up):
            for shard, info in self.svc.store(osd).pg_infos(self.pool.id, self.pg).items():
                self.infos[(shard, osd)] = info

    def _log(self, copy: Copy) -> list[LogEntry]:
        if copy not in self.logs:
            self.logs[copy] = self.svc.store(copy[1]).pg_log(self.pool.id, self.pg, copy[0])
        return self.logs[copy]

    # -- 2. the authoritative history -----------------------------------------------------

    def _candidates(self) -> dict[Copy, PGInfo]:
        """The copies the authoritative history may come from."""
        infos = self.infos
        if self.history is None and all(i.legacy for i in infos.values()):
            # PG state from before PG logs: the copies the old map did not have to backfill
            stale = set(self.svc.osdmap.legacy_targets.get(pgid(self.pool.id, self.pg), []))
            return {c: i for c, i in infos.items() if c not in stale}
        usable = {c: i for c, i in infos.items() if not i.legacy and i.backfill is None}
        if self.history is not None:
            return {c: i for c, i in usable.items() if c in self.history.participants}
        # Never peered to the end since it was made: every write it acknowledged reached every
        # copy of its up set (one that missed a write would have been peered out, durably,
        # before the write was acknowledged), so every copy with PG state may hold its history.
        return usable

    def _choose_authoritative(self) -> bool:
        """Set the authoritative last update, log tail and log; False if the PG is incomplete."""
        self.candidates = cands = self._candidates()
        if not cands:
            return False
        if any(i.legacy for i in cands.values()):
            self.auth_lu = self.auth_tail = max(i.last_update for i in cands.values())
            self.auth_log: list[LogEntry] = []
            return True
        if self.pool.type != "erasure":
            order = {c: n for n, c in enumerate(self.up_copies)}
            auth = max(cands, key=lambda c: (cands[c].last_update, -order.get(c, len(order))))
            self.auth_lu, self.auth_tail = cands[auth].last_update, cands[auth].log_tail
            self.auth_log = [e for e in self._log(auth) if e.version <= self.auth_lu]
            return True
        k = read_quorum(self.svc.osdmap, self.pool)
        for version in sorted({i.last_update for i in cands.values()}, reverse=True):
            holders = [c for c, i in cands.items() if self._holds(c, i, version)]
            if len({c[0] for c in holders}) >= k:
                source = min(holders, key=lambda c: cands[c].last_update)
                self.auth_lu, self.auth_tail = version, cands[source].log_tail
                self.auth_log = [e for e in self._log(source) if e.version <= version]
                return True
        if self.history is None:
            # no version on k shards, in a PG never peered to the end: its every write reached
            # fewer than k shards, so none was acknowledged; the empty history is the up set's
            empty = set(cands) | {c for c in self.up_copies if c not in self.infos}
            if len({c[0] for c in empty}) >= k:
                self.auth_lu = self.auth_tail = ZERO
                self.auth_log = []
                return True
        return False

    def _holds(self, copy: Copy, info: PGInfo, version: Eversion) -> bool:
        """Whether the copy's history includes ``version``."""
        if info.last_update == version:
            return True
        if info.last_update < version:
            return False
        return version <= info.log_tail or any(e.version == version for e in self._log(copy))

    # -- 3. each copy against it -----------------------------------------------------------

    def _io_candidates(self) -> list[Copy]:
        """The up set's copies, then the strays that may still have to serve the PG."""
        up = list(self.up_copies)
        return up + [c for c in self.candidates if c not in up]

    def _plan(self, copy: Copy) -> _Plan:
        info = self.infos.get(copy)
        if info is not None and info.legacy:
            if copy in self.candidates:
                fresh = PGInfo(copy[0], self.epoch, self.auth_lu, self.auth_lu)
                return _Plan(COMPLETE, Activation(fresh))
            return self._backfill(copy, None)
        held = info is not None
        if info is None:
            # holds nothing of the PG: its history is the empty one, which the authoritative log
            # starts from unless it was trimmed (then the copy is backfilled)
            info = PGInfo(copy[0], 0, ZERO, ZERO)
        common, divergent = self._common(copy, info)
        if common is None:
            return self._backfill(copy, info)
        newer = [e for e in self.auth_log if e.version > common]
        missing = dict(self.svc.store(copy[1]).pg_missing(self.pool.id, self.pg, copy[0]))
        for entry in newer:
            missing[entry.object] = entry.version
        divergent_need: dict[ObjectName, Eversion] = {}
        for entry in divergent:  # newest first: the oldest entry's prior version is what is needed
            if entry.object not in missing:
                divergent_need[entry.object] = entry.prior or ZERO
        role = BACKFILL if info.backfill is not None else (RECOVERING if missing or divergent_need else COMPLETE)
        if held and info.last_update == self.auth_lu:
            return _Plan(role, None)  # it holds the whole history: nothing to write to it
        fresh = PGInfo(copy[0], self.epoch, self.auth_lu, info.log_tail, info.backfill)
        activation = Activation(fresh, common, newer, missing, divergent, divergent_need)
        return _Plan(role, activation, divergent=bool(divergent))

    def _backfill(self, copy: Copy, info: PGInfo | None) -> _Plan:
        fresh = PGInfo(copy[0], self.epoch, self.auth_lu, self.auth_tail, BACKFILL_START)
        return _Plan(BACKFILL, Activation(fresh, None, list(self.auth_log), rollback=self._all_entries(copy, info)))

    def _all_entries(self, copy: Copy, info: PGInfo | None) -> list[LogEntry]:
        """A backfilled copy's own newer entries, to undo if it can (an EC shard a write reached
        alone); newest first."""
        if info is None or info.legacy or info.last_update <= self.auth_lu:
            return []
        return [e for e in reversed(self._log(copy)) if e.version > self.auth_lu]

    def _common(self, copy: Copy, info: PGInfo) -> tuple[Eversion | None, list[LogEntry]]:
        """The newest version the copy's log shares with the authoritative one, and the copy's
        entries after it (divergent, newest first); None if the logs do not meet."""
        if info.last_update == self.auth_lu:
            return self.auth_lu, []
        known = {e.version for e in self.auth_log} | {self.auth_tail}
        if info.last_update < self.auth_lu and info.last_update in known:
            return info.last_update, []
        divergent = []
        for entry in reversed(self._log(copy)):
            if entry.version in known:
                return entry.version, divergent
            if entry.version < self.auth_tail:
                return None, divergent
            divergent.append(entry)
        if info.log_tail in known:
            return info.log_tail, divergent
        return None, divergent

    # -- 4. activate -------------------------------------------------------------------------

    def _io_set(self, plans: dict[Copy, _Plan]) -> list[Copy]:
        up = list(self.up_copies)
        whole = len(up) == self.pool.size and all(plans[c].role == COMPLETE for c in up)
        if whole:
            return up
        erasure = self.pool.type == "erasure"
        complete_shards = {c[0] for c in up if plans[c].role == COMPLETE}
        strays = [
            c
            for c in plans
            if c not in up and plans[c].role in (COMPLETE, RECOVERING) and not (erasure and c[0] in complete_shards)
        ]
        return up + strays

    def _activate(self, io: list[Copy], plans: dict[Copy, _Plan]) -> None:
        txns = [
            (c, Transaction.activate(ObjectKey(self.pool.id, self.pg, "", "", c[0]), plans[c].activation))
            for c in io
            if plans[c].activation is not None
        ]
        if not txns:
            return
        outcome = self.svc.apply_transactions(txns)
        if outcome.failed:
            raise OSDFailure(outcome.failed[0][1], "failed while the PG was activated")
        if outcome.errors:
            raise outcome.errors[0][1]

    def _final_roles(self, state: ActiveState, plans: dict[Copy, _Plan]) -> ActiveState:
        """A copy planned as recovering only for divergent entries may have undone them all."""
        copies = []
        for c in state.copies:
            role = c.role
            if role == RECOVERING and plans[c.copy].divergent:
                if not self.svc.store(c.osd).pg_missing(self.pool.id, self.pg, c.shard):
                    role = COMPLETE
            copies.append(CopyState(c.shard, c.osd, role))
        state.copies = copies
        return state

    def _record(self, state: ActiveState) -> None:
        self.svc.record_state(self.pool, self.pg, state)

    def _missing_total(self, state: ActiveState) -> int:
        if state.with_role(BACKFILL):
            return 0
        return sum(
            len(self.svc.store(c.osd).pg_missing(self.pool.id, self.pg, c.shard)) for c in state.with_role(RECOVERING)
        )
