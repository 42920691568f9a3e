"""``librgw -c CONF expirer``: delete the objects whose delete-at time has come (Swift's
``swift-object-expirer``), as the expiry queue lists them (``librgw/expiry.py``), then apply
the buckets' S3 lifecycle rules (``librgw/lifecycle.py``), as ``lc process`` does.

Objects get a delete-at time from Swift's ``X-Delete-At`` / ``X-Delete-After`` (the
``expiration`` filter). An expired object answers 404 at once; this agent reaps it, so
that it leaves its container's listing and its space is freed (in a versioned bucket, a
delete marker hides it: ``librgw/expirer.py``). A bucket's lifecycle rules are applied once
every ``--lifecycle-period`` seconds (default 3600; 0: every pass), and at the next pass
after they are set.

Like Swift's object-expirer it runs pass after pass, starting one every ``--interval``
seconds (default 300), until interrupted; ``--once`` runs one pass and exits.
Several may run at once: none deletes what another has, nor an object rewritten since
it was queued; ``--processes N --process I`` (0 <= I < N) splits the queue (and the
lifecycle's shards) between N of them as Swift's ``processes`` and ``process`` settings do.
Killed midway, the next run finishes the job. On a terminal a progress line shows each pass
(queue entries, then buckets); a summary follows it (``-f json``: one JSON object per pass),
with a line (a ``lifecycle`` object) for the lifecycle when it had buckets to work on.

Examples::

    librgw -c data/cluster.conf expirer --once
    librgw -c data/cluster.conf expirer --interval 60 --processes 2 --process 0
"""

from __future__ import annotations

import argparse
import sys
import time

from librgw import rados
from librgw.connection import attach
from librgw.expirer import DEFAULT_BATCH_SIZE, DEFAULT_LIFECYCLE_PERIOD, ExpirerReport, ExpirerShare

from .arguments import help_text, non_negative_float, positive_int
from .errors import UsageError
from .render import emit_json

DEFAULT_INTERVAL = 300.0  # Swift's object-expirer ``interval``


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "expirer",
        parents=[common],
        help="delete the objects whose X-Delete-At has come (as swift-object-expirer)",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--once", action="store_true", help="run one pass, then exit")
    parser.add_argument(
        "--interval", type=non_negative_float, default=DEFAULT_INTERVAL, help="seconds between passes' starts"
    )
    parser.add_argument("--processes", type=int, default=0, help="how many expirers share the queue (0: one)")
    parser.add_argument("--process", type=int, default=0, help="which of them this is, from 0")
    parser.add_argument(
        "--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE, help="entries dropped from the queue at a time"
    )
    parser.add_argument(
        "--lifecycle-period",
        type=non_negative_float,
        default=DEFAULT_LIFECYCLE_PERIOD,
        help="seconds between two lifecycle runs over a bucket (0: every pass)",
    )
    parser.set_defaults(handler=do_expirer, needs_cluster=True)


def do_expirer(args: argparse.Namespace, handle: rados.Rados) -> int:
    if args.processes < 0 or not 0 <= args.process < max(args.processes, 1):
        raise UsageError("--process must be at least 0 and less than --processes")
    expirer = attach(handle).expirer
    share = ExpirerShare(args.processes, args.process)
    while True:
        started = time.monotonic()
        show = _progress_line if sys.stderr.isatty() else None
        report = expirer.process(
            share=share, batch_size=args.batch_size, progress=show, lifecycle_period=args.lifecycle_period
        )
        if show is not None:
            sys.stderr.write("\n")
        _summary(report, args.format)
        if args.once:
            return 0
        time.sleep(max(0.0, args.interval - (time.monotonic() - started)))


def _progress_line(report: ExpirerReport) -> None:
    width = 30
    done, due = report.done + report.buckets_done, report.due + report.buckets_due
    filled = min(width, width * done // due) if due else width
    sys.stderr.write(f"\rexpirer [{'#' * filled}{'.' * (width - filled)}] {done}/{due}")
    sys.stderr.flush()


def _summary(report: ExpirerReport, fmt: str) -> None:
    counts = {
        "due": report.due,
        "deleted": report.deleted,
        "gone": report.gone,
        "kept": report.kept,
        "failed": report.failed,
    }
    lifecycle = {"buckets": report.buckets_done, "failed": report.buckets_failed, **vars(report.lifecycle)}
    if fmt != "plain":
        emit_json({**counts, "lifecycle": lifecycle} if report.buckets_done else counts, fmt)
        return
    print(
        f"{report.due} due: {report.deleted} deleted, {report.gone} already gone, "
        f"{report.kept} rewritten since (kept), {report.failed} failed (left for the next pass)",
        flush=True,
    )
    if report.buckets_done:
        done = report.lifecycle
        print(
            f"lifecycle, {report.buckets_done} buckets: {done.expired} expired, {done.noncurrent_expired} noncurrent "
            f"versions and {done.delete_markers_removed} delete markers removed, {done.aborted_uploads} uploads "
            f"aborted, {report.buckets_failed} buckets failed (tried again next pass)",
            flush=True,
        )
