"""``librgw serve``: run the gateway (``paste.ini``'s pipeline) under gunicorn on this cluster.

It binds 127.0.0.1:8080 unless told otherwise and prints the endpoint and the Swift auth
URL (``/auth/v1.0``). On a cluster with no users yet it creates one, ``demo``, and prints
its S3 keys and Swift credentials once, with a ``swift ... stat`` line and the
``ST_AUTH``/``ST_USER``/``ST_KEY`` exports that python-swiftclient's ``swift`` reads, ready
to paste; on later starts it says how to read them again (``admin user info``), so keys
don't land in every log. Then it becomes ``gunicorn --paste PASTE_INI`` with the gateway's
gunicorn settings (``librgw/server/gunicorn_conf.py``: threaded workers that keep slowly
sent requests from holding a thread) and ``$LIBRGW_CLUSTER`` set to this cluster, so every
worker serves it. Stop it with Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from librgw import rados
from librgw.connection import attach
from librgw.server import gunicorn_conf

from .arguments import help_text, positive_int
from .errors import CommandError
from .session import absolute, connect

DEFAULT_BIND = "127.0.0.1:8080"
DEFAULT_WORKERS = gunicorn_conf.workers
DEFAULT_THREADS = gunicorn_conf.threads
GUNICORN_CONF = "python:librgw.server.gunicorn_conf"
FIRST_USER = "demo"
SWIFT_AUTH_PATH = "/auth/v1.0"


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
    conf = absolute(args.conf)
    url = f"http://{args.bind}"
    handle = connect(conf)
    try:
        users = attach(handle).users
        print(f"librgw gateway on {url}/ (cluster {conf})")
        print(f"  Swift auth URL: {url}{SWIFT_AUTH_PATH}")
        uids = users.list()
        if not uids:
            _create_first_user(users, url + SWIFT_AUTH_PATH)
        else:
            uid = FIRST_USER if FIRST_USER in uids else "UID"
            print(f"  keys: {_script('librgw')} -c {shlex.quote(conf)} admin user info --uid {uid}", flush=True)
    finally:
        handle.shutdown()  # the workers connect by themselves, after gunicorn forks them
    os.environ["LIBRGW_CLUSTER"] = conf
    argv = [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONF, "--paste", paste, "--bind", args.bind]
    argv += ["--workers", str(args.workers), "--threads", str(args.threads)]
    os.execv(sys.executable, argv)
    return 0  # not reached: gunicorn has taken over the process


def _create_first_user(users, auth_url: str) -> None:
    user = users.create(FIRST_USER, "Demo User")
    user = users.create_subuser(FIRST_USER, "swift")
    key = user.keys[0]
    swift_user, swift_key = user.swift_keys[0]["user"], user.swift_keys[0]["secret_key"]
    print(f"created user {FIRST_USER!r}:")
    print(f"  S3:    access key {key['access_key']}  secret key {key['secret_key']}")
    print(f"  Swift: user {swift_user}  key {swift_key}")
    q, swift = shlex.quote, _script("swift")
    print("Try it with python-swiftclient's swift CLI:")
    print(f"  {swift} -A {q(auth_url)} -U {q(swift_user)} -K {q(swift_key)} stat")
    print("or set its credentials once for every swift command:")
    print(f"  export ST_AUTH={q(auth_url)} ST_USER={q(swift_user)} ST_KEY={q(swift_key)}")
    print(f"  {swift} upload CONTAINER FILE && {swift} list CONTAINER", flush=True)


def _script(name: str) -> str:
    """How to run a console script from here: the one installed beside this Python
    (``make run``'s ``.venv`` has ``librgw`` and, with the test extras, ``swift``), relative
    to the current directory when under it; else the bare name, found on $PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.isfile(beside):
        return name
    relative = os.path.relpath(beside)
    return shlex.quote(beside if relative.startswith("..") else relative)
