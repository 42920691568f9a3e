"""Composite omap keys sort by object key first, and prefixes of keys find exactly their entries."""

from hypothesis import given
from hypothesis import strategies as st

from librgw.omap_keys import entries_of, entry_key, escaped

keys = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FF), min_size=1, max_size=8)
suffixes = st.text(alphabet="0123456789.abc", min_size=1, max_size=6)


@given(st.lists(st.tuples(keys, suffixes), min_size=2, max_size=30, unique=True))
def test_entries_sort_as_their_key_then_suffix(pairs):
    by_omap_key = sorted(pairs, key=lambda pair: entry_key(*pair))
    assert by_omap_key == sorted(pairs)


@given(keys, keys, suffixes)
def test_a_keys_entries_and_a_prefixs_entries_are_found_by_prefix(key, other, suffix):
    assert entry_key(key, suffix).startswith(entries_of(key))
    assert entry_key(other, suffix).startswith(entries_of(key)) == (other == key)
    prefix = key[: len(key) // 2]
    assert entry_key(key, suffix).startswith(escaped(prefix))
    assert entry_key(other, suffix).startswith(escaped(prefix)) == other.startswith(prefix)


def test_an_entry_key_holds_no_nul_whatever_the_key_holds():
    assert "\0" not in entry_key("a\x01b\x02", "1")
