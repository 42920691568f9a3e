"""Four real S3 clients against the gateway under gunicorn, over a socket: boto3, the awscli,
s3cmd and rclone, each through the same scenarios in buckets of its own.

- A bucket's life: make it, upload a small file, list, download, copy, delete, remove it.
- A 1 GiB file through the client's multipart path in 64 MiB parts (so its ETag must end in
  ``-16``), downloaded back and compared by MD5.
- A tree of 1,000 small files in nested directories synced up, synced down into an empty
  directory and compared file by file, then removed with the client's recursive delete.

Each client is set up as a user sets it up for an S3 service that is not AWS: the endpoint
URL, path-style addressing, region us-east-1, plain http. It runs in an environment of its
own (``client_env``): a temporary HOME and no inherited ``AWS_*`` or ``RCLONE_*`` variables,
so a developer's profiles cannot leak in (rclone's AWS SDK also refuses an ``AWS_CA_BUNDLE``
with an http endpoint). Retries are off where a client has a setting for it, so a failed
request fails the test rather than being retried into success. What a client did is checked
with another one, boto3 (``gateway.s3()``).

s3cmd and rclone are Debian's: ``make test`` installs them (as root or with sudo); where it
could not, their tests fail saying so. The awscli (v1) comes with the test extras.
"""

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

import librgw
from tests.integration.conftest import S3_KEYS, Gateway

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
BIG_SIZE = 1024 * MIB
PART_SIZE = 64 * MIB
BIG_PARTS = -(-BIG_SIZE // PART_SIZE)
TREE_FILES = 1000
COMMAND_TIMEOUT_S = 300
THREADS = 8  # boto3's uploads and downloads at once: the gateway's 2 workers x 4 threads
REGION = "us-east-1"
DEBIAN_CLIENTS = ("s3cmd", "rclone")


def run(command: list[str], env: dict[str, str]) -> str:
    """The command's output; the test fails with its output when it exits non-zero."""
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"{shlex.join(command)} ran for more than {timeout.timeout} s")
    if done.returncode != 0:
        pytest.fail(f"{shlex.join(command)} exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def client_env(home: Path, **variables: str) -> dict[str, str]:
    """The environment a CLI client runs in: ours without AWS or rclone settings, HOME in ``home``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "RCLONE_"))}
    home.mkdir(parents=True, exist_ok=True)
    return {**env, "HOME": str(home), **variables}


def installed(program: str) -> str:
    """The path of a Debian client; the test fails, saying how to get it, when it is missing."""
    path = shutil.which(program)
    if path is None:
        pytest.fail(
            f"{program} is not installed. `make test` installs it from Debian when it runs as root or with "
            f"sudo; otherwise run `apt-get install -y {' '.join(DEBIAN_CLIENTS)}` as root."
        )
    return path


def keys_in(s3, bucket: str, prefix: str = "") -> list[str]:
    """The keys under ``prefix``, sorted, as a boto3 client lists them."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def files_of(directory: Path) -> dict[str, Path]:
    """The files under ``directory`` by their ``/``-separated relative paths."""
    return {path.relative_to(directory).as_posix(): path for path in directory.rglob("*") if path.is_file()}


class S3Client:
    """What every client is asked to do, each with its own commands. Keys are ``/``-separated
    paths; ``upload_multipart`` sends ``PART_SIZE`` parts; ``sync_*`` mirror a directory and
    a key prefix; ``purge`` deletes every object of a bucket, then the bucket."""

    name = ""

    def make_bucket(self, bucket: str) -> None:
        raise NotImplementedError

    def upload(self, path: Path, bucket: str, key: str) -> None:
        raise NotImplementedError

    def upload_multipart(self, path: Path, bucket: str, key: str) -> None:
        raise NotImplementedError

    def download(self, bucket: str, key: str, path: Path) -> None:
        raise NotImplementedError

    def keys(self, bucket: str) -> list[str]:
        """Every key in the bucket, sorted."""
        raise NotImplementedError

    def copy(self, bucket: str, key: str, new_key: str) -> None:
        raise NotImplementedError

    def delete(self, bucket: str, key: str) -> None:
        raise NotImplementedError

    def remove_bucket(self, bucket: str) -> None:
        raise NotImplementedError

    def sync_up(self, directory: Path, bucket: str, prefix: str) -> None:
        raise NotImplementedError

    def sync_down(self, bucket: str, prefix: str, directory: Path) -> None:
        raise NotImplementedError

    def purge(self, bucket: str) -> None:
        raise NotImplementedError


class Boto3Client(S3Client):
    """boto3's managed transfers: ``TransferConfig`` picks the multipart path; a thread pool
    stands in for a sync command, which boto3 has not."""

    name = "boto3"

    def __init__(self, gateway: Gateway, home: Path) -> None:
        self.s3 = gateway.s3(max_pool_connections=THREADS)

    def make_bucket(self, bucket: str) -> None:
        self.s3.create_bucket(Bucket=bucket)

    def upload(self, path: Path, bucket: str, key: str) -> None:
        self.s3.upload_file(str(path), bucket, key)

    def upload_multipart(self, path: Path, bucket: str, key: str) -> None:
        config = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE, max_concurrency=4)
        self.s3.upload_file(str(path), bucket, key, Config=config)

    def download(self, bucket: str, key: str, path: Path) -> None:
        self.s3.download_file(bucket, key, str(path))

    def keys(self, bucket: str) -> list[str]:
        return keys_in(self.s3, bucket)

    def copy(self, bucket: str, key: str, new_key: str) -> None:
        self.s3.copy_object(Bucket=bucket, Key=new_key, CopySource={"Bucket": bucket, "Key": key})

    def delete(self, bucket: str, key: str) -> None:
        self.s3.delete_object(Bucket=bucket, Key=key)

    def remove_bucket(self, bucket: str) -> None:
        self.s3.delete_bucket(Bucket=bucket)

    def sync_up(self, directory: Path, bucket: str, prefix: str) -> None:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda item: self.upload(item[1], bucket, prefix + item[0]), files_of(directory).items()))

    def sync_down(self, bucket: str, prefix: str, directory: Path) -> None:
        def fetch(key: str) -> None:
            path = directory / key[len(prefix) :]
            path.parent.mkdir(parents=True, exist_ok=True)
            self.download(bucket, key, path)

        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(fetch, keys_in(self.s3, bucket, prefix)))

    def purge(self, bucket: str) -> None:
        keys = self.keys(bucket)
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            answer = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            assert not answer.get("Errors"), answer["Errors"]
        self.remove_bucket(bucket)


class AwsCli(S3Client):
    """The awscli: ``aws s3`` for transfers, listings and removals, ``aws s3api`` for the copy
    and the delete of one object. Keys from the environment, the rest from ``AWS_CONFIG_FILE``."""

    name = "awscli"

    def __init__(self, gateway: Gateway, home: Path) -> None:
        access, secret = S3_KEYS["alice"]
        config = home / "aws-config"
        self.env = client_env(
            home,
            AWS_ACCESS_KEY_ID=access,
            AWS_SECRET_ACCESS_KEY=secret,
            AWS_CONFIG_FILE=str(config),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "no-credentials"),
            AWS_EC2_METADATA_DISABLED="true",
        )
        part = f"{PART_SIZE // MIB}MB"  # the awscli's MB are MiB
        config.write_text(
            f"[default]\nregion = {REGION}\nmax_attempts = 1\n"
            f"s3 =\n    addressing_style = path\n    multipart_threshold = {part}\n    multipart_chunksize = {part}\n"
        )
        aws = Path(sys.executable).with_name("aws")
        if not aws.exists():
            pytest.fail(f"{aws} is missing: the awscli comes with the test extras, pip install -e '.[test]'")
        self.base = [str(aws), "--endpoint-url", gateway.url]

    def aws(self, *args: str) -> str:
        return run([*self.base, *args], self.env)

    def make_bucket(self, bucket: str) -> None:
        self.aws("s3", "mb", f"s3://{bucket}")

    def upload(self, path: Path, bucket: str, key: str) -> None:
        self.aws("s3", "cp", "--only-show-errors", str(path), f"s3://{bucket}/{key}")

    def upload_multipart(self, path: Path, bucket: str, key: str) -> None:
        self.upload(path, bucket, key)  # over multipart_threshold: multipart_chunksize parts

    def download(self, bucket: str, key: str, path: Path) -> None:
        self.aws("s3", "cp", "--only-show-errors", f"s3://{bucket}/{key}", str(path))

    def keys(self, bucket: str) -> list[str]:
        lines = self.aws("s3", "ls", "--recursive", f"s3://{bucket}").splitlines()
        return sorted(line.split(None, 3)[3] for line in lines if line.strip())  # date time size key

    def copy(self, bucket: str, key: str, new_key: str) -> None:
        self.aws("s3api", "copy-object", "--bucket", bucket, "--key", new_key, "--copy-source", f"{bucket}/{key}")

    def delete(self, bucket: str, key: str) -> None:
        self.aws("s3api", "delete-object", "--bucket", bucket, "--key", key)

    def remove_bucket(self, bucket: str) -> None:
        self.aws("s3", "rb", f"s3://{bucket}")

    def sync_up(self, directory: Path, bucket: str, prefix: str) -> None:
        self.aws("s3", "sync", "--only-show-errors", str(directory), f"s3://{bucket}/{prefix}")

    def sync_down(self, bucket: str, prefix: str, directory: Path) -> None:
        self.aws("s3", "sync", "--only-show-errors", f"s3://{bucket}/{prefix}", str(directory))

    def purge(self, bucket: str) -> None:
        self.aws("s3", "rm", "--only-show-errors", "--recursive", f"s3://{bucket}")
        self.remove_bucket(bucket)


class S3cmd(S3Client):
    """s3cmd with a generated config file: SigV4, path-style (``host_bucket`` without
    ``%(bucket)s``), http."""

    name = "s3cmd"

    def __init__(self, gateway: Gateway, home: Path) -> None:
        access, secret = S3_KEYS["alice"]
        self.env = client_env(home)
        config = home / "s3cfg"
        host = f"127.0.0.1:{gateway.port}"
        config.write_text(
            f"[default]\naccess_key = {access}\nsecret_key = {secret}\nhost_base = {host}\nhost_bucket = {host}\n"
            f"use_https = False\nsignature_v2 = False\nbucket_location = {REGION}\nmax_retries = 0\n"
            "progress_meter = False\n"
        )
        self.base = [installed("s3cmd"), "--config", str(config)]

    def s3cmd(self, *args: str) -> str:
        return run([*self.base, *args], self.env)

    def make_bucket(self, bucket: str) -> None:
        self.s3cmd("mb", f"s3://{bucket}")

    def upload(self, path: Path, bucket: str, key: str) -> None:
        self.s3cmd("put", str(path), f"s3://{bucket}/{key}")

    def upload_multipart(self, path: Path, bucket: str, key: str) -> None:
        self.s3cmd("put", f"--multipart-chunk-size-mb={PART_SIZE // MIB}", str(path), f"s3://{bucket}/{key}")

    def download(self, bucket: str, key: str, path: Path) -> None:
        self.s3cmd("get", "--force", f"s3://{bucket}/{key}", str(path))

    def keys(self, bucket: str) -> list[str]:
        lines = self.s3cmd("ls", "--recursive", f"s3://{bucket}").splitlines()
        urls = [line.split(None, 3)[3] for line in lines if line.strip()]  # date time size url
        return sorted(url.removeprefix(f"s3://{bucket}/") for url in urls)

    def copy(self, bucket: str, key: str, new_key: str) -> None:
        self.s3cmd("cp", f"s3://{bucket}/{key}", f"s3://{bucket}/{new_key}")

    def delete(self, bucket: str, key: str) -> None:
        self.s3cmd("del", f"s3://{bucket}/{key}")

    def remove_bucket(self, bucket: str) -> None:
        self.s3cmd("rb", f"s3://{bucket}")

    def sync_up(self, directory: Path, bucket: str, prefix: str) -> None:
        self.s3cmd("sync", f"{directory}/", f"s3://{bucket}/{prefix}")

    def sync_down(self, bucket: str, prefix: str, directory: Path) -> None:
        self.s3cmd("sync", f"s3://{bucket}/{prefix}", f"{directory}/")

    def purge(self, bucket: str) -> None:
        self.s3cmd("del", "--recursive", "--force", f"s3://{bucket}")
        self.remove_bucket(bucket)


class Rclone(S3Client):
    """rclone with a generated config file: a remote of type s3, provider Ceph, with
    ``force_path_style``."""

    name = "rclone"
    REMOTE = "gateway"

    def __init__(self, gateway: Gateway, home: Path) -> None:
        access, secret = S3_KEYS["alice"]
        self.env = client_env(home)
        config = home / "rclone.conf"
        config.write_text(
            f"[{self.REMOTE}]\ntype = s3\nprovider = Ceph\naccess_key_id = {access}\nsecret_access_key = {secret}\n"
            f"endpoint = {gateway.url}\nregion = {REGION}\nforce_path_style = true\n"
        )
        self.base = [installed("rclone"), "--config", str(config), "--retries", "1", "--low-level-retries", "1"]

    def rclone(self, *args: str) -> str:
        return run([*self.base, *args], self.env)

    def remote(self, bucket: str, key: str = "") -> str:
        return f"{self.REMOTE}:{bucket}/{key}" if key else f"{self.REMOTE}:{bucket}"

    def make_bucket(self, bucket: str) -> None:
        self.rclone("mkdir", self.remote(bucket))

    def upload(self, path: Path, bucket: str, key: str) -> None:
        self.rclone("copyto", str(path), self.remote(bucket, key))

    def upload_multipart(self, path: Path, bucket: str, key: str) -> None:
        size = f"{PART_SIZE // MIB}M"
        self.rclone("copyto", "--s3-upload-cutoff", size, "--s3-chunk-size", size, str(path), self.remote(bucket, key))

    def download(self, bucket: str, key: str, path: Path) -> None:
        self.rclone("copyto", self.remote(bucket, key), str(path))

    def keys(self, bucket: str) -> list[str]:
        return sorted(self.rclone("lsf", "--recursive", "--files-only", self.remote(bucket)).splitlines())

    def copy(self, bucket: str, key: str, new_key: str) -> None:
        self.rclone("copyto", self.remote(bucket, key), self.remote(bucket, new_key))  # server side: CopyObject

    def delete(self, bucket: str, key: str) -> None:
        self.rclone("deletefile", self.remote(bucket, key))

    def remove_bucket(self, bucket: str) -> None:
        self.rclone("rmdir", self.remote(bucket))

    def sync_up(self, directory: Path, bucket: str, prefix: str) -> None:
        self.rclone("sync", str(directory), self.remote(bucket, prefix))

    def sync_down(self, bucket: str, prefix: str, directory: Path) -> None:
        self.rclone("sync", self.remote(bucket, prefix), str(directory))

    def purge(self, bucket: str) -> None:
        self.rclone("purge", self.remote(bucket))


CLIENTS = {"boto3": Boto3Client, "awscli": AwsCli, "s3cmd": S3cmd, "rclone": Rclone}


@pytest.fixture(params=list(CLIENTS))
def client(request, gateway: Gateway, tmp_path: Path) -> S3Client:
    return CLIENTS[request.param](gateway, tmp_path / "home")


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(4 * MIB):
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> tuple[Path, str]:
    """A ``BIG_SIZE`` file and its MD5: one random MiB, each copy numbered in its first bytes
    so that no two MiB are alike."""
    path = tmp_path_factory.mktemp("big") / "big.bin"
    block = bytearray(os.urandom(MIB))
    digest = hashlib.md5()
    with open(path, "wb") as f:
        for number in range(BIG_SIZE // MIB):
            block[:8] = number.to_bytes(8, "big")
            f.write(block)
            digest.update(block)
    return path, digest.hexdigest()


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """``TREE_FILES`` files of 0 to 1,499 random bytes, ten to a directory three levels deep."""
    root = tmp_path_factory.mktemp("tree") / "tree"
    for number in range(TREE_FILES):
        directory = root / f"a{number % 4}" / f"b{number // 4 % 5}" / f"c{number // 20 % 5}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"file-{number:04d}.txt").write_bytes(os.urandom(number % 1500))
    return root


def bucket_gone(observer, bucket: str) -> bool:
    try:
        observer.head_bucket(Bucket=bucket)
    except ClientError as error:
        return error.response["Error"]["Code"] == "404"
    return False


def free_deleted_tails(gateway: Gateway) -> None:
    """Delete now the tails the GC queue would keep for two hours: 3 GiB per big file."""
    with librgw.connect(gateway.conf) as rgw:
        rgw.objects.gc.process(include_all=True)


def test_bucket_life_with_a_small_file(client: S3Client, gateway: Gateway, tmp_path: Path):
    bucket, key, new_key = f"{client.name}-small", "dir/small file é.txt", "dir/copy of it.txt"
    data = os.urandom(10_000)
    (tmp_path / "small").write_bytes(data)
    client.make_bucket(bucket)
    client.upload(tmp_path / "small", bucket, key)
    assert client.keys(bucket) == [key]
    client.download(bucket, key, tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == data
    client.copy(bucket, key, new_key)
    assert client.keys(bucket) == sorted([key, new_key])
    client.download(bucket, new_key, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == data
    client.delete(bucket, key)
    assert client.keys(bucket) == [new_key]
    client.delete(bucket, new_key)
    assert client.keys(bucket) == []
    client.remove_bucket(bucket)
    assert bucket_gone(gateway.s3(), bucket)


def test_1_gib_upload_through_multipart(client: S3Client, gateway: Gateway, big_file, tmp_path: Path):
    path, md5 = big_file
    bucket, observer = f"{client.name}-big", gateway.s3()
    client.make_bucket(bucket)
    try:
        client.upload_multipart(path, bucket, "big.bin")
        head = observer.head_object(Bucket=bucket, Key="big.bin")
        assert head["ContentLength"] == BIG_SIZE
        assert head["ETag"].strip('"').endswith(f"-{BIG_PARTS}")  # multipart, in PART_SIZE parts
        client.download(bucket, "big.bin", tmp_path / "back.bin")
        assert md5_of(tmp_path / "back.bin") == md5
    finally:
        (tmp_path / "back.bin").unlink(missing_ok=True)
        client.purge(bucket)
        free_deleted_tails(gateway)
    assert bucket_gone(observer, bucket)


def test_sync_of_1000_files_up_and_down(client: S3Client, gateway: Gateway, tree: Path, tmp_path: Path):
    bucket, observer = f"{client.name}-tree", gateway.s3()
    client.make_bucket(bucket)
    client.sync_up(tree, bucket, "tree/")
    sent = files_of(tree)
    assert keys_in(observer, bucket) == sorted("tree/" + name for name in sent)
    down = tmp_path / "down"
    down.mkdir()
    client.sync_down(bucket, "tree/", down)
    received = files_of(down)
    assert sorted(received) == sorted(sent)
    different = [name for name, path in sent.items() if received[name].read_bytes() != path.read_bytes()]
    assert not different, f"{len(different)} files came back different, {different[:5]} among them"
    client.purge(bucket)
    assert bucket_gone(observer, bucket)
