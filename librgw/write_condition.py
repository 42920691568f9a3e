"""Conditional writes: what must hold of the object a write replaces, as HTTP's and S3's
``If-Match`` and ``If-None-Match: *`` ask it of a PUT or a completed multipart upload.

The check is atomic with the write: ``ObjectStore.write_head`` evaluates the condition on
the head it is about to replace and, in the same rados op that writes the new head, asserts
that the head is still that one (its rados version, or, where there was none, an exclusive
create). A head changed in between fails the op, and the check is made again on the new one,
so no other write can slip between the check and the replacement.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NoObjectToMatch, PreconditionFailed

ANY = "*"


@dataclass(frozen=True)
class WriteCondition:
    """``if_match``: the ETags (unquoted) one of which the object must have (``("*",)``: any, as
    long as it exists; ``()``: none can match); None asks nothing. ``if_none_match``: no object
    may exist."""

    if_match: tuple[str, ...] | None = None
    if_none_match: bool = False

    def check(self, etag: str | None, name: str) -> None:
        """Raise unless the condition holds of the object ``name`` whose ETag is ``etag`` (None:
        there is no object): ``NoObjectToMatch`` or ``PreconditionFailed``."""
        if self.if_match is not None:
            if etag is None:
                raise NoObjectToMatch(f"{name} does not exist, so it cannot match If-Match")
            if ANY not in self.if_match and etag not in self.if_match:
                raise PreconditionFailed(f"{name} has ETag {etag}, which If-Match does not name")
        if self.if_none_match and etag is not None:
            raise PreconditionFailed(f"{name} exists and If-None-Match: * was given")
