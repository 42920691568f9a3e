"""Omap keys that pair an object key with a suffix and sort by the object key first.

The versions of a key (``versioning.py``) and the multipart uploads of a bucket
(``multipart.py``) are omap entries named ``<key><KEY_END><suffix>``: one ordered scan then
lists them by object key, as S3's listings are ordered. ``KEY_END`` must sort before
anything a longer key can hold at that place, and cannot be NUL (RADOS takes omap keys as C
strings, so an object key cannot hold NUL either): it is ``\\x01\\x01``, and a ``\\x01`` in
the key is written ``\\x01\\x02``. The escaping keeps order and prefixes, so a prefix or a
marker of object keys escapes to the prefix or marker of their entries.
"""

KEY_END = "\x01\x01"


def escaped(key: str) -> str:
    """``key`` (or a prefix or marker of keys) as its entries' omap keys begin."""
    return key.replace("\x01", "\x01\x02")


def entry_key(key: str, suffix: str) -> str:
    """The omap key of ``key``'s entry ``suffix``."""
    return f"{escaped(key)}{KEY_END}{suffix}"


def entries_of(key: str) -> str:
    """The prefix every omap key of ``key``'s entries (and only those) starts with."""
    return escaped(key) + KEY_END
