"""The counters ``ratelimit`` keeps, shared by every process that serves one cluster.

Swift's ratelimit keeps, per limited key, the moment (in ``clock_accuracy`` ticks) from which
the next request may run, in memcache, with three operations: ``incr``, ``set`` and ``decr``.
Both stores here offer those three, inside ``atomic()``:

- ``MemcacheCounters``: the proxy's memcache client (``environ['swift.cache']``), inside an
  OpenStack Swift proxy, exactly as Swift's own ratelimit uses it (``atomic`` guards nothing:
  memcache has no transactions, and Swift lives with the race of two first requests);
- ``FileCounters``: an SQLite file that the gateway's worker processes (and their threads)
  share, a connection per thread; ``atomic`` is one ``BEGIN IMMEDIATE`` transaction, so two
  workers never both take the same free moment. The counts are no data worth keeping: the file
  is not synced (``synchronous = OFF``), and a lost or deleted file only forgets who is ahead.

A store that cannot answer raises ``CountersUnavailable``; the filter then lets the request
through, as Swift's does when memcache is down.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

BUSY_TIMEOUT_S = 10.0


class CountersUnavailable(Exception):
    """The counters' store did not answer."""


class Counters(Protocol):
    def atomic(self) -> AbstractContextManager[None]: ...
    def incr(self, key: str, delta: int) -> int: ...
    def set(self, key: str, value: int) -> None: ...
    def decr(self, key: str, delta: int) -> None: ...


class MemcacheCounters:
    """Swift's memcache client (``swift.common.memcached.MemcacheRing``) as counters."""

    def __init__(self, client: object) -> None:
        self.client = client

    @contextmanager
    def atomic(self) -> Iterator[None]:
        from swift.common.memcached import MemcacheConnectionError  # only ever inside a Swift proxy

        try:
            yield
        except MemcacheConnectionError as error:
            raise CountersUnavailable(str(error)) from error

    def incr(self, key: str, delta: int) -> int:
        return self.client.incr(key, delta=delta)

    def set(self, key: str, value: int) -> None:
        self.client.set(key, str(value), serialize=False)

    def decr(self, key: str, delta: int) -> None:
        self.client.decr(key, delta=delta)


class FileCounters:
    """Counters in the SQLite file at ``path``, made on first use."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # a forked worker opens its own
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = OFF")
            db.execute("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            local.db, local.pid = db, os.getpid()
        return local.db

    @contextmanager
    def atomic(self) -> Iterator[None]:
        try:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise CountersUnavailable(f"{self.path}: {error}") from error
        try:
            yield
        except sqlite3.Error as error:
            db.execute("ROLLBACK")
            raise CountersUnavailable(f"{self.path}: {error}") from error
        except BaseException:
            db.execute("ROLLBACK")
            raise
        try:
            db.execute("COMMIT")
        except sqlite3.Error as error:
            raise CountersUnavailable(f"{self.path}: {error}") from error

    def incr(self, key: str, delta: int) -> int:
        """The key's value plus ``delta``; a missing key is taken as 0, as memcache's ``incr`` does."""
        (value,) = (
            self._db()
            .execute(
                "INSERT INTO counters VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = value + excluded.value"
                " RETURNING value",
                (key, delta),
            )
            .fetchone()
        )
        return value

    def set(self, key: str, value: int) -> None:
        self._db().execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (key, value))

    def decr(self, key: str, delta: int) -> None:
        self._db().execute("UPDATE counters SET value = MAX(value - ?, 0) WHERE key = ?", (delta, key))
