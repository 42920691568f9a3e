"""``librgw recover``: bring every PG back to full redundancy after OSDs failed, came back, joined or left.

It first checks every OSD directory (failed ones are marked down, returned ones up, ones
down longer than ``mon osd down out interval`` out), then copies what each PG's new or
returning OSDs lack from its authoritative copies, rebuilds missing erasure-coded shards,
and removes the copies OSDs no longer serve. See ``librgw/storage/recovery.py``.

It runs in this process and is safe to stop (Ctrl-C, or ``kill -9``) and run again: it
resumes where it stopped. On a terminal, stderr shows a progress bar (objects, bytes, rate,
ETA). The last line is a summary; ``--format json`` prints it as JSON instead.

It says what it could not do and why: PGs that are incomplete (the copies holding their
latest history are on down OSDs: bring those back), objects no copy can give (unfound: see
``librgw pg PGID list_unfound``), and PGs waiting for an OSD that is down but still in, with
when it will be marked out (``mon osd down out interval``) and its data re-replicated
elsewhere, or mark it out now with ``librgw osd out ID``.

Exit status: 0 when every PG was recovered, 1 when some could not be (incomplete PGs or
unfound objects).
"""

from __future__ import annotations

import argparse
import sys

from librgw import rados
from librgw.storage.recovery import RecoveryProgress, recover

from .arguments import help_text
from .render import emit_json, human_bytes
from .session import embedded_cluster

EXIT_INCOMPLETE = 1
BAR_WIDTH = 24


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "recover",
        parents=[common],
        help="restore full redundancy: backfill new OSDs, catch up returned ones, rebuild lost copies",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=do_recover, needs_cluster=True)


def do_recover(args: argparse.Namespace, handle: rados.Rados) -> int:
    show = _show_bar if sys.stderr.isatty() else None
    cluster = embedded_cluster(
        handle, "Ceph recovers by itself: its OSDs backfill and recover PGs as the map changes (see 'librgw status')"
    )
    progress = recover(cluster, report=show)
    if show is not None:
        print(file=sys.stderr)
    if args.format != "plain":
        emit_json(progress.to_json(), args.format)
    else:
        print(format_summary(progress))
    return EXIT_INCOMPLETE if progress.incomplete or progress.unfound else 0


def format_bar(p: RecoveryProgress) -> str:
    total = max(p.objects_total, p.objects_done, 1)
    filled = round(BAR_WIDTH * p.objects_done / total)
    eta = "-" if p.eta_s is None else _duration(p.eta_s)
    return (
        f"recovery [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {p.objects_done}/{total} objects,"
        f" {human_bytes(p.bytes_copied)} copied, {p.objects_done / p.elapsed:.0f} objects/s,"
        f" {human_bytes(p.bytes_copied / p.elapsed)}/s, ETA {eta}"
    )


def _show_bar(p: RecoveryProgress) -> None:
    print(f"\r{format_bar(p)}", end="", file=sys.stderr, flush=True)


def format_summary(p: RecoveryProgress) -> str:
    line = (
        f"recovery: {p.pgs_done} pgs, {p.objects_done} objects checked, {p.objects_copied} copied"
        f" ({human_bytes(p.bytes_copied)}), {p.objects_removed} stale copies removed in {_duration(p.elapsed)}"
    )
    lines = [line]
    if p.incomplete:
        lines.append(
            f"{len(p.incomplete)} pgs incomplete (the copies holding their latest history are down):"
            f" {', '.join(p.incomplete)}"
        )
    for pg_id, count in p.unfound.items():
        lines.append(f"pg {pg_id}: {count} objects unfound (see 'librgw pg {pg_id} list_unfound')")
    for wait in p.waiting:
        pgs = wait["pgs"]
        shown = ", ".join(pgs[:8]) + (f" and {len(pgs) - 8} more" if len(pgs) > 8 else "")
        if wait["out_in_s"] is None:
            when = "it was marked down by hand, so it is not marked out by itself"
        else:
            when = f"it will be marked out in {_duration(wait['out_in_s'])}"
        lines.append(
            f"osd.{wait['osd']} is down (for {_duration(wait['down_for_s'])}) but in: {len(pgs)} pgs wait for it"
            f" ({shown}); {when}, or now with 'librgw osd out {wait['osd']}'"
        )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"
