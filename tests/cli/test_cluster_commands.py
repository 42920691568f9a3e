"""``librgw cluster init --data-pool``: the gateway's data pool made with the cluster, erasure-coded
or replicated, and then used by the core as it is; bad specs refused before anything is made."""

import io
import json
import os
from pathlib import Path

import pytest

import librgw
from librgw import rados
from librgw.cli.main import main
from librgw.cli.pool_commands import format_pool_detail
from librgw.zone import DATA_POOL, REPLICATED_POOLS
from tests.cli.conftest import Result
from tests.conftest import mon

MiB = 1024 * 1024
ERASURE, REPLICATED = 3, 1  # Ceph's pool type codes, as `pool ls --detail -f json` shows them


def run(capsys: pytest.CaptureFixture, *argv: str) -> Result:
    code = main(list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def pools(capsys: pytest.CaptureFixture, conf: Path) -> dict[str, dict]:
    result = run(capsys, "-c", str(conf), "pool", "ls", "--detail", "--format", "json")
    assert result.code == 0, result.err
    return {pool["pool_name"]: pool for pool in json.loads(result.out)}


def test_init_with_k2_m1_makes_an_erasure_coded_data_pool_that_the_core_stores_objects_in(tmp_path, capsys):
    result = run(capsys, "cluster", "init", str(tmp_path / "c"), "--osds", "4", "--data-pool", "k=2,m=1")
    assert result.code == 0, result.err
    conf = tmp_path / "c" / "cluster.conf"
    data = pools(capsys, conf)[DATA_POOL]
    assert data["type"] == ERASURE and data["size"] == 3 and data["erasure_code_profile"] == "k2m1"
    assert f"data: {format_pool_detail(data)}\n" in result.out  # what init says is what the map holds
    with rados.Rados(conffile=str(conf)) as client:
        ret, out, outs = mon(client, "osd erasure-code-profile get", name="k2m1", format="json")
    assert ret == 0, outs
    assert {k: json.loads(out)[k] for k in ("k", "m", "crush-failure-domain")} == {
        "k": "2",
        "m": "1",
        "crush-failure-domain": "osd",
    }

    blob = os.urandom(9 * MiB + 5)  # a head and two 4 MiB tail stripes
    with librgw.connect(str(conf)) as rgw:
        rgw.users.create("e", "E")
        rgw.create_bucket("e", "photos")
        rgw.put("photos", "big", io.BytesIO(blob))
        assert rgw.get("photos", "big").read() == blob
        assert rgw.get("photos", "big", byte_range=(5 * MiB, 5 * MiB + 9)).read() == blob[5 * MiB : 5 * MiB + 10]
        with rgw.client.open_ioctx(DATA_POOL) as ioctx:
            assert len(list(ioctx.list_objects())) == 3

    after = pools(capsys, conf)
    assert after[DATA_POOL] == data  # found and used, not made again
    assert {name: after[name]["type"] for name in REPLICATED_POOLS} == dict.fromkeys(REPLICATED_POOLS, REPLICATED)


def test_init_with_a_size_makes_a_replicated_data_pool_of_that_size(tmp_path, capsys):
    result = run(capsys, "cluster", "init", str(tmp_path / "c"), "--osds", "4", "--data-pool", "size=2", "-f", "json")
    assert result.code == 0, result.err
    printed = json.loads(result.out)["data_pool"]
    assert printed["pool_name"] == DATA_POOL and printed["type"] == REPLICATED and printed["size"] == 2
    assert pools(capsys, tmp_path / "c" / "cluster.conf")[DATA_POOL] == printed


def test_init_without_a_data_pool_leaves_it_to_the_gateway(tmp_path, capsys):
    result = run(capsys, "cluster", "init", str(tmp_path / "c"), "--osds", "4")
    assert result.code == 0 and "data:" not in result.out
    assert pools(capsys, tmp_path / "c" / "cluster.conf") == {}


@pytest.mark.parametrize(
    "spec, words",
    [
        ("k=4,m=2", "k+m = 6 OSDs; the cluster has 4"),  # make run EC=4+2 OSDS=4
        ("k=1,m=2", "k >= 2 and m >= 1"),
        ("k=2,m=0", "k >= 2 and m >= 1"),
        ("size=5", "holds 1 to 4 copies"),
        ("size=0", "holds 1 to 4 copies"),
        ("k=4", "must be k=K,m=M (erasure-coded), size=S or replicated, not 'k=4'"),
        ("4+2", "not '4+2'"),
        ("k=4,m=2,plugin=isa", "not 'k=4,m=2,plugin=isa'"),
    ],
)
def test_a_data_pool_the_osds_cannot_hold_is_refused_in_one_line_before_anything_is_made(tmp_path, capsys, spec, words):
    result = run(capsys, "cluster", "init", str(tmp_path / "c"), "--osds", "4", "--data-pool", spec)
    assert result.code == 2 and result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("librgw: error: ") and words in lines[0], result.err
    assert not (tmp_path / "c").exists()
