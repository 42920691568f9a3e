"""The core (``librgw.connect``) as a gateway worker process uses it: one connection per process.

Gunicorn forks its workers after loading the pipeline, so a connection made in the master
must not be used in a worker: each worker connects on first use, and again if it finds
itself in a new process. The cluster is the filter's or app's ``cluster`` setting, which
``$LIBRGW_CLUSTER`` overrides.
"""

from __future__ import annotations

import os
import threading

import librgw

CLUSTER_ENV = "LIBRGW_CLUSTER"
DEFAULT_CLUSTER = "data/cluster.conf"


def cluster_spec(conf: dict) -> str:
    return os.environ.get(CLUSTER_ENV) or conf.get("cluster", DEFAULT_CLUSTER)


class WorkerConnection:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._rgw: librgw.RGW | None = None
        self._pid = 0
        self._lock = threading.Lock()

    @property
    def rgw(self) -> librgw.RGW:
        with self._lock:
            if self._rgw is None or self._pid != os.getpid():
                self._rgw, self._pid = librgw.connect(self.spec), os.getpid()
            return self._rgw
