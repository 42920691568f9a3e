"""``librgw cluster init DIR --osds N``: make a new cluster directory.

Writes ``DIR/cluster.conf``, the cluster map and ``N`` empty OSD stores (``DIR/osd.N``,
or the ``--osd-path`` directories, in OSD order, to put OSDs on other disks). A relative
``--osd-path`` is taken relative to the current directory and stored absolute.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from librgw import rados
from librgw.storage.cluster import create_cluster

from .arguments import help_text, positive_int
from .errors import CommandError
from .render import emit_json


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
    init.set_defaults(handler=do_init, needs_cluster=False)


def do_init(args: argparse.Namespace, handle: rados.Rados | None) -> int:
    if args.conf.startswith(rados.CEPH_PREFIX):
        raise CommandError(
            f"-c {args.conf} names a Ceph cluster, which Ceph's own tools make (cephadm bootstrap);"
            " cluster init makes an embedded one"
        )
    conf = create_cluster(args.dir, args.osds, [p.absolute() for p in args.osd_path])
    osds = {f"osd.{i}": str(conf.osd_data(i)) for i in sorted(conf.osd_paths)}
    if args.format != "plain":
        emit_json({"fsid": conf.fsid, "conf": str(conf.path), "osds": osds}, args.format)
        return 0
    print(f"created cluster {conf.fsid} with {len(osds)} OSDs")
    print(f"conf: {conf.path}")
    for name, path in osds.items():
        print(f"{name}: {path}")
    print(f"next: librgw -c {conf.path} status   (or export LIBRGW_CONF={conf.path})")
    return 0
