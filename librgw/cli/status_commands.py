"""What the cluster looks like: ``librgw status`` (as ``ceph -s``), ``osd tree``, ``osd df`` and ``osd dump``.

Each asks the monitor (``status``, ``osd tree``, ``osd df``, ``osd dump``) and prints its
JSON with ``--format json``, else a plain rendering made by the ``format_*`` functions here,
which take that JSON and nothing else. ``osd_commands`` registers the ``osd`` ones.
"""

from __future__ import annotations

import argparse

from librgw import rados

from .render import emit_json, human_bytes, table
from .session import mon_command

KIB = 1024


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    status = commands.add_parser(
        "status", parents=[common], help="cluster health, OSDs, pools, PGs and usage", description="Like ceph -s."
    )
    status.set_defaults(handler=do_status, needs_cluster=True)


def _show(args: argparse.Namespace, handle: rados.Rados, prefix: str, render) -> int:
    """Run a query monitor command; print its JSON, or ``render`` of it for people."""
    result, _ = mon_command(handle, prefix)
    if args.format != "plain":
        emit_json(result, args.format)
    else:
        print(render(result))
    return 0


def do_status(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(args, handle, "status", format_status)


def do_osd_tree(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(args, handle, "osd tree", format_osd_tree)


def do_osd_df(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(args, handle, "osd df", format_osd_df)


def do_osd_dump(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(args, handle, "osd dump", format_osd_dump)


def format_status(status: dict) -> str:
    health, osdmap, pgmap = status["health"], status["osdmap"], status["pgmap"]
    lines = ["  cluster:", f"    id:     {status['fsid']}", f"    health: {health['status']}"]
    lines += [f"            {check['summary']['message']}" for check in health["checks"].values()]
    lines += [
        "",
        "  services:",
        f"    osd: {osdmap['num_osds']} osds: {osdmap['num_up_osds']} up, {osdmap['num_in_osds']} in"
        f" (epoch e{osdmap['epoch']})",
        "",
        "  data:",
        f"    pools:   {pgmap['num_pools']} pools, {pgmap['num_pgs']} pgs",
        f"    objects: {pgmap['num_objects']} objects, {human_bytes(pgmap['data_bytes'])}",
        f"    usage:   {human_bytes(pgmap['bytes_used'])} used, {human_bytes(pgmap['bytes_avail'])}"
        f" / {human_bytes(pgmap['bytes_total'])} avail",
    ]
    if pgmap.get("degraded_objects"):
        lines.append(
            f"             {pgmap['degraded_objects']}/{pgmap['degraded_total']} objects degraded"
            f" ({100 * pgmap['degraded_ratio']:.3f}%)"
        )
    for i, state in enumerate(pgmap["pgs_by_state"]):
        lines.append(f"    {'pgs:' if i == 0 else '':<9}{state['count']} {state['state_name']}")
    df = status.get("osd_df")
    if df and df["average_kb_used"]:
        lines.append(
            f"    osd use: {df['min_var']:.2f} to {df['max_var']:.2f} of the mean"
            f" ({human_bytes(df['average_kb_used'] * KIB)} per OSD; see 'librgw osd df')"
        )
    recovery = status.get("recovery")
    if recovery:
        lines += [
            "",
            "  progress:",
            f"    recovery: {recovery['objects_done']}/{recovery['objects_total']} objects,"
            f" {human_bytes(recovery['bytes_per_s'])}/s, {recovery['objects_per_s']} objects/s"
            + (f", ETA {recovery['eta_s']:.0f} s" if recovery.get("eta_s") is not None else ""),
        ]
    if status.get("pools"):  # the embedded monitor's addition to Ceph's status
        rows = [["NAME", "ID", "OBJECTS", "STORED", "DEGRADED"]]
        rows += [
            [p["name"], str(p["id"]), str(p["objects"]), human_bytes(p["bytes"]), str(p["degraded"])]
            for p in sorted(status["pools"], key=lambda p: p["id"])
        ]
        lines += ["", "  pools:"] + [f"    {line}" for line in table(rows, "lrrrr")]
    return "\n".join(lines)


def format_osd_tree(tree: dict) -> str:
    """Ceph's ``osd tree`` table: root, hosts and OSDs indented by depth, weights summed upwards."""
    nodes = {n["id"]: n for n in tree["nodes"]}

    def weight(node: dict) -> float:
        if node["type"] == "osd":
            return node["crush_weight"]
        return sum(weight(nodes[c]) for c in node.get("children", []))

    rows = [["ID", "WEIGHT", "TYPE NAME", "STATUS", "REWEIGHT"]]

    def walk(node: dict, depth: int) -> None:
        is_osd = node["type"] == "osd"
        label = "    " * depth + (node["name"] if is_osd else f"{node['type']} {node['name']}")
        status, reweight = (node["status"], f"{node['reweight']:.5f}") if is_osd else ("", "")
        rows.append([str(node["id"]), f"{weight(node):.5f}", label, status, reweight])
        for child in node.get("children", []):
            walk(nodes[child], depth + 1)

    children = {c for n in tree["nodes"] for c in n.get("children", [])}
    for node in tree["nodes"]:
        if node["id"] not in children:
            walk(node, 0)
    return "\n".join(table(rows, "rrlrr"))


def format_osd_df(df: dict) -> str:
    rows = [["ID", "WEIGHT", "REWEIGHT", "RAW USE", "VAR", "PGS", "STATUS"]]
    for n in df["nodes"]:
        rows.append(
            [
                str(n["id"]),
                f"{n['crush_weight']:.5f}",
                f"{n['reweight']:.5f}",
                human_bytes(n["kb_used"] * KIB),
                f"{n['var']:.2f}",
                str(n["pgs"]),
                n["status"],
            ]
        )
    rows.append(["", "", "TOTAL", human_bytes(df["summary"]["total_kb_used"] * KIB), "", "", ""])
    lines = table(rows, "rrrrrrl")
    variances = [n["var"] for n in df["nodes"] if n["status"] == "up"]
    if variances:
        lines.append(f"MIN/MAX VAR: {min(variances):.2f}/{max(variances):.2f}")
    return "\n".join(lines)


def format_osd_dump(dump: dict) -> str:
    """Ceph's plain ``osd dump``: epoch, fsid, a line per pool, per OSD and per PG with upmap items."""
    lines = [f"epoch {dump['epoch']}", f"fsid {dump['fsid']}", ""]
    for p in dump["pools"]:
        kind = "replicated" if p["type"] == 1 else "erasure"
        profile = f" erasure_code_profile {p['erasure_code_profile']}" if p["erasure_code_profile"] else ""
        lines.append(
            f"pool {p['pool']} '{p['pool_name']}' {kind} size {p['size']} min_size {p['min_size']}"
            f" pg_num {p['pg_num']}{profile}"
        )
    lines.append("")
    for o in dump["osds"]:
        line = f"osd.{o['osd']} {'up' if o['up'] else 'down'} {'in' if o['in'] else 'out'} weight {o['weight']:g}"
        if "crush_weight" in o:  # the embedded monitor's additions (Ceph's are in its osd tree)
            line += f" crush_weight {o['crush_weight']:g} host {o['host']}"
        lines.append(line)
    if dump["pg_upmap_items"]:
        lines.append("")
    for item in dump["pg_upmap_items"]:
        osds = ",".join(f"{m['from']},{m['to']}" for m in item["mappings"])
        lines.append(f"pg_upmap_items {item['pgid']} [{osds}]")
    return "\n".join(lines)
