"""Metadata records read once per request: a request's repeated reads of users, keys and buckets.

A gateway request reads the same records again and again: S3 authentication and the Swift
controller below it each read the user and the bucket, and the filters' own subrequests (a
quota's or a versions location's HEAD of the container) read them once more. Inside a scope
(``begin`` .. ``end``, which the ``request_log`` filter opens around each request),
``Zone.meta`` hands out an I/O context that answers a repeated ``read`` of a metadata record
from what this request read before; anything else done through a metadata context (a write,
a lock, a listing) first forgets all of it, so a request always sees its own changes. What
other requests change meanwhile, the next request sees, as each of RGW's requests loads a
bucket's info once. Nothing is remembered outside a scope (the admin CLI, background work,
threads a request starts) or past its end.
"""

from __future__ import annotations

import errno
from contextvars import ContextVar

from librgw import rados

_MEMO: ContextVar[dict | None] = ContextVar("librgw_request_memo", default=None)
_GONE = object()  # a record that was not there


def begin() -> None:
    """Start remembering this thread's metadata reads (a request begins)."""
    _MEMO.set({})


def end() -> None:
    """Forget them, and remember no more (the request has ended)."""
    _MEMO.set(None)


def meta_ioctx(ioctx: rados.Ioctx, scope: object) -> rados.Ioctx | RememberingIoctx:
    """``ioctx`` (on the metadata pool; ``scope`` names its zone and namespace) as this
    thread's request should use it: itself outside a request."""
    memo = _MEMO.get()
    return ioctx if memo is None else RememberingIoctx(ioctx, memo, scope)


class RememberingIoctx:
    """A metadata I/O context whose ``read`` of a record the request read before costs no
    rados call; every other method forgets what was read, then goes to the context."""

    def __init__(self, ioctx: rados.Ioctx, memo: dict, scope: object) -> None:
        self._ioctx = ioctx
        self._memo = memo
        self._scope = scope

    def read(self, key: str, length: int = 8192, offset: int = 0) -> bytes:
        slot = (self._scope, key, length, offset)
        found = self._memo.get(slot)
        if found is None:
            try:
                found = self._ioctx.read(key, length, offset)
            except rados.ObjectNotFound:
                found = _GONE
            self._memo[slot] = found
        if found is _GONE:
            raise rados.ObjectNotFound(f"failed to read {key}: no such object", errno=errno.ENOENT)
        return found

    def __getattr__(self, name: str):
        self._memo.clear()
        return getattr(self._ioctx, name)
