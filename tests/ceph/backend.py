"""A throwaway real Ceph cluster for the tests of the ``ceph:`` backend.

``cluster.sh`` brings one up (1 mon, 1 mgr, 3 memstore OSDs on 127.0.0.1, cephx on) from
Debian's packages, which ``make test`` installs (``make ceph``). One cluster serves the
whole test session; ``wipe`` returns it to the state a new embedded cluster starts in
(no objects, no pools but RGW's) before each test that uses it, much faster than new pools.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

from librgw import rados
from librgw.zone import DATA_POOL, REPLICATED_POOLS

SCRIPT = Path(__file__).with_name("cluster.sh")
DAEMONS = ("ceph-mon", "ceph-mgr", "ceph-osd", "ceph", "rados")
KEEP_POOLS = {"device_health_metrics", *REPLICATED_POOLS, DATA_POOL}  # the mgr's, and RGW's
BRING_UP_TIMEOUT_S = 180


def unavailable() -> str | None:
    """Why this machine cannot run the Ceph tests, or None if it can."""
    missing = [d for d in DAEMONS if shutil.which(d) is None]
    if missing:
        return f"{', '.join(missing)} not installed (make ceph installs them, as root or with sudo)"
    if importlib.util.find_spec("rados") is None:
        return "Ceph's rados module is not importable in this venv (tests/ceph/venv_rados.sh makes it so)"
    return None


def bring_up(directory: Path) -> str:
    """Start a cluster in ``directory``; returns its ceph.conf. Raises with the script's log on failure."""
    done = subprocess.run(
        ["bash", str(SCRIPT), "up", str(directory), str(BRING_UP_TIMEOUT_S)],
        capture_output=True,
        text=True,
        timeout=BRING_UP_TIMEOUT_S + 60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tests/ceph/cluster.sh up failed:\n{done.stderr[-4000:]}")
    return done.stdout.strip().splitlines()[-1]


def tear_down(directory: Path) -> None:
    subprocess.run(["bash", str(SCRIPT), "down", str(directory)], capture_output=True, timeout=60)


def mon(client: rados.Rados, prefix: str, **args) -> object:
    ret, out, outs = client.mon_command(json.dumps({"prefix": prefix, "format": "json", **args}), b"")
    if ret != 0:
        raise RuntimeError(f"{prefix}: {outs} ({ret})")
    return json.loads(out) if out else None


def wipe(conf: str) -> None:
    """Remove every object from RGW's pools, and every other pool (a test's own, or an EC data pool)."""
    with rados.Rados(conffile=rados.CEPH_PREFIX + conf) as client:
        for pool in mon(client, "osd pool ls", detail="detail"):
            name = pool["pool_name"]
            if name not in KEEP_POOLS or pool.get("erasure_code_profile"):
                mon(client, "osd pool rm", pool=name, pool2=name, yes_i_really_really_mean_it=True)
                continue
            if name == "device_health_metrics":
                continue
            with client.open_ioctx(name) as ioctx:
                ioctx.set_namespace(rados.LIBRADOS_ALL_NSPACES)
                names = [(o.nspace, o.key) for o in ioctx.list_objects()]
                for nspace, key in names:
                    ioctx.set_namespace(nspace)
                    ioctx.remove_object(key)
