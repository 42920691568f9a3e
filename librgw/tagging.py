"""Tags: small key/value sets on objects and buckets, with S3's limits.

An object's tags live in its head, in the xattr ``user.rgw.x-amz-tagging`` (RGW's name for
it), as a JSON object; they are not user metadata (``x-amz-meta-*``) and changing them
leaves the object's data, ETag and mtime as they were (``ObjectStore.set_tags``). A
bucket's tags are the bucket attribute ``x-amz-tagging``, in the same form.

S3's limits, checked by ``check_tags``: at most 10 tags on an object and 50 on a bucket,
keys of 1 to 128 characters, values of at most 256 (characters, not bytes), and no key
twice. Anything else is ``InvalidTag``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from .errors import InvalidTag

TAGS_ATTR = "x-amz-tagging"  # the head xattr is user.rgw.x-amz-tagging; the bucket attribute has this name
MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256


def check_tags(tags: dict[str, str], max_tags: int = MAX_OBJECT_TAGS) -> None:
    """``InvalidTag`` unless ``tags`` is within S3's limits."""
    if len(tags) > max_tags:
        raise InvalidTag(f"{len(tags)} tags are more than the {max_tags} allowed")
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidTag("tag keys and values are text")
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise InvalidTag(f"the TagKey you have provided is invalid: 1 to {MAX_KEY_LENGTH} characters")
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidTag(f"the TagValue you have provided is invalid: at most {MAX_VALUE_LENGTH} characters")


def tags_from_pairs(pairs: Iterable[tuple[str, str]], max_tags: int = MAX_OBJECT_TAGS) -> dict[str, str]:
    """The tag set of (key, value) pairs as a request lists them; ``InvalidTag`` if a key comes
    twice or the set is beyond the limits."""
    tags: dict[str, str] = {}
    for key, value in pairs:
        if key in tags:
            raise InvalidTag(f"cannot provide multiple tags with the same key: {key[:MAX_KEY_LENGTH]!r}")
        tags[key] = value
    check_tags(tags, max_tags)
    return tags


def encode_tags(tags: dict[str, str]) -> bytes:
    return json.dumps(tags, sort_keys=True, separators=(",", ":")).encode()


def decode_tags(raw: bytes | str) -> dict[str, str]:
    return json.loads(raw) if raw else {}
