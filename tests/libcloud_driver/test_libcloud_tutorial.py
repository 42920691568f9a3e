"""The OpenStack First App tutorial's "Making it durable" chapter, its libcloud sample
(``samples/libcloud/durability.py``, steps 1 to 14) run against a librgw gateway over each
of our driver's transports, and the Fractals example's API for step 11.

The steps are the sample's, unchanged but for step 1 (the provider, ``get_driver("librgw")``
instead of ``Provider.OPENSTACK_SWIFT``, and the gateway's address, or for the in-process
transport its cluster, and keys instead of Keystone's), step 11's API address
(``IP_API_1``), and the Python 2 imports step 11 makes and never uses (``base64``,
``cStringIO``). They run in the chapter's order except step 12: it deletes the container
that steps 13 and 14 (the chapter's "extra features", shown after it) upload into, so it
runs last, as an application would clean up.
"""

import pytest

from tests.examples.conftest import fractals_api, run_fractals
from tests.integration.conftest import S3_KEYS
from tests.libcloud_driver.conftest import LIBRGW_TRANSPORTS, connection_options

pytestmark = pytest.mark.slow


@pytest.fixture
def fractals_endpoint(tmp_path):
    """The Fractals API serving three fractals from local disk."""
    db, images = str(tmp_path / "fractals.db"), str(tmp_path / "images")
    run_fractals("--db", db, "--storage", images, "worker", "--count", "3", "--seed", "16")
    with fractals_api(db, images, tmp_path / "api.log") as url:
        yield url


@pytest.mark.parametrize("transport", LIBRGW_TRANSPORTS)
def test_the_chapter_steps_1_to_14(gateway, fractals_endpoint, tmp_path, monkeypatch, capsys, transport):
    monkeypatch.chdir(tmp_path)
    goat = bytes(range(256)) * 750  # goat.jpg
    (tmp_path / "goat.jpg").write_bytes(goat)
    auth_username, auth_password = S3_KEYS["alice"]
    connection = connection_options(transport, gateway)

    # step-1
    from libcloud.storage.providers import get_driver

    import libcloud_driver  # noqa: F401  (registers the provider)

    provider = get_driver("librgw")
    swift = provider(auth_username, auth_password, **connection)

    # step-2
    container_name = "fractals"
    container = swift.create_container(container_name=container_name)
    print(container)

    # step-3
    print(swift.list_containers())

    # step-4
    file_path = "goat.jpg"
    object_name = "an amazing goat"
    container = swift.get_container(container_name=container_name)
    object = container.upload_object(file_path=file_path, object_name=object_name)

    # step-5
    objects = container.list_objects()
    print(objects)

    # step-6
    object = swift.get_object(container_name, object_name)
    print(object)

    # step-7
    import hashlib

    print(hashlib.md5(open("goat.jpg", "rb").read()).hexdigest())

    # step-8
    swift.delete_object(object)

    # step-9
    objects = container.list_objects()
    print(objects)

    # step-10
    container_name = "fractals"
    container = swift.get_container(container_name)

    # step-11
    import json

    import requests

    endpoint = fractals_endpoint
    params = {"results_per_page": "-1"}
    response = requests.get("%s/v1/fractal" % endpoint, params=params)  # noqa: UP031 (the tutorial's code)
    data = json.loads(response.text)
    for fractal in data["objects"]:
        response = requests.get("%s/fractal/%s" % (endpoint, fractal["uuid"]), stream=True)  # noqa: UP031
        container.upload_object_via_stream(response.iter_content(), object_name=fractal["uuid"])

    for object in container.list_objects():
        print(object)

    backed_up = {o.name: o.hash for o in container.list_objects()}

    # step-13
    file_path = "goat.jpg"
    object_name = "backup_goat.jpg"
    extra = {"meta_data": {"description": "a funny goat", "created": "2015-06-02"}}
    with open("goat.jpg", "rb") as iterator:
        object = swift.upload_object_via_stream(
            iterator=iterator, container=container, object_name=object_name, extra=extra
        )

    stored_with_metadata = swift.get_object(container_name, object_name)

    # step-14
    swift.ex_multipart_upload_object(file_path, container, object_name, chunk_size=33554432)

    in_parts = swift.get_object(container_name, object_name)
    final_objects = [o.name for o in container.list_objects()]

    # step-12
    for object in container.list_objects():
        container.delete_object(object)
    swift.delete_container(container)

    # What the chapter shows each step printing.
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "<Container: name=fractals, provider=librgw>"
    assert out[1] == "[<Container: name=fractals, provider=librgw>]"
    goat_md5 = hashlib.md5(goat).hexdigest()
    assert out[2].startswith(f"[<Object: name=an amazing goat, size={len(goat)}, hash={goat_md5}, provider=librgw")
    assert out[3].startswith(f"<Object: name=an amazing goat, size={len(goat)}, hash={goat_md5}")
    assert out[4] == goat_md5  # step 7: the same md5 as the stored object's
    assert out[5] == "[]"  # step 9: the object is gone
    fractals = {f["uuid"]: f for f in data["objects"]}
    assert len(fractals) == 3 and backed_up.keys() == fractals.keys()
    for uuid, fractal in fractals.items():
        assert backed_up[uuid] == fractal["checksum"]  # each image's md5 as the app recorded it
    assert stored_with_metadata.meta_data == {"description": "a funny goat", "created": "2015-06-02"}
    assert stored_with_metadata.hash == goat_md5
    assert in_parts.hash == hashlib.md5(hashlib.md5(goat).digest()).hexdigest() + "-1"  # one 32 MiB part
    assert in_parts.size == len(goat)
    assert sorted(final_objects) == sorted([*fractals, "backup_goat.jpg"])
    assert "fractals" not in [c.name for c in swift.list_containers()]
