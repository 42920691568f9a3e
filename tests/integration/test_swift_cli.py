"""python-swiftclient's ``swift`` CLI against ``librgw serve``, started as ``make run`` starts it.

The gateway runs on a cluster made by ``librgw cluster init``, and every command uses the
credentials ``serve`` printed (its ``swift ... stat`` line and its exports), not constants:
``stat``, ``upload`` (with a 200 MiB file in one PUT: no ``-S``, so no segments), ``list``,
``download`` (the md5 matches), ``post -m``, ``copy`` and ``delete``.
"""

import hashlib
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import stop_process

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
BIG_SIZE = 200 * MiB
SMALL_DATA = b"hello from the swift CLI\n"
CONTAINER = "cli"
SWIFT = [sys.executable, "-m", "swiftclient.shell"]
COMMAND_TIMEOUT = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without any swift or OpenStack credentials of the machine's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ST_", "OS_"))}
    return {**env, **extra}


@dataclass
class Printed:
    """What ``librgw serve`` told its user on stdout."""

    text: str
    stat_line: str  # the ready-to-paste ``swift -A URL -U USER -K KEY stat``
    exports: dict[str, str]  # ST_AUTH, ST_USER, ST_KEY

    @classmethod
    def parse(cls, text: str) -> "Printed":
        stat_line = re.search(r"^ +(\S*swift -A .* stat)$", text, re.M)
        exports = re.search(r"^ +export (ST_AUTH=.*)$", text, re.M)
        assert stat_line and exports, text
        return cls(text, stat_line[1], dict(word.split("=", 1) for word in shlex.split(exports[1])))


class SwiftCLI:
    """Runs ``swift -A URL -U USER -K KEY <args>`` in a directory and checks its exit code."""

    def __init__(self, auth_url: str, user: str, key: str, cwd: Path) -> None:
        self.credentials = ["-A", auth_url, "-U", user, "-K", key]
        self.cwd = cwd

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*SWIFT, *self.credentials, *args],
            cwd=cwd or self.cwd,
            env=clean_environment(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )

    def __call__(self, *args: str, cwd: Path | None = None) -> str:
        done = self.run(*args, cwd=cwd)
        assert done.returncode == 0, f"swift {' '.join(args)}: exit {done.returncode}\n{done.stdout}{done.stderr}"
        return done.stdout

    def lines(self, *args: str) -> list[str]:
        return self(*args).splitlines()

    def fields(self, *args: str) -> dict[str, str]:
        """``swift stat``'s ``Name: value`` lines."""
        return dict(line.strip().split(": ", 1) for line in self(*args).splitlines() if ": " in line)


@dataclass
class Served:
    url: str
    printed: Printed
    swift: SwiftCLI


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("make-run")
    cli = [sys.executable, "-m", "librgw.cli.main"]
    env = clean_environment(PYTHONPATH=str(ROOT))
    subprocess.run([*cli, "cluster", "init", str(base / "data"), "--osds", "6"], cwd=ROOT, env=env, check=True)
    port = free_port()
    out, err = base / "stdout", base / "stderr"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen(
            [*cli, "-c", str(base / "data" / "cluster.conf"), "serve", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        url = wait_until_served(process, out, err)
        printed = Printed.parse(out.read_text())
        exports = printed.exports
        work = tmp_path_factory.mktemp("files")
        yield Served(url, printed, SwiftCLI(exports["ST_AUTH"], exports["ST_USER"], exports["ST_KEY"], work))
    finally:
        stop_process(process)
    assert "Traceback" not in err.read_text(), err.read_text()[-5000:]


def wait_until_served(process: subprocess.Popen, out: Path, err: Path) -> str:
    """The URL that ``serve`` printed, once its credentials are printed and it answers there."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        printed = re.search(r"^librgw gateway on (http://\S+)/ ", out.read_text(), re.M)
        if printed and "export ST_AUTH=" in out.read_text():
            try:
                with urllib.request.urlopen(printed[1] + "/healthcheck", timeout=5) as response:
                    if response.status == 200:
                        return printed[1]
            except OSError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"the gateway did not come up:\n{out.read_text()}{err.read_text()[-5000:]}")


@dataclass
class Uploaded:
    small: Path
    big: Path
    big_md5: str


def write_big_file(path: Path) -> str:
    """200 MiB of incompressible data, every MiB different (a counter on one random MiB), so
    a misplaced or repeated stripe changes the md5; returns the md5."""
    pattern = os.urandom(MiB)
    digest = hashlib.md5()
    with open(path, "wb") as f:
        for n in range(BIG_SIZE // MiB):
            chunk = n.to_bytes(8, "big") + pattern[8:]
            digest.update(chunk)
            f.write(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def uploaded(served) -> Uploaded:
    """``swift upload cli small.txt big.bin``, run where the files are, so those are their names."""
    small, big = served.swift.cwd / "small.txt", served.swift.cwd / "big.bin"
    small.write_bytes(SMALL_DATA)
    big_md5 = write_big_file(big)
    assert sorted(served.swift.lines("upload", CONTAINER, small.name, big.name)) == ["big.bin", "small.txt"]
    return Uploaded(small, big, big_md5)


def test_the_printed_swift_line_works_as_pasted(served):
    done = subprocess.run(
        served.printed.stat_line, shell=True, cwd=ROOT, env=clean_environment(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^ +Account: AUTH_demo$", done.stdout, re.M), done.stdout
    assert served.printed.exports["ST_AUTH"] == served.url + "/auth/v1.0"
    assert f"Swift: user {served.printed.exports['ST_USER']}  key {served.printed.exports['ST_KEY']}" in (
        served.printed.text
    )


def test_the_printed_exports_are_all_swift_needs(served):
    done = subprocess.run(
        [*SWIFT, "stat"], env=clean_environment(**served.printed.exports), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^ +Account: AUTH_demo$", done.stdout, re.M), done.stdout


def test_upload_stores_the_200_mib_file_whole_in_one_put(served, uploaded):
    swift = served.swift
    head = swift.fields("stat", CONTAINER, "big.bin")
    assert head["Content Length"] == str(BIG_SIZE)
    assert head["ETag"].strip('"') == uploaded.big_md5
    assert "Manifest" not in head  # one object, not a segmented manifest
    assert CONTAINER in swift.lines("list") and f"{CONTAINER}_segments" not in swift.lines("list")
    assert swift.lines("list", CONTAINER) == ["big.bin", "small.txt"]
    container = swift.fields("stat", CONTAINER)
    assert (container["Objects"], container["Bytes"]) == ("2", str(BIG_SIZE + len(SMALL_DATA)))


def test_download_gives_back_the_same_md5(served, uploaded, tmp_path):
    swift = served.swift
    assert swift("download", CONTAINER, "big.bin", "-o", str(tmp_path / "big.bin")).startswith("big.bin [")
    assert md5_of(tmp_path / "big.bin") == uploaded.big_md5 == md5_of(uploaded.big)
    swift("download", CONTAINER, "small.txt", "-o", str(tmp_path / "small.txt"))
    assert (tmp_path / "small.txt").read_bytes() == SMALL_DATA


def test_post_metadata_shows_in_stat(served, uploaded):
    swift = served.swift
    assert swift("post", "-m", "Color:blue", CONTAINER, "small.txt") == ""
    head = swift.fields("stat", CONTAINER, "small.txt")
    assert head["Meta Color"] == "blue"
    assert head["Content Length"] == str(len(SMALL_DATA))


def test_copy_to_another_container_downloads_identical(served, uploaded, tmp_path):
    swift = served.swift
    out = swift("copy", "--destination", "/other/copied", CONTAINER, "big.bin")
    assert f"{CONTAINER}/big.bin copied to /other/copied" in out
    assert swift.lines("list", "other") == ["copied"]
    swift("download", "other", "copied", "-o", str(tmp_path / "copied"))
    assert md5_of(tmp_path / "copied") == uploaded.big_md5
    assert swift.fields("stat", CONTAINER, "big.bin")["Content Length"] == str(BIG_SIZE)  # the source stays


def test_delete_removes_an_object_then_the_container(served, uploaded):
    swift = served.swift
    swift("copy", "--destination", "/doomed/big.bin", CONTAINER, "big.bin")
    swift("upload", "doomed", uploaded.small.name)
    assert swift.lines("delete", "doomed", "small.txt") == ["small.txt"]
    assert swift.lines("list", "doomed") == ["big.bin"]
    assert sorted(swift.lines("delete", "doomed")) == ["big.bin", "doomed"]  # its objects, then itself
    assert "doomed" not in swift.lines("list")
    gone = swift.run("list", "doomed")
    assert gone.returncode == 1 and "Container 'doomed' not found" in gone.stderr
    assert swift.fields("stat", CONTAINER, "big.bin")["ETag"].strip('"') == uploaded.big_md5  # shared tails kept
