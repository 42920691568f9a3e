"""What a write asks for, as one record: everything an object write keeps with the object
(metadata, content type and headers, owner, ACL, tags, delete-at time) and what it checks
(the body's MD5, a condition on the object it replaces).

Every writer takes it (``ObjectStore.put`` and ``copy``, ``Versions.put`` and ``copy``,
``MultipartUploads.initiate``, ``ObjectOps``), built by keyword, instead of a dozen
positional arguments passed from hand to hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from .write_condition import WriteCondition


@dataclass(frozen=True, kw_only=True)
class WriteRequest:
    """One write's options; every field has the default of a plain PUT.

    For a server-side copy, ``metadata`` None keeps the source's metadata, content headers
    and content type (S3's COPY metadata directive) and ``tags`` None the source's tags; a
    copy never takes the source's ACL. ``content_type`` "" is ``binary/octet-stream`` for a
    new object (the source's, for a copy keeping its metadata).
    """

    metadata: dict[str, str] | None = None  # user metadata, names without x-amz-meta-
    content_type: str = ""
    headers: dict[str, str] | None = None  # of objects.CONTENT_HEADERS, lower-case names
    owner: str = ""  # "": the bucket's owner
    acl: str = ""  # the object's ACL as the gateway writes it; "": none of its own
    tags: dict[str, str] | None = None
    expected_md5: str | None = None  # hex; a body whose MD5 differs is refused (BadDigest)
    delete_at: float | None = None  # seconds since the epoch: it expires then (expiry.py)
    condition: WriteCondition | None = None  # on the object the write replaces
