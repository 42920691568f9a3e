"""The CLI's exception: a failure to report as one ``librgw: error: ...`` line.

Commands raise ``CommandError`` (exit 1) or ``UsageError`` (exit 2, as argparse does) with
the message the operator should see; ``main`` prints it. Library errors that reach
``main`` unwrapped are worded there, in one place.
"""

from __future__ import annotations


class CommandError(Exception):
    """A command failed; ``str(self)`` is the whole message."""

    exit_code = 1


class UsageError(CommandError):
    """The command line itself is wrong."""

    exit_code = 2
