"""Running the Fractals example (``examples/fractals``) as its README runs it: its commands
through ``python -m fractals`` in its directory, its API under gunicorn on a free port."""

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.integration.conftest import free_port, stop_process

FRACTALS = Path(__file__).resolve().parents[2] / "examples" / "fractals"


def run_fractals(*args: str) -> subprocess.CompletedProcess:
    """``python -m fractals ARGS`` in the example's directory; its output, or an assertion naming it."""
    result = subprocess.run(
        [sys.executable, "-m", "fractals", *args], cwd=FRACTALS, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"fractals {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@contextlib.contextmanager
def fractals_api(db: str, storage: str, log: Path) -> Iterator[str]:
    """The Fractals API on ``db`` and ``storage``, served by gunicorn; its URL."""
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "fractals", "--db", db, "--storage", storage, "api",
             "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=FRACTALS, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/v1/fractal", timeout=5).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the Fractals API did not come up:\n" + log.read_text()) from None
                time.sleep(0.1)
        yield url
    finally:
        stop_process(process)
