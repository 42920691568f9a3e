"""``librgw serve``: run the gateway (``paste.ini``'s pipeline) under gunicorn on this cluster.

It binds 127.0.0.1:8080 unless told otherwise, prints the endpoint, and on a cluster with
no users yet creates one, ``demo``, printing its S3 keys and Swift credentials. Then it
becomes ``gunicorn --paste PASTE_INI`` with threaded workers and ``$LIBRGW_CLUSTER`` set
to this cluster, so every worker serves it. Stop it with Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys

from librgw import rados
from librgw.connection import attach

from .arguments import help_text, positive_int
from .errors import CommandError
from .session import connect

DEFAULT_BIND = "127.0.0.1:8080"
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 8
FIRST_USER = "demo"


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="run the gateway under gunicorn (127.0.0.1:8080)",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--bind", default=DEFAULT_BIND, metavar="HOST:PORT")
    serve.add_argument("--workers", type=positive_int, default=DEFAULT_WORKERS, help="worker processes")
    serve.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS, help="threads per worker")
    serve.add_argument("--paste", default="paste.ini", metavar="PASTE_INI", help="the pipeline (default ./paste.ini)")
    serve.set_defaults(handler=do_serve, needs_cluster=False)


def do_serve(args: argparse.Namespace, _handle: rados.Rados | None) -> int:
    paste = os.path.abspath(args.paste)
    if not os.path.isfile(paste):
        raise CommandError(f"{args.paste}: no such pipeline file (pass --paste PASTE_INI)")
    conf = os.path.abspath(args.conf)
    handle = connect(conf)
    try:
        users = attach(handle).users
        if not users.list():
            _create_first_user(users)
    finally:
        handle.shutdown()  # the workers connect by themselves, after gunicorn forks them
    print(f"librgw gateway on http://{args.bind}/ (cluster {conf})", flush=True)
    os.environ["LIBRGW_CLUSTER"] = conf
    argv = [sys.executable, "-m", "gunicorn", "--paste", paste, "--bind", args.bind]
    argv += ["--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread"]
    os.execv(sys.executable, argv)
    return 0  # not reached: gunicorn has taken over the process


def _create_first_user(users) -> None:
    user = users.create(FIRST_USER, "Demo User")
    user = users.create_subuser(FIRST_USER, "swift")
    key = user.keys[0]
    print(f"created user {FIRST_USER!r}:", flush=True)
    print(f"  S3:    access key {key['access_key']}  secret key {key['secret_key']}", flush=True)
    print(f"  Swift: user {FIRST_USER}:swift  key {user.swift_keys[0]['secret_key']}", flush=True)
