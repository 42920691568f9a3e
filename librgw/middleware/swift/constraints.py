"""Swift's limits on names, metadata, listings and sizes, read once from the app's settings.

The defaults are Swift's (``swift.conf`` ``[swift-constraints]``), and ``/info`` publishes
them. A request beyond a limit is answered 400 (names, metadata), 412 (listing limit) or
413 (object size), never 500.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from webob import exc

from .answer_bodies import plain

NAMES = ("account", "container", "object")


@dataclass(frozen=True)
class Limits:
    max_file_size: int = 5 * 1024**3
    max_meta_name_length: int = 128
    max_meta_value_length: int = 256
    max_meta_count: int = 90
    max_meta_overall_size: int = 4096
    max_object_name_length: int = 1024
    max_container_name_length: int = 256
    container_listing_limit: int = 10000
    account_listing_limit: int = 10000

    @classmethod
    def from_conf(cls, conf: dict) -> Limits:
        return cls(**{f.name: int(conf[f.name]) for f in fields(cls) if f.name in conf})

    def as_info(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def check_container_name(name: str, limits: Limits) -> None:
    if len(name.encode()) > limits.max_container_name_length:
        raise exc.HTTPBadRequest(
            f"Container name length of {len(name.encode())} longer than {limits.max_container_name_length}"
        )
    if name in (".", ".."):
        raise exc.HTTPBadRequest(f"Container name {name!r} is not allowed")


def check_object_name(name: str, limits: Limits) -> None:
    if len(name.encode()) > limits.max_object_name_length:
        raise plain(
            exc.HTTPBadRequest(
                f"Object name length of {len(name.encode())} longer than {limits.max_object_name_length}"
            )
        )


def check_metadata(metadata: dict[str, str], kind: str, limits: Limits) -> None:
    """400 for metadata (``name -> value`` as the request gives it) beyond Swift's limits, item
    by item in order, with Swift's messages (``swift.common.constraints.check_metadata``); sizes
    are counted in UTF-8 bytes, as Swift counts the header's."""
    prefix = f"x-{kind}-meta-"
    size = 0
    for count, (name, value) in enumerate(metadata.items(), start=1):
        if not name:
            raise plain(exc.HTTPBadRequest("Metadata name cannot be empty"))
        name_bytes, value_bytes = len(name.encode()), len(value.encode())
        size += name_bytes + value_bytes
        if name_bytes > limits.max_meta_name_length:
            raise plain(exc.HTTPBadRequest(f"Metadata name too long: {prefix}{name.title()}"))  # as Swift's header name
        if value_bytes > limits.max_meta_value_length:
            limit = limits.max_meta_value_length
            raise plain(exc.HTTPBadRequest(f"Metadata value longer than {limit}: {prefix}{name.title()}"))
        if count > limits.max_meta_count:
            raise plain(exc.HTTPBadRequest(f"Too many metadata items; max {limits.max_meta_count}"))
        if size > limits.max_meta_overall_size:
            raise plain(exc.HTTPBadRequest(f"Total metadata too large; max {limits.max_meta_overall_size}"))
