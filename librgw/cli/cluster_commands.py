"""``librgw cluster init DIR --osds N [--data-pool SPEC]``: make a new cluster directory.

Writes ``DIR/cluster.conf``, the cluster map and ``N`` empty OSD stores (``DIR/osd.N``,
or the ``--osd-path`` directories, in OSD order, to put OSDs on other disks). A relative
``--osd-path`` is taken relative to the current directory and stored absolute.

``--data-pool`` also creates the gateway's data pool, ``default.rgw.buckets.data``, which
holds the objects' bytes; the gateway then finds it and uses it as it is:

- ``k=K,m=M``: erasure-coded, K data and M coding shards on K+M different OSDs (profile
  ``kKmM``, failure domain osd), so the objects survive the loss of any M OSDs for 1+M/K
  times their size instead of 3 times. It needs K >= 2, M >= 1 and K+M <= N.
- ``size=S``: replicated, S copies (S <= N); ``replicated``: the conf's default size.

Without it the gateway makes the pool replicated on first use. Its other pools (users,
bucket indexes, logs) are always replicated: they keep their records in omap, which
erasure-coded pools do not have.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from librgw import rados
from librgw.storage.cluster import create_cluster
from librgw.zone import DATA_POOL, create_pool

from .arguments import help_text, positive_int
from .errors import CommandError, UsageError
from .pool_commands import erasure_profile, format_pool_detail
from .render import emit_json
from .session import connect, mon_command

EC_SPEC = re.compile(r"k=(\d+),m=(\d+)")
SIZE_SPEC = re.compile(r"size=(\d+)")
MIN_K, MIN_M = 2, 1


@dataclass(frozen=True)
class DataPool:
    """What ``--data-pool`` asks for: erasure-coded (``k``, ``m``), or replicated (``size``,
    None for the conf's default)."""

    k: int | None = None
    m: int | None = None
    size: int | None = None

    @property
    def profile(self) -> str | None:
        """The name of its erasure-code profile, as ``pool create --k --m`` names one."""
        return None if self.k is None else f"k{self.k}m{self.m}"

    def check(self, osds: int) -> None:
        """A ``UsageError`` unless ``osds`` OSDs can hold this pool."""
        if self.k is not None:
            if self.k < MIN_K or self.m < MIN_M:
                raise UsageError(
                    f"--data-pool k={self.k},m={self.m}: an erasure code needs k >= {MIN_K} and m >= {MIN_M}"
                )
            if self.k + self.m > osds:
                raise UsageError(
                    f"--data-pool k={self.k},m={self.m} puts each object on k+m = {self.k + self.m} OSDs;"
                    f" the cluster has {osds} (use --osds {self.k + self.m} or a smaller k+m)"
                )
        elif self.size is not None and not 1 <= self.size <= osds:
            raise UsageError(f"--data-pool size={self.size}: a cluster of {osds} OSDs holds 1 to {osds} copies")


def data_pool_spec(text: str) -> DataPool:
    """``--data-pool``'s value: ``k=K,m=M``, ``size=S`` or ``replicated``."""
    if text == "replicated":
        return DataPool()
    if match := EC_SPEC.fullmatch(text):
        return DataPool(k=int(match[1]), m=int(match[2]))
    if match := SIZE_SPEC.fullmatch(text):
        return DataPool(size=int(match[1]))
    raise argparse.ArgumentTypeError(f"must be k=K,m=M (erasure-coded), size=S or replicated, not {text!r}")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    cluster = commands.add_parser("cluster", help="make a new cluster", description="Make a new cluster.")
    sub = cluster.add_subparsers(dest="cluster_command", metavar="COMMAND", required=True)
    init = sub.add_parser(
        "init",
        parents=[common],
        help="create cluster.conf, the map and empty OSDs in DIR",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument("dir", metavar="DIR", type=Path, help="the cluster directory (made if missing)")
    init.add_argument("--osds", type=positive_int, required=True, metavar="N", help="how many OSDs to make")
    init.add_argument(
        "--osd-path",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="data directory of the next OSD (repeat, in OSD order); the rest go in DIR/osd.N",
    )
    init.add_argument(
        "--data-pool",
        type=data_pool_spec,
        metavar="SPEC",
        help="make the gateway's data pool now: k=K,m=M (erasure-coded), size=S or replicated"
        " (default: replicated, made on the gateway's first use)",
    )
    init.set_defaults(handler=do_init, needs_cluster=False)


def do_init(args: argparse.Namespace, handle: rados.Rados | None) -> int:
    if args.conf.startswith(rados.CEPH_PREFIX):
        raise CommandError(
            f"-c {args.conf} names a Ceph cluster, which Ceph's own tools make (cephadm bootstrap);"
            " cluster init makes an embedded one"
        )
    if args.data_pool is not None:
        args.data_pool.check(args.osds)  # before anything is made
    conf = create_cluster(args.dir, args.osds, [p.absolute() for p in args.osd_path])
    osds = {f"osd.{i}": str(conf.osd_data(i)) for i in sorted(conf.osd_paths)}
    data_pool = None if args.data_pool is None else make_data_pool(str(conf.path), args.data_pool)
    if args.format != "plain":
        emit_json({"fsid": conf.fsid, "conf": str(conf.path), "osds": osds, "data_pool": data_pool}, args.format)
        return 0
    print(f"created cluster {conf.fsid} with {len(osds)} OSDs")
    print(f"conf: {conf.path}")
    for name, path in osds.items():
        print(f"{name}: {path}")
    if data_pool is not None:
        print(f"data: {format_pool_detail(data_pool)}")
    print(f"next: librgw -c {conf.path} status   (or export LIBRGW_CONF={conf.path})")
    return 0


def make_data_pool(conf: str, spec: DataPool) -> dict:
    """Create the gateway's data pool as ``spec`` says; its ``pool ls --detail`` record."""
    handle = connect(conf)
    try:
        if spec.profile is not None:
            profile = [*erasure_profile(spec.k, spec.m, None), "crush-failure-domain=osd"]
            mon_command(handle, "osd erasure-code-profile set", name=spec.profile, profile=profile)
        create_pool(handle, DATA_POOL, spec.profile, spec.size)
        pools, _ = mon_command(handle, "osd pool ls", detail="detail")
    finally:
        handle.shutdown()
    return next(pool for pool in pools if pool["pool_name"] == DATA_POOL)
