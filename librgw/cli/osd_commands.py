"""``librgw osd``: ``tree``, ``df``, ``stat``, ``dump``, ``map``, ``out|in|down|up ID..``, ``reweight``,
``add``, ``balance``, ``pg-upmap-items`` and ``rm-pg-upmap-items``.

All but ``add`` are monitor commands (``osd out`` sends ``{"ids": [...]}``, and so on).
``add`` has none, since Ceph's OSDs join the map when they boot: it makes the OSD store
through the embedded ``Cluster`` and prints the new id, as ``ceph osd create`` does.

The balancer runs by itself whenever pools or OSDs change (Ceph's balancer module in
upmap mode); ``balance`` runs it now (the ``balancer optimize`` monitor command) and says
how many PGs' upmap items it changed. ``pg-upmap-items 1.1f 3 5`` maps PG 1.1f's copy on
osd.3 to osd.5 by hand, as ``ceph osd pg-upmap-items`` does; ``dump`` lists them all.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from librgw import rados

from .arguments import help_text, non_negative_float, subcommand_adder
from .errors import UsageError
from .render import emit_json
from .session import embedded_cluster, mon_command
from .status_commands import do_osd_df, do_osd_dump, do_osd_tree

DEFAULT_OSD_WEIGHT = 1.0
DEFAULT_OSD_HOST = "localhost"
MARKS = {
    "out": "take OSDs out of data placement (their PGs move to other OSDs)",
    "in": "put OSDs back into data placement",
    "down": "mark OSDs down (stopped: their PGs run degraded)",
    "up": "mark OSDs up again",
}


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    osd = commands.add_parser(
        "osd",
        help="show and manage OSDs",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = osd.add_subparsers(dest="osd_command", metavar="COMMAND", required=True)

    add = subcommand_adder(sub, common)

    add("tree", do_osd_tree, "OSDs by host, with weight and up/down, in/out")
    add("df", do_osd_df, "space used and PGs per OSD")
    add("stat", do_osd_stat, "how many OSDs are up and in")
    add("dump", do_osd_dump, "the cluster map: pools, OSDs and pg_upmap_items")
    osd_map = add("map", do_osd_map, "the PG and OSDs an object maps to")
    osd_map.add_argument("pool", metavar="POOL")
    osd_map.add_argument("object", metavar="OBJECT")
    osd_map.add_argument("-N", "--namespace", default="", metavar="NAMESPACE")
    for verb, help in MARKS.items():
        mark = add(verb, do_osd_mark, help)
        mark.add_argument("ids", nargs="+", metavar="ID", help="OSD id, as 3 or osd.3")
        mark.set_defaults(verb=verb)
    reweight = add("reweight", do_osd_reweight, "set an OSD's CRUSH weight")
    reweight.add_argument("id", metavar="ID")
    reweight.add_argument("weight", type=non_negative_float, metavar="WEIGHT")
    osd_add = add("add", do_osd_add, "make a new OSD store and add it to the map; prints its id")
    osd_add.add_argument("--path", type=Path, help="its data directory (default: osd.N in the cluster directory)")
    osd_add.add_argument("--weight", type=non_negative_float, default=DEFAULT_OSD_WEIGHT, help="CRUSH weight")
    osd_add.add_argument("--host", default=DEFAULT_OSD_HOST, help="its host, the unit of the host failure domain")
    balance = add("balance", do_osd_balance, "even out PG copies per OSD with pg_upmap_items now")
    balance.add_argument("--pool", action="append", dest="pools", metavar="POOL", help="only this pool (repeat)")
    upmap = add("pg-upmap-items", do_pg_upmap_items, "map a PG's copies from one OSD to another")
    upmap.add_argument("pgid", metavar="PGID", help="as 1.1f: pool id, then the PG number in hex")
    upmap.add_argument("ids", nargs="+", metavar="FROM TO", help="pairs of OSD ids")
    rm_upmap = add("rm-pg-upmap-items", do_rm_pg_upmap_items, "drop a PG's pg_upmap_items")
    rm_upmap.add_argument("pgid", metavar="PGID")


def do_osd_stat(args: argparse.Namespace, handle: rados.Rados) -> int:
    stat, _ = mon_command(handle, "osd stat")
    if args.format != "plain":
        emit_json(stat, args.format)
    else:
        print(f"{stat['num_osds']} osds: {stat['num_up_osds']} up, {stat['num_in_osds']} in; epoch: e{stat['epoch']}")
    return 0


def do_osd_map(args: argparse.Namespace, handle: rados.Rados) -> int:
    m, _ = mon_command(handle, "osd map", pool=args.pool, object=args.object, nspace=args.namespace)
    if args.format != "plain":
        emit_json(m, args.format)
        return 0
    name = f"{args.namespace}/{m['objname']}" if args.namespace else m["objname"]
    up = ",".join(map(str, m["up"]))
    acting = ",".join(map(str, m["acting"]))
    print(
        f"osdmap e{m['epoch']} pool '{m['pool']}' ({m['pool_id']}) object '{name}' -> pg {m['raw_pgid']}"
        f" ({m['pgid']}) -> up ([{up}], p{m['up_primary']}) acting ([{acting}], p{m['acting_primary']})"
    )
    return 0


def do_osd_mark(args: argparse.Namespace, handle: rados.Rados) -> int:
    _, outs = mon_command(handle, f"osd {args.verb}", ids=args.ids)
    print(outs)
    return 0


def do_osd_reweight(args: argparse.Namespace, handle: rados.Rados) -> int:
    _, outs = mon_command(handle, "osd reweight", id=args.id, weight=args.weight)
    print(outs)
    return 0


def do_osd_add(args: argparse.Namespace, handle: rados.Rados) -> int:
    path = args.path.absolute() if args.path else None
    cluster = embedded_cluster(handle, "a Ceph OSD is made on its own host, with ceph-volume lvm create --data DEVICE")
    osd_id = cluster.add_osd(path, args.weight, args.host)
    if args.format != "plain":
        emit_json({"osd": osd_id, "path": str(cluster.conf.osd_data(osd_id)), "host": args.host}, args.format)
    else:
        print(osd_id)
    return 0


def do_osd_balance(args: argparse.Namespace, handle: rados.Rados) -> int:
    result, outs = mon_command(handle, "balancer optimize", **({"pools": args.pools} if args.pools else {}))
    if args.format != "plain":
        emit_json(result, args.format)
    else:
        print(
            f"{outs}; {result['pg_upmap_items']} pgs have upmap items;"
            f" max deviation {result['max_deviation']} PG copies from target"
        )
    return 0


def do_pg_upmap_items(args: argparse.Namespace, handle: rados.Rados) -> int:
    if len(args.ids) % 2:
        raise UsageError("pg-upmap-items takes pairs of OSD ids: FROM TO [FROM TO ...]")
    _, outs = mon_command(handle, "osd pg-upmap-items", pgid=args.pgid, id=args.ids)
    print(outs)
    return 0


def do_rm_pg_upmap_items(args: argparse.Namespace, handle: rados.Rados) -> int:
    _, outs = mon_command(handle, "osd rm-pg-upmap-items", pgid=args.pgid)
    print(outs)
    return 0
