"""``librgw scrub``: through ``main()``, on a real cluster with bytes flipped on disk."""

import json
import os
import sys

import pytest

from librgw import rados
from tests.conftest import flip_stored_byte, stored_copies


@pytest.fixture
def handle(cluster_conf):
    with rados.Rados(conffile=str(cluster_conf)) as client:
        yield client


@pytest.fixture
def objects(handle, pools) -> dict[str, bytes]:
    """Two objects in each pool, one small (inline in store.db) and one in block files."""
    written = {}
    for pool in pools:
        with handle.open_ioctx(pool) as ioctx:
            for name, size in ((f"{pool}-small", 1000), (f"{pool}-big", 700_000)):
                written[name] = os.urandom(size)
                ioctx.write_full(name, written[name])
    return written


def _rot(handle: rados.Rados, pool: str, name: str, copy: int = 1) -> int:
    osd, key = stored_copies(handle, pool, name)[copy]
    flip_stored_byte(handle.cluster.store(osd), key, 10)
    return osd


def test_scrub_of_a_clean_cluster_exits_0_with_a_summary(librgw, objects):
    result = librgw("scrub")
    assert result.code == 0
    assert result.out.strip() == "scrub: 16 pgs, 4 objects, 1.3 MiB: 0 inconsistent, 0 repaired"
    assert result.err == ""


def test_deep_scrub_json_lists_the_rotten_objects_and_repair_fixes_them(librgw, handle, objects):
    _rot(handle, "rep", "rep-big")
    _rot(handle, "ec", "ec-small")
    assert librgw("scrub", "--format", "json").code == 0  # a shallow scrub does not read the data

    deep = librgw("scrub", "--deep", "--format", "json")
    assert deep.code == 1
    report = json.loads(deep.out)
    assert sorted(o["object"] for o in report["inconsistent"]) == ["ec-small", "rep-big"]
    for obj in report["inconsistent"]:
        assert set(obj) == {"pool", "pgid", "object", "errors"}
        assert obj["pool"] == obj["object"].split("-")[0] and "read_error" in obj["errors"]
        assert obj["pgid"].startswith(f"{handle.pool_lookup(obj['pool'])}.")
    assert report["repaired"] == [] and report["scrubbed_objects"] == 4 and report["deep"] is True

    status = librgw("status")
    assert "health: HEALTH_ERR" in status.out and "2 scrub errors" in status.out
    assert "Possible data damage: 2 pgs inconsistent" in status.out
    assert "active+clean+inconsistent" in status.out

    repair = librgw("scrub", "--repair", "--format", "json")
    assert repair.code == 0
    assert sorted(o["object"] for o in json.loads(repair.out)["repaired"]) == ["ec-small", "rep-big"]
    again = librgw("scrub", "--deep")
    assert again.code == 0 and "0 inconsistent" in again.out
    assert "HEALTH_OK" in librgw("status").out
    for pool in ("rep", "ec"):
        with handle.open_ioctx(pool) as ioctx:
            for name in (f"{pool}-small", f"{pool}-big"):
                assert ioctx.read(name, 10**6) == objects[name]


def test_plain_output_names_each_object_its_errors_and_bad_copy(librgw, handle, objects):
    osd = _rot(handle, "rep", "rep-small", copy=0)
    result = librgw("scrub", "--deep", "rep")
    assert result.code == 1
    header, row, summary = result.out.splitlines()
    assert header.split() == ["PGID", "POOL", "OBJECT", "ERRORS", "OSDS", "REPAIR"]
    assert row.split()[1:] == ["rep", "rep-small", "data_digest_mismatch,read_error", f"osd.{osd}"]
    assert summary == "deep-scrub: 8 pgs, 2 objects, 684 KiB: 1 inconsistent, 0 repaired"


def test_scrub_of_one_pool_leaves_the_others_alone(librgw, handle, objects):
    _rot(handle, "rep", "rep-big")
    result = librgw("scrub", "ec", "--deep", "-f", "json")
    assert result.code == 0
    assert json.loads(result.out)["inconsistent"] == [] and json.loads(result.out)["scrubbed_pgs"] == 8


def test_unrepairable_object_exits_1_and_says_why(librgw, handle, objects):
    for copy in range(3):
        _rot(handle, "rep", "rep-small", copy)
    result = librgw("scrub", "--repair", "-f", "json")
    assert result.code == 1
    (obj,) = json.loads(result.out)["unrepairable"]
    assert obj["object"] == "rep-small" and "clean" in obj["reason"]


def test_scrub_of_an_unknown_pool_is_one_error_line(librgw, pools):
    result = librgw("scrub", "nope")
    assert result.code == 1
    assert result.err == "librgw: error: pool 'nope' does not exist\n"


def test_progress_goes_to_stderr_only_on_a_terminal(librgw, pools, monkeypatch):
    assert librgw("scrub").err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    err = librgw("scrub").err
    assert err.startswith("\rscrub: 1/16 pgs") and err.endswith("\rscrub: 16/16 pgs\n")
