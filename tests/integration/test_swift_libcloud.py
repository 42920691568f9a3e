"""libcloud's own OpenStack Swift driver (``Provider.OPENSTACK_SWIFT``, the one the OpenStack
"First App" Fractals tutorial uses) against a real gateway: v1 auth at ``/auth/v1.0``, the
storage URL given as ``ex_force_base_url``, and every storage call an app makes.

The driver checks an upload by comparing the ``ETag`` header with the MD5 it computed, byte for
byte (``cloudfiles.py``'s ``_put_object``: ``result_dict["data_hash"] != server_hash``): Swift
sends that header unquoted (its proxy strips the quotes, ``update_headers`` in
``swift/proxy/controllers/base.py``), so a quoted one fails every upload with
``ObjectHashMismatchError``.
"""

import hashlib
import io

import pytest
from libcloud.storage.providers import Provider, get_driver
from libcloud.storage.types import ContainerDoesNotExistError, ObjectDoesNotExistError

pytestmark = pytest.mark.slow

DATA = b"fractal " * 40_000  # 320 kB


@pytest.fixture(scope="module")
def driver(gateway):
    storage_url, _ = gateway.login("alice:swift", "alice-key")
    return get_driver(Provider.OPENSTACK_SWIFT)(
        "alice:swift",
        "alice-key",
        secure=False,
        ex_force_auth_url=gateway.url + "/auth",  # v1 auth asks <this>/v1.0
        ex_force_auth_version="1.0",
        ex_force_base_url=storage_url,
    )


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_upload_list_download_stream_and_delete(driver, tmp_path):
    container = driver.create_container("fractals")
    assert "fractals" in [c.name for c in driver.list_containers()]

    source = tmp_path / "a.png"
    source.write_bytes(DATA)
    uploaded = driver.upload_object(str(source), container, "a.png", verify_hash=True)  # the ETag check
    assert uploaded.hash == md5(DATA) and uploaded.size == len(DATA)
    streamed = driver.upload_object_via_stream(io.BytesIO(DATA[::-1]), container, "b.png")
    assert streamed.hash == md5(DATA[::-1])

    listed = {o.name: o for o in driver.list_container_objects(container)}
    assert sorted(listed) == ["a.png", "b.png"]
    assert listed["a.png"].hash == md5(DATA) and listed["a.png"].size == len(DATA)
    assert listed["b.png"].extra["content_type"] == "image/png"
    assert driver.get_container("fractals").extra == {"object_count": 2, "size": 2 * len(DATA)}

    got = driver.get_object("fractals", "a.png")
    assert got.hash == md5(DATA) and got.size == len(DATA)
    target = tmp_path / "down.png"
    assert driver.download_object(got, str(target), overwrite_existing=True)
    assert md5(target.read_bytes()) == got.hash  # the download's hash check
    chunks = driver.download_object_as_stream(driver.get_object("fractals", "b.png"), chunk_size=65536)
    assert md5(b"".join(chunks)) == md5(DATA[::-1])

    for obj in driver.list_container_objects(container):
        assert driver.delete_object(obj)
    with pytest.raises(ObjectDoesNotExistError):
        driver.get_object("fractals", "a.png")
    assert driver.delete_container(container)
    with pytest.raises(ContainerDoesNotExistError):
        driver.get_container("fractals")


def test_metadata_round_trips_and_the_listing_agrees_with_head(driver):
    container = driver.create_container("meta")
    obj = driver.upload_object_via_stream(
        io.BytesIO(b"abcdef"), container, "m.txt", extra={"meta_data": {"colour": "blue"}}
    )
    head = driver.get_object("meta", "m.txt")
    assert head.meta_data == {"colour": "blue"} and head.hash == obj.hash == md5(b"abcdef")
    (listed,) = driver.list_container_objects(container)
    assert listed.hash == head.hash and listed.size == head.size == 6
    driver.delete_object(head)
    driver.delete_container(container)
