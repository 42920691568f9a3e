"""``librgw pool``: ``create``, ``ls [--detail]``, ``get``, ``set`` and ``rm`` (Ceph's ``osd pool ...``).

``pool create NAME --erasure --k K --m M`` first stores the erasure-code profile
(``osd erasure-code-profile set``, named ``k{K}m{M}`` unless ``--profile`` says) and then
creates the pool with it; ``--erasure --profile NAME`` alone uses an existing profile, and
``--erasure`` alone the cluster's ``default`` one. ``pool rm`` refuses, as Ceph does, unless
given ``--yes-i-really-really-mean-it`` (and, if the name is given twice, the same name).
"""

from __future__ import annotations

import argparse

from librgw import rados

from .arguments import help_text, positive_int, subcommand_adder
from .errors import CommandError, UsageError
from .render import emit_json
from .session import mon_command

POOL_TYPE_NAMES = {1: "replicated", 3: "erasure"}  # Ceph's pg_pool_t type codes


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    pool = commands.add_parser(
        "pool",
        help="create, list, change and remove pools",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = pool.add_subparsers(dest="pool_command", metavar="COMMAND", required=True)

    add = subcommand_adder(sub, common)

    create = add("create", do_pool_create, "create a replicated or erasure-coded pool")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--pg-num", type=positive_int, metavar="N", help="placement groups (default: the conf's)")
    create.add_argument("--size", type=positive_int, metavar="N", help="replicas of a replicated pool")
    create.add_argument("--erasure", action="store_true", help="erasure-coded instead of replicated")
    create.add_argument("--k", type=positive_int, metavar="K", help="data shards of the erasure code")
    create.add_argument("--m", type=positive_int, metavar="M", help="coding shards of the erasure code")
    create.add_argument("--profile", metavar="NAME", help="erasure-code profile to make (with --k/--m) or use")
    create.add_argument("--stripe-unit", type=positive_int, metavar="BYTES", help="bytes per data shard per stripe")

    ls = add("ls", do_pool_ls, "list the pools")
    ls.add_argument("--detail", action="store_true", help="with type, size, min_size, pg_num and profile")

    get = add("get", do_pool_get, "show a pool variable (size, min_size, pg_num, erasure_code_profile)")
    get.add_argument("name", metavar="NAME")
    get.add_argument("var", metavar="VAR")

    set_ = add("set", do_pool_set, "set a pool variable (size, min_size)")
    set_.add_argument("name", metavar="NAME")
    set_.add_argument("var", metavar="VAR")
    set_.add_argument("val", metavar="VAL")

    rm = add("rm", do_pool_rm, "delete a pool and all of its objects")
    rm.add_argument("name", metavar="NAME")
    rm.add_argument("name2", nargs="?", metavar="NAME", help="the name again, as Ceph asks")
    rm.add_argument("--yes-i-really-really-mean-it", dest="sure", action="store_true")


def erasure_profile(k: int, m: int, stripe_unit: int | None) -> list[str]:
    """The ``key=value`` list ``osd erasure-code-profile set`` takes."""
    profile = [f"k={k}", f"m={m}"]
    if stripe_unit is not None:
        profile.append(f"stripe_unit={stripe_unit}")
    return profile


def do_pool_create(args: argparse.Namespace, handle: rados.Rados) -> int:
    request: dict[str, object] = {"pool": args.name}
    if args.pg_num is not None:
        request["pg_num"] = args.pg_num
    if args.erasure:
        if args.size is not None:
            raise UsageError("--size is k + m for an erasure-coded pool; leave it out")
        if (args.k is None) != (args.m is None):
            raise UsageError("--k and --m go together")
        if args.stripe_unit is not None and args.k is None:
            raise UsageError("--stripe-unit needs --k and --m (it is part of a new profile)")
        profile = args.profile
        if args.k is not None:
            profile = profile or f"k{args.k}m{args.m}"
            mon_command(
                handle,
                "osd erasure-code-profile set",
                name=profile,
                profile=erasure_profile(args.k, args.m, args.stripe_unit),
            )
        request.update(pool_type="erasure", erasure_code_profile=profile or "default")
    else:
        if any(v is not None for v in (args.k, args.m, args.profile, args.stripe_unit)):
            raise UsageError("--k, --m, --profile and --stripe-unit are for --erasure pools")
        if args.size is not None:
            request["size"] = args.size
    _, outs = mon_command(handle, "osd pool create", **request)
    print(outs)
    return 0


def do_pool_ls(args: argparse.Namespace, handle: rados.Rados) -> int:
    pools, _ = mon_command(handle, "osd pool ls", detail="detail" if args.detail else "")
    if args.format != "plain":
        emit_json(pools, args.format)
        return 0
    for pool in pools:
        print(format_pool_detail(pool) if args.detail else pool)
    return 0


def format_pool_detail(pool: dict) -> str:
    """One ``ceph osd pool ls detail`` line."""
    kind = POOL_TYPE_NAMES.get(pool["type"], str(pool["type"]))
    profile = f" erasure_code_profile {pool['erasure_code_profile']}" if pool["erasure_code_profile"] else ""
    return (
        f"pool {pool['pool_id']} '{pool['pool_name']}' {kind} size {pool['size']} min_size {pool['min_size']}"
        f" pg_num {pool['pg_num']}{profile}"
    )


def do_pool_get(args: argparse.Namespace, handle: rados.Rados) -> int:
    out, _ = mon_command(handle, "osd pool get", pool=args.name, var=args.var)
    if args.format != "plain":
        emit_json(out, args.format)
    else:
        print(f"{args.var}: {out[args.var]}")
    return 0


def do_pool_set(args: argparse.Namespace, handle: rados.Rados) -> int:
    _, outs = mon_command(handle, "osd pool set", pool=args.name, var=args.var, val=args.val)
    print(outs)
    return 0


def do_pool_rm(args: argparse.Namespace, handle: rados.Rados) -> int:
    if not args.sure or (args.name2 is not None and args.name2 != args.name):
        raise CommandError(
            f"WARNING: this will *PERMANENTLY DESTROY* all data stored in pool {args.name}; if you are"
            " *ABSOLUTELY CERTAIN* that is what you want, add --yes-i-really-really-mean-it"
        )
    _, outs = mon_command(handle, "osd pool delete", pool=args.name, pool2=args.name, yes_i_really_really_mean_it=True)
    print(outs)
    return 0
