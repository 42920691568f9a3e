"""``librgw``: the admin command line of the embedded cluster, after Ceph's ``ceph`` and ``rados``.

Examples::

    librgw cluster init data --osds 6
    librgw -c data/cluster.conf status
    librgw osd tree | osd df | osd out 3 | osd add --path /mnt/disk7/osd.6
    librgw pool create photos --pg-num 64 --erasure --k 4 --m 2
    librgw rados -p photos put cat.jpg ./cat.jpg
    librgw scrub --deep photos | scrub --repair
    librgw recover | pg 2.1f query | pg 2.1f list_unfound

The cluster is the one of ``-c/--conf CONF``, else ``$LIBRGW_CONF``, else
``data/cluster.conf``. ``-f/--format json`` (or ``json-pretty``) prints the monitor's JSON,
as ``ceph -f json`` does. Both options go before or after the command.

Every failure is one ``librgw: error: ...`` line on stderr, never a traceback
(``LIBRGW_DEBUG=1`` shows the traceback instead): exit 2 for a bad command line,
1 for a failed command, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys

from librgw import rados
from librgw.errors import RGWError
from librgw.storage.errors import StorageError

from . import (
    admin_commands,
    cluster_commands,
    expirer_command,
    osd_commands,
    pg_commands,
    pool_commands,
    rados_tool,
    recovery_commands,
    scrub_commands,
    serve_command,
    status_commands,
    tempurl_command,
)
from .arguments import help_text
from .errors import CommandError, UsageError
from .session import CONF_ENV, DEFAULT_CONF, connect, resolve_conf

FORMATS = ("plain", "json", "json-pretty")
DEBUG_ENV = "LIBRGW_DEBUG"
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
COMMAND_MODULES = (
    cluster_commands,
    status_commands,
    osd_commands,
    pg_commands,
    pool_commands,
    rados_tool,
    scrub_commands,
    recovery_commands,
    admin_commands,
    serve_command,
    tempurl_command,
    expirer_command,
)


class _Parser(argparse.ArgumentParser):
    """Reports a bad command line as one ``UsageError`` line instead of usage plus message."""

    def error(self, message: str) -> None:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: an option given before the command is not reset by the command's parser
    common = _Parser(add_help=False)
    common.add_argument(
        "-c", "--conf", default=argparse.SUPPRESS, help=f"cluster.conf (default: ${CONF_ENV}, else {DEFAULT_CONF})"
    )
    common.add_argument("-f", "--format", choices=FORMATS, default=argparse.SUPPRESS, help="output format")
    parser = _Parser(
        prog="librgw",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ``librgw`` command line; returns the exit code."""
    try:
        return run(argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (``| head``): nothing to report
        return EXIT_FAILED
    except Exception as e:
        if os.environ.get(DEBUG_ENV) and not isinstance(e, CommandError):
            raise
        message, code = describe_error(e)
        print(f"librgw: error: {' '.join(message.splitlines())}", file=sys.stderr)
        return code


def run(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    args.format = getattr(args, "format", "plain")
    args.conf = resolve_conf(getattr(args, "conf", None))
    if not args.needs_cluster:
        return args.handler(args, None)
    handle = connect(args.conf)
    try:
        return args.handler(args, handle)
    finally:
        handle.shutdown()


def describe_error(e: Exception) -> tuple[str, int]:
    """The one-line message and exit code for an error that ended a command."""
    if isinstance(e, CommandError):
        return str(e), e.exit_code
    if isinstance(e, rados.Error):
        return str(e), EXIT_FAILED
    if isinstance(e, StorageError):
        return e.message, EXIT_FAILED
    if isinstance(e, RGWError):
        return f"{e.message} ({e.code})", EXIT_FAILED
    if isinstance(e, OSError):
        if e.filename is not None:
            return f"{e.filename}: {e.strerror}", EXIT_FAILED
        return e.strerror or str(e), EXIT_FAILED
    return f"unexpected {type(e).__name__}: {e} (set {DEBUG_ENV}=1 for the traceback)", EXIT_FAILED


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
