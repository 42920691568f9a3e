"""The half of the python-rados API both backends share: its constants and exceptions, the
compound ops (``WriteOp``/``ReadOp`` and the ``Ioctx`` methods that fill them), the omap
iterator, and ``Rados``'s and ``Ioctx``'s context-manager behaviour.

``librgw.rados`` (the embedded cluster) and ``ceph_backend.py`` (a real Ceph cluster, over
python3-rados) both build on this module and neither imports the other's internals: a
``WriteOp`` records its steps (``WriteOp.steps``: ``(kind, *arguments)`` tuples) and a
``ReadOp`` its omap queries (``ReadOp.queries``), and each backend's ``operate_write_op``
/``operate_read_op`` carries them out, filling each query's ``OmapIterator``. Code above
the backends uses these names through ``librgw.rados``, as it would Ceph's ``rados``.
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Sequence

LIBRADOS_OP_FLAG_EXCL = 0x1
LIBRADOS_OP_FLAG_FAILOK = 0x2
LIBRADOS_OP_FLAG_FADVISE_RANDOM = 0x4
LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL = 0x8
LIBRADOS_OP_FLAG_FADVISE_WILLNEED = 0x10
LIBRADOS_OP_FLAG_FADVISE_DONTNEED = 0x20
LIBRADOS_OP_FLAG_FADVISE_NOCACHE = 0x40
LIBRADOS_CMPXATTR_OP_EQ = 1
LIBRADOS_CMPXATTR_OP_NE = 2
LIBRADOS_CMPXATTR_OP_GT = 3
LIBRADOS_CMPXATTR_OP_GTE = 4
LIBRADOS_CMPXATTR_OP_LT = 5
LIBRADOS_CMPXATTR_OP_LTE = 6
LIBRADOS_SNAP_HEAD = 0xFFFFFFFFFFFFFFFE
LIBRADOS_OPERATION_NOFLAG = 0
LIBRADOS_OPERATION_BALANCE_READS = 1
LIBRADOS_OPERATION_LOCALIZE_READS = 2
LIBRADOS_OPERATION_ORDER_READS_WRITES = 4
LIBRADOS_OPERATION_IGNORE_CACHE = 8
LIBRADOS_OPERATION_SKIPRWLOCKS = 16
LIBRADOS_OPERATION_IGNORE_OVERLAY = 32
LIBRADOS_ALL_NSPACES = "\x01"
LIBRADOS_CREATE_EXCLUSIVE = 1
LIBRADOS_CREATE_IDEMPOTENT = 0
MAX_ERRNO = 4095

CEPH_PREFIX = "ceph:"  # conffile="ceph:<path to ceph.conf>" is a real Ceph cluster

# -- exceptions: the python-rados hierarchy ---------------------------------------

# The module the exceptions say they are from: the one code above the backends imports
# them from (``from librgw import rados``), as python-rados's say ``rados``; both backends
# raise these same classes.
EXCEPTIONS_MODULE = "librgw.rados"


class Error(Exception):
    """Base class of every rados error."""

    __module__ = EXCEPTIONS_MODULE

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errno = errno

    def __str__(self) -> str:
        return self.message if self.errno is None else f"[errno {self.errno}] {self.message}"

    def __reduce__(self):
        return (self.__class__, (self.message, self.errno))


def _prefixed(name: str, base: type, prefix: str) -> type:
    def __init__(self, message: str, errno: int | None = None) -> None:
        base.__init__(self, f"{prefix} ({message})", errno)

    return type(name, (base,), {"__init__": __init__, "__doc__": f"{prefix}.", "__module__": EXCEPTIONS_MODULE})


class OSError(Error):  # noqa: A001 - python-rados shadows the builtin on purpose
    """An error with an errno from the cluster."""

    __module__ = EXCEPTIONS_MODULE


InvalidArgumentError = _prefixed("InvalidArgumentError", Error, "RADOS invalid argument")
InterruptedOrTimeoutError = _prefixed("InterruptedOrTimeoutError", OSError, "RADOS interrupted or timeout")
PermissionError = _prefixed("PermissionError", OSError, "RADOS permission error")  # noqa: A001
PermissionDeniedError = _prefixed("PermissionDeniedError", OSError, "RADOS permission denied")
ObjectNotFound = _prefixed("ObjectNotFound", OSError, "RADOS object not found")
NoData = _prefixed("NoData", OSError, "RADOS no data")
ObjectExists = _prefixed("ObjectExists", OSError, "RADOS object exists")
ObjectBusy = _prefixed("ObjectBusy", OSError, "RADOS object busy")
IOError = _prefixed("IOError", OSError, "RADOS I/O error")  # noqa: A001
NoSpace = _prefixed("NoSpace", OSError, "RADOS no space")
NotConnected = _prefixed("NotConnected", OSError, "RADOS not connected")
TimedOut = _prefixed("TimedOut", OSError, "RADOS timed out")
ConnectionShutdown = _prefixed("ConnectionShutdown", OSError, "RADOS connection was shutdown")
RadosStateError = _prefixed("RadosStateError", Error, "RADOS rados state")
IoctxStateError = _prefixed("IoctxStateError", Error, "RADOS Ioctx state error")
ObjectStateError = _prefixed("ObjectStateError", Error, "RADOS object state error")
LogicError = _prefixed("LogicError", Error, "RADOS logic error")
InProgress = _prefixed("InProgress", Error, "RADOS in progress error")
IsConnected = _prefixed("IsConnected", Error, "RADOS is connected error")

_ERRNO_TO_EXCEPTION = {
    _errno.EPERM: PermissionError,
    _errno.ENOENT: ObjectNotFound,
    _errno.EIO: IOError,
    _errno.ENOSPC: NoSpace,
    _errno.EEXIST: ObjectExists,
    _errno.EBUSY: ObjectBusy,
    _errno.ENODATA: NoData,
    _errno.EINTR: InterruptedOrTimeoutError,
    _errno.ETIMEDOUT: TimedOut,
    _errno.EACCES: PermissionDeniedError,
    _errno.EINVAL: InvalidArgumentError,
    _errno.EINPROGRESS: InProgress,
    _errno.EISCONN: IsConnected,
    _errno.ENOTCONN: NotConnected,
    _errno.ESHUTDOWN: ConnectionShutdown,
}


def make_ex(ret: int, msg: str) -> Error:
    """The exception python-rados raises for a negative (or positive) errno ``ret``."""
    ret = abs(ret)
    cls = _ERRNO_TO_EXCEPTION.get(ret)
    return cls(msg, errno=ret) if cls else OSError(msg, errno=ret)


# -- argument conversion --------------------------------------------------------


def name_arg(value: str | bytes, what: str) -> str:
    """A name argument (``what``) as python-rados takes it: str, or UTF-8 bytes."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    raise TypeError(f"{what} must be a string")


def data_arg(value, what: str = "data") -> bytes | memoryview:
    """A data argument (``what``) as python-rados takes it: bytes-like, or str encoded as UTF-8."""
    if isinstance(value, bytes | bytearray | memoryview):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"{what} must be bytes")


# -- context managers and compound ops ---------------------------------------------


class ConnectedInContext:
    """``with Rados(...) as cluster:`` connects, and shuts down at the end (both backends)."""

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.shutdown()
        return False


class ClosedAfterContext:
    """``with cluster.open_ioctx(pool) as ioctx:`` closes it at the end (both backends)."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.close()
        return False


class CompoundOpBuilder:
    """The ``Ioctx`` methods that only add steps to a ``WriteOp`` or queries to a ``ReadOp``.

    Shared by both backends: the ops record what to do, and each backend's
    ``operate_write_op``/``operate_read_op`` carries it out.
    """

    def create_write_op(self) -> WriteOp:
        return WriteOp().create()

    def create_read_op(self) -> ReadOp:
        return ReadOp().create()

    def release_write_op(self, write_op: WriteOp) -> None:
        write_op.release()

    def release_read_op(self, read_op: ReadOp) -> None:
        read_op.release()

    def set_omap(self, write_op: WriteOp, keys: Sequence[str], values: Sequence[bytes]) -> None:
        if len(keys) != len(values):
            raise Error("Rados(): keys and values must have the same number of items")
        write_op._ops.append(("omap_set", {name_arg(k, "key"): data_arg(v, "value") for k, v in zip(keys, values)}))

    def remove_omap_keys(self, write_op: WriteOp, keys: Sequence[str]) -> None:
        write_op._ops.append(("omap_rm", [name_arg(k, "key") for k in keys]))

    def clear_omap(self, write_op: WriteOp) -> None:
        write_op._ops.append(("omap_clear",))

    def remove_omap_range2(self, write_op: WriteOp, key_begin: str, key_end: str) -> None:
        write_op._ops.append(("omap_rm_range", name_arg(key_begin, "key_begin"), name_arg(key_end, "key_end")))

    def get_omap_vals(
        self, read_op: ReadOp, start_after: str, filter_prefix: str, max_return: int
    ) -> tuple[OmapIterator, int]:
        it = OmapIterator(self)
        query = {
            "start_after": name_arg(start_after or "", "start_after"),
            "prefix": name_arg(filter_prefix or "", "filter_prefix"),
        }
        read_op._queries.append((it, {**query, "max_return": max_return}, True))
        return it, 0

    def get_omap_keys(self, read_op: ReadOp, start_after: str, max_return: int) -> tuple[OmapIterator, int]:
        it = OmapIterator(self)
        read_op._queries.append(
            (it, {"start_after": name_arg(start_after or "", "start_after"), "max_return": max_return}, False)
        )
        return it, 0

    def get_omap_vals_by_keys(self, read_op: ReadOp, keys: Sequence[str]) -> tuple[OmapIterator, int]:
        it = OmapIterator(self)
        read_op._queries.append((it, {"keys": [name_arg(k, "key") for k in keys]}, True))
        return it, 0


class OmapIterator:
    """(key, value) pairs from a ReadOp's omap query, filled in by ``operate_read_op``."""

    def __init__(self, ioctx: CompoundOpBuilder) -> None:
        self.ioctx = ioctx
        self._entries: list[tuple[str, bytes | None]] = []
        self._pos = 0

    def fill(self, entries: list[tuple[str, bytes | None]]) -> None:
        """Give the iterator its query's answer (the backend's ``operate_read_op`` does)."""
        self._entries = entries
        self._pos = 0

    def __iter__(self) -> OmapIterator:
        return self

    def __next__(self) -> tuple[str, bytes | None]:
        if self._pos >= len(self._entries):
            raise StopIteration
        self._pos += 1
        return self._entries[self._pos - 1]


class _OpCtx:
    def __enter__(self):
        return self.create()

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.release()
        return False


class WriteOp:
    """A compound write: its steps apply to one object atomically at ``operate_write_op``."""

    def __init__(self) -> None:
        self._ops: list[tuple] = []
        self._unsupported = ""

    def create(self) -> WriteOp:
        self._ops = []
        return self

    def release(self) -> None:
        self._ops = []

    def new(self, exclusive: int) -> None:
        if exclusive is None:
            raise TypeError("an integer is required")
        self._ops.append(("create", bool(exclusive)))

    def remove(self) -> None:
        self._ops.append(("remove",))

    def set_flags(self, flags: int = LIBRADOS_OPERATION_NOFLAG) -> None:
        pass  # fadvise hints and FAILOK do not change what the embedded store does

    def set_xattr(self, xattr_name: str, xattr_value: bytes) -> None:
        self._ops.append(("setxattr", name_arg(xattr_name, "xattr_name"), data_arg(xattr_value, "xattr_value")))

    def rm_xattr(self, xattr_name: str) -> None:
        self._ops.append(("rmxattr", name_arg(xattr_name, "xattr_name")))

    def append(self, to_write: bytes) -> None:
        self._ops.append(("append", data_arg(to_write)))

    def write_full(self, to_write: bytes) -> None:
        self._ops.append(("write_full", data_arg(to_write)))

    def write(self, to_write: bytes, offset: int = 0) -> None:
        self._ops.append(("write", offset, data_arg(to_write)))

    def writesame(self, to_write: bytes, write_len: int, offset: int = 0) -> None:
        data = bytes(data_arg(to_write))
        self._ops.append(("write", offset, data * (write_len // max(len(data), 1))))

    def assert_version(self, version: int) -> None:
        self._ops.append(("assert_version", version))

    def zero(self, offset: int, length: int) -> None:
        self._ops.append(("zero", offset, length))

    def truncate(self, offset: int) -> None:
        self._ops.append(("truncate", offset))

    def execute(self, cls: str, method: str, data: bytes) -> None:
        self._unsupported = f"object class {cls}.{method} is not supported"

    def omap_cmp(self, key: str, val: str | bytes, cmp_op: int = LIBRADOS_CMPXATTR_OP_EQ) -> None:
        self._ops.append(("omap_cmp", name_arg(key, "key"), data_arg(val, "val"), cmp_op))

    def steps(self, oid: str) -> list[tuple]:
        """The recorded steps, ``(kind, *arguments)`` each, for a backend to apply to ``oid``;
        python-rados's EOPNOTSUPP error if one of them is not supported."""
        if self._unsupported:
            raise make_ex(_errno.EOPNOTSUPP, f"Failed to operate write op for oid {oid}: {self._unsupported}")
        return list(self._ops)


class ReadOp:
    """A compound read: omap queries run at ``operate_read_op`` and fill their iterators."""

    def __init__(self) -> None:
        self._queries: list[tuple[OmapIterator, dict, bool]] = []

    def create(self) -> ReadOp:
        self._queries = []
        return self

    def release(self) -> None:
        self._queries = []

    @property
    def queries(self) -> list[tuple[OmapIterator, dict, bool]]:
        """The omap queries, in order: (the iterator to fill, the query, whether it wants values)."""
        return list(self._queries)

    def set_flags(self, flags: int = LIBRADOS_OPERATION_NOFLAG) -> None:
        pass


class WriteOpCtx(WriteOp, _OpCtx):
    """``with rados.WriteOpCtx() as op:`` ... ``ioctx.operate_write_op(op, oid)``."""


class ReadOpCtx(ReadOp, _OpCtx):
    """``with rados.ReadOpCtx() as op:`` ... ``ioctx.operate_read_op(op, oid)``."""
