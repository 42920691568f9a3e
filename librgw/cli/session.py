"""The CLI's connection to the cluster: which conf file, the ``Rados`` handle, monitor commands.

The conf file is ``-c/--conf``, else ``$LIBRGW_CONF``, else ``data/cluster.conf``.
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

from .errors import CommandError

CONF_ENV = "LIBRGW_CONF"
DEFAULT_CONF = "data/cluster.conf"


def resolve_conf(conf: str | None) -> str:
    return conf or os.environ.get(CONF_ENV) or DEFAULT_CONF


def connect(conf_path: str) -> rados.Rados:
    """A connected handle on the cluster of ``conf_path``; the caller shuts it down."""
    if not os.path.isfile(conf_path):
        raise CommandError(f"{conf_path}: no such conf file (pass -c CONF or set ${CONF_ENV})")
    handle = rados.Rados(conffile=conf_path)
    handle.connect()
    return handle


def mon_command(handle: rados.Rados, prefix: str, **args: object) -> tuple[Any, str]:
    """Run a monitor command; returns (decoded JSON output or None, status line)."""
    ret, outbuf, outs = handle.mon_command(json.dumps({"prefix": prefix, **args}), b"")
    if ret < 0:
        code = errno.errorcode.get(-ret, str(-ret))
        raise CommandError(f"{prefix}: {outs or os.strerror(-ret)} ({code})")
    return (json.loads(outbuf) if outbuf else None), outs
