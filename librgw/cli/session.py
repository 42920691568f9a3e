"""The CLI's connection to the cluster: which conf file, the ``Rados`` handle, monitor commands.

The conf file is ``-c/--conf``, else ``$LIBRGW_CONF``, else ``data/cluster.conf``; or
``ceph:<path to ceph.conf>`` for a Ceph cluster, where the commands that only the embedded
engine has (recovery, scrub, adding an OSD) say what Ceph does instead.
Monitor commands go through ``Rados.mon_command`` as a python-rados program would send
them to Ceph, so the CLI speaks the same JSON protocol; a negative return becomes a
``CommandError`` naming the command, the monitor's message and the errno
(``osd pool set: pool 'x': no such object (ENOENT)``).
"""

from __future__ import annotations

import errno
import json
import os
from typing import Any

from librgw import rados
from librgw.storage.cluster import Cluster

from .errors import CommandError

CONF_ENV = "LIBRGW_CONF"
DEFAULT_CONF = "data/cluster.conf"


def resolve_conf(conf: str | None) -> str:
    return conf or os.environ.get(CONF_ENV) or DEFAULT_CONF


def absolute(conf: str) -> str:
    """``conf`` with its file's path made absolute (a ``ceph:`` spec keeps its prefix and options)."""
    if conf.startswith(rados.CEPH_PREFIX):
        path, mark, options = conf.removeprefix(rados.CEPH_PREFIX).partition("?")
        return rados.CEPH_PREFIX + os.path.abspath(path) + mark + options
    return os.path.abspath(conf)


def connect(conf_path: str) -> rados.Rados:
    """A connected handle on the cluster of ``conf_path`` (or ``ceph:<ceph.conf>``); the caller shuts it down."""
    path = conf_path.removeprefix(rados.CEPH_PREFIX).partition("?")[0]
    if not os.path.isfile(path):
        raise CommandError(f"{path}: no such conf file (pass -c CONF or set ${CONF_ENV})")
    handle = rados.Rados(conffile=conf_path)
    handle.connect()
    return handle


def on_ceph(handle: rados.Rados) -> bool:
    return not isinstance(handle, rados.Rados)  # rados.Rados(conffile="ceph:...") is a CephRados


def embedded_cluster(handle: rados.Rados, on_ceph_instead: str) -> Cluster:
    """The embedded engine behind ``handle``; on Ceph, a ``CommandError`` saying what Ceph does instead."""
    if on_ceph(handle):
        raise CommandError(on_ceph_instead)
    return handle.cluster


def mon_command(handle: rados.Rados, prefix: str, **args: object) -> tuple[Any, str]:
    """Run a monitor command; returns (decoded JSON output or None, status line)."""
    ret, outbuf, outs = handle.mon_command(json.dumps({"prefix": prefix, "format": "json", **args}), b"")
    if ret < 0:
        code = errno.errorcode.get(-ret, str(-ret))
        raise CommandError(f"{prefix}: {outs or os.strerror(-ret)} ({code})")
    return (json.loads(outbuf) if outbuf else None), outs
