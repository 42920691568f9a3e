"""The CLI with ``-c ceph:<ceph.conf>``: status, OSD, pool and ``rados`` commands go to Ceph's
monitor and OSDs; the admin commands run the core on Ceph; what only the embedded engine
does (recover, scrub, osd add) says what Ceph does instead."""

import json

import pytest

from librgw import rados
from librgw.cli.main import main
from tests.ceph import backend as ceph_backend
from tests.cli.conftest import Result


@pytest.fixture
def ceph_cli(ceph_conf, capsys):
    ceph_backend.wipe(ceph_conf)
    spec = rados.CEPH_PREFIX + ceph_conf

    def run(*argv: str) -> Result:
        code = main(["-c", spec, *argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def test_status_osd_tree_and_dump_render_cephs_own_answers(ceph_cli):
    status = ceph_cli("status")
    assert status.code == 0 and "health: HEALTH_" in status.out, status.out
    assert "osd: 3 osds: 3 up, 3 in" in status.out, status.out
    assert json.loads(ceph_cli("status", "--format", "json").out)["osdmap"]["num_up_osds"] == 3
    tree = ceph_cli("osd", "tree")
    assert tree.code == 0 and all(f"osd.{n}" in tree.out for n in range(3))
    assert ceph_cli("pool", "create", "dumped", "--pg-num", "8").code == 0
    dump = ceph_cli("osd", "dump")
    assert dump.code == 0 and "osd.0 up in weight 1" in dump.out
    assert "'dumped' replicated size 3 min_size 2 pg_num 8" in dump.out


def test_pools_and_the_rados_tool_work_on_ceph(ceph_cli, tmp_path):
    assert ceph_cli("pool", "create", "clitest", "--pg-num", "8").code == 0
    assert "clitest" in ceph_cli("pool", "ls").out.split()
    source = tmp_path / "in.bin"
    source.write_bytes(b"x" * 100_000)
    assert ceph_cli("rados", "-p", "clitest", "put", "thing", str(source)).code == 0
    assert ceph_cli("rados", "-p", "clitest", "ls").out.split() == ["thing"]
    assert ceph_cli("rados", "-p", "clitest", "get", "thing", str(tmp_path / "out.bin")).code == 0
    assert (tmp_path / "out.bin").read_bytes() == source.read_bytes()
    where = json.loads(ceph_cli("osd", "map", "clitest", "thing", "--format", "json").out)
    assert len(set(where["acting"])) == 3
    assert ceph_cli("pool", "rm", "clitest", "clitest", "--yes-i-really-really-mean-it").code == 0
    assert "clitest" not in ceph_cli("pool", "ls").out.split()


def test_admin_commands_run_the_core_on_ceph(ceph_cli):
    assert ceph_cli("admin", "user", "create", "--uid", "carol", "--display-name", "Carol").code == 0
    info = json.loads(ceph_cli("admin", "user", "info", "--uid", "carol").out)
    assert info["user_id"] == "carol" and info["keys"][0]["access_key"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["recover"], "Ceph recovers by itself"),
        (["scrub"], "scrub by themselves"),
        (["osd", "add"], "ceph-volume"),
        (["cluster", "init", "/tmp/never-made", "--osds", "3"], "cephadm bootstrap"),
    ],
)
def test_embedded_only_commands_say_what_ceph_does_instead(ceph_cli, argv, says):
    result = ceph_cli(*argv)
    assert result.code == 1 and says in result.err and "Traceback" not in result.err
