"""``librgw pg PGID query|list_unfound|mark_unfound_lost`` and what ``recover`` says about PGs it
cannot finish: unfound objects, and OSDs that are down but still in."""

import json

from librgw import rados
from librgw.storage.store_records import ObjectKey
from tests.conftest import flip_stored_byte


def _pgid_of(librgw, pool: str, name: str) -> tuple[str, list[int]]:
    where = json.loads(librgw("osd", "map", pool, name, "--format", "json").out)
    return where["pgid"], where["up"]


def test_query_shows_state_copies_and_their_logs(librgw, pools, cluster_conf):
    with rados.Rados(conffile=str(cluster_conf)) as client, client.open_ioctx("rep") as ioctx:
        ioctx.write_full("o", b"data")
    pg, up = _pgid_of(librgw, "rep", "o")
    doc = json.loads(librgw("pg", pg, "query", "--format", "json").out)
    assert doc["state"] == "active+clean" and doc["up"] == up and doc["num_unfound"] == 0
    assert [(p["osd"], p["role"]) for p in doc["peer_info"]] == [(o, "complete") for o in sorted(up)]
    assert len({p["last_update"] for p in doc["peer_info"]}) == 1
    assert sorted(doc["participants"]) == sorted(f"osd.{o}" for o in up)
    plain = librgw("pg", pg, "query")
    assert plain.code == 0 and f"pg {pg} active+clean" in plain.out and "complete" in plain.out
    missing = librgw("pg", "1.ff", "query")
    assert missing.code == 1 and "pg 1.ff does not exist" in missing.err


def test_recover_reports_unfound_objects_and_the_operator_gives_them_up(librgw, pools, cluster_conf):
    with rados.Rados(conffile=str(cluster_conf)) as client, client.open_ioctx("rep") as ioctx:
        cluster = client.cluster
        ioctx.write_full("o", b"v1")
        pg, (a, b, c) = _pgid_of(librgw, "rep", "o")
        assert librgw("osd", "down", str(b), str(c)).code == 0
        assert librgw("pool", "set", "rep", "min_size", "1").code == 0
        ioctx.write_full("o", b"v2")  # only a has it
        pool = cluster.pool("rep")
        flip_stored_byte(cluster.store(a), ObjectKey(pool.id, int(pg.split(".")[1], 16), "", "o"))
        assert librgw("osd", "up", str(b), str(c)).code == 0
        result = librgw("recover")
        assert result.code == 1 and f"pg {pg}: 1 objects unfound (see 'librgw pg {pg} list_unfound')" in result.out
        listed = json.loads(librgw("pg", pg, "list_unfound", "--format", "json").out)
        assert listed["num_unfound"] == 1 and listed["objects"][0]["oid"] == {"oid": "o", "namespace": ""}
        status = json.loads(librgw("status", "--format", "json").out)
        assert "OBJECT_UNFOUND" in status["health"]["checks"]
        lost = librgw("pg", pg, "mark_unfound_lost", "revert")
        assert lost.code == 0 and "1 objects unfound" in lost.out
        assert ioctx.read("o") == b"v1"  # the version b and c still held
        assert json.loads(librgw("pg", pg, "list_unfound", "--format", "json").out)["num_unfound"] == 0
        assert librgw("recover").code == 0


def test_recover_says_which_pgs_wait_for_a_down_osd_and_when_it_goes_out(librgw, pools, cluster_conf):
    with rados.Rados(conffile=str(cluster_conf)) as client, client.open_ioctx("rep") as ioctx:
        ioctx.write_full("o", b"data")
    osd_dir = cluster_conf.parent / "osd.2"
    osd_dir.rename(cluster_conf.parent / "osd.2.away")  # the disk went away: down, not out
    result = librgw("recover")
    assert result.code == 0
    assert "osd.2 is down (for 0:00) but in:" in result.out and "pgs wait for it" in result.out
    assert "it will be marked out in 10:00" in result.out or "it will be marked out in 9:5" in result.out
    assert "librgw osd out 2" in result.out
    doc = json.loads(librgw("recover", "--format", "json").out)
    (wait,) = doc["waiting"]
    assert wait["osd"] == 2 and wait["pgs"] and 590 < wait["out_in_s"] <= 600
