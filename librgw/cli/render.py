"""Plain-text output: byte sizes, aligned tables, hexdumps and JSON, in the ``ceph`` tools' style.

Pure functions of their input (but ``emit_json``), so the command modules stay thin and
the formats can be tested without a cluster.
"""

from __future__ import annotations

import json

UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
HEXDUMP_WIDTH = 16


def human_bytes(n: int) -> str:
    """``n`` bytes as Ceph prints them: ``0 B``, ``512 KiB``, ``9.0 MiB``, ``1.2 TiB``."""
    value = float(n)
    for unit in UNITS:
        if value < 1024 or unit == UNITS[-1]:
            break
        value /= 1024
    if unit == "B" or value >= 10:
        return f"{int(value)} {unit}"
    return f"{value:.1f} {unit}"


def table(rows: list[list[str]], align: str) -> list[str]:
    """Lines of ``rows`` (the first is the header) in columns; ``align`` has 'l' or 'r' per column."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(align))]
    lines = []
    for row in rows:
        cells = [cell.rjust(w) if a == "r" else cell.ljust(w) for cell, w, a in zip(row, widths, align)]
        lines.append("  ".join(cells).rstrip())
    return lines


def hexdump(data: bytes) -> str:
    """``hexdump -C`` style lines, as Ceph's ``bufferlist::hexdump``, ending with the length line."""
    lines = []
    for offset in range(0, len(data), HEXDUMP_WIDTH):
        chunk = data[offset : offset + HEXDUMP_WIDTH]
        left = " ".join(f"{b:02x}" for b in chunk[:8])
        right = " ".join(f"{b:02x}" for b in chunk[8:])
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {f'{left}  {right}'.ljust(48)}  |{text}|")
    lines.append(f"{len(data):08x}")
    return "\n".join(lines)


def emit_json(value: object, fmt: str) -> None:
    """Print ``value`` as one line of JSON (``json``) or indented (``json-pretty``)."""
    print(json.dumps(value, indent=4 if fmt == "json-pretty" else None))
