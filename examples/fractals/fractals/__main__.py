"""``python -m fractals COMMAND``: the app's commands.

- ``worker --count N``: render N fractals into the image store and the database;
- ``api --bind HOST:PORT``: serve the API with gunicorn;
- ``durability --cloud URL --api URL``: the chapter's steps against a gateway;
- ``backup --cloud URL --api URL``: every fractal the API serves into the container;
- ``restore --cloud URL``: every fractal of the database back from the container into the image store.

``--db`` (default ``fractals.db``) and ``--storage`` (default ``images``, a directory; or
``librgw://ACCESS_KEY:SECRET@host:port/container``, or ``librgw+cluster://<cluster.conf>/container``
in-process) say where the app keeps its fractals; ``--cloud`` is a ``librgw://`` (or
``librgw+cluster://``) URL of the container backups go to.
"""

from __future__ import annotations

import argparse
import sys

from libcloud.storage.types import ContainerDoesNotExistError

from . import durability
from .api import FractalsAPI, Server
from .db import Database
from .storage import connect, open_storage
from .worker import make_fractals

DEFAULT_DB = "fractals.db"
DEFAULT_STORAGE = "images"
DEFAULT_BIND = "127.0.0.1:8000"
DEFAULT_API = "http://127.0.0.1:8000"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fractals", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_DB, help=f"the SQLite database (default {DEFAULT_DB})")
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help="where images live: a directory or librgw://...")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="render fractals")
    worker.add_argument("--count", type=int, default=10)
    worker.add_argument("--seed", type=int, default=None)
    api = commands.add_parser("api", help="serve the API with gunicorn")
    api.add_argument("--bind", default=DEFAULT_BIND)
    api.add_argument("--workers", type=int, default=2)
    for name in ("durability", "backup"):
        command = commands.add_parser(name, help=f"{name} against a librgw gateway")
        command.add_argument("--cloud", required=True, help="librgw://ACCESS_KEY:SECRET@host:port/container")
        command.add_argument("--api", default=DEFAULT_API, help=f"the Fractals API (default {DEFAULT_API})")
    commands.choices["durability"].add_argument(
        "--file", required=True, help="the image the chapter uploads (goat.jpg)"
    )
    restore = commands.add_parser("restore", help="restore the images from a librgw container")
    restore.add_argument("--cloud", required=True, help="librgw://ACCESS_KEY:SECRET@host:port/container")
    args = parser.parse_args(argv)

    if args.command == "worker":
        made = make_fractals(Database(args.db), open_storage(args.storage), args.count, args.seed)
        for fractal in made:
            print(fractal.uuid, fractal.parameters.kind, fractal.checksum, fractal.size)
    elif args.command == "api":
        options = {"bind": args.bind, "workers": args.workers, "worker_class": "gthread", "threads": 4}
        Server(lambda: FractalsAPI(Database(args.db), open_storage(args.storage)), options).run()
    elif args.command == "durability":
        driver, container_name = connect(args.cloud)
        durability.chapter(driver, args.api, args.file, container_name)
    elif args.command == "backup":
        driver, container_name = connect(args.cloud)
        try:
            container = driver.get_container(container_name)
        except ContainerDoesNotExistError:
            container = driver.create_container(container_name)
        stored = durability.backup(driver, container, args.api)
        print(f"{len(stored)} fractals backed up to {container_name}")
    elif args.command == "restore":
        driver, container_name = connect(args.cloud)
        try:
            durability.restore(
                driver, driver.get_container(container_name), Database(args.db), open_storage(args.storage)
            )
        except durability.RestoreError as e:
            print(e, file=sys.stderr)
            return 1
        print("every fractal restored, each matching its md5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
