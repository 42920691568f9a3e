import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from librgw import rados
from librgw.cli import rados_tool, status_commands
from librgw.cli.main import main
from librgw.cli.rados_tool import STREAM_CHUNK, put_stream, read_chunks

BIG = 2 * STREAM_CHUNK + 1024 * 1024  # 9 MiB: two full chunks and a partial one


def assert_one_error_line(result, code: int = 1) -> str:
    assert result.code == code
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("librgw: error: ")
    return lines[0]


def tree_osds(librgw) -> dict[int, dict]:
    result = librgw("osd", "tree", "--format", "json")
    assert result.code == 0
    return {n["id"]: n for n in json.loads(result.out)["nodes"] if n["type"] == "osd"}


# -- cluster init and status ------------------------------------------------------------


def test_cluster_init_makes_conf_and_osds_and_says_where(tmp_path, capsys):
    assert main(["cluster", "init", str(tmp_path / "c"), "--osds", "3", "--osd-path", str(tmp_path / "disk")]) == 0
    out = capsys.readouterr().out
    assert f"conf: {tmp_path / 'c' / 'cluster.conf'}" in out
    assert f"osd.0: {tmp_path / 'disk'}" in out
    assert f"osd.2: {tmp_path / 'c' / 'osd.2'}" in out
    assert (tmp_path / "c" / "cluster.conf").is_file()
    assert (tmp_path / "disk").is_dir()


def test_cluster_init_refuses_a_directory_that_holds_a_cluster(cluster_conf, capsys):
    result = main(["cluster", "init", str(cluster_conf.parent), "--osds", "2"])
    assert result == 1
    assert "already exists" in capsys.readouterr().err


def test_status_reads_like_ceph_s(librgw, pools):
    result = librgw("status")
    assert result.code == 0
    assert "health: HEALTH_OK" in result.out
    assert "osd: 4 osds: 4 up, 4 in" in result.out
    assert "pools:   2 pools, 16 pgs" in result.out
    assert "pgs:     16 active+clean" in result.out
    assert " used, " in result.out and " avail" in result.out


def test_status_json_is_the_monitor_status(librgw, pools):
    status = json.loads(librgw("status", "--format", "json").out)
    assert status["health"]["status"] == "HEALTH_OK"
    assert status["pgmap"]["num_pgs"] == 16
    assert [s["state_name"] for s in status["pgmap"]["pgs_by_state"]] == ["active+clean"]
    assert {p["name"] for p in status["pools"]} == {"rep", "ec"}


def test_format_option_is_accepted_before_the_command(librgw):
    assert json.loads(librgw("-f", "json", "status").out)["osdmap"]["num_osds"] == 4


def test_status_shows_health_checks_when_an_osd_is_down(librgw, pools):
    assert librgw("osd", "down", "2").code == 0
    result = librgw("status")
    assert "health: HEALTH_WARN" in result.out
    assert "1 osds down" in result.out
    assert "osd: 4 osds: 3 up, 4 in" in result.out


def test_conf_comes_from_the_environment(cluster_conf, capsys, monkeypatch):
    monkeypatch.setenv("LIBRGW_CONF", str(cluster_conf))
    assert main(["osd", "stat"]) == 0
    assert capsys.readouterr().out.startswith("4 osds: 4 up, 4 in")


# -- pools ------------------------------------------------------------------------------


def test_pool_create_replicated_and_erasure_then_ls(librgw, pools):
    assert librgw("pool", "ls").out.splitlines() == ["rep", "ec"]
    detail = librgw("pool", "ls", "--detail").out.splitlines()
    assert detail[0] == "pool 1 'rep' replicated size 3 min_size 2 pg_num 8"
    assert detail[1] == "pool 2 'ec' erasure size 3 min_size 3 pg_num 8 erasure_code_profile k2m1"
    assert librgw("pool", "get", "ec", "erasure_code_profile").out.strip() == "erasure_code_profile: k2m1"


def test_pool_create_erasure_with_named_profile_and_stripe_unit(librgw):
    args = ["--erasure", "--k", "2", "--m", "1", "--profile", "narrow", "--stripe-unit", "4096"]
    assert librgw("pool", "create", "ecn", "--pg-num", "4", *args).code == 0
    pools = json.loads(librgw("pool", "ls", "--detail", "-f", "json").out)
    assert pools[0]["erasure_code_profile"] == "narrow"


def test_pool_create_rejects_erasure_options_on_a_replicated_pool(librgw):
    assert "--erasure" in assert_one_error_line(librgw("pool", "create", "p", "--k", "2"), code=2)


def test_pool_create_rejects_a_bad_name(librgw):
    assert "bad pool name" in assert_one_error_line(librgw("pool", "create", "a/b", "--pg-num", "4"))


def test_pool_set_size(librgw, pools):
    assert librgw("pool", "set", "rep", "size", "2").code == 0
    assert librgw("pool", "get", "rep", "size").out.strip() == "size: 2"


def test_pool_rm_is_refused_without_the_flag(librgw, pools):
    assert "yes-i-really-really-mean-it" in assert_one_error_line(librgw("pool", "rm", "rep"))
    assert assert_one_error_line(librgw("pool", "rm", "rep", "ec", "--yes-i-really-really-mean-it"))
    assert librgw("pool", "ls").out.splitlines() == ["rep", "ec"]
    assert librgw("pool", "rm", "rep", "rep", "--yes-i-really-really-mean-it").code == 0
    assert librgw("pool", "ls").out.splitlines() == ["ec"]


# -- the rados tool ---------------------------------------------------------------------


@pytest.mark.parametrize("pool", ["rep", "ec"])
def test_put_get_round_trip_is_byte_identical(librgw, pools, tmp_path, pool):
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = os.urandom(BIG)
    src.write_bytes(data)
    assert librgw("rados", "-p", pool, "put", "big", str(src)).code == 0
    assert librgw("rados", "-p", pool, "get", "big", str(dst)).code == 0
    assert dst.read_bytes() == data
    assert librgw("rados", "-p", pool, "stat", "big").out.endswith(f", size {BIG}\n")


def test_put_stream_writes_at_offsets_across_stripes(cluster_conf, pools):
    data = os.urandom(300_001)
    with rados.Rados(conffile=str(cluster_conf)) as handle, handle.open_ioctx("ec") as ioctx:
        assert put_stream(ioctx, "o", io.BytesIO(data), chunk=70_000) == len(data)
        chunks = list(read_chunks(ioctx, "o", chunk=70_000))
    assert [len(c) for c in chunks] == [70_000] * 4 + [20_001]
    assert b"".join(chunks) == data


def test_put_replaces_a_longer_object(librgw, pools, tmp_path):
    (tmp_path / "long").write_bytes(b"x" * 1000)
    (tmp_path / "short").write_bytes(b"y" * 10)
    librgw("rados", "-p", "rep", "put", "o", str(tmp_path / "long"))
    librgw("rados", "-p", "rep", "put", "o", str(tmp_path / "short"))
    assert librgw("rados", "-p", "rep", "get", "o", str(tmp_path / "out")).code == 0
    assert (tmp_path / "out").read_bytes() == b"y" * 10


def test_ls_stat_rm(librgw, pools, tmp_path):
    (tmp_path / "f").write_bytes(b"hello")
    for name in ("a", "b", "c"):
        assert librgw("rados", "-p", "rep", "put", name, str(tmp_path / "f")).code == 0
    assert sorted(librgw("rados", "-p", "rep", "ls").out.splitlines()) == ["a", "b", "c"]
    stat = librgw("rados", "-p", "rep", "stat", "a").out.strip()
    assert stat.startswith("rep/a mtime ") and stat.endswith(", size 5")
    assert librgw("rados", "-p", "rep", "rm", "a", "b").code == 0
    assert librgw("rados", "-p", "rep", "ls").out.splitlines() == ["c"]
    assert json.loads(librgw("rados", "ls", "-p", "rep", "-f", "json").out) == [{"namespace": "", "name": "c"}]


def test_namespaces_and_ls_all(librgw, pools, tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    librgw("rados", "-p", "rep", "put", "plain", str(tmp_path / "f"))
    librgw("rados", "-p", "rep", "-N", "ns1", "put", "inner", str(tmp_path / "f"))
    assert librgw("rados", "-p", "rep", "ls").out.splitlines() == ["plain"]
    assert librgw("rados", "-p", "rep", "-N", "ns1", "ls").out.splitlines() == ["inner"]
    assert sorted(librgw("rados", "-p", "rep", "ls", "--all").out.splitlines()) == ["\tplain", "ns1\tinner"]
    assert librgw("rados", "-p", "rep", "stat", "inner").code == 1


def test_xattr_commands(librgw, pools, tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    librgw("rados", "-p", "ec", "put", "o", str(tmp_path / "f"))
    assert librgw("rados", "-p", "ec", "setxattr", "o", "user.color", "blue").code == 0
    assert librgw("rados", "-p", "ec", "setxattr", "o", "user.size", "10").code == 0
    assert librgw("rados", "-p", "ec", "listxattr", "o").out.splitlines() == ["user.color", "user.size"]
    assert librgw("rados", "-p", "ec", "getxattr", "o", "user.color").out == "blue"
    assert librgw("rados", "-p", "ec", "rmxattr", "o", "user.size").code == 0
    assert librgw("rados", "-p", "ec", "listxattr", "o").out.splitlines() == ["user.color"]
    assert "(61) No data available" in assert_one_error_line(librgw("rados", "-p", "ec", "getxattr", "o", "nope"))


def test_omap_commands(librgw, pools):
    assert librgw("rados", "-p", "rep", "setomapval", "idx", "k1", "hello world, more").code == 0
    assert librgw("rados", "-p", "rep", "setomapval", "idx", "k2", "v2").code == 0
    assert librgw("rados", "-p", "rep", "listomapkeys", "idx").out.splitlines() == ["k1", "k2"]
    assert librgw("rados", "-p", "rep", "listomapvals", "idx").out == (
        "k1\n"
        "value (17 bytes) :\n"
        "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 6d 6f 72  |hello world, mor|\n"
        "00000010  65                                                |e|\n"
        "00000011\n"
        "\n"
        "k2\n"
        "value (2 bytes) :\n"
        "00000000  76 32                                             |v2|\n"
        "00000002\n"
        "\n"
    )
    assert "|v2|" in librgw("rados", "-p", "rep", "getomapval", "idx", "k2").out
    assert librgw("rados", "-p", "rep", "rmomapkey", "idx", "k1").code == 0
    assert librgw("rados", "-p", "rep", "listomapkeys", "idx").out.splitlines() == ["k2"]
    assert "No such key" in assert_one_error_line(librgw("rados", "-p", "rep", "getomapval", "idx", "k1"))


def test_omap_listing_pages_through_all_keys(librgw, pools, monkeypatch):
    monkeypatch.setattr(rados_tool, "OMAP_PAGE", 2)
    for key in ("a", "b", "c", "d", "e"):
        librgw("rados", "-p", "rep", "setomapval", "idx", key, key.upper())
    assert librgw("rados", "-p", "rep", "listomapkeys", "idx").out.splitlines() == ["a", "b", "c", "d", "e"]
    assert librgw("rados", "-p", "rep", "listomapvals", "idx").out.count("value (1 bytes) :") == 5


def test_omap_on_an_erasure_coded_pool_is_refused(librgw, pools):
    assert "Operation not supported" in assert_one_error_line(librgw("rados", "-p", "ec", "setomapval", "o", "k", "v"))


# -- OSDs -------------------------------------------------------------------------------


def test_osd_out_in_down_up_change_the_tree(librgw):
    assert librgw("osd", "out", "1", "osd.2").out.strip() == "marked out osd.1. marked out osd.2."
    assert librgw("osd", "down", "3").code == 0
    osds = tree_osds(librgw)
    assert [osds[i]["reweight"] for i in range(4)] == [1.0, 0.0, 0.0, 1.0]
    assert [osds[i]["status"] for i in range(4)] == ["up", "up", "up", "down"]
    assert librgw("osd", "tree").out.splitlines()[-1].split() == ["3", "1.00000", "osd.3", "down", "1.00000"]
    assert librgw("osd", "in", "1", "2").code == 0
    assert librgw("osd", "up", "3").code == 0
    osds = tree_osds(librgw)
    assert {(n["status"], n["reweight"]) for n in osds.values()} == {("up", 1.0)}
    assert librgw("osd", "up", "3").out.strip() == "osd.3 is already up."


def test_osd_reweight(librgw):
    assert librgw("osd", "reweight", "0", "0.5").code == 0
    assert tree_osds(librgw)[0]["crush_weight"] == 0.5


def test_osd_add_makes_a_fifth_osd(librgw, tmp_path):
    result = librgw("osd", "add", "--path", str(tmp_path / "disk5"), "--host", "node2")
    assert result.code == 0 and result.out.strip() == "4"
    osds = tree_osds(librgw)
    assert sorted(osds) == [0, 1, 2, 3, 4]
    assert osds[4]["path"] == str(tmp_path / "disk5")
    assert "host node2" in librgw("osd", "tree").out
    assert librgw("status", "-f", "json").out.count('"num_osds": 5') == 1


def test_osd_df_and_tree_tables(librgw, pools):
    df = librgw("osd", "df").out.splitlines()
    assert df[0].split() == ["ID", "WEIGHT", "REWEIGHT", "RAW", "USE", "VAR", "PGS", "STATUS"]
    assert len(df) == 1 + 4 + 2  # header, OSDs, TOTAL, MIN/MAX VAR
    tree = librgw("osd", "tree").out.splitlines()
    assert tree[1].split() == ["-1", "4.00000", "root", "default"]
    assert tree[2].split() == ["-2", "4.00000", "host", "localhost"]


def test_osd_map_names_the_pg_and_acting_set(librgw, pools):
    out = librgw("osd", "map", "rep", "obj").out
    assert out.startswith("osdmap e") and "pool 'rep' (1) object 'obj' -> pg 1." in out and "acting ([" in out


def test_osd_balance_says_how_many_pgs_it_changed(librgw, pools):
    result = librgw("osd", "balance")
    assert result.code == 0
    assert result.out.startswith("changed the pg_upmap_items of 0 pgs;")  # pool creation balanced them
    assert json.loads(librgw("osd", "balance", "--pool", "rep", "-f", "json").out)["changed"] == 0


def test_pg_upmap_items_shows_in_osd_dump_until_removed(librgw, pools):
    m = json.loads(librgw("osd", "map", "rep", "obj", "-f", "json").out)
    pgid, acting = m["pgid"], m["acting"]
    spare = (set(range(4)) - set(acting)).pop()
    librgw("osd", "rm-pg-upmap-items", pgid)
    assert librgw("osd", "pg-upmap-items", pgid, str(acting[0]), str(spare)).code == 0
    assert f"pg_upmap_items {pgid} [{acting[0]},{spare}]" in librgw("osd", "dump").out
    assert json.loads(librgw("osd", "map", "rep", "obj", "-f", "json").out)["acting"][0] == spare
    assert librgw("osd", "rm-pg-upmap-items", pgid).out.strip() == f"clear {pgid} pg_upmap_items mapping"
    assert f"pg_upmap_items {pgid} " not in librgw("osd", "dump").out


# -- failures ---------------------------------------------------------------------------


def test_missing_object_is_one_error_line_and_leaves_no_file(librgw, pools, tmp_path):
    line = assert_one_error_line(librgw("rados", "-p", "rep", "get", "nope", str(tmp_path / "out")))
    assert line == "librgw: error: error getting rep/nope: (2) No such file or directory"
    assert not (tmp_path / "out").exists()
    assert_one_error_line(librgw("rados", "-p", "ec", "stat", "nope"))
    assert_one_error_line(librgw("rados", "-p", "rep", "rm", "nope"))


def test_ls_fails_loudly_when_a_pg_cannot_be_listed(librgw, pools):
    assert librgw("osd", "down", "0", "1", "2", "3").code == 0
    assert "Resource temporarily unavailable" in assert_one_error_line(librgw("rados", "-p", "rep", "ls"))


def test_missing_conf_file(tmp_path, capsys):
    assert main(["-c", str(tmp_path / "none.conf"), "status"]) == 1
    err = capsys.readouterr().err
    assert err == f"librgw: error: {tmp_path / 'none.conf'}: no such conf file (pass -c CONF or set $LIBRGW_CONF)\n"


def test_missing_pool(librgw):
    line = assert_one_error_line(librgw("rados", "-p", "nope", "ls"))
    assert line == "librgw: error: error opening pool nope: (2) No such file or directory"
    assert assert_one_error_line(librgw("pool", "set", "nope", "size", "2")).endswith("(ENOENT)")


def test_missing_input_file(librgw, pools, tmp_path):
    line = assert_one_error_line(librgw("rados", "-p", "rep", "put", "o", str(tmp_path / "none")))
    assert line == f"librgw: error: {tmp_path / 'none'}: No such file or directory"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["osd"],
        ["rados", "ls"],
        ["pool", "create"],
        ["pool", "create", "p", "--pg-num", "0"],
        ["osd", "reweight", "1", "heavy"],
        ["osd", "pg-upmap-items", "1.0", "1", "2", "3"],
        ["status", "--format", "xml"],
    ],
)
def test_bad_command_lines_exit_2_with_one_line(librgw, argv):
    assert_one_error_line(librgw(*argv), code=2)


def test_help_exits_0(capsys):
    assert main(["rados", "--help"]) == 0
    assert "listomapvals" in capsys.readouterr().out


def test_ctrl_c_exits_130_quietly(librgw, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(status_commands, "mon_command", interrupted)
    result = librgw("status")
    assert (result.code, result.out, result.err) == (130, "", "")


def test_an_unexpected_error_is_still_one_line(librgw, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(status_commands, "mon_command", broken)
    assert "unexpected RuntimeError: boom" in assert_one_error_line(librgw("status"))


# -- the installed console script -------------------------------------------------------


def test_console_script_streams_through_pipes(cluster_conf, tmp_path):
    script = Path(sys.executable).parent / "librgw"
    env = {**os.environ, "LIBRGW_CONF": str(cluster_conf)}

    def run(*argv: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
        return subprocess.run([str(script), *argv], input=stdin, capture_output=True, env=env, timeout=60)

    assert run("pool", "create", "rep", "--pg-num", "4").returncode == 0
    data = os.urandom(STREAM_CHUNK + 12345)
    assert run("rados", "-p", "rep", "put", "piped", "-", stdin=data).returncode == 0
    got = run("rados", "-p", "rep", "get", "piped", "-")
    assert got.returncode == 0 and got.stdout == data
    failed = run("rados", "-p", "rep", "get", "nope", "-")
    assert failed.returncode == 1 and failed.stdout == b""
    assert failed.stderr == b"librgw: error: error getting rep/nope: (2) No such file or directory\n"


def _put_many(librgw, tmp_path: Path, count: int) -> None:
    for i in range(count):
        src = tmp_path / f"src{i}"
        src.write_bytes(f"payload {i}".encode() * 100)
        assert librgw("rados", "-p", "rep", "put", f"o{i}", str(src)).code == 0


def test_recover_backfills_an_out_osd_and_reports_a_summary(librgw, pools, tmp_path):
    _put_many(librgw, tmp_path, 30)
    assert librgw("osd", "out", "1").code == 0
    status = json.loads(librgw("status", "--format", "json").out)
    assert any("remapped" in s["state_name"] for s in status["pgmap"]["pgs_by_state"])  # the old copies serve
    result = librgw("recover")
    assert result.code == 0 and result.out.startswith("recovery: ") and "copied" in result.out
    again = librgw("recover", "--format", "json")
    assert again.code == 0 and json.loads(again.out)["objects_copied"] == 0  # nothing left: idempotent
    status = json.loads(librgw("status", "--format", "json").out)
    assert [s["state_name"] for s in status["pgmap"]["pgs_by_state"]] == ["active+clean"]


def test_recover_exits_1_when_a_pg_has_no_complete_copy_up(librgw, pools, tmp_path):
    _put_many(librgw, tmp_path, 10)
    assert librgw("osd", "out", "1").code == 0
    assert librgw("osd", "down", "0", "1", "2").code == 0  # only osd.3, a backfill target, is left
    result = librgw("recover")
    assert result.code == 1 and "incomplete" in result.out
