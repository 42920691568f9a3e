"""``librgw pg PGID query|list_unfound|mark_unfound_lost revert|delete``: one placement group, as
Ceph's ``ceph pg <pgid> ...`` shows and settles it.

``query`` prints the PG's state, its up set, the copies it does I/O on with what each is
(complete, recovering its missing objects, being backfilled), each copy's PG log summary
(``last_update``, ``log_tail``, ``les``, missing objects, backfill position), and the copies
its last activation recorded as holding every acknowledged write.

``list_unfound`` lists the objects recovery found no copy able to give (each with the
version it needs); ``mark_unfound_lost revert`` puts back the newest older version some copy
still holds (or deletes the object where none does), ``mark_unfound_lost delete`` deletes
them. Both are final: use them only once the OSDs that held those objects are known to be
gone for good. See ``librgw/storage/recovery.py``.
"""

from __future__ import annotations

import argparse

from librgw import rados
from librgw.storage.cluster import Cluster
from librgw.storage.errors import OSDFailure
from librgw.storage.health import pg_state
from librgw.storage.osdmap import parse_pgid, pgid
from librgw.storage.peering import active_state
from librgw.storage.recovery import list_unfound, mark_unfound_lost, read_progress

from .arguments import help_text, subcommand_adder
from .errors import CommandError
from .render import emit_json
from .session import embedded_cluster

ON_CEPH = "on Ceph, ask its OSDs: ceph pg <pgid> query|list_unfound|mark_unfound_lost"


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    pg = commands.add_parser(
        "pg",
        help="show one PG's peering state, list or give up its unfound objects",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pg.add_argument("pgid", metavar="PGID", help="as 1.1f: pool id, then the PG number in hex")
    sub = pg.add_subparsers(dest="pg_command", metavar="COMMAND", required=True)
    add = subcommand_adder(sub, common)
    add("query", do_query, "the PG's state, copies and PG logs")
    add("list_unfound", do_list_unfound, "the objects no copy can give")
    lost = add("mark_unfound_lost", do_mark_unfound_lost, "give up the unfound objects: revert or delete")
    lost.add_argument("how", choices=("revert", "delete"))


def _pg(args: argparse.Namespace, handle: rados.Rados):
    cluster = embedded_cluster(handle, ON_CEPH)
    pool_id, pg = parse_pgid(args.pgid)
    pool = cluster.osdmap.pools.get(pool_id)
    if pool is None or pg >= pool.pg_num:
        raise CommandError(f"pg {args.pgid} does not exist")
    return cluster, pool, pg


def do_query(args: argparse.Namespace, handle: rados.Rados) -> int:
    cluster, pool, pg = _pg(args, handle)
    doc = query(cluster, pool, pg)
    if args.format != "plain":
        emit_json(doc, args.format)
        return 0
    print(f"pg {doc['pgid']} {doc['state']}; up {doc['up']}, epoch e{doc['epoch']}")
    for copy in doc["peer_info"]:
        where = f"osd.{copy['osd']}" + (f" shard {copy['shard']}" if copy["shard"] >= 0 else "")
        detail = f"last_update {copy['last_update']}, log_tail {copy['log_tail']}, les {copy['les']}"
        if copy["missing"]:
            detail += f", {copy['missing']} missing"
        if copy.get("backfill") is not None:
            detail += f", backfilled to {copy['backfill'] or '(start)'}"
        print(f"  {where:<16} {copy['role'] or 'stray':<10} {detail}")
    print(f"  participants: {', '.join(doc['participants']) or 'none recorded'}; unfound objects: {doc['num_unfound']}")
    return 0


def query(cluster: Cluster, pool, pg: int) -> dict:
    """Ceph's ``pg query``, in the parts the embedded cluster has."""
    state = active_state(cluster, pool, pg, locked=False)
    roles = {c.copy: c.role for c in state.copies}
    peers = []
    for osd in sorted(o.id for o in cluster.osdmap.osds.values() if o.up):
        try:
            store = cluster.store(osd)
            infos = store.pg_infos(pool.id, pg)
        except OSDFailure as f:
            cluster.osd_failed(f)
            continue
        for shard, info in sorted(infos.items()):
            peers.append(
                {
                    "osd": osd,
                    "shard": shard,
                    "role": roles.get((shard, osd), ""),
                    "les": info.les,
                    "last_update": str(info.last_update),
                    "log_tail": str(info.log_tail),
                    "missing": len(store.pg_missing(pool.id, pg, shard)),
                    "backfill": None if info.backfill is None else "/".join(p for p in info.backfill if p),
                }
            )
    history = cluster.history.get(pool.id, pg)
    recovering = read_progress(cluster) is not None
    return {
        "pgid": pgid(pool.id, pg),
        "state": pg_state(cluster, pool, pg, recovering),
        "epoch": state.epoch,
        "up": [o for o in state.up if o is not None],
        "acting": [c.osd for c in state.copies],
        "last_update_seq": state.seq,
        "peer_info": peers,
        "participants": [f"osd.{osd}" + (f"({shard})" if shard >= 0 else "") for shard, osd in history.participants]
        if history
        else [],
        "num_unfound": len(list_unfound(cluster, pool, pg)),
    }


def do_list_unfound(args: argparse.Namespace, handle: rados.Rados) -> int:
    cluster, pool, pg = _pg(args, handle)
    unfound = list_unfound(cluster, pool, pg)
    doc = {
        "num_missing": len(unfound),
        "num_unfound": len(unfound),
        "objects": [
            {"oid": {"oid": name, "namespace": ns}, "need": str(need), "have": "0'0", "locations": []}
            for (ns, name), need in sorted(unfound.items())
        ],
        "more": False,
    }
    if args.format != "plain":
        emit_json(doc, args.format)
        return 0
    print(f"pg {pgid(pool.id, pg)}: {len(unfound)} unfound objects")
    for (ns, name), need in sorted(unfound.items()):
        print(f"  {ns + '/' if ns else ''}{name}  need {need}")
    return 0


def do_mark_unfound_lost(args: argparse.Namespace, handle: rados.Rados) -> int:
    cluster, pool, pg = _pg(args, handle)
    count = mark_unfound_lost(cluster, pool, pg, args.how)
    print(f"pg has {count} objects unfound and apparently lost marking them {args.how}")
    return 0
