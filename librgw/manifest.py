"""An object's manifest: which rados objects hold its bytes, in order.

RGW keeps the first bytes of an object (up to ``HEAD_MAX``, 4 MiB) in its head
``<marker>_<key>`` and the rest in tail objects of ``STRIPE_SIZE`` (4 MiB) each, named
``<marker>__shadow_<tag>_<n>`` under a tag unique to the write, so a new version never
overwrites an old version's tails. The manifest, an xattr of the head, lists those parts;
a multipart upload's manifest lists its part objects, and a server-side copy's lists the
source's tails. A byte range maps to the parts that hold it, so a range read touches only
those. A version of a key has its own head, ``<marker>__:<version id>_<key>``, except the
``null`` version's, which is the plain head (``instance_oid``). The head's
``user.rgw.idtag`` names the write that made it, so the GC can tell whether a write's tails
are some head's (``gc.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

HEAD_MAX = 4 * 1024 * 1024
STRIPE_SIZE = 4 * 1024 * 1024
SHADOW = "__shadow_"
IDTAG_ATTR = "user.rgw.idtag"  # the head's xattr naming the write that made it, and owns its tails
NULL = "null"  # the version id of the version written while versioning was off or suspended


def head_oid(marker: str, key: str) -> str:
    return f"{marker}_{key}"


def instance_oid(marker: str, key: str, version_id: str) -> str:
    """The head of version ``version_id`` of ``key`` (RGW's instance name): the plain head
    for the ``null`` version, and for "" (an object of a bucket never versioned)."""
    if version_id in ("", NULL):
        return head_oid(marker, key)
    return f"{marker}__:{version_id}_{key}"


def tail_oid(marker: str, tag: str, n: int) -> str:
    return f"{marker}{SHADOW}{tag}_{n}"


@dataclass
class Part:
    """``size`` bytes of the object, in rados object ``oid`` (from its offset 0)."""

    oid: str
    size: int


@dataclass
class Manifest:
    """The head's share of the object (``head_size`` bytes), then the tail ``parts`` in order."""

    obj_size: int
    head_size: int
    parts: list[Part] = field(default_factory=list)
    multipart_sizes: list[int] = field(default_factory=list)  # a multipart upload's part sizes, in order

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Manifest:
        doc = json.loads(raw)
        return cls(doc["obj_size"], doc["head_size"], [Part(**p) for p in doc["parts"]], doc.get("multipart_sizes", []))

    def part_range(self, number: int) -> tuple[int, int] | None:
        """Bytes (first, last) of part ``number`` (from 1) of a multipart object; the whole
        object is part 1 of any other. None for a part it does not have."""
        sizes = self.multipart_sizes or [self.obj_size]
        if not 1 <= number <= len(sizes):
            return None
        first = sum(sizes[: number - 1])
        return first, first + sizes[number - 1] - 1

    def tail_oids(self) -> list[str]:
        return [p.oid for p in self.parts]

    def extents(self, head: str, first: int, last: int) -> Iterator[tuple[str, int, int]]:
        """(oid, offset in it, length) covering object bytes ``first``..``last`` inclusive."""
        at = 0
        for oid, size in [(head, self.head_size)] + [(p.oid, p.size) for p in self.parts]:
            lo, hi = max(first, at), min(last + 1, at + size)
            if lo < hi:
                yield oid, lo - at, hi - lo
            at += size
            if at > last:
                return
