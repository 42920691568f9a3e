"""``cluster.conf``: the embedded cluster's settings, in ceph.conf's INI dialect.

``[global]`` holds the fsid and defaults (option names as Ceph spells them; spaces and
underscores are interchangeable, as in Ceph); one ``[osd.N]`` section per OSD gives its
``osd data`` directory (relative paths are relative to the cluster directory, so OSDs may
live on other disks) and its ``host``, the unit of the ``host`` failure domain.
The cluster map (``osdmap.json`` beside it) holds the state that changes: see ``osdmap.py``.
"""

from __future__ import annotations

import configparser
import io
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .atomic_file import atomic_write
from .errors import invalid

DEFAULT_POOL_SIZE = 3
DEFAULT_POOL_MIN_SIZE = 2
DEFAULT_PG_NUM = 128
DEFAULT_FAILURE_DOMAIN = "osd"
DEFAULT_EC_STRIPE_UNIT = 64 * 1024
DEFAULT_OSD_DOWN_OUT_INTERVAL = 600
DEFAULT_OSD_HEARTBEAT_INTERVAL = 6
DEFAULT_OSD_RECOVERY_SLEEP = 0.0
DEFAULT_SCRUB_AUTO_REPAIR = False  # as Ceph: a deep scrub only reports unless asked to repair
DEFAULT_SCRUB_AUTO_REPAIR_NUM_ERRORS = 5
# PG log entries kept per copy (Ceph's names and sense): a clean PG keeps the last "min",
# a degraded one up to "max", so a copy away for a while catches up from the log.
DEFAULT_OSD_MIN_PG_LOG_ENTRIES = 250
DEFAULT_OSD_MAX_PG_LOG_ENTRIES = 3000
FAILURE_DOMAINS = ("osd", "host")


def _norm(key: str) -> str:
    return " ".join(key.replace("_", " ").split())


@dataclass
class ClusterConfig:
    path: Path
    fsid: str
    osd_paths: dict[int, Path] = field(default_factory=dict)
    osd_hosts: dict[int, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def cluster_dir(self) -> Path:
        return self.path.parent

    def get_int(self, name: str, default: int) -> int:
        value = self.options.get(_norm(name))
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise invalid(f"{self.path}: '{name}' must be an integer, not {value!r}") from None

    def get_bool(self, name: str, default: bool) -> bool:
        value = self.options.get(_norm(name))
        if value is None:
            return default
        if value.lower() in ("true", "yes", "on", "1"):
            return True
        if value.lower() in ("false", "no", "off", "0"):
            return False
        raise invalid(f"{self.path}: '{name}' must be true or false, not {value!r}")

    @property
    def default_size(self) -> int:
        return self.get_int("osd pool default size", DEFAULT_POOL_SIZE)

    @property
    def default_min_size(self) -> int:
        return self.get_int("osd pool default min size", DEFAULT_POOL_MIN_SIZE)

    @property
    def default_pg_num(self) -> int:
        return self.get_int("osd pool default pg num", DEFAULT_PG_NUM)

    @property
    def ec_stripe_unit(self) -> int:
        return self.get_int("osd pool erasure code stripe unit", DEFAULT_EC_STRIPE_UNIT)

    @property
    def down_out_interval(self) -> int:
        """Seconds an OSD stays down before it is marked out and its data re-replicated."""
        return self.get_int("mon osd down out interval", DEFAULT_OSD_DOWN_OUT_INTERVAL)

    @property
    def heartbeat_interval(self) -> int:
        """Seconds between a process's checks of OSD directories (down ones back? up ones gone?)."""
        return self.get_int("osd heartbeat interval", DEFAULT_OSD_HEARTBEAT_INTERVAL)

    @property
    def recovery_sleep(self) -> float:
        """Seconds recovery pauses after each object, leaving the disks to client I/O."""
        value = self.options.get(_norm("osd recovery sleep"))
        try:
            return DEFAULT_OSD_RECOVERY_SLEEP if value is None else float(value)
        except ValueError:
            raise invalid(f"{self.path}: 'osd recovery sleep' must be a number, not {value!r}") from None

    @property
    def scrub_auto_repair(self) -> bool:
        return self.get_bool("osd scrub auto repair", DEFAULT_SCRUB_AUTO_REPAIR)

    @property
    def scrub_auto_repair_num_errors(self) -> int:
        return self.get_int("osd scrub auto repair num errors", DEFAULT_SCRUB_AUTO_REPAIR_NUM_ERRORS)

    @cached_property  # read by every write
    def min_pg_log_entries(self) -> int:
        return self.get_int("osd min pg log entries", DEFAULT_OSD_MIN_PG_LOG_ENTRIES)

    @cached_property
    def max_pg_log_entries(self) -> int:
        return self.get_int("osd max pg log entries", DEFAULT_OSD_MAX_PG_LOG_ENTRIES)

    @property
    def failure_domain(self) -> str:
        value = self.options.get(_norm("osd crush chooseleaf type"), DEFAULT_FAILURE_DOMAIN)
        value = {"0": "osd", "1": "host"}.get(value, value)
        if value not in FAILURE_DOMAINS:
            raise invalid(f"{self.path}: 'osd crush chooseleaf type' must be one of {FAILURE_DOMAINS}")
        return value

    def osd_data(self, osd_id: int) -> Path:
        path = self.osd_paths[osd_id]
        return path if path.is_absolute() else self.cluster_dir / path

    @classmethod
    def load(cls, path: str | Path) -> ClusterConfig:
        path = Path(path)
        parser = configparser.ConfigParser(interpolation=None)
        try:
            with open(path, encoding="utf-8") as f:
                parser.read_file(f)
        except configparser.Error as e:
            raise invalid(f"{path}: not a valid cluster.conf: {e}") from None
        options = {_norm(k): v for k, v in parser["global"].items()} if "global" in parser else {}
        if "fsid" not in options:
            raise invalid(f"{path}: no fsid in [global]; is this a librgw cluster.conf?")
        conf = cls(path=path, fsid=options["fsid"], options=options)
        for section in parser.sections():
            if not section.startswith("osd."):
                continue
            try:
                osd_id = int(section[4:])
            except ValueError:
                raise invalid(f"{path}: bad section [{section}]") from None
            values = {_norm(k): v for k, v in parser[section].items()}
            conf.osd_paths[osd_id] = Path(values.get("osd data", f"osd.{osd_id}"))
            conf.osd_hosts[osd_id] = values.get("host", "localhost")
        return conf

    def render(self) -> str:
        parser = configparser.ConfigParser(interpolation=None)
        parser["global"] = {"fsid": self.fsid, **{k: v for k, v in self.options.items() if k != "fsid"}}
        for osd_id in sorted(self.osd_paths):
            parser[f"osd.{osd_id}"] = {
                "osd data": str(self.osd_paths[osd_id]),
                "host": self.osd_hosts.get(osd_id, "localhost"),
            }
        out = io.StringIO()
        out.write("# librgw embedded cluster configuration (ceph.conf dialect)\n")
        parser.write(out)
        return out.getvalue()

    def save(self) -> None:
        atomic_write(self.path, self.render().encode())


def new_config(cluster_dir: Path, osd_paths: list[Path], **options: str) -> ClusterConfig:
    conf = ClusterConfig(path=cluster_dir / "cluster.conf", fsid=str(uuid.uuid4()))
    conf.options = {
        "fsid": conf.fsid,
        "osd pool default size": str(DEFAULT_POOL_SIZE),
        "osd pool default min size": str(DEFAULT_POOL_MIN_SIZE),
        "osd pool default pg num": str(DEFAULT_PG_NUM),
        "osd crush chooseleaf type": DEFAULT_FAILURE_DOMAIN,
        "osd pool erasure code stripe unit": str(DEFAULT_EC_STRIPE_UNIT),
        "mon osd down out interval": str(DEFAULT_OSD_DOWN_OUT_INTERVAL),
        "osd scrub auto repair": str(DEFAULT_SCRUB_AUTO_REPAIR).lower(),
        "osd scrub auto repair num errors": str(DEFAULT_SCRUB_AUTO_REPAIR_NUM_ERRORS),
        **{_norm(k): v for k, v in options.items()},
    }
    for osd_id, path in enumerate(osd_paths):
        conf.osd_paths[osd_id] = path
        conf.osd_hosts[osd_id] = "localhost"
    return conf
