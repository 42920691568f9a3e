"""The python-rados API (Ceph's ``rados`` module) over the embedded cluster.

Code written for Ceph runs on this unchanged but for the import::

    from librgw import rados
    with rados.Rados(conffile="data/cluster.conf") as cluster:
        with cluster.open_ioctx("assets") as ioctx:
            ioctx.write_full("1.jpg", b"...")

Class, method, argument and exception names, return values and errors follow
python-rados (Ceph Pacific). Names may be str or bytes; data must be bytes-like (str is
accepted too and encoded as UTF-8, which the old Python 2 examples rely on). Storage
errors carry an errno, mapped to exception classes in ``make_ex`` as python-rados does.
``Rados()`` without a conffile, then ``conf_read_file()``, searches ``$CEPH_CONF``,
``./data/cluster.conf`` and ``./cluster.conf``. ``Rados(conffile="ceph:<ceph.conf>")`` is a
handle on a real Ceph cluster instead (``ceph_backend.py``), with these same classes.

What both backends share (constants, exceptions, the compound ops) is ``rados_api.py``'s and
is part of this module's API, as in python-rados; the rest here is the embedded backend.
"""

from __future__ import annotations

import errno as _errno
import os
import time
from collections.abc import Sequence
from pathlib import Path

from .rados_api import (
    CEPH_PREFIX,
    LIBRADOS_ALL_NSPACES,
    LIBRADOS_CMPXATTR_OP_EQ,
    LIBRADOS_CMPXATTR_OP_GT,
    LIBRADOS_CMPXATTR_OP_GTE,
    LIBRADOS_CMPXATTR_OP_LT,
    LIBRADOS_CMPXATTR_OP_LTE,
    LIBRADOS_CMPXATTR_OP_NE,
    LIBRADOS_CREATE_EXCLUSIVE,
    LIBRADOS_CREATE_IDEMPOTENT,
    LIBRADOS_OP_FLAG_EXCL,
    LIBRADOS_OP_FLAG_FADVISE_DONTNEED,
    LIBRADOS_OP_FLAG_FADVISE_NOCACHE,
    LIBRADOS_OP_FLAG_FADVISE_RANDOM,
    LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL,
    LIBRADOS_OP_FLAG_FADVISE_WILLNEED,
    LIBRADOS_OP_FLAG_FAILOK,
    LIBRADOS_OPERATION_BALANCE_READS,
    LIBRADOS_OPERATION_IGNORE_CACHE,
    LIBRADOS_OPERATION_IGNORE_OVERLAY,
    LIBRADOS_OPERATION_LOCALIZE_READS,
    LIBRADOS_OPERATION_NOFLAG,
    LIBRADOS_OPERATION_ORDER_READS_WRITES,
    LIBRADOS_OPERATION_SKIPRWLOCKS,
    LIBRADOS_SNAP_HEAD,
    MAX_ERRNO,
    ClosedAfterContext,
    CompoundOpBuilder,
    ConnectedInContext,
    ConnectionShutdown,
    Error,
    InProgress,
    InterruptedOrTimeoutError,
    InvalidArgumentError,
    IoctxStateError,
    IOError,
    IsConnected,
    LogicError,
    NoData,
    NoSpace,
    NotConnected,
    ObjectBusy,
    ObjectExists,
    ObjectNotFound,
    ObjectStateError,
    OmapIterator,
    OSError,
    PermissionDeniedError,
    PermissionError,
    RadosStateError,
    ReadOp,
    ReadOpCtx,
    TimedOut,
    WriteOp,
    WriteOpCtx,
    data_arg,
    make_ex,
    name_arg,
)
from .storage.cluster import Cluster, open_cluster, release_cluster
from .storage.errors import StorageError
from .storage.health import inconsistent_pgs
from .storage.monitor import handle_mon_command
from .storage.osdmap import pgid

# python-rados's names: those both backends share (rados_api.py) and this module's own.
__all__ = [
    "Rados",
    "Ioctx",
    "Object",
    "ObjectIterator",
    "XattrIterator",
    "Version",
    "LIBRADOS_OP_FLAG_EXCL",
    "LIBRADOS_OP_FLAG_FAILOK",
    "LIBRADOS_OP_FLAG_FADVISE_RANDOM",
    "LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL",
    "LIBRADOS_OP_FLAG_FADVISE_WILLNEED",
    "LIBRADOS_OP_FLAG_FADVISE_DONTNEED",
    "LIBRADOS_OP_FLAG_FADVISE_NOCACHE",
    "LIBRADOS_CMPXATTR_OP_EQ",
    "LIBRADOS_CMPXATTR_OP_NE",
    "LIBRADOS_CMPXATTR_OP_GT",
    "LIBRADOS_CMPXATTR_OP_GTE",
    "LIBRADOS_CMPXATTR_OP_LT",
    "LIBRADOS_CMPXATTR_OP_LTE",
    "LIBRADOS_SNAP_HEAD",
    "LIBRADOS_OPERATION_NOFLAG",
    "LIBRADOS_OPERATION_BALANCE_READS",
    "LIBRADOS_OPERATION_LOCALIZE_READS",
    "LIBRADOS_OPERATION_ORDER_READS_WRITES",
    "LIBRADOS_OPERATION_IGNORE_CACHE",
    "LIBRADOS_OPERATION_SKIPRWLOCKS",
    "LIBRADOS_OPERATION_IGNORE_OVERLAY",
    "LIBRADOS_ALL_NSPACES",
    "LIBRADOS_CREATE_EXCLUSIVE",
    "LIBRADOS_CREATE_IDEMPOTENT",
    "MAX_ERRNO",
    "CEPH_PREFIX",
    "Error",
    "OSError",
    "InvalidArgumentError",
    "InterruptedOrTimeoutError",
    "PermissionError",
    "PermissionDeniedError",
    "ObjectNotFound",
    "NoData",
    "ObjectExists",
    "ObjectBusy",
    "IOError",
    "NoSpace",
    "NotConnected",
    "TimedOut",
    "ConnectionShutdown",
    "RadosStateError",
    "IoctxStateError",
    "ObjectStateError",
    "LogicError",
    "InProgress",
    "IsConnected",
    "make_ex",
    "OmapIterator",
    "WriteOp",
    "ReadOp",
    "WriteOpCtx",
    "ReadOpCtx",
]

DEFAULT_CONF_SEARCH = ("data/cluster.conf", "cluster.conf")


class _translate:
    """Context manager turning a StorageError into the python-rados exception."""

    def __init__(self, msg: str) -> None:
        self.msg = msg

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if isinstance(exc, StorageError):
            raise make_ex(exc.errno, f"{self.msg}: {exc.message}") from None
        return False


class Version:
    def __init__(self, major: int, minor: int, extra: int) -> None:
        self.major, self.minor, self.extra = major, minor, extra

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.extra}"


# -- Rados ------------------------------------------------------------------------


class Rados(ConnectedInContext):
    """A handle on a cluster, configured from a conf file, then connected.

    ``conffile="ceph:/etc/ceph/ceph.conf"`` gives a handle on a real Ceph cluster instead
    (``ceph_backend.py``), with the same methods and exceptions.
    """

    NO_CONF_FILE = -1
    DEFAULT_CONF_FILES = -2

    def __new__(cls, *args, **kwargs):
        conffile = kwargs.get("conffile", args[4] if len(args) > 4 else None)
        if isinstance(conffile, str) and conffile.startswith(CEPH_PREFIX):
            from .ceph_backend import CephRados  # imports Debian's python3-rados: only when asked for

            return CephRados(*args, **kwargs)
        return super().__new__(cls)

    def __init__(  # noqa: PLR0913 - python-rados's signature
        self,
        rados_id: str | None = None,
        name: str | None = None,
        clustername: str | None = None,
        conf_defaults: dict | None = None,
        conffile: str | int | None = NO_CONF_FILE,
        conf: dict | None = None,
        flags: int = 0,
        context: object = None,
    ) -> None:
        if rados_id is not None and name is not None:
            raise Error("Rados(): can't supply both rados_id and name")
        self.rados_id = rados_id
        self.name = f"client.{rados_id}" if rados_id is not None else (name or "client.admin")
        self.clustername = clustername or ""
        self.conf_defaults = conf_defaults or {}
        self.conffile = conffile
        self.state = "configuring"
        self.parsed_args: list[str] = []
        self._options: dict[str, str] = {}
        self._conf_path: Path | None = None
        self._cluster: Cluster | None = None
        for key, value in self.conf_defaults.items():
            self.conf_set(key, value)
        if conffile in (self.DEFAULT_CONF_FILES, ""):
            self.conf_read_file()
        elif conffile not in (self.NO_CONF_FILE, None):
            self.conf_read_file(conffile)
        for key, value in (conf or {}).items():
            self.conf_set(key, value)

    def require_state(self, *states: str) -> None:
        if self.state not in states:
            raise RadosStateError(f"You cannot perform that operation on a Rados object in state {self.state}.")

    def version(self) -> Version:
        return Version(16, 2, 0)

    def conf_read_file(self, path: str | None = None) -> None:
        self.require_state("configuring", "connected")
        if path is None:
            candidates = [os.environ["CEPH_CONF"]] if os.environ.get("CEPH_CONF") else list(DEFAULT_CONF_SEARCH)
            path = next((c for c in candidates if os.path.exists(c)), None)
            if path is None:
                raise ObjectNotFound(f"error calling conf_read_file: none of {candidates} exists", errno=_errno.ENOENT)
        if not os.path.isfile(path):
            raise ObjectNotFound(f"error calling conf_read_file: {path} does not exist", errno=_errno.ENOENT)
        self._conf_path = Path(path)

    def conf_parse_argv(self, args: Sequence[str]) -> list[str] | None:
        self.require_state("configuring", "connected")
        if not args:
            return None
        rest = list(args)
        if "-c" in rest or "--conf" in rest:
            flag = "-c" if "-c" in rest else "--conf"
            i = rest.index(flag)
            if i + 1 < len(rest):
                self.conf_read_file(rest[i + 1])
                del rest[i : i + 2]
        self.parsed_args = list(args)
        return rest

    def conf_parse_env(self, var: str | None = "CEPH_ARGS") -> None:
        self.require_state("configuring", "connected")
        if var and os.environ.get(var):
            self.conf_parse_argv(os.environ[var].split())

    def conf_get(self, option: str) -> str | None:
        self.require_state("configuring", "connected")
        return self._options.get(name_arg(option, "option"))

    def conf_set(self, option: str, val: str) -> None:
        self.require_state("configuring", "connected")
        if not isinstance(val, str | bytes):
            raise TypeError("val must be a string")
        self._options[name_arg(option, "option")] = name_arg(val, "val")

    def connect(self, timeout: int = 0) -> None:
        self.require_state("configuring")
        if self._conf_path is None:
            self.conf_read_file()
        with _translate("error connecting to the cluster"):
            self._cluster = open_cluster(self._conf_path)
        self.state = "connected"

    def shutdown(self) -> None:
        if self.state != "shutdown":
            if self._cluster is not None:
                release_cluster(self._cluster)
                self._cluster = None
            self.state = "shutdown"

    @property
    def cluster(self) -> Cluster:
        self.require_state("connected")
        return self._cluster

    def get_instance_id(self) -> int:
        self.require_state("connected")
        return os.getpid()

    def get_fsid(self) -> str:
        return self.cluster.conf.fsid

    def get_cluster_stats(self) -> dict[str, int]:
        with _translate("error getting cluster stats"):
            return self.cluster.cluster_stats()

    def pool_exists(self, pool_name: str) -> bool:
        return self.cluster.osdmap.pool_by_name(name_arg(pool_name, "pool_name")) is not None

    def pool_lookup(self, pool_name: str) -> int | None:
        pool = self.cluster.osdmap.pool_by_name(name_arg(pool_name, "pool_name"))
        return pool.id if pool else None

    def pool_reverse_lookup(self, pool_id: int) -> str | None:
        pool = self.cluster.osdmap.pools.get(pool_id)
        return pool.name if pool else None

    def create_pool(self, pool_name: str, crush_rule: int | None = None, auid: int | None = None) -> None:
        with _translate(f"error creating pool '{pool_name}'"):
            self.cluster.create_pool(name_arg(pool_name, "pool_name"))

    def delete_pool(self, pool_name: str) -> None:
        with _translate(f"error deleting pool '{pool_name}'"):
            self.cluster.delete_pool(name_arg(pool_name, "pool_name"))

    def list_pools(self) -> list[str]:
        return [p.name for p in sorted(self.cluster.osdmap.pools.values(), key=lambda p: p.id)]

    def get_pool_base_tier(self, pool_id: int) -> int:
        self.require_state("connected")
        return pool_id

    def get_inconsistent_pgs(self, pool_id: int) -> list[str]:
        """The pool's PGs that the last scrub left inconsistent, as pgids ("2.1f")."""
        return [pgid(pool, pg) for pool, pg in sorted(inconsistent_pgs(self.cluster)) if pool == pool_id]

    def open_ioctx(self, ioctx_name: str) -> Ioctx:
        name = name_arg(ioctx_name, "ioctx_name")
        if not self.pool_exists(name):
            raise ObjectNotFound(f"error opening pool '{name}'", errno=_errno.ENOENT)
        return Ioctx(self, name)

    def open_ioctx2(self, pool_id: int) -> Ioctx:
        name = self.pool_reverse_lookup(pool_id)
        if name is None:
            raise ObjectNotFound(f"error opening pool {pool_id}", errno=_errno.ENOENT)
        return Ioctx(self, name)

    def mon_command(
        self, cmd: str, inbuf: bytes, timeout: int = 0, target: str | int | None = None
    ) -> tuple[int, bytes, str]:
        """Run a monitor command given as Ceph's JSON; returns (ret, outbuf, outs).

        A failing command is reported in ``ret`` (a negative errno), not raised, as in python-rados.
        """
        return handle_mon_command(self.cluster, cmd, inbuf)

    def wait_for_latest_osdmap(self) -> int:
        self.require_state("connected")
        return 0


# -- Ioctx ------------------------------------------------------------------------


class Ioctx(ClosedAfterContext, CompoundOpBuilder):
    """I/O on one pool (and one namespace of it)."""

    def __init__(self, rados: Rados, name: str) -> None:
        self.rados = rados
        self.name = name
        self.state = "open"
        self.nspace: str | None = ""
        self.locator_key = ""
        self._last_version = 0

    def require_ioctx_open(self) -> None:
        if self.state != "open":
            raise IoctxStateError(f"The pool is {self.state}")

    @property
    def _cluster(self) -> Cluster:
        self.require_ioctx_open()
        return self.rados.cluster

    @property
    def _ns(self) -> str:
        return self.nspace or ""

    def close(self) -> None:
        self.state = "closed"

    def _operate(self, key: str, ops: list[tuple], msg: str, mtime: float | None = None) -> None:
        with _translate(msg):
            self._cluster.operate(self.name, self._ns, key, ops, mtime)

    # object data

    def write(self, key: str, data: bytes, offset: int = 0) -> int:
        key = name_arg(key, "key")
        self._operate(key, [("write", offset, data_arg(data))], f"Ioctx.write({self.name}): failed to write {key}")
        return 0

    def write_full(self, key: str, data: bytes) -> int:
        key = name_arg(key, "key")
        self._operate(key, [("write_full", data_arg(data))], f"Ioctx.write_full({self.name}): failed to write {key}")
        return 0

    def append(self, key: str, data: bytes) -> int:
        key = name_arg(key, "key")
        self._operate(key, [("append", data_arg(data))], f"Ioctx.append({self.name}): failed to append {key}")
        return 0

    def writesame(self, key: str, data: bytes, write_len: int, offset: int = 0) -> None:
        data = bytes(data_arg(data))
        if not data or write_len % len(data):
            raise InvalidArgumentError("write_len must be a multiple of the data length", errno=_errno.EINVAL)
        self.write(key, data * (write_len // len(data)), offset)

    def read(self, key: str, length: int = 8192, offset: int = 0) -> bytes:
        key = name_arg(key, "key")
        with _translate(f"Ioctx.read({self.name}): failed to read {key}"):
            return self._cluster.read(self.name, self._ns, key, offset, length)

    def stat(self, key: str) -> tuple[int, time.struct_time]:
        key = name_arg(key, "key")
        with _translate(f"Failed to stat {key!r}"):
            info = self._cluster.stat(self.name, self._ns, key)
        self._last_version = info.version  # for get_last_version, as librados records it
        return info.logical_size, time.localtime(info.mtime_ns / 1e9)

    def trunc(self, key: str, size: int) -> int:
        key = name_arg(key, "key")
        self._operate(
            key, [("assert_exists",), ("truncate", size)], f"Ioctx.trunc({self.name}): failed to truncate {key}"
        )
        return 0

    def remove_object(self, key: str) -> bool:
        key = name_arg(key, "key")
        self._operate(key, [("remove",)], f"Failed to remove '{key}'")
        return True

    # xattrs

    def get_xattr(self, key: str, xattr_name: str) -> bytes:
        key, attr = name_arg(key, "key"), name_arg(xattr_name, "xattr_name")
        with _translate(f"Failed to get xattr {attr!r}"):
            return self._cluster.get_xattr(self.name, self._ns, key, attr)

    def get_xattrs(self, oid: str) -> XattrIterator:
        return XattrIterator(self, name_arg(oid, "oid"))

    def set_xattr(self, key: str, xattr_name: str, xattr_value: bytes) -> bool:
        key, attr = name_arg(key, "key"), name_arg(xattr_name, "xattr_name")
        self._operate(key, [("setxattr", attr, data_arg(xattr_value, "xattr_value"))], f"Failed to set xattr {attr!r}")
        return True

    def rm_xattr(self, key: str, xattr_name: str) -> bool:
        key, attr = name_arg(key, "key"), name_arg(xattr_name, "xattr_name")
        self._operate(key, [("rmxattr", attr)], f"Failed to delete key {key!r} xattr {attr!r}")
        return True

    # listing, namespaces, stats

    def list_objects(self) -> ObjectIterator:
        return ObjectIterator(self)

    def set_namespace(self, nspace: str | None) -> None:
        self.require_ioctx_open()
        self.nspace = "" if nspace is None else name_arg(nspace, "nspace")

    def get_namespace(self) -> str:
        return self._ns

    def set_locator_key(self, loc_key: str) -> None:
        self.require_ioctx_open()
        self.locator_key = name_arg(loc_key, "loc_key")

    def get_locator_key(self) -> str:
        return self.locator_key

    def application_enable(self, app_name: str, force: bool = False) -> None:
        with _translate(f"Ioctx.application_enable({self.name}): failed to enable {app_name}"):
            self._cluster.enable_application(self.name, name_arg(app_name, "app_name"))

    def application_list(self) -> list[str]:
        return list(self._cluster.pool(self.name).applications)

    def get_pool_id(self) -> int:
        return self.rados.pool_lookup(self.name)

    def get_pool_name(self) -> str:
        return self.name

    def get_last_version(self) -> int:
        """The version of the object last stat'ed through this ioctx (``WriteOp.assert_version``
        takes it)."""
        return self._last_version

    def get_stats(self) -> dict[str, int]:
        with _translate(f"Ioctx.get_stats({self.name}): get_stats failed"):
            cluster = self._cluster
            pool = cluster.pool(self.name)
            stats = cluster.pool_stats(pool)
        return {
            "num_bytes": stats.bytes,
            "num_kb": (stats.bytes + 1023) // 1024,
            "num_objects": stats.objects,
            "num_object_clones": 0,
            "num_object_copies": stats.objects * pool.size,
            "num_objects_missing_on_primary": 0,
            "num_objects_unfound": 0,
            "num_objects_degraded": stats.degraded,
            "num_rd": 0,
            "num_rd_kb": 0,
            "num_wr": 0,
            "num_wr_kb": 0,
        }

    # advisory locks (cls_lock: kept in the object's "lock.<name>" xattr)

    def _lock(self, key: str, op: tuple) -> None:
        """Take the lock of ``op`` (``_lock_op``'s) on ``key``."""
        key = name_arg(key, "key")
        kind, name = op[3], op[1]
        self._operate(key, [op], f"Ioctx.rados_lock_{kind}({self.name}): failed to set lock {name} on {key}")

    def lock_exclusive(
        self, key: str, name: str, cookie: str, desc: str = "", duration: int | None = None, flags: int = 0
    ) -> None:
        self._lock(key, _lock_op(name, cookie, "exclusive", "", desc, duration, flags))

    def lock_shared(
        self, key: str, name: str, cookie: str, tag: str, desc: str = "", duration: int | None = None, flags: int = 0
    ) -> None:
        self._lock(key, _lock_op(name, cookie, "shared", name_arg(tag, "tag"), desc, duration, flags))

    def unlock(self, key: str, name: str, cookie: str) -> None:
        key = name_arg(key, "key")
        op = ("unlock", name_arg(name, "name"), name_arg(cookie, "cookie"))
        self._operate(key, [op], f"Ioctx.rados_unlock({self.name}): failed to unlock {name} on {key}")

    def operate_write_op(
        self, write_op: WriteOp, oid: str, mtime: int = 0, flags: int = LIBRADOS_OPERATION_NOFLAG
    ) -> None:
        oid = name_arg(oid, "oid")
        self._operate(oid, write_op.steps(oid), f"Failed to operate write op for oid {oid}", mtime or None)

    def operate_read_op(self, read_op: ReadOp, oid: str, flag: int = LIBRADOS_OPERATION_NOFLAG) -> None:
        oid = name_arg(oid, "oid")
        with _translate(f"Failed to operate read op for oid {oid}"):
            cluster = self._cluster
            if not read_op.queries:
                cluster.stat(self.name, self._ns, oid)
            for it, query, with_values in read_op.queries:
                entries, _more = cluster.omap_get(self.name, self._ns, oid, **query)
                it.fill([(k, v if with_values else None) for k, v in entries])

    def execute(self, key: str, cls: str, method: str, data: bytes, length: int = 8192) -> tuple[int, bytes]:
        raise make_ex(_errno.EOPNOTSUPP, f"Ioctx.execute({self.name}): object classes are not supported")


def _lock_op(name: str, cookie: str, kind: str, tag: str, desc: str, duration: int | None, flags: int) -> tuple:
    """The ``("lock", ...)`` op (``storage.store_records``) of a ``lock_exclusive`` or ``lock_shared`` call."""
    expires = time.time() + duration if duration else 0.0
    return ("lock", name_arg(name, "name"), name_arg(cookie, "cookie"), kind, tag, desc, expires, flags)


# -- iterators and objects ----------------------------------------------------------


class Object:
    """An object in a listing: a key plus read/write helpers at a moving offset."""

    def __init__(self, ioctx: Ioctx, key: str, locator_key: str | None = None, nspace: str | None = None) -> None:
        self.ioctx = ioctx
        self.key = key
        self.offset = 0
        self.state = "exists"
        self.locator_key = locator_key
        self.nspace = "" if nspace is None else nspace

    def __str__(self) -> str:
        nspace = self.nspace or "--default--"
        return f"rados.Object(ioctx={self.ioctx.name},key={self.key},nspace={nspace},locator={self.locator_key})"

    def require_object_exists(self) -> None:
        if self.state != "exists":
            raise ObjectStateError(f"The object is {self.state}")

    def _in_ns(self, fn, *args):
        saved = self.ioctx.nspace
        self.ioctx.nspace = self.nspace
        try:
            return fn(*args)
        finally:
            self.ioctx.nspace = saved

    def read(self, length: int = 1024 * 1024) -> bytes:
        self.require_object_exists()
        data = self._in_ns(self.ioctx.read, self.key, length, self.offset)
        self.offset += len(data)
        return data

    def write(self, string_to_write: bytes) -> int:
        self.require_object_exists()
        ret = self._in_ns(self.ioctx.write, self.key, string_to_write, self.offset)
        self.offset += len(string_to_write)
        return ret

    def remove(self) -> None:
        self.require_object_exists()
        self._in_ns(self.ioctx.remove_object, self.key)
        self.state = "removed"

    def stat(self) -> tuple[int, time.struct_time]:
        self.require_object_exists()
        return self._in_ns(self.ioctx.stat, self.key)

    def seek(self, position: int) -> None:
        self.require_object_exists()
        self.offset = position

    def get_xattr(self, xattr_name: str) -> bytes:
        self.require_object_exists()
        return self._in_ns(self.ioctx.get_xattr, self.key, xattr_name)

    def get_xattrs(self) -> XattrIterator:
        self.require_object_exists()
        return self._in_ns(self.ioctx.get_xattrs, self.key)

    def set_xattr(self, xattr_name: str, xattr_value: bytes) -> bool:
        self.require_object_exists()
        return self._in_ns(self.ioctx.set_xattr, self.key, xattr_name, xattr_value)

    def rm_xattr(self, xattr_name: str) -> bool:
        self.require_object_exists()
        return self._in_ns(self.ioctx.rm_xattr, self.key, xattr_name)


class ObjectIterator:
    """Iterates over the objects of the ioctx's namespace (or of all, with LIBRADOS_ALL_NSPACES)."""

    def __init__(self, ioctx: Ioctx) -> None:
        self.ioctx = ioctx
        ns = None if ioctx.nspace == LIBRADOS_ALL_NSPACES else ioctx._ns
        with _translate(f"error iterating over the objects in ioctx '{ioctx.name}'"):
            self._it = ioctx._cluster.list_objects(ioctx.name, ns)

    def __iter__(self) -> ObjectIterator:
        return self

    def __next__(self) -> Object:
        try:
            ns, name = next(self._it)
        except StorageError:
            raise StopIteration from None  # python-rados ends the listing on any error
        return Object(self.ioctx, name, None, ns)


class XattrIterator:
    """Iterates over an object's (name, value) xattr pairs."""

    def __init__(self, ioctx: Ioctx, oid: str) -> None:
        self.ioctx = ioctx
        self.oid = oid.encode()
        with _translate(f"Failed to get rados xattrs for object {oid!r}"):
            self._it = iter(ioctx._cluster.get_xattrs(ioctx.name, ioctx._ns, oid).items())

    def __iter__(self) -> XattrIterator:
        return self

    def __next__(self) -> tuple[str, bytes]:
        return next(self._it)
