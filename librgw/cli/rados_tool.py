"""``librgw rados -p POOL [-N NAMESPACE] COMMAND``: object I/O, as Ceph's ``rados`` tool.

Commands and output follow ``rados``: ``put OBJ FILE|-``, ``get OBJ FILE|-``,
``ls [--all]`` (``--all``: every namespace, printed ``ns<TAB>name``), ``rm OBJ..``,
``stat OBJ`` (``POOL/OBJ mtime ..., size N``), ``listxattr``, ``getxattr`` (the raw value),
``setxattr``, ``rmxattr``, ``listomapkeys``, ``listomapvals`` (key, then a hexdump of the
value), ``getomapval``, ``setomapval``, ``rmomapkey``. ``setxattr`` and ``setomapval``
read the value from stdin when it is not given.

``put`` and ``get`` stream in ``STREAM_CHUNK`` pieces through python-rados calls
(``write_full`` of the first piece, then ``write``/``read`` at offsets), so a file of any
size goes through a fixed amount of memory; like Ceph's tool, a ``get`` concurrent with a
writer may see parts of two versions. Failures read as Ceph's do:
``error getting POOL/OBJ: (2) No such file or directory``.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator
from typing import BinaryIO

from librgw import rados
from librgw.storage.errors import StorageError

from .arguments import help_text
from .errors import CommandError, UsageError
from .render import emit_json, hexdump
from .session import on_ceph

STREAM_CHUNK = 4 * 1024 * 1024
OMAP_PAGE = 512
STDIO = "-"


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    # -p and -N are accepted before or after the command, as Ceph's rados takes them anywhere
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("-p", "--pool", default=argparse.SUPPRESS, help="the pool")
    target.add_argument("-N", "--namespace", default=argparse.SUPPRESS, help="the namespace (default: none)")
    tool = commands.add_parser(
        "rados",
        parents=[target],
        help="object I/O on a pool",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = tool.add_subparsers(dest="rados_command", metavar="COMMAND", required=True)

    def add(name: str, handler, help: str, *arguments: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, parents=[common, target], help=help, description=help)
        parser.set_defaults(handler=handler, needs_cluster=True)
        for argument in arguments:
            metavar = argument.rstrip("?")
            parser.add_argument(metavar.lower(), metavar=metavar, nargs="?" if argument.endswith("?") else None)
        return parser

    add("put", do_put, "write an object from a file (- for stdin)", "OBJ", "FILE")
    add("get", do_get, "read an object into a file (- for stdout)", "OBJ", "FILE")
    ls = add("ls", do_ls, "list the objects of the namespace")
    ls.add_argument("--all", action="store_true", help="of every namespace, as NAMESPACE<TAB>NAME")
    rm = add("rm", do_rm, "remove objects")
    rm.add_argument("objs", nargs="+", metavar="OBJ")
    add("stat", do_stat, "an object's mtime and size", "OBJ")
    add("listxattr", do_listxattr, "an object's xattr names", "OBJ")
    add("getxattr", do_getxattr, "an xattr's value", "OBJ", "NAME")
    add("setxattr", do_setxattr, "set an xattr (VALUE from stdin if not given)", "OBJ", "NAME", "VALUE?")
    add("rmxattr", do_rmxattr, "remove an xattr", "OBJ", "NAME")
    add("listomapkeys", do_listomapkeys, "an object's omap keys", "OBJ")
    add("listomapvals", do_listomapvals, "an object's omap keys and values", "OBJ")
    add("getomapval", do_getomapval, "one omap value (hexdump, or raw into FILE)", "OBJ", "KEY", "FILE?")
    add("setomapval", do_setomapval, "set an omap value (VALUE from stdin if not given)", "OBJ", "KEY", "VALUE?")
    add("rmomapkey", do_rmomapkey, "remove an omap key", "OBJ", "KEY")


# -- helpers ---------------------------------------------------------------------------


@contextlib.contextmanager
def failing(what: str) -> Iterator[None]:
    """Turn a rados (or storage) error into the ``CommandError`` ``what: (errno) strerror[: detail]``."""
    try:
        yield
    except (rados.Error, StorageError) as e:
        raise CommandError(describe_rados_error(what, e)) from None


def describe_rados_error(what: str, e: rados.Error | StorageError) -> str:
    if e.errno is None:
        return f"{what}: {e.message}"
    text = f"{what}: ({e.errno}) {os.strerror(e.errno)}"
    return text if e.errno in (errno.ENOENT, errno.ENODATA) else f"{text}: {e.message}"


def open_ioctx(handle: rados.Rados, args: argparse.Namespace) -> rados.Ioctx:
    pool = getattr(args, "pool", None)
    if not pool:
        raise UsageError("pool name was not specified (-p POOL)")
    if not handle.pool_exists(pool):
        raise CommandError(f"error opening pool {pool}: ({errno.ENOENT}) {os.strerror(errno.ENOENT)}")
    ioctx = handle.open_ioctx(pool)
    ioctx.set_namespace(getattr(args, "namespace", ""))
    return ioctx


def put_stream(ioctx: rados.Ioctx, oid: str, src: BinaryIO, chunk: int = STREAM_CHUNK) -> int:
    """Write ``src`` to the object (replacing it) a chunk at a time; returns the bytes written."""
    data = src.read(chunk)
    ioctx.write_full(oid, data)
    offset = len(data)
    while data := src.read(chunk):
        ioctx.write(oid, data, offset)
        offset += len(data)
    return offset


def read_chunks(ioctx: rados.Ioctx, oid: str, chunk: int = STREAM_CHUNK) -> Iterator[bytes]:
    """The object's data a chunk at a time; the first chunk (maybe empty) fails if it is missing."""
    offset = 0
    while True:
        data = ioctx.read(oid, chunk, offset)
        yield data
        offset += len(data)
        if len(data) < chunk:
            return


def omap_entries(ioctx: rados.Ioctx, oid: str, with_values: bool = True) -> Iterator[tuple[str, bytes | None]]:
    """Every (key, value) of the object's omap in key order, ``OMAP_PAGE`` at a time."""
    after = ""
    while True:
        with rados.ReadOpCtx() as op:
            if with_values:
                it, _ = ioctx.get_omap_vals(op, after, "", OMAP_PAGE)
            else:
                it, _ = ioctx.get_omap_keys(op, after, OMAP_PAGE)
            ioctx.operate_read_op(op, oid)
            page = list(it)
        yield from page
        if len(page) < OMAP_PAGE:
            return
        after = page[-1][0]


def value_arg(value: str | None) -> bytes:
    """A value from the command line (bytes as the shell gave them), else all of stdin."""
    return sys.stdin.buffer.read() if value is None else os.fsencode(value)


def _input(path: str) -> contextlib.AbstractContextManager[BinaryIO]:
    return contextlib.nullcontext(sys.stdin.buffer) if path == STDIO else open(path, "rb")


def _output(path: str) -> contextlib.AbstractContextManager[BinaryIO]:
    if path == STDIO:
        sys.stdout.flush()
        return contextlib.nullcontext(sys.stdout.buffer)
    return open(path, "wb")


def _write_stdout(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


# -- commands ----------------------------------------------------------------------------


def do_put(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx, _input(args.file) as src:
        with failing(f"error putting {ioctx.name}/{args.obj}"):
            put_stream(ioctx, args.obj, src)
    return 0


def do_get(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx, failing(f"error getting {ioctx.name}/{args.obj}"):
        chunks = read_chunks(ioctx, args.obj)
        first = next(chunks)  # before opening FILE, so a missing object leaves no empty file
        with _output(args.file) as dst:
            dst.write(first)
            for data in chunks:
                dst.write(data)
            dst.flush()
    return 0


def list_objects(handle: rados.Rados, ioctx: rados.Ioctx, all_namespaces: bool) -> Iterator[tuple[str, str]]:
    """(namespace, name) of the pool's objects; raises ``StorageError`` if a PG can't be listed.

    On the embedded cluster, not ``Ioctx.list_objects``: like python-rados it ends quietly on
    an error, and an admin must not take a listing cut short by a PG with no OSD up for the
    whole pool. (Ceph's own listing waits for such a PG instead.)
    """
    if on_ceph(handle):
        if all_namespaces:
            ioctx.set_namespace(rados.LIBRADOS_ALL_NSPACES)
        return ((o.nspace, o.key) for o in ioctx.list_objects())
    return handle.cluster.list_objects(ioctx.name, None if all_namespaces else ioctx.get_namespace())


def do_ls(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx, failing(f"error listing pool {ioctx.name}"):
        objects = list_objects(handle, ioctx, args.all)
        if args.format != "plain":
            emit_json([{"namespace": ns, "name": name} for ns, name in objects], args.format)
            return 0
        for ns, name in objects:
            print(f"{ns}\t{name}" if args.all else name)
    return 0


def do_rm(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx:
        for oid in args.objs:
            with failing(f"error removing {ioctx.name}>{oid}"):
                ioctx.remove_object(oid)
    return 0


def do_stat(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx, failing(f"error stat-ing {ioctx.name}/{args.obj}"):
        size, mtime = ioctx.stat(args.obj)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000%z", mtime)
    if args.format != "plain":
        emit_json({"pool": ioctx.name, "name": args.obj, "mtime": stamp, "size": size}, args.format)
    else:
        print(f"{ioctx.name}/{args.obj} mtime {stamp}, size {size}")
    return 0


def do_listxattr(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx, failing(f"error getting xattr set {ioctx.name}/{args.obj}"):
        for name, _ in ioctx.get_xattrs(args.obj):
            print(name)
    return 0


def do_getxattr(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx, failing(f"error getting xattr {ioctx.name}/{args.obj}/{args.name}"):
        value = ioctx.get_xattr(args.obj, args.name)
    _write_stdout(value)
    return 0


def do_setxattr(args: argparse.Namespace, handle: rados.Rados) -> int:
    value = value_arg(args.value)
    with open_ioctx(handle, args) as ioctx, failing(f"error setting xattr {ioctx.name}/{args.obj}/{args.name}"):
        ioctx.set_xattr(args.obj, args.name, value)
    return 0


def do_rmxattr(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx, failing(f"error removing xattr {ioctx.name}/{args.obj}/{args.name}"):
        ioctx.rm_xattr(args.obj, args.name)
    return 0


def do_listomapkeys(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx, failing(f"error getting omap keys {ioctx.name}/{args.obj}"):
        for key, _ in omap_entries(ioctx, args.obj, with_values=False):
            print(key)
    return 0


def do_listomapvals(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx, failing(f"error getting omap keys {ioctx.name}/{args.obj}"):
        for key, value in omap_entries(ioctx, args.obj):
            print(key)
            print(f"value ({len(value)} bytes) :")
            print(hexdump(value))
            print()
    return 0


def do_getomapval(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx, failing(f"error getting omap value {ioctx.name}/{args.obj}/{args.key}"):
        with rados.ReadOpCtx() as op:
            it, _ = ioctx.get_omap_vals_by_keys(op, (args.key,))
            ioctx.operate_read_op(op, args.obj)
            values = dict(it)
    if args.key not in values:
        raise CommandError(f"No such key: {ioctx.name}/{args.obj}/{args.key}")
    value = values[args.key]
    if args.file is not None:
        with _output(args.file) as dst:
            dst.write(value)
            dst.flush()
    else:
        print(f"value ({len(value)} bytes) :")
        print(hexdump(value))
    return 0


def do_setomapval(args: argparse.Namespace, handle: rados.Rados) -> int:
    value = value_arg(args.value)
    with open_ioctx(handle, args) as ioctx, failing(f"error setting omap value {ioctx.name}/{args.obj}/{args.key}"):
        with rados.WriteOpCtx() as op:
            ioctx.set_omap(op, (args.key,), (value,))
            ioctx.operate_write_op(op, args.obj)
    return 0


def do_rmomapkey(args: argparse.Namespace, handle: rados.Rados) -> int:
    with open_ioctx(handle, args) as ioctx, failing(f"error removing omap key {ioctx.name}/{args.obj}/{args.key}"):
        with rados.WriteOpCtx() as op:
            ioctx.remove_omap_keys(op, (args.key,))
            ioctx.operate_write_op(op, args.obj)
    return 0
