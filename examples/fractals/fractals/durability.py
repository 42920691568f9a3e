"""The "Making it durable" chapter of the OpenStack First App tutorial, made runnable against
a librgw gateway: the same libcloud calls, with ``get_driver("librgw")`` for the provider.

``chapter`` runs the chapter's steps in order and prints what each returns; ``backup`` and
``restore`` are the part an operator keeps: every fractal the API serves goes into the
container (``upload_object_via_stream`` with the fractal's parameters as metadata), and back
from it into the app's image store, each image checked against the md5 in the database.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

import requests
from libcloud.storage.base import Container, StorageDriver
from libcloud.storage.types import ContainerAlreadyExistsError
from tqdm import tqdm

from .db import Database
from .storage import CHUNK_SIZE, ImageStore

# The tutorial's chunk size for ex_multipart_upload_object (bytes).
MULTIPART_CHUNK_SIZE = 33554432
# A large object for the chapter's last step: more than one multipart chunk.
LARGE_OBJECT_SIZE = 40 * 1024 * 1024


class RestoreError(Exception):
    pass


def md5_of_file(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fractal_metadata(fractal: dict) -> dict[str, str]:
    """A fractal's parameters and checksum as object metadata, named with dashes: a header
    name with an underscore is dropped by gunicorn (and many proxies) before the gateway
    sees it, so ``x-amz-meta-c_real`` would never arrive."""
    skip = ("uuid", "created_at", "generated_by")
    return {key.replace("_", "-"): str(value) for key, value in fractal.items() if key not in skip}


def backup(driver: StorageDriver, container: Container, endpoint: str, progress: bool = True) -> list:
    """Every fractal the API at ``endpoint`` lists, streamed from the API into ``container``."""
    data = requests.get(f"{endpoint}/v1/fractal", params={"results_per_page": "-1"}, timeout=60).json()
    objects = []
    for fractal in tqdm(data["objects"], desc="backup", unit="fractal", disable=not progress):
        response = requests.get(f"{endpoint}/fractal/{fractal['uuid']}", stream=True, timeout=60)
        response.raise_for_status()
        extra = {"meta_data": fractal_metadata(fractal), "content_type": "image/png"}
        objects.append(
            driver.upload_object_via_stream(
                response.iter_content(CHUNK_SIZE), container=container, object_name=fractal["uuid"], extra=extra
            )
        )
    return objects


def restore(driver: StorageDriver, container: Container, db: Database, images: ImageStore, progress: bool = True):
    """Every fractal in the database back from ``container`` into ``images``; RestoreError
    naming those missing from the container or whose bytes do not match their md5."""
    failed = []
    for fractal in tqdm(db.all(), desc="restore", unit="fractal", disable=not progress):
        try:
            obj = driver.get_object(container.name, fractal.uuid)
        except Exception:
            failed.append(f"{fractal.uuid}: not in the container")
            continue
        data = b"".join(driver.download_object_as_stream(obj, chunk_size=CHUNK_SIZE))
        if hashlib.md5(data).hexdigest() != fractal.checksum:
            failed.append(f"{fractal.uuid}: md5 {hashlib.md5(data).hexdigest()}, expected {fractal.checksum}")
            continue
        images.put(fractal.uuid, data)
    if failed:
        raise RestoreError("could not restore:\n" + "\n".join(failed))


def chapter(swift: StorageDriver, endpoint: str, file_path: str, container_name: str = "fractals") -> None:
    """The chapter's steps 2 to 14 (step 1, connecting, is the caller's), in the order the
    chapter teaches them, each printing what it returns, then step 12 (deleting the
    container, an "extra feature" the chapter shows before 13 and 14 use the container)."""
    print("# step 2: create the container")
    try:
        container = swift.create_container(container_name=container_name)
    except ContainerAlreadyExistsError:
        container = swift.get_container(container_name)
    print(container)

    print("# step 3: list containers")
    print(swift.list_containers())

    print("# step 4: upload an object")
    object_name = "an amazing goat"
    container = swift.get_container(container_name=container_name)
    obj = container.upload_object(file_path=file_path, object_name=object_name)

    print("# step 5: list objects")
    print(container.list_objects())

    print("# step 6: get the object")
    obj = swift.get_object(container_name, object_name)
    print(obj)

    print("# step 7: md5 of the local file")
    local = md5_of_file(file_path)
    print(local, "matches" if local == obj.hash else "DOES NOT MATCH", obj.hash)
    if local != obj.hash:
        raise SystemExit("the stored object's md5 differs from the file's")

    print("# step 8: delete the object")
    swift.delete_object(obj)

    print("# step 9: list objects")
    print(container.list_objects())

    print("# step 10: the container for the backup")
    container = swift.get_container(container_name)

    print("# step 11: back up every fractal from the API")
    for stored in backup(swift, container, endpoint):
        print(stored)

    print("# step 13: upload with metadata, streamed")
    extra = {"meta_data": {"description": "a funny goat", "created": "2015-06-02"}}
    with open(file_path, "rb") as iterator:
        print(
            swift.upload_object_via_stream(
                iterator=iterator, container=container, object_name="backup_goat.jpg", extra=extra
            )
        )

    print("# step 14: a large object, in parts")
    with tempfile.TemporaryDirectory() as tmp:
        large = os.path.join(tmp, "large.bin")
        with open(large, "wb") as f:
            for _ in range(LARGE_OBJECT_SIZE // CHUNK_SIZE):
                f.write(os.urandom(CHUNK_SIZE))
        print(swift.ex_multipart_upload_object(large, container, "large.bin", chunk_size=MULTIPART_CHUNK_SIZE))

    print("# step 12: delete the container")
    for stored in container.list_objects():
        container.delete_object(stored)
    print(swift.delete_container(container))
