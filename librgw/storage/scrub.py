"""Scrub, deep scrub and repair: compare the copies of each object in a PG, report the
inconsistent ones, and rewrite bad copies from authoritative ones, as Ceph's OSDs do.

A **scrub** compares what each up copy of an object (replica or EC shard) keeps beside
its data: size, version, data version and xattrs (with their checksums verified), and for
replicated pools the number of omap keys. A **deep scrub** also reads every byte of every
copy and verifies its checksums. For replicated pools it compares the data and omap
digests. For an erasure-coded object it checks that the shards of the newest version
decode, and that each stored shard equals the re-encoding of the decoded object.

Errors use the names of Ceph's ``rados list-inconsistent-obj``:

- errors of one copy: ``missing``, ``stat_error`` (its metadata can not be read),
  ``read_error`` (a data chunk, xattr or omap value fails its checksum), ``ec_hash_error``
  (an EC shard differs from the re-encoding), ``ec_size_error`` (an EC shard's size does
  not fit the object's size);
- errors between copies: ``object_info_inconsistency`` (the versions differ, so a copy
  is stale), ``size_mismatch``, ``data_digest_mismatch``, ``omap_digest_mismatch``,
  ``attr_name_mismatch``, ``attr_value_mismatch``.

**Repair** first picks the authoritative copy: among the copies that read back clean,
those of the newest version, and among those the content most of them hold. Ties are
left unresolved. A replica is restored by exporting the authoritative copy. An EC shard
is re-encoded from the object decoded from the clean shards. Each bad copy is replaced
by the store's ``restore`` transaction, which is atomic and durable and keeps the
versions. A good copy is never overwritten from a bad one. The object is reported
unrepairable and left as it is when:

- the newest version is only on copies that fail their checks;
- copies at the newest version disagree and no content has a majority;
- an EC object has fewer than k clean shards of its newest version.

Only PGs whose copies are all complete are scrubbed (``peering.py`` made their PG logs
agree), so a copy that lacks an object the others hold has lost it: it is restored.

Locking: a PG's objects are listed under its PG lock (``cluster.pg_locks``). Each object
is then scrubbed, and repaired, under that lock again, one object at a time, so client
I/O to the PG waits for at most one object. PGs are scrubbed one after the other. A PG
below ``min_size`` (inactive), incomplete or awaiting recovery is skipped. A deep scrub also removes
block files no object refers to that are over an hour old (a crash between writing a
block and committing it leaves one).

Options, in ``[global]`` of cluster.conf:

- ``osd scrub auto repair`` (default ``false``, as in Ceph): when true, a deep scrub
  repairs what it finds, as a repair would, in every PG where the checks are safe
  (see above);
- ``osd scrub auto repair num errors`` (default ``5``): only in PGs with at most this
  many scrub errors. More errors point at a failing disk, which needs an operator.

What the last scrub left inconsistent in each PG is kept in ``scrub.db`` in the cluster
directory (``ScrubLog``). Health reports those PGs as ``+inconsistent``. A shallow scrub
replaces only the shallow findings, so bit rot that a deep scrub found stays reported
until a deep scrub or a repair clears it.

Example::

    result = scrub(cluster, "photos", deep=True, repair=True)
    for obj in result.inconsistent:
        print(obj.pgid, obj.name, obj.errors, "repaired" if obj.repaired else obj.unrepairable)
"""

from __future__ import annotations

import errno
import itertools
import json
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .cluster import Cluster
from .erasure import ErasureCodec
from .errors import OSDFailure, StorageError
from .osdmap import PoolInfo, pgid
from .peering import active_state
from .pg_state import COMPLETE
from .store_records import CopyCheck, ObjectInfo, ObjectKey, ObjectRecord, Transaction

SCRUB_DB = "scrub.db"
EC_SCRUB_BATCH = 4 * 1024 * 1024  # object bytes decoded and re-encoded at a time
SCRUB_DB_TIMEOUT_S = 60.0
ORPHAN_BLOCK_MIN_AGE_S = 3600.0  # far longer than any transaction takes to commit


@dataclass
class InconsistentObject:
    pool: str
    pgid: str
    name: str
    namespace: str
    errors: list[str]  # of the object and of its copies, sorted
    osds: list[int]  # the OSDs whose copies are bad: what a repair rewrites
    repaired: bool = False
    unrepairable: str = ""  # why not, when a repair was tried

    @property
    def scrub_errors(self) -> int:
        """Errors as Ceph counts them: one per bad copy."""
        return max(1, len(self.osds))


@dataclass
class PGScrub:
    pool: PoolInfo
    pg: int
    deep: bool
    objects: int = 0
    bytes: int = 0
    inconsistent: list[InconsistentObject] = field(default_factory=list)

    @property
    def scrub_errors(self) -> int:
        return sum(o.scrub_errors for o in self.inconsistent)


@dataclass
class ScrubResult:
    pgs: list[PGScrub] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # pgids of inactive PGs and PGs awaiting recovery
    orphan_blocks_removed: int = 0  # deep scrub only

    @property
    def objects(self) -> int:
        return sum(pg.objects for pg in self.pgs)

    @property
    def bytes(self) -> int:
        return sum(pg.bytes for pg in self.pgs)

    @property
    def inconsistent(self) -> list[InconsistentObject]:
        return [o for pg in self.pgs for o in pg.inconsistent]

    @property
    def remaining(self) -> list[InconsistentObject]:
        """The inconsistent objects that were not repaired."""
        return [o for o in self.inconsistent if not o.repaired]


def scrub(
    cluster: Cluster,
    pool_name: str | None = None,
    deep: bool = False,
    repair: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ScrubResult:
    """Scrub one pool, or every pool, PG by PG; ``progress(done, total)`` after each PG."""
    pools = [cluster.pool(pool_name)] if pool_name else sorted(cluster.osdmap.pools.values(), key=lambda p: p.id)
    total = sum(p.pg_num for p in pools)
    log = ScrubLog(cluster.conf.cluster_dir)
    result = ScrubResult()
    for pool in pools:
        for pg in range(pool.pg_num):
            found = scrub_pg(cluster, pool, pg, deep, repair)
            if found is None:
                result.skipped.append(pgid(pool.id, pg))
            else:
                log.record(found)
                result.pgs.append(found)
            if progress is not None:
                progress(len(result.pgs) + len(result.skipped), total)
    if deep:
        result.orphan_blocks_removed = _remove_orphan_blocks(cluster)
    return result


def _remove_orphan_blocks(cluster: Cluster) -> int:
    removed = 0
    for osd in cluster.osdmap.osds.values():
        if osd.up:
            try:
                removed += cluster.store(osd.id).remove_orphan_blocks(ORPHAN_BLOCK_MIN_AGE_S)
            except OSDFailure as f:
                cluster.osd_failed(f)
    return removed


def scrub_pg(cluster: Cluster, pool: PoolInfo, pg: int, deep: bool = False, repair: bool = False) -> PGScrub | None:
    """Scrub one PG and repair it if asked (or if auto repair applies); None if it is inactive or
    awaiting recovery (as Ceph, only PGs whose copies are all complete are scrubbed)."""
    try:
        state = active_state(cluster, pool, pg, locked=False)
    except StorageError:
        return None
    if state.incomplete or any(c.role != COMPLETE for c in state.copies):
        return None
    targets = [c.copy for c in state.copies]
    if len({s for s, _ in targets} if pool.type == "erasure" else targets) < pool.min_size:
        return None
    with cluster.pg_locks.hold(pool.id, pg):
        names = sorted({(k.ns, k.name) for _, osd in targets for k in cluster.store(osd).pg_objects(pool.id, pg)})
    result = PGScrub(pool, pg, deep)
    for ns, name in names:
        obj = _ObjectScrub(cluster, pool, pg, targets, ns, name)
        with cluster.pg_locks.hold(pool.id, pg):
            found = obj.run(deep)
        if obj.present:
            result.objects += 1
            result.bytes += obj.logical_size
        if found is not None:
            result.inconsistent.append(found)
    conf = cluster.conf
    if repair or (deep and conf.scrub_auto_repair and result.scrub_errors <= conf.scrub_auto_repair_num_errors):
        again = [_repair(cluster, pool, pg, targets, o, deep) for o in result.inconsistent]
        result.inconsistent = [o for o in again if o is not None]
    return result


def _repair(
    cluster: Cluster, pool: PoolInfo, pg: int, targets: list[tuple[int, int]], found: InconsistentObject, deep: bool
) -> InconsistentObject | None:
    """Scrub the object again under the lock (a client may have rewritten it since), then repair it."""
    obj = _ObjectScrub(cluster, pool, pg, targets, found.namespace, found.name)
    with cluster.pg_locks.hold(pool.id, pg):
        again = obj.run(deep)
        if again is not None:
            obj.repair(again)
    return again


@dataclass
class _Copy:
    osd: int
    key: ObjectKey
    check: CopyCheck | None = None
    errors: set[str] = field(default_factory=set)  # of this copy alone
    diffs: set[str] = field(default_factory=set)  # where it differs from the authoritative copy

    @property
    def bad(self) -> bool:
        return bool(self.errors or self.diffs)


class _ObjectScrub:
    """One object's copies: checked and compared (``run``), then rewritten if bad (``repair``)."""

    def __init__(
        self, cluster: Cluster, pool: PoolInfo, pg: int, targets: list[tuple[int, int]], ns: str, name: str
    ) -> None:
        self.cluster, self.pool, self.pg, self.ns, self.name = cluster, pool, pg, ns, name
        self.ec = pool.type == "erasure"
        self.copies = [_Copy(osd, ObjectKey(pool.id, pg, ns, name, shard)) for shard, osd in targets]
        self.errors: set[str] = set()  # between copies
        self.auth: _Copy | None = None
        self.why_not = ""  # why a repair is impossible

    @property
    def present(self) -> list[_Copy]:
        return [c for c in self.copies if c.check is not None]

    @property
    def logical_size(self) -> int:
        return (self.auth or self.present[0]).check.info.logical_size

    @property
    def codec(self) -> ErasureCodec:
        return self.cluster.codec(self.pool)

    def run(self, deep: bool) -> InconsistentObject | None:
        """Check and compare every copy; the report if anything is wrong, None if all is well
        or the object is gone."""
        for copy in self.copies:
            self._check(copy, deep and not self.ec)
        present = self.present
        if not present:
            return None
        self._choose_authoritative()
        reference = self.auth or present[0]
        for copy in present:
            copy.diffs = _differences(copy.check, reference.check, self.ec)
            self.errors |= copy.diffs
        if self.ec and deep and self.auth is not None:
            self._ec_decode(keep=False)
        return self._report()

    def _check(self, copy: _Copy, deep: bool) -> None:
        try:
            copy.check = self.cluster.store(copy.osd).check_object(copy.key, deep)
        except StorageError as e:
            if e.errno not in (errno.ENOENT, errno.EIO):
                raise
            copy.errors.add("missing" if e.errno == errno.ENOENT else "stat_error")
            return
        info = copy.check.info
        if copy.check.read_error:
            copy.errors.add("read_error")
        if self.ec and info.size != self.codec.shard_size(info.logical_size):
            copy.errors.add("ec_size_error")

    def _signature(self, check: CopyCheck) -> tuple:
        """What copies of one version must agree on."""
        info = check.info
        common = (info.epoch, info.version, info.data_version, info.logical_size, tuple(sorted(check.xattrs.items())))
        if self.ec:
            return common
        return (*common, info.size, check.data_digest, check.omap_keys, check.omap_digest)

    def _choose_authoritative(self) -> None:
        newest = max((c.check.info.epoch, c.check.info.version) for c in self.present)
        clean = [c for c in self.present if not c.errors and (c.check.info.epoch, c.check.info.version) == newest]
        if not clean:
            self.why_not = "no copy of the newest version reads back clean"
            return
        votes = Counter(self._signature(c.check) for c in clean).most_common()
        if len(votes) > 1 and votes[0][1] == votes[1][1]:
            self.why_not = "copies of the newest version disagree and none has a majority"
            return
        self.auth = next(c for c in clean if self._signature(c.check) == votes[0][0])

    def _ec_decode(self, keep: bool) -> bytes | None:
        """Read the clean shards of the authoritative data version a few stripes at a time,
        mark those failing their checksums (read_error) or differing from the re-encoding
        (ec_hash_error), and return the object if ``keep``. None if it does not decode."""
        codec, info = self.codec, self.auth.check.info
        size = info.logical_size
        sources = [c for c in self.present if not c.errors and c.check.info.data_version == info.data_version]
        by_shard = {c.key.shard: c for c in sources}
        out = bytearray()
        stripes = codec.stripes(size)
        batch = max(1, EC_SCRUB_BATCH // codec.stripe_width)
        for first in range(0, stripes, batch):
            offset = first * codec.fragment_size
            length = codec.shard_size(min(size, (first + batch) * codec.stripe_width)) - offset
            fragments = {}
            for copy in sources:
                fragment = None if copy.errors else self._read_shard(copy, offset, length)
                if fragment is not None:
                    fragments[copy.key.shard] = fragment
            decoded, disagreeing = _best_decoding(codec, fragments, first, size)
            for shard in disagreeing:
                by_shard[shard].errors.add("ec_hash_error")
            if decoded is None:
                if len(fragments) >= codec.k:
                    self.errors.add("ec_hash_error")
                self.why_not = f"the newest version has fewer than k={codec.k} clean shards that decode and agree"
                return None
            if keep:
                out += decoded
        return bytes(out)

    def _read_shard(self, copy: _Copy, offset: int, length: int) -> bytes | None:
        try:
            return self.cluster.store(copy.osd).read(copy.key, offset, length)[0]
        except StorageError as e:
            if e.errno != errno.EIO:
                raise
            copy.errors.add("read_error")
            return None

    def _report(self) -> InconsistentObject | None:
        bad = [c for c in self.copies if c.bad]
        if not bad and not self.errors:
            return None
        errors = set(self.errors).union(*(c.errors for c in self.copies))
        where = pgid(self.pool.id, self.pg)
        return InconsistentObject(self.pool.name, where, self.name, self.ns, sorted(errors), sorted(c.osd for c in bad))

    def repair(self, report: InconsistentObject) -> None:
        """Rewrite every bad copy from the authoritative one; says in ``report`` what came of it."""
        record_for = None
        if not self.why_not:
            record_for = self._ec_records() if self.ec else self._replica_record()
        if record_for is None:
            report.unrepairable = self.why_not
            return
        bad = [c for c in self.copies if c.bad]  # after the records: making them may find more
        report.osds = sorted({*report.osds, *(c.osd for c in bad)})
        for copy in bad:
            record = record_for(copy)
            txn = Transaction(copy.key, [("restore", record)], record.info.version, record.info.mtime_ns)
            try:
                self.cluster.store(copy.osd).apply(txn)
            except StorageError as e:
                report.unrepairable = f"restoring the copy on osd.{copy.osd} failed: {e.message}"
                return
        report.repaired = True

    def _replica_record(self) -> Callable[[_Copy], ObjectRecord] | None:
        """The authoritative copy, exported (so verified again) for every bad copy; None (and
        why_not) if none exports cleanly."""
        signature = self._signature(self.auth.check)
        for good in self.present:
            if not good.bad and self._signature(good.check) == signature:
                try:
                    record = self.cluster.store(good.osd).export_object(good.key)
                except StorageError as e:
                    if e.errno != errno.EIO:
                        raise
                    good.errors.add("read_error")
                    continue
                return lambda _bad: record
        self.why_not = "every authoritative copy fails its checksums"
        return None

    def _ec_records(self) -> Callable[[_Copy], ObjectRecord] | None:
        """Each bad shard's record: the object decoded from the clean shards, re-encoded, with
        the authoritative shard's metadata. None (and why_not) if it does not decode."""
        data = self._ec_decode(keep=True)
        if data is None:
            return None
        shards = self.codec.encode(data)
        info, xattrs = self.auth.check.info, self.auth.check.xattrs

        def record(copy: _Copy) -> ObjectRecord:
            shard = bytes(shards[copy.key.shard])
            shard_info = ObjectInfo(
                len(shard), info.logical_size, info.version, info.mtime_ns, info.data_version, info.epoch
            )
            return ObjectRecord(shard_info, shard, dict(xattrs))

        return record


def _differences(check: CopyCheck, reference: CopyCheck, ec: bool) -> set[str]:
    """The between-copies errors of ``check`` against ``reference``."""
    a, b = check.info, reference.info
    errors = set()
    if (a.epoch, a.version, a.data_version) != (b.epoch, b.version, b.data_version):
        errors.add("object_info_inconsistency")
    if a.logical_size != b.logical_size or (not ec and a.size != b.size):
        errors.add("size_mismatch")
    if check.xattrs.keys() != reference.xattrs.keys():
        errors.add("attr_name_mismatch")
    if any(check.xattrs[k] != reference.xattrs[k] for k in check.xattrs.keys() & reference.xattrs.keys()):
        errors.add("attr_value_mismatch")
    if not ec and check.data_digest != reference.data_digest:
        errors.add("data_digest_mismatch")
    if not ec and (check.omap_keys, check.omap_digest) != (reference.omap_keys, reference.omap_digest):
        errors.add("omap_digest_mismatch")
    return errors


def _best_decoding(
    codec: ErasureCodec, fragments: dict[int, bytes], first_stripe: int, size: int
) -> tuple[bytes | None, set[int]]:
    """The stripes decoded from the k fragments whose re-encoding most of the others match,
    and the shards that do not match it. (None, set()) if fewer than k fragments, or if no
    decoding is confirmed by more than the k fragments it came from."""
    best: tuple[bytes, set[int]] | None = None
    for subset in itertools.combinations(sorted(fragments), codec.k):
        try:
            data = codec.decode({s: fragments[s] for s in subset}, first_stripe, size)
        except StorageError:
            continue
        encoded = codec.encode(data)
        disagreeing = {s for s, fragment in fragments.items() if fragment != encoded[s]}
        if not disagreeing:
            return data, disagreeing
        if best is None or len(disagreeing) < len(best[1]):
            best = (data, disagreeing)
    if best is None or len(fragments) - len(best[1]) <= codec.k:
        return None, set()
    return best


class ScrubLog:
    """What the last scrubs left inconsistent, per PG, in ``scrub.db`` in the cluster directory.

    SQLite, so that several scrubbing processes and the status readers can share it. Each PG
    has two lists, one per kind of scrub: a shallow scrub replaces the shallow list, and a
    deep scrub (which checks everything a shallow one does) replaces both.
    """

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS pg_scrub (pool INTEGER NOT NULL, pg INTEGER NOT NULL,"
        " shallow TEXT NOT NULL DEFAULT '[]', deep TEXT NOT NULL DEFAULT '[]', PRIMARY KEY (pool, pg))"
    )

    def __init__(self, cluster_dir: Path) -> None:
        self.path = cluster_dir / SCRUB_DB

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=SCRUB_DB_TIMEOUT_S)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(self.SCHEMA)
        return conn

    def record(self, result: PGScrub) -> None:
        """Keep a PG's scrub result: the objects it left inconsistent (the repaired ones are not)."""
        left = json.dumps([asdict(o) for o in result.inconsistent if not o.repaired])
        conn = self._connect()
        try:
            with conn:
                if result.deep:
                    conn.execute(
                        "INSERT OR REPLACE INTO pg_scrub VALUES (?, ?, '[]', ?)", (result.pool.id, result.pg, left)
                    )
                else:
                    conn.execute(
                        "INSERT INTO pg_scrub (pool, pg, shallow) VALUES (?, ?, ?)"
                        " ON CONFLICT (pool, pg) DO UPDATE SET shallow = excluded.shallow",
                        (result.pool.id, result.pg, left),
                    )
        finally:
            conn.close()

    def inconsistent(self) -> dict[tuple[int, int], list[InconsistentObject]]:
        """(pool id, pg) -> the objects the last scrubs left inconsistent there, for PGs with any."""
        if not self.path.exists():
            return {}
        conn = self._connect()
        try:
            rows = conn.execute("SELECT pool, pg, shallow, deep FROM pg_scrub").fetchall()
        finally:
            conn.close()
        found = {}
        for pool, pg, shallow, deep in rows:
            objects: dict[tuple[str, str], InconsistentObject] = {}
            for entry in json.loads(deep) + json.loads(shallow):
                obj = InconsistentObject(**entry)
                seen = objects.setdefault((obj.namespace, obj.name), obj)
                if seen is not obj:
                    seen.errors = sorted({*seen.errors, *obj.errors})
                    seen.osds = sorted({*seen.osds, *obj.osds})
            if objects:
                found[(pool, pg)] = list(objects.values())
        return found
