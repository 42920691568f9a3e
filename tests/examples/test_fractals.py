"""The Fractals example end to end, against a real gateway: 20 fractals made, backed up
into the cluster through the API and ``get_driver("librgw")``, deleted from local disk,
restored with every md5 checked, and served by the API straight from the cluster; and the
``durability`` command running the chapter's steps."""

import hashlib
import shutil
import urllib.parse

import pytest
import requests

from tests.examples.conftest import fractals_api, run_fractals
from tests.integration import conftest as integration
from tests.integration.conftest import S3_KEYS

pytestmark = pytest.mark.slow

gateway = integration.gateway  # the integration suite's running gateway, a fixture here too


def cloud_url(gateway, container: str) -> str:
    access, secret = (urllib.parse.quote(part, safe="") for part in S3_KEYS["alice"])
    return f"librgw://{access}:{secret}@127.0.0.1:{gateway.port}/{container}"


def test_backup_delete_restore_and_serve_from_the_cluster(gateway, tmp_path):
    db, images = str(tmp_path / "fractals.db"), tmp_path / "images"
    made = run_fractals("--db", db, "--storage", str(images), "worker", "--count", "20", "--seed", "7")
    assert len(made.stdout.splitlines()) == 20
    cloud = cloud_url(gateway, "fractals-backup")

    with fractals_api(db, str(images), tmp_path / "api.log") as api:
        fractals = requests.get(f"{api}/v1/fractal", params={"results_per_page": "-1"}, timeout=30).json()["objects"]
        assert len(fractals) == 20
        one = requests.get(f"{api}/v1/fractal/{fractals[0]['uuid']}", timeout=30).json()
        assert one["image"] == f"/fractal/{fractals[0]['uuid']}" and one["kind"] in ("mandelbrot", "julia")
        backed_up = run_fractals("backup", "--cloud", cloud, "--api", api)
        assert "20 fractals backed up" in backed_up.stdout
        assert "backup: 100%" in backed_up.stderr  # the progress bar

    checksums = {f["uuid"]: f["checksum"] for f in fractals}
    for uuid, checksum in checksums.items():
        assert hashlib.md5((images / f"{uuid}.png").read_bytes()).hexdigest() == checksum
    stored = gateway.s3().list_objects_v2(Bucket="fractals-backup")["Contents"]
    assert {o["Key"]: o["ETag"].strip('"') for o in stored} == checksums
    head = gateway.s3().head_object(Bucket="fractals-backup", Key=fractals[0]["uuid"])
    assert head["ContentType"] == "image/png" and head["Metadata"]["checksum"] == fractals[0]["checksum"]

    shutil.rmtree(images)
    restored = run_fractals("--db", db, "--storage", str(images), "restore", "--cloud", cloud)
    assert "restore: 100%" in restored.stderr
    for uuid, checksum in checksums.items():
        assert hashlib.md5((images / f"{uuid}.png").read_bytes()).hexdigest() == checksum

    with fractals_api(db, cloud, tmp_path / "cloud-api.log") as api:
        for uuid in checksums:
            response = requests.get(f"{api}/fractal/{uuid}", timeout=30)
            assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
            assert response.content == (images / f"{uuid}.png").read_bytes()
        assert requests.get(f"{api}/fractal/00000000-0000-0000-0000-000000000000", timeout=30).status_code == 404


def test_the_app_keeps_its_images_in_the_cluster_in_process(gateway, tmp_path, monkeypatch):
    monkeypatch.setenv("LIBRGW_ACCESS_KEY", S3_KEYS["alice"][0])
    monkeypatch.setenv("LIBRGW_SECRET_KEY", S3_KEYS["alice"][1])
    db = str(tmp_path / "fractals.db")
    in_process = f"librgw+cluster://{gateway.conf}/fractals-in-process"
    gateway.s3().create_bucket(Bucket="fractals-in-process")
    made = run_fractals("--db", db, "--storage", in_process, "worker", "--count", "3", "--seed", "10")
    assert len(made.stdout.splitlines()) == 3
    stored = gateway.s3().list_objects_v2(Bucket="fractals-in-process")["Contents"]  # over HTTP: the same data
    assert len(stored) == 3

    with fractals_api(db, in_process, tmp_path / "api.log") as api:
        fractals = requests.get(f"{api}/v1/fractal", params={"results_per_page": "-1"}, timeout=30).json()["objects"]
        for fractal in fractals:
            image = requests.get(f"{api}/fractal/{fractal['uuid']}", timeout=30)
            assert image.status_code == 200 and hashlib.md5(image.content).hexdigest() == fractal["checksum"]
            over_http = gateway.s3().get_object(Bucket="fractals-in-process", Key=fractal["uuid"])["Body"].read()
            assert over_http == image.content


def test_restore_names_fractals_missing_from_the_container(gateway, tmp_path):
    db, images = str(tmp_path / "fractals.db"), str(tmp_path / "images")
    run_fractals("--db", db, "--storage", images, "worker", "--count", "2", "--seed", "8")
    gateway.s3().create_bucket(Bucket="fractals-empty")
    with pytest.raises(AssertionError, match="not in the container"):
        run_fractals("--db", db, "--storage", images, "restore", "--cloud", cloud_url(gateway, "fractals-empty"))


def test_the_durability_command_runs_the_chapter(gateway, tmp_path):
    db, images = str(tmp_path / "fractals.db"), str(tmp_path / "images")
    run_fractals("--db", db, "--storage", images, "worker", "--count", "3", "--seed", "9")
    goat = tmp_path / "goat.jpg"
    goat.write_bytes(bytes(range(256)) * 1000)
    with fractals_api(db, images, tmp_path / "api.log") as api:
        out = run_fractals("durability", "--cloud", cloud_url(gateway, "fractals"), "--api", api, "--file", str(goat))
    lines = out.stdout.splitlines()
    assert "<Container: name=fractals, provider=librgw>" in lines
    goat_md5 = hashlib.md5(goat.read_bytes()).hexdigest()
    assert f"{goat_md5} matches {goat_md5}" in lines
    assert lines[lines.index("# step 9: list objects") + 1] == "[]"
    assert any(line.startswith("<Object: name=large.bin, size=41943040, hash=") for line in lines)
    assert lines[-1] == "True"  # step 12: the container deleted
    assert "fractals" not in [b["Name"] for b in gateway.s3().list_buckets()["Buckets"]]
