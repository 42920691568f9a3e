"""The records an OSD store takes and gives: object keys, infos, whole-object records, scrub
checks and the transaction a write is made of."""

from __future__ import annotations

from dataclasses import dataclass, field

from .pg_log import Activation, LogUpdate, PGInfo

NO_SHARD = -1
# Rows at shard + PENDING_SHARD are EC writes of stores made before PG logs (they were
# committed by a second "promote" transaction); none are written now, and reads skip them.
PENDING_SHARD = 1 << 16
# An EC shard's previous version, kept to undo the last write to its PG (``pg_log``).
STASH_SHARD = 2 << 16


@dataclass(frozen=True)
class ObjectKey:
    pool: int
    pg: int
    ns: str
    name: str
    shard: int = NO_SHARD

    def __str__(self) -> str:
        shard = f"(shard {self.shard})" if self.shard != NO_SHARD else ""
        ns = f"{self.ns}/" if self.ns else ""
        return f"{self.pool}.{self.pg:x} {ns}{self.name}{shard}"

    @property
    def stash(self) -> ObjectKey:
        return ObjectKey(self.pool, self.pg, self.ns, self.name, self.shard + STASH_SHARD)


@dataclass
class Transaction:
    """Changes to one object, applied atomically in order.

    ``ops`` are tuples: ("create", exclusive), ("remove",), ("write", offset, data),
    ("write_full", data), ("append", data), ("truncate", size), ("zero", offset, length),
    ("setxattr", name, value), ("rmxattr", name), ("omap_set", {key: value}),
    ("omap_rm", keys), ("omap_clear",), ("omap_rm_range", start, end),
    ("omap_set_header", value), ("omap_cmp", key, value, cmp_op), ("assert_exists",),
    ("assert_version", version), ("lock", name, cookie, type, tag, desc, expires, flags),
    ("unlock", name, cookie), ("reset",) (remove if present). Three stand alone:
    ("restore", ObjectRecord) replaces the object with exactly the record's content and
    metadata (scrub repair and recovery; ``version`` and ``mtime_ns`` are ignored);
    ("activate", Activation) and ("pg_info", PGInfo) change the PG state of the key's shard of
    its PG (peering, backfill progress), not an object.

    A client write carries ``log``: the object's version becomes the entry's seq exactly and
    the entry is added to the PG log in the same SQLite transaction (``pg_log``). Without it
    (tests of the store alone) the stored version becomes ``max(old + 1, version)``.
    ``recovered`` (recovery) drops the object from the shard's missing set in the same
    transaction. ``logical_size`` (erasure-coded shards) records the object's size as opposed
    to the shard's.
    """

    key: ObjectKey
    ops: list[tuple]
    version: int
    mtime_ns: int
    logical_size: int | None = None
    log: LogUpdate | None = None
    recovered: bool = False

    @classmethod
    def activate(cls, key: ObjectKey, activation: Activation) -> Transaction:
        return cls(key, [("activate", activation)], 0, 0)

    @classmethod
    def pg_info(cls, key: ObjectKey, info: PGInfo) -> Transaction:
        return cls(key, [("pg_info", info)], 0, 0)


@dataclass
class ObjectInfo:
    size: int
    logical_size: int
    version: int
    mtime_ns: int
    data_version: int  # the version of the last op that changed the data
    epoch: int = 0  # the epoch of the PG log entry that made ``version`` (0: before PG logs)


@dataclass
class ObjectRecord:
    """All that one OSD holds of one object (or EC shard): what ``export_object`` returns and
    the ("restore", record) op writes back, byte for byte and version for version."""

    info: ObjectInfo
    data: bytes
    xattrs: dict[str, bytes]
    omap_header: bytes = b""
    omap: dict[str, bytes] = field(default_factory=dict)


@dataclass
class CopyCheck:
    """One copy as scrub sees it (``check_object``). xattr checksums are always verified; a deep
    check also reads every data byte and omap value, verifies their checksums and digests them
    (``checksum.digest`` of the bytes as stored, bad ones included, so copies can be compared)."""

    info: ObjectInfo
    xattrs: dict[str, bytes]  # as stored, bad values included
    omap_keys: int
    data_digest: int | None = None
    omap_digest: int | None = None
    bad_chunks: list[int] = field(default_factory=list)  # data offsets of 64 KiB chunks failing their CRC
    bad_xattrs: list[str] = field(default_factory=list)
    bad_omap: list[str] = field(default_factory=list)

    @property
    def read_error(self) -> bool:
        return bool(self.bad_chunks or self.bad_xattrs or self.bad_omap)


@dataclass(frozen=True)
class LockOp:
    """The arguments of a ``("lock", ...)`` op, as ``rados.WriteOp`` lock calls give them."""

    name: str
    cookie: str
    kind: str  # "exclusive" or "shared"
    tag: str
    desc: str
    expires: float
    flags: int
