"""The HTTP-stack baseline's app (benchmarks/stack_app.py) stores and serves the bytes it is
given, as an object store would, and answers nothing outside its directory."""

import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))


@pytest.fixture
def stack_app(tmp_path, monkeypatch):
    import stack_app

    monkeypatch.setattr(stack_app, "ROOT", tmp_path)
    return stack_app


def call(app, method: str, path: str, body: bytes = b"") -> tuple[str, dict, bytes]:
    answer = {}

    def start_response(status, headers):
        answer.update(status=status, headers=dict(headers))

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "X-Amz-Signature=x"}
    environ["wsgi.input"] = io.BytesIO(body)
    payload = b"".join(app.app(environ, start_response))
    return answer["status"], answer["headers"], payload


def test_what_is_put_is_got_back_whole(stack_app, tmp_path):
    data = bytes(range(256)) * 40_000  # 10 MB: more than one of the pieces it is read back in
    assert call(stack_app, "PUT", "/bench")[0] == "200 OK"
    assert call(stack_app, "PUT", "/bench/obj/1", data)[0] == "200 OK"
    status, headers, body = call(stack_app, "GET", "/bench/obj/1")
    assert status == "200 OK" and body == data and headers["Content-Length"] == str(len(data))
    status, headers, body = call(stack_app, "HEAD", "/bench/obj/1")
    assert status == "200 OK" and body == b"" and headers["Content-Length"] == str(len(data))
    assert call(stack_app, "GET", "/bench/missing")[0] == "404 Not Found"


@pytest.mark.parametrize("path", ["/bench/../../etc/passwd", "/../x", "/bench//x", "/"])
def test_paths_that_leave_the_directory_are_refused(stack_app, tmp_path, path):
    assert call(stack_app, "GET", path)[0] == "400 Bad Request"
    assert call(stack_app, "PUT", path, b"x")[0] == "400 Bad Request"
