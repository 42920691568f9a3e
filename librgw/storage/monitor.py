"""Monitor commands: Ceph's JSON command protocol over the embedded cluster map.

``handle_mon_command(cluster, cmd, inbuf)`` takes the JSON that ``rados.Rados.mon_command``
gets (``{"prefix": "osd pool create", "pool": "p", ...}``) and returns
``(ret, outbuf, outs)`` as Ceph does: ``ret`` 0 or a negative errno, ``outbuf`` bytes
(JSON for query commands), ``outs`` a human status line. It never raises.

Commands: ``osd erasure-code-profile set|get|ls|rm``, ``osd pool create|delete|rm|set|get|ls``,
``osd map``, ``osd tree``, ``osd df``, ``osd dump``, ``osd down|out|in``, ``osd reweight``,
``osd stat``, ``osd pg-upmap-items``, ``osd rm-pg-upmap-items``, ``balancer optimize``,
``status``, ``health``, ``pg stat``, ``df``, ``fsid``.

``balancer optimize`` (optionally ``{"pools": [...]}``) runs the upmap balancer
(``balancer.py``) and applies its result in the same step: Ceph's makes a named plan to
``balancer execute``; here the balancer also runs by itself on every map change that
needs it, so a plan would be stale at once. It returns how many PGs' upmap items changed.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Callable

from .balancer import pg_copy_deviations
from .cluster import Cluster
from .errors import StorageError, invalid, not_found
from .health import cluster_status, osd_df, pg_states
from .osdmap import PoolInfo, parse_pgid
from .placement import object_hash

CRUSH_NONE = 2147483647  # Ceph's CRUSH_ITEM_NONE, printed for an EC shard with no OSD

_COMMANDS: dict[str, Callable[[Cluster, dict], tuple[object, str]]] = {}


def command(prefix: str):
    def register(fn):
        _COMMANDS[prefix] = fn
        return fn

    return register


def handle_mon_command(cluster: Cluster, cmd: str | bytes, inbuf: bytes = b"") -> tuple[int, bytes, str]:
    try:
        args = json.loads(cmd)
        if isinstance(args, list):  # librados takes a list of command strings
            args = json.loads(args[0])
        prefix = args["prefix"]
    except (ValueError, KeyError, TypeError, IndexError):
        return -errno.EINVAL, b"", "command must be JSON with a 'prefix'"
    handler = _COMMANDS.get(prefix)
    if handler is None:
        return -errno.EINVAL, b"", f"unrecognized command '{prefix}'"
    try:
        out, outs = handler(cluster, args)
    except StorageError as e:
        return -e.errno, b"", e.message
    except (KeyError, ValueError, TypeError) as e:
        return -errno.EINVAL, b"", f"{prefix}: bad argument {e}"
    outbuf = b"" if out is None else json.dumps(out).encode()
    return 0, outbuf, outs


def _ids(args: dict, key: str = "ids") -> list[int]:
    ids = args.get(key, [])
    if isinstance(ids, str | int):
        ids = [ids]
    return [int(str(i).removeprefix("osd.")) for i in ids]


# -- erasure-code profiles ---------------------------------------------------------


@command("osd erasure-code-profile set")
def _ec_profile_set(cluster: Cluster, args: dict):
    profile = dict(item.split("=", 1) for item in args.get("profile", []))
    if "k" not in profile or "m" not in profile:
        raise invalid("an erasure-code profile needs k and m")
    profile.setdefault("plugin", "jerasure")
    profile.setdefault("technique", "reed_sol_van")
    profile.setdefault("crush-failure-domain", cluster.conf.failure_domain)
    cluster.set_ec_profile(args["name"], profile, bool(args.get("force")))
    return None, ""


@command("osd erasure-code-profile get")
def _ec_profile_get(cluster: Cluster, args: dict):
    profile = cluster.osdmap.erasure_code_profiles.get(args["name"])
    if profile is None:
        raise not_found(f"unknown erasure code profile '{args['name']}'")
    return profile, ""


@command("osd erasure-code-profile ls")
def _ec_profile_ls(cluster: Cluster, args: dict):
    return sorted(cluster.osdmap.erasure_code_profiles), ""


# -- pools ---------------------------------------------------------------------------


@command("osd pool create")
def _pool_create(cluster: Cluster, args: dict):
    name = args["pool"]
    if cluster.osdmap.pool_by_name(name) is not None:
        return None, f"pool '{name}' already exists"
    pg_num = int(args["pg_num"]) if args.get("pg_num") else None
    cluster.create_pool(
        name, pg_num, args.get("pool_type", "replicated"), args.get("erasure_code_profile"), args.get("size")
    )
    return None, f"pool '{name}' created"


@command("osd pool delete")
@command("osd pool rm")
def _pool_delete(cluster: Cluster, args: dict):
    name = args["pool"]
    if args.get("pool2", name) != name or not args.get("yes_i_really_really_mean_it"):
        raise StorageError(
            errno.EPERM,
            f"WARNING: this will *PERMANENTLY DESTROY* all data stored in pool {name}; "
            "pass the pool name twice and yes_i_really_really_mean_it",
        )
    if cluster.osdmap.pool_by_name(name) is None:
        return None, f"pool '{name}' does not exist"
    cluster.delete_pool(name)
    return None, f"pool '{name}' removed"


@command("osd pool set")
def _pool_set(cluster: Cluster, args: dict):
    cluster.set_pool(args["pool"], args["var"], int(args["val"]))
    return None, f"set pool {cluster.pool(args['pool']).id} {args['var']} to {args['val']}"


@command("osd pool get")
def _pool_get(cluster: Cluster, args: dict):
    pool = cluster.pool(args["pool"])
    var = args["var"]
    values = {"size": pool.size, "min_size": pool.min_size, "pg_num": pool.pg_num, "pgp_num": pool.pg_num}
    if pool.erasure_code_profile:
        values["erasure_code_profile"] = pool.erasure_code_profile
    if var not in values:
        raise invalid(f"unsupported pool variable {var!r}")
    return {"pool": pool.name, "pool_id": pool.id, var: values[var]}, ""


@command("osd pool ls")
def _pool_ls(cluster: Cluster, args: dict):
    pools = sorted(cluster.osdmap.pools.values(), key=lambda p: p.id)
    if args.get("detail"):
        return [_pool_detail(p) for p in pools], ""
    return [p.name for p in pools], ""


def _pool_detail(pool: PoolInfo) -> dict:
    return {
        "pool_id": pool.id,
        "pool_name": pool.name,
        "type": 1 if pool.type == "replicated" else 3,
        "size": pool.size,
        "min_size": pool.min_size,
        "pg_num": pool.pg_num,
        "erasure_code_profile": pool.erasure_code_profile or "",
    }


# -- placement and OSDs ---------------------------------------------------------------


@command("osd map")
def _osd_map(cluster: Cluster, args: dict):
    pool = cluster.pool(args["pool"])
    ns = args.get("nspace", "")
    name = args["object"]
    pg, raw, up = cluster.map_object(pool, ns, name)
    raw_hash = object_hash(ns, name)
    if pool.type == "erasure":
        shown = [CRUSH_NONE if o is None else o for o in up]
    else:
        shown = [o for o in up if o is not None]
    primary = next((o for o in up if o is not None), -1)
    return {
        "epoch": cluster.osdmap.epoch,
        "pool": pool.name,
        "pool_id": pool.id,
        "objname": name,
        "namespace": ns,
        "raw_pgid": f"{pool.id}.{raw_hash:x}",
        "pgid": f"{pool.id}.{pg:x}",
        "up": shown,
        "up_primary": primary,
        "acting": shown,
        "acting_primary": primary,
    }, ""


@command("osd tree")
def _osd_tree(cluster: Cluster, args: dict):
    osdmap = cluster.osdmap
    hosts: dict[str, list[int]] = {}
    for osd in osdmap.osds.values():
        hosts.setdefault(osd.host, []).append(osd.id)
    host_ids = {name: -2 - i for i, name in enumerate(sorted(hosts))}
    nodes = [{"id": -1, "name": "default", "type": "root", "type_id": 11, "children": sorted(host_ids.values())}]
    for name, ids in sorted(hosts.items()):
        nodes.append({"id": host_ids[name], "name": name, "type": "host", "type_id": 1, "children": sorted(ids)})
        for osd_id in sorted(ids):
            osd = osdmap.osds[osd_id]
            nodes.append(
                {
                    "id": osd_id,
                    "name": f"osd.{osd_id}",
                    "type": "osd",
                    "type_id": 0,
                    "crush_weight": osd.weight,
                    "depth": 2,
                    "exists": 1,
                    "status": "up" if osd.up else "down",
                    "reweight": 1.0 if osd.in_ else 0.0,
                    "path": str(cluster.conf.osd_data(osd_id)) if osd_id in cluster.conf.osd_paths else "",
                }
            )
    return {"nodes": nodes, "stray": []}, ""


@command("osd df")
def _osd_df(cluster: Cluster, args: dict):
    return osd_df(cluster), ""


def _mark(cluster: Cluster, args: dict, verb: str, **state):
    ids = _ids(args)
    changed = cluster.set_osd_state(ids, **state)
    unchanged = [i for i in ids if i not in changed]
    msg = "".join(f"marked {verb} osd.{i}. " for i in changed)
    msg += "".join(f"osd.{i} is already {verb}. " for i in unchanged)
    return None, msg.strip()


@command("osd down")
def _osd_down(cluster: Cluster, args: dict):
    return _mark(cluster, args, "down", up=False)


@command("osd up")
def _osd_up(cluster: Cluster, args: dict):
    return _mark(cluster, args, "up", up=True)


@command("osd out")
def _osd_out(cluster: Cluster, args: dict):
    return _mark(cluster, args, "out", in_=False)


@command("osd in")
def _osd_in(cluster: Cluster, args: dict):
    return _mark(cluster, args, "in", in_=True)


@command("osd reweight")
def _osd_reweight(cluster: Cluster, args: dict):
    osd_id, weight = int(str(args["id"]).removeprefix("osd.")), float(args["weight"])
    cluster.reweight_osd(osd_id, weight)
    return None, f"reweighted osd.{osd_id} to {weight}"


@command("osd dump")
def _osd_dump(cluster: Cluster, args: dict):
    osdmap = cluster.osdmap
    return {
        "epoch": osdmap.epoch,
        "fsid": osdmap.fsid,
        # Ceph's osd dump names a pool's id "pool" (its pool ls detail, "pool_id")
        "pools": [
            {"pool": d.pop("pool_id"), **d}
            for d in (_pool_detail(p) for p in sorted(osdmap.pools.values(), key=lambda p: p.id))
        ],
        "osds": [
            {
                "osd": o.id,
                "up": int(o.up),
                "in": int(o.in_),
                "weight": 1.0 if o.in_ else 0.0,
                "crush_weight": o.weight,
                "host": o.host,
            }
            for o in sorted(osdmap.osds.values(), key=lambda o: o.id)
        ],
        "pg_upmap_items": [
            {"pgid": key, "mappings": [{"from": f, "to": t} for f, t in pairs]}
            for key, pairs in sorted(osdmap.pg_upmap_items.items(), key=lambda item: parse_pgid(item[0]))
        ],
    }, ""


@command("osd pg-upmap-items")
def _pg_upmap_items(cluster: Cluster, args: dict):
    ids = _ids(args, "id")
    if len(ids) % 2:
        raise invalid("osd pg-upmap-items needs pairs of OSD ids: from, to, ...")
    pairs = list(zip(ids[0::2], ids[1::2]))
    cluster.set_pg_upmap_items(args["pgid"], pairs)
    shown = ", ".join(f"{f}->{t}" for f, t in pairs)
    return None, f"set {args['pgid']} pg_upmap_items mapping to [{shown}]"


@command("osd rm-pg-upmap-items")
def _rm_pg_upmap_items(cluster: Cluster, args: dict):
    if cluster.rm_pg_upmap_items(args["pgid"]):
        return None, f"clear {args['pgid']} pg_upmap_items mapping"
    return None, f"no pg_upmap_items mapping for {args['pgid']}"


@command("balancer optimize")
def _balancer_optimize(cluster: Cluster, args: dict):
    pools = args.get("pools")
    changed = cluster.run_balancer([pools] if isinstance(pools, str) else pools)
    deviations = pg_copy_deviations(cluster.osdmap)
    return {
        "changed": changed,
        "pg_upmap_items": len(cluster.osdmap.pg_upmap_items),
        "max_deviation": round(max(map(abs, deviations.values()), default=0.0), 2),
    }, f"changed the pg_upmap_items of {changed} pgs"


@command("osd stat")
def _osd_stat(cluster: Cluster, args: dict):
    return cluster_status(cluster)["osdmap"], ""


# -- status ---------------------------------------------------------------------------


@command("status")
def _status(cluster: Cluster, args: dict):
    return cluster_status(cluster), ""


@command("health")
def _health(cluster: Cluster, args: dict):
    return cluster_status(cluster)["health"], ""


@command("pg stat")
def _pg_stat(cluster: Cluster, args: dict):
    states = pg_states(cluster)
    stats = cluster.cluster_stats()
    data = sum(cluster.pool_stats(p).bytes for p in cluster.osdmap.pools.values())
    return {
        "pg_ready": True,
        "num_pg_by_state": [{"name": s, "num": n} for s, n in sorted(states.items())],
        "num_pgs": sum(states.values()),
        "num_bytes": data,
        "raw_bytes_used": stats["kb_used"] * 1024,
        "raw_bytes_avail": stats["kb_avail"] * 1024,
        "raw_bytes": stats["kb"] * 1024,
    }, ""


@command("df")
def _df(cluster: Cluster, args: dict):
    stats = cluster.cluster_stats()
    pools = []
    for pool in sorted(cluster.osdmap.pools.values(), key=lambda p: p.id):
        s = cluster.pool_stats(pool)
        pools.append({"name": pool.name, "id": pool.id, "stats": {"stored": s.bytes, "objects": s.objects}})
    return {
        "stats": {
            "total_bytes": stats["kb"] * 1024,
            "total_avail_bytes": stats["kb_avail"] * 1024,
            "total_used_raw_bytes": stats["kb_used"] * 1024,
        },
        "pools": pools,
    }, ""


@command("fsid")
def _fsid(cluster: Cluster, args: dict):
    return {"fsid": cluster.conf.fsid}, ""
