"""What the command parsers share: value types (so bad numbers are usage errors) and help text."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a number >= 0, not {text!r}")
    return value


def help_text(doc: str) -> str:
    """A module docstring as ``--help`` text: without reST's literal quotes and ``::`` markers."""
    return doc.replace("``", "").replace("::\n", ":\n")


def subcommand_adder(sub: argparse._SubParsersAction, common: argparse.ArgumentParser):
    """``add(name, handler, help)``: registers a subcommand that runs ``handler`` on a connected cluster."""

    def add(name: str, handler, help: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, parents=[common], help=help, description=help)
        parser.set_defaults(handler=handler, needs_cluster=True)
        return parser

    return add
