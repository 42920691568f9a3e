"""The python-rados API on a real Ceph cluster: ``rados.Rados(conffile="ceph:/etc/ceph/ceph.conf")``.

Debian's ``python3-rados`` (the ``rados`` extension Ceph ships, Pacific) does the work; this
module only makes it indistinguishable from the embedded backend to the code above it:

- its exceptions come back as ``librgw.rados``'s classes of the same name and errno, so
  the core catches one set whichever backend it runs on;
- compound ops are built with ``librgw.rados.WriteOpCtx``/``ReadOpCtx`` (the core does
  not know the backend), which record their steps; ``operate_write_op``/``operate_read_op``
  replay them onto Ceph's own ops, at once, so they stay atomic.

The spec may carry the client's name and keyring as a query, as python-rados takes them:
``ceph:/etc/ceph/ceph.conf?name=client.rgw&keyring=/etc/ceph/ceph.client.rgw.keyring``
(any other ``key=value`` is a conf option). ``$CEPH_ARGS`` is honoured as by Ceph's tools.
"""

from __future__ import annotations

import errno
import functools
import os
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl

from . import rados_api

INSTALL_HINT = "install Debian's python3-rados and run tests/ceph/venv_rados.sh (make ceph does both)"


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """(path of ceph.conf, options) of ``ceph:<path>[?option=value&...]``."""
    path, _, query = spec.removeprefix(rados_api.CEPH_PREFIX).partition("?")
    if not path:
        raise rados_api.InvalidArgumentError(f"{spec!r}: expected ceph:<path to ceph.conf>")
    return path, dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))


def _ceph():
    try:
        import rados as ceph_rados  # Debian's python3-rados, not librgw.rados
    except ImportError as e:
        raise rados_api.Error(f"the ceph: backend needs Ceph's rados module ({e}): {INSTALL_HINT}") from None
    return ceph_rados


def _translated(error: Exception) -> Exception:
    """The ``librgw.rados`` exception for one of python-rados's (anything else as it is)."""
    ceph_rados = _ceph()
    if not isinstance(error, ceph_rados.Error):
        return error
    code = getattr(error, "errno", None)
    cls = getattr(rados_api, type(error).__name__, None)
    if not (isinstance(cls, type) and issubclass(cls, rados_api.Error)):
        cls = type(rados_api.make_ex(code, "")) if code else rados_api.Error
    translated = cls.__new__(cls)
    rados_api.Error.__init__(translated, error.args[0] if error.args else str(error), code)  # the prefixed message
    return translated


def _call(fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)``, with python-rados's errors raised as ``librgw.rados``'s."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:
        translated = _translated(e)
        if translated is e:
            raise
        raise translated from None


def _iterating(it) -> Iterator:
    """An iterator over ``it`` whose errors are translated too."""
    while (item := _call(next, it, StopIteration)) is not StopIteration:
        yield item


class _Forwarding:
    """Forwards attributes (``state``, ``name``, ...) to the python-rados object."""

    _real: object

    def __getattr__(self, name: str):
        value = getattr(self._real, name)
        return functools.partial(_call, value) if callable(value) else value


def _forwarded(name: str) -> Callable:
    """A method calling python-rados's of that name, translating its errors."""

    def method(self, *args, **kwargs):
        return _call(getattr(self._real, name), *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


def _forwarding_methods(cls: type, names: str) -> type:
    for name in names.split():
        setattr(cls, name, _forwarded(name))
    return cls


class CephRados(_Forwarding, rados_api.ConnectedInContext):
    """``rados.Rados`` on a Ceph cluster; takes python-rados's arguments, ``conffile`` a ``ceph:`` spec."""

    def __init__(  # noqa: PLR0913 - python-rados's signature
        self,
        rados_id: str | None = None,
        name: str | None = None,
        clustername: str | None = None,
        conf_defaults: dict | None = None,
        conffile: str | None = None,
        conf: dict | None = None,
        flags: int = 0,
        context: object = None,
    ) -> None:
        path, options = parse_spec(conffile)
        if not os.path.isfile(path):
            raise rados_api.ObjectNotFound(f"{path}: no such ceph.conf", errno=errno.ENOENT)
        rados_id = options.pop("id", rados_id)
        name = options.pop("name", name)
        self._real = _call(
            _ceph().Rados,
            rados_id=rados_id,
            name=name,
            clustername=clustername,
            conf_defaults=conf_defaults,
            conffile=path,
            conf={**options, **(conf or {})},
            flags=flags,
        )
        self._real.conf_parse_env()

    @property
    def cluster(self):
        raise AttributeError("a Ceph cluster has no embedded engine: use mon_command and Ceph's own tools")

    def open_ioctx(self, ioctx_name: str) -> CephIoctx:
        return CephIoctx(_call(self._real.open_ioctx, ioctx_name))

    def open_ioctx2(self, pool_id: int) -> CephIoctx:
        return CephIoctx(_call(self._real.open_ioctx2, pool_id))


class CephIoctx(_Forwarding, rados_api.ClosedAfterContext, rados_api.CompoundOpBuilder):
    """``rados.Ioctx`` on a Ceph pool."""

    def __init__(self, real) -> None:
        self._real = real

    def list_objects(self) -> Iterator:
        return _iterating(_call(self._real.list_objects))

    def get_xattrs(self, oid: str) -> Iterator[tuple[str, bytes]]:
        return _iterating(_call(self._real.get_xattrs, oid))

    def operate_write_op(
        self, write_op: rados_api.WriteOp, oid: str, mtime: int = 0, flags: int = rados_api.LIBRADOS_OPERATION_NOFLAG
    ) -> None:
        steps = write_op.steps(oid)
        ceph_rados = _ceph()
        with ceph_rados.WriteOpCtx() as op:
            for step in steps:
                _WRITE_STEPS[step[0]](self._real, op, *step[1:])
            _call(self._real.operate_write_op, op, oid, mtime, flags)

    def operate_read_op(
        self, read_op: rados_api.ReadOp, oid: str, flag: int = rados_api.LIBRADOS_OPERATION_NOFLAG
    ) -> None:
        ceph_rados = _ceph()
        with ceph_rados.ReadOpCtx() as op:
            answers = []
            for it, query, with_values in read_op.queries:
                if "keys" in query:
                    real_it, _ = self._real.get_omap_vals_by_keys(op, tuple(query["keys"]))
                elif with_values:
                    real_it, _ = self._real.get_omap_vals(
                        op, query["start_after"], query["prefix"], query["max_return"]
                    )
                else:
                    real_it, _ = self._real.get_omap_keys(op, query["start_after"], query["max_return"])
                answers.append((it, real_it, with_values))
            if not answers:
                _call(self._real.stat, oid)  # an empty read op still fails on a missing object
                return
            _call(self._real.operate_read_op, op, oid, flag)
            for it, real_it, with_values in answers:
                it.fill([(k, v if with_values else None) for k, v in _iterating(real_it)])


_forwarding_methods(
    CephRados,
    "version conf_read_file conf_parse_argv conf_parse_env conf_get conf_set connect shutdown get_instance_id"
    " get_fsid get_cluster_stats pool_exists pool_lookup pool_reverse_lookup create_pool delete_pool list_pools"
    " get_pool_base_tier get_inconsistent_pgs mon_command wait_for_latest_osdmap require_state",
)
_forwarding_methods(
    CephIoctx,
    "write write_full append writesame read stat trunc remove_object get_xattr set_xattr rm_xattr set_namespace"
    " get_namespace set_locator_key get_locator_key get_pool_id get_pool_name get_last_version get_stats"
    " lock_exclusive lock_shared unlock execute close require_ioctx_open application_enable application_list",
)

# One replay per step kind ``librgw.rados.WriteOp`` records: (real ioctx, real op, *arguments).
_WRITE_STEPS: dict[str, Callable] = {
    "create": lambda io, op, exclusive: op.new(
        rados_api.LIBRADOS_CREATE_EXCLUSIVE if exclusive else rados_api.LIBRADOS_CREATE_IDEMPOTENT
    ),
    "remove": lambda io, op: op.remove(),
    "setxattr": lambda io, op, name, value: op.set_xattr(name, bytes(value)),
    "rmxattr": lambda io, op, name: op.rm_xattr(name),
    "append": lambda io, op, data: op.append(bytes(data)),
    "write_full": lambda io, op, data: op.write_full(bytes(data)),
    "write": lambda io, op, offset, data: op.write(bytes(data), offset),
    "assert_version": lambda io, op, version: op.assert_version(version),
    "zero": lambda io, op, offset, length: op.zero(offset, length),
    "truncate": lambda io, op, offset: op.truncate(offset),
    # python-rados takes the value as str: the core's compared values are JSON text
    "omap_cmp": lambda io, op, key, value, cmp_op: op.omap_cmp(key, bytes(value).decode("utf-8"), cmp_op),
    "omap_set": lambda io, op, entries: io.set_omap(op, tuple(entries), tuple(bytes(v) for v in entries.values())),
    "omap_rm": lambda io, op, keys: io.remove_omap_keys(op, tuple(keys)),
    "omap_clear": lambda io, op: io.clear_omap(op),
    "omap_rm_range": lambda io, op, begin, end: io.remove_omap_range2(op, begin, end),
}
