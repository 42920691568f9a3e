"""The storage layer's one exception type, carrying a POSIX errno as Ceph's OSDs do.

:mod:`librgw.rados` maps the errno to python-rados exception classes in exactly one place.
"""

import errno as _errno


class StorageError(Exception):
    """A failed cluster operation; ``errno`` says why (ENOENT, EEXIST, ENODATA, EIO, ...)."""

    def __init__(self, err: int, message: str) -> None:
        super().__init__(message)
        self.errno = err
        self.message = message


def not_found(what: str) -> StorageError:
    return StorageError(_errno.ENOENT, f"{what} does not exist")


def no_attr(what: str) -> StorageError:
    return StorageError(_errno.ENODATA, f"{what}: no such attribute")


def exists(what: str) -> StorageError:
    return StorageError(_errno.EEXIST, f"{what} already exists")


def invalid(message: str) -> StorageError:
    return StorageError(_errno.EINVAL, message)


def io_error(message: str) -> StorageError:
    return StorageError(_errno.EIO, message)


def unsupported(message: str) -> StorageError:
    return StorageError(_errno.EOPNOTSUPP, message)


class OSDFailure(StorageError):
    """An OSD itself failed (directory gone, unreadable, disk error), not just one object on it.

    The cluster marks such an OSD down and carries on with the others.
    """

    def __init__(self, osd_id: int, message: str) -> None:
        super().__init__(_errno.EIO, f"osd.{osd_id}: {message}")
        self.osd_id = osd_id


class Unfound(StorageError):
    """No copy can give an object's authoritative version (``obj``: its namespace and name)."""

    def __init__(self, obj: tuple[str, str], message: str) -> None:
        super().__init__(_errno.EIO, message)
        self.obj = obj
