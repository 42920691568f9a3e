"""Erasure coding: an object's bytes <-> k + m shards, stripe by stripe, with pyeclib.

The object is cut into stripes of ``k * stripe_unit`` bytes (the last one shorter). Each
stripe is encoded into k + m fragments, and shard ``i`` is the concatenation of every
stripe's fragment ``i``. A full stripe's fragments all have one length, so stripe ``s``
starts at ``s * fragment_size`` in every shard and a byte range is read by fetching just
the stripes that cover it; any k shards decode it.

Backends: Ceph's default profile (``plugin=jerasure technique=reed_sol_van``) and
``plugin=isa`` both map to ISA-L's Reed-Solomon when the pyeclib wheel has it (it does
on x86-64), else to liberasurecode's own Reed-Solomon; ``technique=cauchy`` picks the
Cauchy matrix. Every fragment also carries liberasurecode's header and checksum.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from functools import cache

from pyeclib.ec_iface import ECDriver

from .errors import invalid, io_error
from .piece_stream import PieceFanout, PieceStream

_BACKENDS = {
    "reed_sol_van": ("isa_l_rs_vand", "liberasurecode_rs_vand"),
    "cauchy": ("isa_l_rs_cauchy", "liberasurecode_rs_vand"),
}


@cache
def available_backends() -> tuple[str, ...]:
    from pyeclib.ec_iface import VALID_EC_TYPES

    working = []
    for name in VALID_EC_TYPES:
        try:
            ECDriver(k=2, m=1, ec_type=name)
        except Exception:  # backend not built into this liberasurecode
            continue
        working.append(name)
    return tuple(working)


def backend_for(profile: dict[str, str]) -> str:
    technique = profile.get("technique", "reed_sol_van")
    if technique in ("reed_sol_r6_op", "cauchy_orig", "cauchy_good"):
        technique = "cauchy"
    for name in _BACKENDS.get(technique, _BACKENDS["reed_sol_van"]):
        if name in available_backends():
            return name
    raise invalid(f"no erasure-code backend for technique {technique!r} in this pyeclib")


class ErasureCodec:
    """Stripe geometry and encode/decode for one erasure-code profile."""

    def __init__(self, k: int, m: int, stripe_unit: int, backend: str) -> None:
        if k < 2 or m < 1:
            raise invalid(f"erasure code needs k >= 2 and m >= 1, not k={k} m={m}")
        self.k, self.m, self.stripe_unit, self.backend = k, m, stripe_unit, backend
        self.stripe_width = k * stripe_unit
        self._driver = ECDriver(k=k, m=m, ec_type=backend)
        self._lock = threading.Lock()
        self.fragment_size = self.fragment_len(self.stripe_width)

    @classmethod
    def from_profile(cls, profile: dict[str, str], default_stripe_unit: int) -> ErasureCodec:
        try:
            k, m = int(profile["k"]), int(profile["m"])
            stripe_unit = int(profile.get("stripe_unit", default_stripe_unit))
        except (KeyError, ValueError) as e:
            raise invalid(f"bad erasure-code profile {profile}: {e}") from None
        return cls(k, m, stripe_unit, backend_for(profile))

    def fragment_len(self, stripe_bytes: int) -> int:
        return self._driver.get_segment_info(stripe_bytes, stripe_bytes)["fragment_size"]

    def stripes(self, size: int) -> int:
        return (size + self.stripe_width - 1) // self.stripe_width

    def shard_size(self, size: int) -> int:
        full, rest = divmod(size, self.stripe_width)
        return full * self.fragment_size + (self.fragment_len(rest) if rest else 0)

    def encode_stripes(self, data: bytes | memoryview) -> Iterator[list[bytes]]:
        """Each stripe of ``data`` (from a stripe boundary) as its k + m fragments."""
        view = memoryview(data).cast("B")
        for start in range(0, len(view), self.stripe_width):
            yield self._driver.encode(bytes(view[start : start + self.stripe_width]))

    def encode(self, data: bytes | memoryview) -> list[bytes]:
        """The k + m shard byte strings of ``data`` (from a stripe boundary)."""
        shards: list[list[bytes]] = [[] for _ in range(self.k + self.m)]
        for fragments in self.encode_stripes(data):
            for shard, fragment in zip(shards, fragments):
                shard.append(fragment)
        return [b"".join(pieces) for pieces in shards]

    def encode_to(self, data: bytes | memoryview, streams: list[PieceStream] | list[PieceFanout]) -> None:
        """Feed shard ``i`` of ``data`` to ``streams[i]`` stripe by stripe, then close them all."""
        try:
            for fragments in self.encode_stripes(data):
                for stream, fragment in zip(streams, fragments):
                    stream.put(fragment)
                # pyeclib holds the GIL; without a pause here the stores' writer threads would
                # get it back only every switch interval (5 ms) and fall far behind.
                time.sleep(0)
        except BaseException as e:
            for stream in streams:
                stream.fail(e)
            raise
        for stream in streams:
            stream.close()

    def decode(self, shards: dict[int, bytes], first_stripe: int, size: int) -> bytes:
        """The object bytes of the stripes from ``first_stripe`` whose fragments ``shards`` hold.

        ``shards`` maps shard index -> the shard bytes from ``first_stripe * fragment_size``
        on; any k of them suffice. ``size`` is the object's size (it fixes the last stripe).
        """
        if len(shards) < self.k:
            raise io_error(f"need {self.k} shards to decode, have {len(shards)}")
        use = dict(sorted(shards.items())[: self.k])  # lowest indices first: data shards decode fastest
        pieces = []
        stripe = first_stripe
        offset = 0
        any_shard = next(iter(use.values()))
        while offset < len(any_shard):
            stripe_bytes = min(self.stripe_width, size - stripe * self.stripe_width)
            flen = self.fragment_size if stripe_bytes == self.stripe_width else self.fragment_len(stripe_bytes)
            fragments = [bytes(s[offset : offset + flen]) for s in use.values()]
            try:
                piece = self._driver.decode(fragments)
            except Exception as e:  # pyeclib raises its own ECDriverError family
                raise io_error(f"erasure decode of stripe {stripe} failed: {e}") from None
            pieces.append(memoryview(piece)[:stripe_bytes])
            offset += flen
            stripe += 1
        return b"".join(pieces)
