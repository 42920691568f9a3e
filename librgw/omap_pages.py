"""Reading an object's omap page by page, as python-rados offers it, without loading it whole."""

from __future__ import annotations

from collections.abc import Iterator

from librgw import rados

PAGE = 1000


def omap_items(
    ioctx: rados.Ioctx, oid: str, start_after: str = "", filter_prefix: str = "", page: int = PAGE
) -> Iterator[tuple[str, bytes]]:
    """Every (key, value) of ``oid``'s omap after ``start_after`` with ``filter_prefix``, in key
    order, fetched ``page`` at a time; nothing if the object does not exist."""
    after = start_after
    while True:
        with rados.ReadOpCtx() as op:
            got, _ = ioctx.get_omap_vals(op, after, filter_prefix, page)
            try:
                ioctx.operate_read_op(op, oid)
            except rados.ObjectNotFound:
                return
            items = list(got)
        yield from items
        if len(items) < page:
            return
        after = items[-1][0]


def omap_first(ioctx: rados.Ioctx, oid: str, filter_prefix: str = "") -> tuple[str, bytes] | None:
    """The first (key, value) of ``oid``'s omap with ``filter_prefix``, or None."""
    return next(iter(omap_items(ioctx, oid, "", filter_prefix, page=1)), None)


def omap_values(ioctx: rados.Ioctx, oid: str, keys: tuple[str, ...]) -> dict[str, bytes]:
    """The values of ``keys`` that ``oid``'s omap holds; empty if the object does not exist."""
    with rados.ReadOpCtx() as op:
        got, _ = ioctx.get_omap_vals_by_keys(op, keys)
        try:
            ioctx.operate_read_op(op, oid)
        except rados.ObjectNotFound:
            return {}
        return dict(got)
