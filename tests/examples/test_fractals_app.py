"""The Fractals example's parts without a gateway: rendering is deterministic, the worker
records what it stores, and the API lists, describes and serves fractals (WebOb requests
to the real WSGI app)."""

import hashlib
import random
import sys

import pytest
from webob import Request

from tests.examples.conftest import FRACTALS

sys.path.insert(0, str(FRACTALS))
from fractals.api import FractalsAPI  # noqa: E402
from fractals.db import Database  # noqa: E402
from fractals.render import random_parameters, render_png  # noqa: E402
from fractals.storage import LocalImages, connect  # noqa: E402
from fractals.worker import make_fractals  # noqa: E402


def test_the_same_parameters_render_the_same_png():
    parameters = random_parameters(random.Random(1), size=(64, 48))
    png = render_png(parameters)
    assert png.startswith(b"\x89PNG") and png == render_png(parameters)


@pytest.fixture
def app(tmp_path):
    db, images = Database(str(tmp_path / "f.db")), LocalImages(str(tmp_path / "images"))
    made = make_fractals(db, images, 3, seed=5)
    return FractalsAPI(db, images), made, images


def get(app, path: str, status: int = 200, method: str = "GET"):
    response = Request.blank(path, method=method).get_response(app)
    assert response.status_code == status, response.text
    return response


def test_the_worker_records_each_images_md5(app):
    _, made, images = app
    for fractal in made:
        assert hashlib.md5(images.path(fractal.uuid).read_bytes()).hexdigest() == fractal.checksum


def test_the_api_lists_describes_and_serves_fractals(app):
    api, made, images = app
    listing = get(api, "/v1/fractal?results_per_page=-1").json
    assert listing["num_results"] == 3 and {f["uuid"] for f in listing["objects"]} == {f.uuid for f in made}
    page = get(api, "/v1/fractal?results_per_page=2&page=2").json
    assert len(page["objects"]) == 1 and page["total_pages"] == 2
    one = get(api, f"/v1/fractal/{made[0].uuid}").json
    assert one["checksum"] == made[0].checksum and one["image"] == f"/fractal/{made[0].uuid}"
    image = get(api, f"/fractal/{made[0].uuid}")
    assert image.content_type == "image/png" and image.body == images.path(made[0].uuid).read_bytes()
    get(api, "/fractal/nope", status=404)
    get(api, "/v1/fractal/nope", status=404)
    get(api, "/v1/fractal", status=405, method="POST")


def test_a_librgw_url_names_keys_or_takes_them_from_the_environment(monkeypatch):
    driver, container = connect("librgw://AK:s%2Fecret@127.0.0.1:8080/fractals")
    assert (driver.key, driver.secret, container) == ("AK", "s/ecret", "fractals")
    monkeypatch.setenv("LIBRGW_ACCESS_KEY", "ENVKEY")
    monkeypatch.setenv("LIBRGW_SECRET_KEY", "envsecret")
    driver, container = connect("librgw://127.0.0.1:8080/backups")
    assert (driver.key, driver.secret, container) == ("ENVKEY", "envsecret", "backups")
    with pytest.raises(ValueError):
        connect("librgw://127.0.0.1:8080/")
    with pytest.raises(ValueError):
        connect("librgw+cluster://fractals")  # no cluster
