"""The report that ends Swift's long-running answers: a bulk delete's, an archive extraction's,
a static large object's manifest PUT with ``heartbeat=on`` and its ``multipart-manifest=delete``.

Swift streams those answers (spaces while the work goes on) and ends them with this body, as
its ``get_heartbeat_response_body`` writes it, byte for byte: JSON in the order the fields were
set, ``Errors`` last; XML and plain text with the fields sorted by name, then the errors, each
a quoted name and a status.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape


def heartbeat_body(fmt: str, fields: dict, errors: list[list[str]], root: str) -> bytes:
    """The report of ``fields`` and ``errors`` in media type ``fmt``; ``root`` names XML's root
    element (``delete``, ``extract``, ``upload``)."""
    if fmt == "application/json":
        return json.dumps({**fields, "Errors": errors}).encode("ascii")
    if fmt.endswith("/xml"):
        out = [f"<{root}>\n"]
        for key in sorted(fields):
            tag = key.replace(" ", "_").lower()
            out.append(f"<{tag}>{escape(str(fields[key]))}</{tag}>\n")
        out.append("<errors>\n")
        out += [
            f"<object><name>{escape(name)}</name><status>{escape(status)}</status></object>\n"
            for name, status in errors
        ]
        out.append(f"</errors>\n</{root}>\n")
        return "".join(out).encode("utf-8")
    lines = [f"{key}: {fields[key]}\n" for key in sorted(fields)]
    lines.append("Errors:\n")
    lines += [f"{name}, {status}\n" for name, status in errors]
    return "".join(lines).encode("utf-8")
