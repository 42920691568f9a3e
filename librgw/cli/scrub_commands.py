"""``librgw scrub [--deep] [--repair] [POOL]``: check that the copies of every object agree.

A scrub compares the copies' sizes, versions and metadata. ``--deep`` also reads every
byte and verifies its checksums, and checks that erasure-coded shards decode.
``--repair`` does a deep scrub and rewrites bad copies from authoritative ones, as
``ceph pg repair`` does. Without POOL, every pool is scrubbed. The scrub runs in this
process, one PG after the other, and takes a PG's lock for one object at a time, so
clients keep working. On a terminal, stderr shows how many PGs are done.

The output lists each inconsistent object with its errors and what a repair did, and
ends with a summary. ``--format json`` prints::

    {"inconsistent": [{"pool": P, "pgid": "2.1f", "object": NAME, "errors": [...]}, ...],
     "repaired": [{"pool", "pgid", "object", "namespace", "osds"}, ...],
     "unrepairable": [{"pool", "pgid", "object", "namespace", "reason"}, ...],
     "deep": true, "scrubbed_pgs": N, "skipped_pgs": [pgid, ...],
     "scrubbed_objects": N, "scrubbed_bytes": N}

Exit status: 0 when every object is consistent or was repaired, 1 when inconsistencies
remain. PGs below min_size are skipped and listed.
"""

from __future__ import annotations

import argparse
import sys

from librgw import rados
from librgw.storage.scrub import ScrubResult, scrub

from .arguments import help_text
from .render import emit_json, human_bytes, table
from .session import embedded_cluster

EXIT_INCONSISTENT = 1


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "scrub",
        parents=[common],
        help="compare the copies of every object; --deep reads every byte; --repair fixes bad copies",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pool", nargs="?", metavar="POOL", help="the pool to scrub (default: every pool)")
    parser.add_argument("--deep", action="store_true", help="also read every byte and verify its checksums")
    parser.add_argument("--repair", action="store_true", help="deep scrub, then rewrite bad copies from good ones")
    parser.set_defaults(handler=do_scrub, needs_cluster=True)


def do_scrub(args: argparse.Namespace, handle: rados.Rados) -> int:
    deep = args.deep or args.repair
    progress = _show_progress if sys.stderr.isatty() else None
    cluster = embedded_cluster(
        handle, "Ceph's OSDs scrub by themselves on a schedule; to start one now: ceph pg deep-scrub PGID"
    )
    result = scrub(cluster, args.pool, deep=deep, repair=args.repair, progress=progress)
    if progress is not None:
        print(file=sys.stderr)
    if args.format != "plain":
        emit_json(scrub_json(result, deep), args.format)
    else:
        print(format_scrub(result, deep))
    return EXIT_INCONSISTENT if result.remaining else 0


def _show_progress(done: int, total: int) -> None:
    print(f"\rscrub: {done}/{total} pgs", end="", file=sys.stderr, flush=True)


def scrub_json(result: ScrubResult, deep: bool) -> dict:
    found = result.inconsistent
    return {
        "inconsistent": [{"pool": o.pool, "pgid": o.pgid, "object": o.name, "errors": o.errors} for o in found],
        "repaired": [
            {"pool": o.pool, "pgid": o.pgid, "object": o.name, "namespace": o.namespace, "osds": o.osds}
            for o in found
            if o.repaired
        ],
        "unrepairable": [
            {"pool": o.pool, "pgid": o.pgid, "object": o.name, "namespace": o.namespace, "reason": o.unrepairable}
            for o in found
            if o.unrepairable
        ],
        "deep": deep,
        "scrubbed_pgs": len(result.pgs),
        "skipped_pgs": result.skipped,
        "scrubbed_objects": result.objects,
        "scrubbed_bytes": result.bytes,
    }


def format_scrub(result: ScrubResult, deep: bool) -> str:
    """A table of the inconsistent objects (if any), then one summary line."""
    lines = []
    found = result.inconsistent
    if found:
        rows = [["PGID", "POOL", "OBJECT", "ERRORS", "OSDS", "REPAIR"]]
        for o in found:
            name = f"{o.namespace}/{o.name}" if o.namespace else o.name
            outcome = "repaired" if o.repaired else f"unrepairable: {o.unrepairable}" if o.unrepairable else ""
            osds = ",".join(f"osd.{i}" for i in o.osds)
            rows.append([o.pgid, o.pool, name, ",".join(o.errors), osds, outcome])
        lines += table(rows, "llllll")
    summary = (
        f"{'deep-scrub' if deep else 'scrub'}: {len(result.pgs)} pgs, {result.objects} objects,"
        f" {human_bytes(result.bytes)}: {len(found)} inconsistent, {len(found) - len(result.remaining)} repaired"
    )
    if result.skipped:
        summary += f"; {len(result.skipped)} pgs skipped (inactive: {', '.join(result.skipped)})"
    return "\n".join([*lines, summary])
