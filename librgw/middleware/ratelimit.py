"""``ratelimit``: Swift's rate limits on the requests that write account and container listings.

Each limited request takes the next free moment of its key, and waits (sleeps) until then;
a request that would wait ``max_sleep_time_seconds`` or more is refused at once with Swift's
``498 Rate Limited`` and the body ``Slow down``, plus a ``Retry-After`` (whole seconds until
the wait would fit). The keys and their rates (requests per second), as Swift's:

- ``account_ratelimit``: a container PUT or DELETE (``/v1/<account>/<container>``), per account;
- ``container_ratelimit_<size> = <rate>``: an object PUT, DELETE, POST or COPY, per container,
  at a rate that depends on the container's object count: none below the smallest ``<size>``
  given, the line between two given sizes in between, the last rate beyond the largest;
- ``container_listing_ratelimit_<size> = <rate>``: a container GET (a listing), the same way.

An account in ``account_whitelist`` (comma-separated names) is never limited; one in
``account_blacklist`` is answered ``497 Blacklisted`` (``Your account has been blacklisted``)
after a second. Nothing is limited unless a rate is set.

Settings (``[filter:ratelimit]``), Swift's with Swift's defaults: ``account_ratelimit`` (0),
``max_sleep_time_seconds`` (60), ``log_sleep_time_seconds`` (0: a wait longer than it is logged;
0 logs none), ``rate_buffer_seconds`` (5: how far behind now a key's next free moment may fall,
i.e. how long a burst an idle key may save up), ``clock_accuracy`` (1000: ticks per second in
which moments are counted; the servers' clocks should agree to one tick), ``account_whitelist``,
``account_blacklist``, the ``container_*ratelimit_<size>`` above. Ours: ``counters`` (the SQLite
file the gateway's workers share the keys in; default ``ratelimit.sqlite`` beside the cluster's
conf, ``$LIBRGW_CLUSTER``'s if set) and ``container_size_cache_seconds`` (10: how long a
worker trusts a container's object count, read with a HEAD sent down the pipeline).

The keys live where every process serving the cluster sees them (``rate_counters.py``): in an
OpenStack Swift proxy (``use = egg:librgw#ratelimit``) in the proxy's memcache
(``environ['swift.cache']``, Swift's ``cache`` filter, before this one), as Swift's own keeps
them; under the gateway in the ``counters`` file. There the limits hold across all of
gunicorn's workers. Unlike Swift's, accounts' ``global-write-ratelimit`` sysmeta is not read.

``paste.ini``::

    [filter:ratelimit]
    use = egg:librgw#ratelimit
    account_ratelimit = 5
    container_ratelimit_100 = 50
    container_ratelimit_100000 = 10
    max_sleep_time_seconds = 10
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from webob import Request, Response

from .core_connection import cluster_spec
from .rate_counters import Counters, CountersUnavailable, FileCounters, MemcacheCounters
from .registry import register_swift_info
from .temp_url_keys import pre_authorized
from .wsgi_path import api_parts

DEFAULT_MAX_SLEEP_S = 60.0
DEFAULT_CLOCK_ACCURACY = 1000
DEFAULT_RATE_BUFFER_S = 5
DEFAULT_CONTAINER_SIZE_CACHE_S = 10.0
BLACKLIST_SLEEP_S = 1.0
COUNTERS_FILE = "ratelimit.sqlite"
CONTAINER_PREFIX = "container_ratelimit_"
LISTING_PREFIX = "container_listing_ratelimit_"
HANDLED_KEY = "swift.ratelimit.handled"  # Swift's: a request limited once is not limited again
RATELIMIT_USER = ".wsgi.ratelimit"
MAX_CACHED_SIZES = 10000  # beyond it, a worker forgets the container sizes gone stale
WRITES = ("PUT", "DELETE", "POST", "COPY")
LOG = logging.getLogger("librgw.ratelimit")


@dataclass(frozen=True, order=True)
class SizeRate:
    """From ``size`` objects on, ``rate`` requests per second (then the line to the next one)."""

    size: int
    rate: float


def size_rates(conf: dict, prefix: str) -> list[SizeRate]:
    """The ``<prefix><size> = <rate>`` settings, smallest size first."""
    return sorted(
        SizeRate(int(key[len(prefix) :]), float(value)) for key, value in conf.items() if key.startswith(prefix)
    )


def rate_for_size(rates: list[SizeRate], size: int) -> float | None:
    """The rate for a container of ``size`` objects (Swift's ``get_maxrate``): None when
    ``size`` is 0 or below the smallest size, else on the line between the two sizes around it."""
    if not size:
        return None
    below = [index for index, limit in enumerate(rates) if limit.size <= size]
    if not below:
        return None
    low = rates[below[-1]]
    if below[-1] + 1 == len(rates):
        return low.rate
    high = rates[below[-1] + 1]
    return low.rate + (size - low.size) * (high.rate - low.rate) / (high.size - low.size)


class MaxSleepExceeded(Exception):
    def __init__(self, wait_s: float) -> None:
        super().__init__(f"Max Sleep Time Exceeded: {wait_s:.2f}")
        self.wait_s = wait_s


@dataclass(frozen=True)
class Clock:
    """How moments are counted: ``accuracy`` ticks a second; a key's next free moment falls
    at most ``buffer_s`` behind now; a wait of ``max_sleep_s`` or more is refused."""

    accuracy: int
    buffer_s: int
    max_sleep_s: float


def wait_for_turn(counters: Counters, key: str, rate: float, clock: Clock) -> float:
    """Take ``key``'s next free moment at ``rate`` requests a second: the seconds to sleep
    until it; ``MaxSleepExceeded`` (and the moment handed back) if that is too long."""
    step = round(clock.accuracy / rate)
    with counters.atomic():
        now = round(time.time() * clock.accuracy)  # read inside: no turn taken before is dated later
        running = counters.incr(key, step)
        if now - running > clock.buffer_s * clock.accuracy:  # idle for long: start afresh at now
            counters.set(key, now + step)
            wait = 0
        else:
            wait = max(running - now - step, 0)
        if clock.max_sleep_s * clock.accuracy - wait <= clock.accuracy * 0.01:
            counters.decr(key, step)
            raise MaxSleepExceeded(wait / clock.accuracy)
    return wait / clock.accuracy


def pause(environ: dict, seconds: float) -> None:
    """Sleep without holding up the server's other requests: eventlet's sleep in a Swift
    proxy (its WSGI server is eventlet's, which does not patch ``time``), else ``time.sleep``."""
    if "eventlet.posthooks" in environ:
        import eventlet  # only ever inside a Swift proxy

        eventlet.sleep(seconds)
    else:
        time.sleep(seconds)


def default_counters_path(conf: dict) -> str:
    spec = cluster_spec(conf).removeprefix("ceph:")
    return str(Path(spec).parent / COUNTERS_FILE)


class RateLimit:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.account_rate = float(conf.get("account_ratelimit", 0))
        self.container_rates = size_rates(conf, CONTAINER_PREFIX)
        self.listing_rates = size_rates(conf, LISTING_PREFIX)
        self.clock = Clock(
            accuracy=int(conf.get("clock_accuracy", DEFAULT_CLOCK_ACCURACY)),
            buffer_s=int(conf.get("rate_buffer_seconds", DEFAULT_RATE_BUFFER_S)),
            max_sleep_s=float(conf.get("max_sleep_time_seconds", DEFAULT_MAX_SLEEP_S)),
        )
        self.log_sleep_s = float(conf.get("log_sleep_time_seconds", 0))
        self.whitelist = {name.strip() for name in conf.get("account_whitelist", "").split(",") if name.strip()}
        self.blacklist = {name.strip() for name in conf.get("account_blacklist", "").split(",") if name.strip()}
        self.size_cache_s = float(conf.get("container_size_cache_seconds", DEFAULT_CONTAINER_SIZE_CACHE_S))
        self.file_counters = FileCounters(conf.get("counters") or default_counters_path(conf))
        self._sizes: dict[tuple[str, str], tuple[float, int]] = {}
        self._sizes_lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        parts = api_parts(environ)
        if not parts or environ.get(HANDLED_KEY):
            return self.app(environ, start_response)
        environ[HANDLED_KEY] = True
        refusal = self.refusal(environ, parts)
        return (refusal or self.app)(environ, start_response)

    def refusal(self, environ: dict, parts: list[str]) -> Response | None:
        """Wait for the request's turn under each limit it falls under; the 497 or 498 that
        refuses it instead, if any."""
        account = parts[0]
        if account in self.whitelist:
            return None
        if account in self.blacklist:
            LOG.error("Returning 497 because of blacklisting: %s", account)
            pause(environ, BLACKLIST_SLEEP_S)
            return Response(status="497 Blacklisted", body=b"Your account has been blacklisted")
        counters = MemcacheCounters(environ["swift.cache"]) if "swift.cache" in environ else self.file_counters
        for key, rate in self.limits(environ, parts):
            try:
                wait = wait_for_turn(counters, key, rate, self.clock)
            except CountersUnavailable as error:
                LOG.warning("ratelimit counters unavailable, not limiting: %s", error)
                return None
            except MaxSleepExceeded as error:
                LOG.error(
                    "Returning 498 for %s to %s. Ratelimit (Max Sleep) %s",
                    environ["REQUEST_METHOD"],
                    "/".join(parts),
                    error,
                )
                retry = max(1, math.ceil(error.wait_s - self.clock.max_sleep_s))
                return Response(status="498 Rate Limited", body=b"Slow down", headers={"Retry-After": str(retry)})
            if self.log_sleep_s and wait > self.log_sleep_s:
                LOG.warning("Ratelimit sleep log: %s for %s", wait, "/".join(parts))
            if wait > 0:
                pause(environ, wait)
        return None

    def limits(self, environ: dict, parts: list[str]) -> list[tuple[str, float]]:
        """The keys the request is limited under, with their rates, in the order Swift takes them."""
        method = environ["REQUEST_METHOD"]
        account, container, name = (parts + ["", ""])[:3]
        keys = []
        if self.account_rate and container and not name and method in ("PUT", "DELETE"):
            keys.append((f"ratelimit/{account}", self.account_rate))
        if container and name and method in WRITES and self.container_rates:
            rate = rate_for_size(self.container_rates, self.container_size(environ, account, container))
            if rate:
                keys.append((f"ratelimit/{account}/{container}", rate))
        if container and not name and method == "GET" and self.listing_rates:
            rate = rate_for_size(self.listing_rates, self.container_size(environ, account, container))
            if rate:
                keys.append((f"ratelimit_listing/{account}/{container}", rate))
        return keys

    def container_size(self, environ: dict, account: str, container: str) -> int:
        """The container's object count, from a HEAD sent down the pipeline on this filter's
        authority (0 if it has none), trusted for ``container_size_cache_seconds``."""
        now = time.monotonic()
        with self._sizes_lock:
            known = self._sizes.get((account, container))
        if known and known[0] > now:
            return known[1]
        request = Request.blank(
            "/", environ=pre_authorized(environ, "HEAD", f"/v1/{account}/{container}", RATELIMIT_USER)
        )
        response = request.get_response(self.app)
        count = response.headers.get("X-Container-Object-Count", "0") if response.status_int // 100 == 2 else "0"
        size = int(count) if count.isdigit() else 0
        with self._sizes_lock:
            if len(self._sizes) > MAX_CACHED_SIZES:
                self._sizes = {k: v for k, v in self._sizes.items() if v[0] > now}
            self._sizes[(account, container)] = (now + self.size_cache_s, size)
        return size


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    register_swift_info(
        "ratelimit",
        account_ratelimit=float(conf.get("account_ratelimit", 0)),
        max_sleep_time_seconds=float(conf.get("max_sleep_time_seconds", DEFAULT_MAX_SLEEP_S)),
        container_ratelimits=[[limit.size, limit.rate] for limit in size_rates(conf, CONTAINER_PREFIX)],
        container_listing_ratelimits=[[limit.size, limit.rate] for limit in size_rates(conf, LISTING_PREFIX)],
    )
    return lambda app: RateLimit(app, conf)
