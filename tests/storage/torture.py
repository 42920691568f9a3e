"""The storage torture test: seeded random client writes interleaved with faults within the
pools' redundancy, every acknowledged write checked after every step.

A seed builds a fresh 6-OSD cluster with a replicated pool (size 3, min_size 2) and an
erasure-coded one (k=2 m=2, min_size 3), then takes random steps:

- **client writes** in a forked writer process: ``write_full`` (small, or several EC stripes),
  ``append``, ``remove``, omap sets and removals, xattrs, over a dozen objects per pool, so
  objects are overwritten often; half of the batches are ended by ``kill -9`` at a random
  moment, mid-EC-write included;
- **faults**, never more at once than the pools tolerate (two): an OSD directory renamed away
  and back, one removed for good (then marked out and re-replicated), ``osd out`` and ``in``,
  a byte flipped in a stored copy;
- **repairs**: ``recover`` run whole, or killed midway, and deep scrubs with repair.

After every step the objects the step touched, and a few others, are read back: each must
hold what its acknowledged writes made it, or what a write whose outcome is unknown (killed
or failed) would make of that, never anything else (a mix, a lost acknowledged write). At
the end every OSD is brought back, recovery and a deep scrub repair run, and then every PG
must be ``active+clean``, a second deep scrub must find nothing, and every object must read
back as above.

Run one seed: ``python -m tests.storage.torture --seed 17 -v``; many, on two cores:
``python -m tests.storage.torture --seeds 0-4999 --jobs 2``. A failing seed prints the
command that replays it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from librgw import rados
from librgw.storage.cluster import create_cluster
from librgw.storage.errors import StorageError
from librgw.storage.health import pg_states
from librgw.storage.osd_store import OSDStore
from librgw.storage.piece_stream import PieceStream
from librgw.storage.placement import pg_of
from librgw.storage.recovery import recover
from librgw.storage.scrub import scrub
from librgw.storage.store_records import NO_SHARD, ObjectKey
from tests.conftest import flip_stored_byte, make_ec_pool

OSDS = 6
NAMES = [f"obj{i}" for i in range(12)]
TOLERATED = 2  # both pools keep every write through two lost copies: size 3, and k=2 m=2
MAX_STATES = 32  # past this many possible states an object is no longer checked until rewritten
KiB = 1024
# State of an object: (exists, data, sorted omap items, xattr "v" or None)
State = tuple[bool, bytes, tuple[tuple[str, bytes], ...], bytes | None]
ABSENT: State = (False, b"", (), None)


class TortureFailure(AssertionError):
    pass


# -- the model: what each object may hold -------------------------------------------------------


def apply(state: State, op: tuple) -> State:
    """The object after ``op``, as RADOS defines it (a refused op leaves it as it was)."""
    exists, data, omap, xattr = state
    if not exists:
        data, omap, xattr = b"", (), None
    kind = op[0]
    if kind == "write_full":
        return (True, op[1], omap, xattr)
    if kind == "append":
        return (True, data + op[1], omap, xattr)
    if kind == "remove":
        return ABSENT
    if kind == "omap_set":
        return (True, data, tuple(sorted({**dict(omap), **op[1]}.items())), xattr)
    if kind == "omap_rm":
        if not exists:
            return state
        return (True, data, tuple((k, v) for k, v in omap if k not in op[1]), xattr)
    if kind == "setxattr":
        return (True, data, omap, op[1])
    raise ValueError(kind)


@dataclass
class Model:
    possible: dict[tuple[str, str], set[State]] = field(default_factory=dict)

    def states(self, pool: str, name: str) -> set[State] | None:
        return self.possible.get((pool, name), {ABSENT})

    def done(self, pool: str, name: str, op: tuple, acknowledged: bool) -> None:
        before = self.states(pool, name)
        if before is None:
            after = {apply(ABSENT, op)} if op[0] in ("write_full", "remove") and acknowledged else None
        elif acknowledged:
            after = {apply(s, op) for s in before}
        else:  # killed, or failed: it may have happened or not, now or at the next peering
            after = before | {apply(s, op) for s in before}
        if after is not None and len(after) > MAX_STATES:
            after = None
        self.possible[(pool, name)] = after


# -- a seed ----------------------------------------------------------------------------------------


class Torture:
    def __init__(self, seed: int, root: Path, verbose: bool = False) -> None:
        self.seed, self.root, self.verbose = seed, root, verbose
        self.rng = random.Random(seed)
        self.conf = root / "cluster.conf"
        create_cluster(
            root,
            OSDS,
            **{
                "osd pool default pg num": "4",
                "osd heartbeat interval": "0",
                "mon osd down out interval": "100000",
            },
        )
        self.model = Model()
        self.away: dict[int, Path] = {}  # renamed out of place, to come back
        self.lost: set[int] = set()  # removed for good
        self.retired: set[int] = set()  # lost and re-replicated elsewhere
        self.stale: set[int] = set()  # back, in, or added: behind until a recovery completes
        self.out_pending: set[int] = set()  # marked out: its data is moved by the next recovery
        self.out: set[int] = set()
        self.flipped = False
        self.log: list[str] = []
        with self.client() as client:
            client.create_pool("rep")
            make_ec_pool(client, "ec", 2, 2, pg_num=4)

    @contextlib.contextmanager
    def client(self) -> Iterator[rados.Rados]:
        with rados.Rados(conffile=str(self.conf)) as client:
            yield client

    def note(self, text: str) -> None:
        self.log.append(text)
        if self.verbose:
            print(f"  {text}", flush=True)

    def degraded(self) -> int:
        osds = set(self.away) | (self.lost - self.retired) | self.stale | self.out_pending
        return len(osds) + self.flipped

    def healthy_osds(self) -> list[int]:
        bad = set(self.away) | self.lost | self.stale | self.out_pending | self.out
        return [o for o in range(self.osd_count()) if o not in bad]

    def osd_count(self) -> int:
        with self.client() as client:
            return len(client.cluster.osdmap.osds)

    # -- steps ---------------------------------------------------------------------------------

    def run(self, steps: int) -> None:
        for step in range(steps):
            action = self.choose()
            self.note(f"step {step}: {action.__name__}")
            touched = action() or set()
            self.check(touched | self.sample(4))
        self.heal()

    def choose(self):
        rng, room = self.rng, self.degraded() < TOLERATED
        healthy = len(self.healthy_osds())
        choices = [(self.write_batch, 30), (self.killed_batch, 25), (self.recover, 8), (self.killed_recovery, 4)]
        if room and healthy > 4:
            choices += [(self.take_away, 8), (self.osd_out, 4), (self.flip_byte, 4 * (not self.flipped))]
            if not self.lost:
                choices.append((self.remove_osd, 3))
        if self.away:
            choices.append((self.bring_back, 10))
        if self.lost - self.out:
            choices.append((self.mark_lost_out, 10))
        if self.out - self.lost and room:
            choices.append((self.osd_in, 4))
        if self.flipped:
            choices.append((self.scrub_repair, 4))
        actions, weights = zip(*[(a, w) for a, w in choices if w])
        return rng.choices(actions, weights)[0]

    def random_op(self, pool: str) -> tuple:
        rng = self.rng
        kinds = ["write_full"] * 5 + ["append"] * 2 + ["remove"] + ["setxattr"]
        if pool == "rep":
            kinds += ["omap_set"] * 2 + ["omap_rm"]
        kind = rng.choice(kinds)
        if kind == "write_full":
            size = rng.choice([rng.randrange(0, 3000), rng.randrange(100 * KiB, 600 * KiB)])
            return (kind, rng.randbytes(size))
        if kind == "append":
            return (kind, rng.randbytes(rng.randrange(1, 2000)))
        if kind == "omap_set":
            return (
                kind,
                {f"k{rng.randrange(6)}": rng.randbytes(rng.randrange(1, 40)) for _ in range(rng.randrange(1, 4))},
            )
        if kind == "omap_rm":
            return (kind, [f"k{rng.randrange(6)}" for _ in range(2)])
        if kind == "setxattr":
            return (kind, rng.randbytes(rng.randrange(1, 30)))
        return (kind,)

    def write_batch(self, crash: tuple[str, int] | None = None) -> set:
        ops = [(self.rng.choice(["rep", "ec"]), self.rng.choice(NAMES)) for _ in range(self.rng.randrange(3, 13))]
        ops = [(pool, name, self.random_op(pool)) for pool, name in ops]
        outcomes = run_writer(self.conf, ops, crash)
        for (pool, name, op), outcome in zip(ops, outcomes):
            if outcome != "not started":
                self.model.done(pool, name, op, outcome == "acked")
        self.note(f"  {ops_text(ops)}: {outcomes}" + (f", killed at {crash[0]} {crash[1]}" if crash else ""))
        return {(pool, name) for pool, name, _ in ops}

    def killed_batch(self) -> set:
        point = self.rng.choice(["commit", "commit", "stripe"])
        return self.write_batch(crash=(point, self.rng.randrange(1, 40 if point == "commit" else 60)))

    def take_away(self) -> None:
        osd = self.rng.choice(self.healthy_osds())
        path = self.root / f"osd.{osd}"
        path.rename(self.root / f"osd.{osd}.away")
        self.away[osd] = path
        self.note(f"  osd.{osd} renamed away")

    def bring_back(self) -> None:
        osd = self.rng.choice(sorted(self.away))
        (self.root / f"osd.{osd}.away").rename(self.away.pop(osd))
        self.stale.add(osd)
        self.note(f"  osd.{osd} back")

    def remove_osd(self) -> None:
        osd = self.rng.choice(self.healthy_osds())
        shutil.rmtree(self.root / f"osd.{osd}")
        self.lost.add(osd)
        self.note(f"  osd.{osd} removed")

    def mark_lost_out(self) -> None:
        for osd in sorted(self.lost - self.out):
            self.mark(osd, in_=False)

    def osd_out(self) -> None:
        self.mark(self.rng.choice(self.healthy_osds()), in_=False)

    def osd_in(self) -> None:
        osd = self.rng.choice(sorted(self.out - self.lost))
        self.mark(osd, in_=True)

    def mark(self, osd: int, in_: bool) -> None:
        with self.client() as client:
            client.cluster.set_osd_state([osd], in_=in_)
        if in_:
            self.out.discard(osd)
            self.out_pending.discard(osd)
            self.stale.add(osd)
        else:
            self.out.add(osd)
            self.out_pending.add(osd)
        self.note(f"  osd.{osd} {'in' if in_ else 'out'}")

    def flip_byte(self) -> set:
        """Rot one stored copy of an object that has data, on a healthy OSD."""
        with self.client() as client:
            cluster = client.cluster
            for _ in range(20):
                pool_name, name = self.rng.choice(["rep", "ec"]), self.rng.choice(NAMES)
                pool = cluster.pool(pool_name)
                pg = pg_of(pool, "", name)
                copies = [c for c in cluster.up_copies(pool, pg) if c[1] in self.healthy_osds()]
                self.rng.shuffle(copies)
                for shard, osd in copies:
                    key = ObjectKey(pool.id, pg, "", name, shard if pool.type == "erasure" else NO_SHARD)
                    try:
                        size = cluster.store(osd).stat(key).size
                    except StorageError:
                        continue
                    if size:
                        flip_stored_byte(cluster.store(osd), key, self.rng.randrange(size))
                        self.flipped = True
                        self.note(f"  flipped a byte of {pool_name}/{name} on osd.{osd}")
                        return {(pool_name, name)}
        return set()

    def recover(self) -> None:
        with self.client() as client:
            summary = recover(client.cluster)
        self.note(f"  recovered: {summary.objects_copied} copied, incomplete {summary.incomplete}")
        if not summary.incomplete and not summary.unfound:
            self.recovered()

    def recovered(self) -> None:
        self.stale.clear()
        self.out_pending.clear()
        self.retired |= self.lost & self.out

    def killed_recovery(self) -> None:
        """``recover`` killed at its n-th store commit (a restore, a cursor, an activation)."""
        count = self.rng.randrange(1, 30)
        pid = os.fork()
        if pid == 0:
            try:
                _arm("commit", count)
                with rados.Rados(conffile=str(self.conf)) as client:
                    recover(client.cluster)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        self.note(f"  recovery killed at commit {count} (if it got that far)")

    def scrub_repair(self) -> None:
        with self.client() as client:
            result = scrub(client.cluster, deep=True, repair=True)
        if not result.remaining and not result.skipped:
            self.flipped = False
        self.note(f"  deep scrub repaired {len(result.inconsistent)}, skipped {len(result.skipped)}")

    # -- checks --------------------------------------------------------------------------------

    def sample(self, n: int) -> set:
        return {(self.rng.choice(["rep", "ec"]), self.rng.choice(NAMES)) for _ in range(n)}

    def check(self, objects) -> None:
        with self.client() as client:
            for pool, name in sorted(objects):
                states = self.model.states(pool, name)
                if states is None:
                    continue
                with client.open_ioctx(pool) as ioctx:
                    try:
                        found = read_state(ioctx, name)
                    except rados.Error as e:
                        raise TortureFailure(f"{pool}/{name} could not be read: {e}") from None
                if found not in states:
                    raise TortureFailure(
                        f"{pool}/{name} holds {describe(found)}, expected one of {[describe(s) for s in states]}"
                    )

    def heal(self) -> None:
        """Everything back, recovered and repaired: then every PG must be clean and every
        object as its acknowledged writes made it."""
        for osd in sorted(self.away):
            (self.root / f"osd.{osd}.away").rename(self.away.pop(osd))
        with self.client() as client:
            cluster = client.cluster
            if self.lost - self.out:
                cluster.set_osd_state(sorted(self.lost - self.out), in_=False)
            cluster.heartbeat(force=True)
            for _ in range(3):
                summary = recover(cluster)
                if not summary.incomplete and not summary.unfound:
                    break
            if summary.incomplete or summary.unfound:
                raise TortureFailure(f"recovery left incomplete {summary.incomplete}, unfound {summary.unfound}")
            repaired = scrub(cluster, deep=True, repair=True)
            if repaired.remaining or repaired.skipped:
                raise TortureFailure(
                    f"deep scrub repair left {[(o.name, o.errors, o.unrepairable) for o in repaired.remaining]},"
                    f" skipped {repaired.skipped}"
                )
            again = scrub(cluster, deep=True)
            if again.inconsistent:
                raise TortureFailure(
                    f"a deep scrub after repair found {[(o.name, o.errors) for o in again.inconsistent]}"
                )
            states = dict(pg_states(cluster))
            if set(states) != {"active+clean"}:
                raise TortureFailure(f"PGs not clean after recovery: {states}")
        self.check({(pool, name) for pool in ("rep", "ec") for name in NAMES})


def read_state(ioctx: rados.Ioctx, name: str) -> State:
    try:
        ioctx.stat(name)
    except rados.ObjectNotFound:
        return ABSENT
    data = ioctx.read(name, 1 << 24)
    omap: tuple = ()
    if ioctx.name == "rep":
        with rados.ReadOpCtx() as op:
            items, _ = ioctx.get_omap_vals(op, "", "", 100)
            ioctx.operate_read_op(op, name)
            omap = tuple(sorted(items))
    try:
        xattr = ioctx.get_xattr(name, "v")
    except rados.NoData:
        xattr = None
    return (True, data, omap, xattr)


def ops_text(ops: list[tuple[str, str, tuple]]) -> str:
    return ", ".join(
        f"{op[0]} {pool}/{name}" + (f" {len(op[1])}" if op[0] in ("write_full", "append") else "")
        for pool, name, op in ops
    )


def describe(state: State) -> str:
    exists, data, omap, xattr = state
    if not exists:
        return "nothing"
    return f"{len(data)} bytes {hash(data) & 0xFFFF:04x}, omap {[k for k, _ in omap]}, xattr {xattr is not None}"


# -- the writer process ----------------------------------------------------------------------------


def run_writer(conf: Path, ops: list[tuple[str, str, tuple]], crash: tuple[str, int] | None) -> list[str]:
    """Run ``ops`` in a forked process; with ``crash`` (a point and a count), the process kills
    itself with SIGKILL the count-th time it passes that point: ``"commit"`` just after an OSD
    store committed a batch of transactions (some copies of a write then have it, others not),
    ``"stripe"`` just after the encoder handed a shard one more stripe (mid-EC-write, block files
    half written). Each op's outcome: "acked", "failed" (an error: it may still have happened),
    "in flight" (killed during it) or "not started"."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        status = 1
        try:
            if crash is not None:
                _arm(*crash)
            _writer(conf, ops, write_end)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    outcomes = ["not started"] * len(ops)
    buffered = b""
    while chunk := os.read(read_end, 65536):
        buffered += chunk
        *lines, buffered = buffered.split(b"\n")
        for line in lines:
            kind, index = line.split()[:2]
            outcomes[int(index)] = {b"B": "in flight", b"A": "acked", b"E": "failed"}[kind]
    os.close(read_end)
    os.waitpid(pid, 0)
    return outcomes


def _arm(point: str, count: int) -> None:
    """In the writer process: die at the count-th pass through ``point``."""
    passes = [0]

    def passed() -> None:
        passes[0] += 1
        if passes[0] == count:
            os.kill(os.getpid(), signal.SIGKILL)

    if point == "commit":
        commit = OSDStore._commit

        def counted_commit(self, conn, batch):
            commit(self, conn, batch)
            passed()

        OSDStore._commit = counted_commit
    else:
        put = PieceStream.put

        def counted_put(self, piece):
            put(self, piece)
            passed()

        PieceStream.put = counted_put


def _writer(conf: Path, ops: list[tuple[str, str, tuple]], out: int) -> None:
    with rados.Rados(conffile=str(conf)) as client:
        ioctxs = {pool: client.open_ioctx(pool) for pool in ("rep", "ec")}
        for i, (pool, name, op) in enumerate(ops):
            os.write(out, b"B %d\n" % i)
            try:
                _write(ioctxs[pool], name, op)
                os.write(out, b"A %d\n" % i)
            except rados.Error as e:
                os.write(out, b"E %d %d\n" % (i, e.errno or 0))


def _write(ioctx: rados.Ioctx, name: str, op: tuple) -> None:
    kind = op[0]
    if kind == "write_full":
        ioctx.write_full(name, op[1])
    elif kind == "append":
        ioctx.append(name, op[1])
    elif kind == "remove":
        ioctx.remove_object(name)
    elif kind == "setxattr":
        ioctx.set_xattr(name, "v", op[1])
    else:
        with rados.WriteOpCtx() as write_op:
            if kind == "omap_set":
                ioctx.set_omap(write_op, tuple(op[1]), tuple(op[1].values()))
            else:
                ioctx.remove_omap_keys(write_op, tuple(op[1]))
            ioctx.operate_write_op(write_op, name)


# -- seeds -------------------------------------------------------------------------------------------

STEPS = 14


def run_seed(seed: int, steps: int = STEPS, verbose: bool = False, base: str | None = None) -> str | None:
    """Run one seed in a fresh cluster; None if it held, else what failed and how to replay it."""
    if not verbose:  # the OSDs marked down and up are the test's own doing
        logging.getLogger("librgw").setLevel(logging.ERROR)
    root = Path(tempfile.mkdtemp(prefix=f"torture-{seed}-", dir=base or _scratch()))
    torture = None
    try:
        torture = Torture(seed, root / "cluster", verbose)
        torture.run(steps)
        return None
    except Exception as e:
        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
        if not isinstance(e, TortureFailure):
            detail += "\n" + traceback.format_exc()
        steps_taken = "\n".join(torture.log) if torture else ""
        return (
            f"seed {seed} failed: {detail}\n{steps_taken}\n"
            f"  replay: {sys.executable} -m tests.storage.torture --seed {seed} -v"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_seeds(seeds: list[int], jobs: int = 2, steps: int = STEPS) -> list[str]:
    """Run seeds on ``jobs`` processes; the failures' reports."""
    if jobs <= 1:
        return [r for r in (run_seed(s, steps) for s in seeds) if r]
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        return [r for r in pool.map(run_seed, seeds, [steps] * len(seeds), chunksize=4) if r]


def _scratch() -> str | None:
    """tmpfs when there is one: the test kills processes, not machines, so its fsyncs need not reach a disk."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _seed_range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, help="run one seed")
    parser.add_argument("--seeds", type=_seed_range, default=None, help="a range, as 0-199")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.seed is not None:
        failure = run_seed(args.seed, args.steps, args.verbose)
        print(failure or f"seed {args.seed}: held")
        return 1 if failure else 0
    seeds = args.seeds or list(range(200))
    started = time.monotonic()
    failures = run_seeds(seeds, args.jobs, args.steps)
    elapsed = time.monotonic() - started
    for failure in failures:
        print(failure)
    print(json.dumps({"seeds": len(seeds), "failed": len(failures), "seconds": round(elapsed, 1)}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
