"""The PG log: what one copy of a placement group knows of the PG's history, as Ceph's
``pg_log_t``, ``pg_info_t`` and ``pg_missing_t``.

Every write to a PG gets one version, an ``Eversion`` ``(epoch, seq)``: ``epoch`` is the map
epoch in which the PG was last activated (peered), ``seq`` counts the PG's writes and never
goes back. Each copy that applies the write records a ``LogEntry`` (the object, the version,
``modify`` or ``delete``, the object's prior version) in the same SQLite transaction as the
change itself (``osd_store``), so a copy's log and its objects never disagree, whatever
crashes. Beside the log each copy keeps its ``PGInfo``: ``last_update`` (its newest entry),
``log_tail`` (entries up to it were trimmed), ``les`` (after Ceph's ``last_epoch_started``:
the epoch in which peering last made or changed its PG state), where a backfill of it stands, and, in an
erasure-coded pool, which object's previous version it still keeps to undo the last write.
Its **missing set** lists the objects it must still recover, each with the version it needs.

Peering (``peering.py``) compares the copies' infos and logs to choose the authoritative
history and to tell each copy what it lacks (``missing``) or holds that never counted
(divergent entries); recovery (``recovery.py``) then fills the missing sets.

Erasure-coded shards keep **rollback** information, as Ceph's ``ObjectModDesc``: a write that
replaces or removes a shard first moves the old shard aside (the *stash*, at
``shard + STASH_SHARD``); one that only changes xattrs records the old ones in its entry. The
previous write's stash is dropped by the next write to the PG, once the previous write is
known to have counted; so a write that reached too few shards to be read back can be undone
on the shards it did reach, and the object is never left undecodable.

The tables, in each OSD's ``store.db``::

    pg_info    (pool, pg, shard) -> les, last_update, log_tail, backfill cursor, stash
    pg_log     (pool, pg, shard, seq) -> epoch, object, op, prior version, rollback
    pg_missing (pool, pg, shard, ns, name) -> the version needed

A replicated write adds its entry and touches nothing else: a copy's ``last_update`` is its
newest entry when it has one (``pg_info`` keeps it for when the log is empty), and a copy with
entries but no ``pg_info`` row yet (a new PG) has the info its first entry implies. Small
writes are made of their SQLite statements and pages; the log costs them one of each.

The functions here run inside the caller's SQLite transaction (the OSD's committer, or a
reader's snapshot); they never commit.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

# An EC shard's previous version, kept to undo the last write, lives at shard + STASH_SHARD.
STASH_SHARD = 2 << 16
MODIFY, DELETE = "modify", "delete"

SCHEMA = """
CREATE TABLE IF NOT EXISTS pg_info (
    pool INTEGER NOT NULL, pg INTEGER NOT NULL, shard INTEGER NOT NULL, les INTEGER NOT NULL,
    lu_epoch INTEGER NOT NULL, lu_seq INTEGER NOT NULL, tail_epoch INTEGER NOT NULL, tail_seq INTEGER NOT NULL,
    backfill_ns TEXT, backfill_name TEXT, stash_ns TEXT, stash_name TEXT, stash_epoch INTEGER, stash_seq INTEGER,
    PRIMARY KEY (pool, pg, shard)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pg_log (
    pool INTEGER NOT NULL, pg INTEGER NOT NULL, shard INTEGER NOT NULL, seq INTEGER NOT NULL,
    epoch INTEGER NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, op TEXT NOT NULL,
    prior_epoch INTEGER, prior_seq INTEGER, rollback TEXT,
    PRIMARY KEY (pool, pg, shard, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pg_missing (
    pool INTEGER NOT NULL, pg INTEGER NOT NULL, shard INTEGER NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
    need_epoch INTEGER NOT NULL, need_seq INTEGER NOT NULL,
    PRIMARY KEY (pool, pg, shard, ns, name)) WITHOUT ROWID;
"""

ObjectName = tuple[str, str]  # (namespace, name)
INFO_COLUMNS = (
    "shard, les, lu_epoch, lu_seq, tail_epoch, tail_seq, backfill_ns, backfill_name,"
    " stash_ns, stash_name, stash_epoch, stash_seq"
)


@dataclass(frozen=True, order=True)
class Eversion:
    """A PG version, ordered as Ceph's ``eversion_t``: by epoch, then by sequence."""

    epoch: int
    seq: int

    def __str__(self) -> str:
        return f"{self.epoch}'{self.seq}"


ZERO = Eversion(0, 0)


@dataclass
class LogEntry:
    """One write to a PG, as a copy recorded it. ``prior`` is the object's version before it
    (None: it did not exist). ``rollback`` (EC shards) says how to undo it: ``{"stash": true}``
    (the previous shard is the stash; ``prior`` None means there was none), or ``{"attrs": {...},
    "info": [...]}`` (the xattrs and version fields to put back)."""

    version: Eversion
    ns: str
    name: str
    op: str
    prior: Eversion | None = None
    rollback: dict | None = None

    @property
    def object(self) -> ObjectName:
        return (self.ns, self.name)


@dataclass(frozen=True)
class Stash:
    """The object whose previous EC shard a copy keeps, and the write that replaced or removed it."""

    ns: str
    name: str
    by: Eversion

    @property
    def object(self) -> ObjectName:
        return (self.ns, self.name)


@dataclass
class PGInfo:
    """One copy's summary of its PG (``pg_info_t``). ``backfill`` is None for a copy whose
    objects can be trusted up to its missing set; for one being backfilled, the last object
    (ns, name) it has been brought up to date to, ``("", "")`` at the start. ``stash`` names the
    object whose previous EC shard is kept to undo the last write, and that write."""

    shard: int
    les: int
    last_update: Eversion
    log_tail: Eversion
    backfill: ObjectName | None = None
    stash: Stash | None = None
    legacy: bool = False  # objects stored before PG logs existed, with no history


@dataclass
class LogUpdate:
    """A client write's place in the PG log: its version and the client's time; whether to keep
    what undoes it (EC shards); and the seq up to which the log is trimmed."""

    version: Eversion
    mtime_ns: int = 0
    rollback: bool = False
    trim_to: int = 0


@dataclass
class Activation:
    """What peering makes a copy's PG state (applied atomically by the ``("activate", ...)`` op):
    divergent entries undone (``rollback``, newest first) where their rollback information
    allows, the log cut after ``keep_through`` and ``append`` added, the missing set replaced
    by ``missing`` plus each divergent object that could not be undone (with the version it
    needs, from ``divergent_need``), and the info replaced."""

    info: PGInfo
    keep_through: Eversion | None = None  # None: drop the whole log before appending
    append: list[LogEntry] = field(default_factory=list)
    missing: dict[ObjectName, Eversion] = field(default_factory=dict)
    rollback: list[LogEntry] = field(default_factory=list)
    divergent_need: dict[ObjectName, Eversion] = field(default_factory=dict)


# -- reading (inside a read snapshot) ------------------------------------------------


def read_infos(conn: sqlite3.Connection, pool: int, pg: int) -> dict[int, PGInfo]:
    """Every shard of the PG this store has PG state for, by shard."""
    rows = conn.execute(f"SELECT {INFO_COLUMNS} FROM pg_info WHERE pool=? AND pg=?", (pool, pg))
    infos = {row[0]: _info(row) for row in rows}
    for shard, newest, oldest in conn.execute(
        "SELECT shard, max(seq), min(seq) FROM pg_log WHERE pool=? AND pg=? GROUP BY shard", (pool, pg)
    ):
        infos[shard] = _with_log(conn, pool, pg, shard, infos.get(shard), newest, oldest)
    return infos


def read_info(conn: sqlite3.Connection, pool: int, pg: int, shard: int) -> PGInfo | None:
    row = conn.execute(f"SELECT {INFO_COLUMNS} FROM pg_info WHERE pool=? AND pg=? AND shard=?", (pool, pg, shard))
    row = row.fetchone()
    info = None if row is None else _info(row)
    newest, oldest = conn.execute(
        "SELECT max(seq), min(seq) FROM pg_log WHERE pool=? AND pg=? AND shard=?", (pool, pg, shard)
    ).fetchone()
    return info if newest is None else _with_log(conn, pool, pg, shard, info, newest, oldest)


def _with_log(
    conn: sqlite3.Connection, pool: int, pg: int, shard: int, info: PGInfo | None, newest: int, oldest: int
) -> PGInfo:
    """The info with its last update moved to the newest entry; made from the first entry for a
    copy whose writes so far made no ``pg_info`` row (activated by its first write, at that
    entry's epoch, with its log starting from the empty history)."""
    epoch_of = "SELECT epoch FROM pg_log WHERE pool=? AND pg=? AND shard=? AND seq=?"
    last = Eversion(conn.execute(epoch_of, (pool, pg, shard, newest)).fetchone()[0], newest)
    if info is None:
        first_epoch = conn.execute(epoch_of, (pool, pg, shard, oldest)).fetchone()[0]
        return PGInfo(shard, first_epoch, last, ZERO)
    info.last_update = max(info.last_update, last)
    return info


def _info(row: tuple) -> PGInfo:
    shard, les, lu_e, lu_s, tail_e, tail_s, bf_ns, bf_name, st_ns, st_name, st_e, st_s = row
    return PGInfo(
        shard,
        les,
        Eversion(lu_e, lu_s),
        Eversion(tail_e, tail_s),
        None if bf_ns is None else (bf_ns, bf_name),
        None if st_ns is None else Stash(st_ns, st_name, Eversion(st_e, st_s)),
    )


def read_log(conn: sqlite3.Connection, pool: int, pg: int, shard: int, after_seq: int = -1) -> list[LogEntry]:
    """The copy's log entries with seq above ``after_seq``, oldest first."""
    rows = conn.execute(
        "SELECT seq, epoch, ns, name, op, prior_epoch, prior_seq, rollback FROM pg_log"
        " WHERE pool=? AND pg=? AND shard=? AND seq>? ORDER BY seq",
        (pool, pg, shard, after_seq),
    )
    return [
        LogEntry(
            Eversion(epoch, seq),
            ns,
            name,
            op,
            None if p_seq is None else Eversion(p_epoch, p_seq),
            None if rollback is None else json.loads(rollback),
        )
        for seq, epoch, ns, name, op, p_epoch, p_seq, rollback in rows
    ]


def read_missing(conn: sqlite3.Connection, pool: int, pg: int, shard: int) -> dict[ObjectName, Eversion]:
    rows = conn.execute(
        "SELECT ns, name, need_epoch, need_seq FROM pg_missing WHERE pool=? AND pg=? AND shard=?", (pool, pg, shard)
    )
    return {(ns, name): Eversion(e, s) for ns, name, e, s in rows}


MISSING_ROW = "FROM pg_missing WHERE pool=? AND pg=? AND shard=? AND ns=? AND name=?"


def is_missing(conn: sqlite3.Connection, pool: int, pg: int, shard: int, obj: ObjectName) -> bool:
    return conn.execute(f"SELECT 1 {MISSING_ROW}", (pool, pg, shard, *obj)).fetchone() is not None


# -- writing (inside the committer's transaction) --------------------------------------


def write_info(conn: sqlite3.Connection, pool: int, pg: int, info: PGInfo) -> None:
    bf = info.backfill or (None, None)
    st = (info.stash.ns, info.stash.name, info.stash.by.epoch, info.stash.by.seq) if info.stash else (None,) * 4
    lu, tail = info.last_update, info.log_tail
    conn.execute(
        "INSERT OR REPLACE INTO pg_info VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (pool, pg, info.shard, info.les, lu.epoch, lu.seq, tail.epoch, tail.seq, *bf, *st),
    )


def entry_row(pool: int, pg: int, shard: int, entry: LogEntry) -> tuple:
    """The ``pg_log`` row of one copy's entry (``append``)."""
    prior = entry.prior
    return (
        pool,
        pg,
        shard,
        entry.version.seq,
        entry.version.epoch,
        entry.ns,
        entry.name,
        entry.op,
        None if prior is None else prior.epoch,
        None if prior is None else prior.seq,
        None if entry.rollback is None else json.dumps(entry.rollback, sort_keys=True),
    )


def append(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Add entries (``entry_row``), of any copies, in one statement."""
    conn.executemany("INSERT INTO pg_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def trim(conn: sqlite3.Connection, pool: int, pg: int, shard: int, info: PGInfo, to_seq: int) -> None:
    """Drop the entries with seq up to ``to_seq``; the tail moves to the newest one dropped."""
    if to_seq <= info.log_tail.seq:
        return
    row = conn.execute(
        "SELECT epoch, seq FROM pg_log WHERE pool=? AND pg=? AND shard=? AND seq<=? ORDER BY seq DESC LIMIT 1",
        (pool, pg, shard, to_seq),
    ).fetchone()
    if row is None:
        return
    conn.execute("DELETE FROM pg_log WHERE pool=? AND pg=? AND shard=? AND seq<=?", (pool, pg, shard, to_seq))
    info.log_tail = Eversion(*row)


def truncate_log(conn: sqlite3.Connection, pool: int, pg: int, shard: int, after_seq: int) -> None:
    conn.execute("DELETE FROM pg_log WHERE pool=? AND pg=? AND shard=? AND seq>?", (pool, pg, shard, after_seq))


def set_missing(conn: sqlite3.Connection, pool: int, pg: int, shard: int, missing: dict[ObjectName, Eversion]) -> None:
    conn.execute("DELETE FROM pg_missing WHERE pool=? AND pg=? AND shard=?", (pool, pg, shard))
    conn.executemany(
        "INSERT INTO pg_missing VALUES (?, ?, ?, ?, ?, ?, ?)",
        ((pool, pg, shard, ns, name, v.epoch, v.seq) for (ns, name), v in missing.items()),
    )


def add_missing(conn: sqlite3.Connection, pool: int, pg: int, shard: int, obj: ObjectName, need: Eversion) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO pg_missing VALUES (?, ?, ?, ?, ?, ?, ?)", (pool, pg, shard, *obj, need.epoch, need.seq)
    )


def recovered(conn: sqlite3.Connection, pool: int, pg: int, shard: int, obj: ObjectName) -> None:
    conn.execute(f"DELETE {MISSING_ROW}", (pool, pg, shard, *obj))


def purge(conn: sqlite3.Connection, pool: int, pg: int | None = None, shard: int | None = None) -> None:
    """Forget the PG state of a pool, a PG, or one shard of a PG."""
    where, args = "pool=?", [pool]
    if pg is not None:
        where, args = where + " AND pg=?", args + [pg]
    if shard is not None:
        where, args = where + " AND shard=?", args + [shard]
    for table in ("pg_info", "pg_log", "pg_missing"):
        conn.execute(f"DELETE FROM {table} WHERE {where}", args)
