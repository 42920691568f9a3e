"""Bodies the server cannot give whole, and numbers too long for int(), through the whole
pipeline: every operation answers S3's 400 (``IncompleteBody``, ``MalformedXML``) or a
range's 206/416, never a 500, and nothing changes.

The server's failures are gunicorn's own exceptions, raised by the body stream as gunicorn's
``wsgi.input`` raises them on a broken chunked body (``tests/integration`` sends the bytes)."""

import io

import pytest
from gunicorn.http.errors import ChunkMissingTerminator, InvalidChunkSize, NoMoreData

from tests.middleware.s3.conftest import error_code

BUCKET = "bodies"
HUGE = "9" * 5000  # int() refuses more than 4,300 digits


class BrokenStream:
    """A chunked body that gives ``data``, then fails as gunicorn's ``wsgi.input`` does on what
    follows: a read wanting more than ``data`` raises ``error``."""

    def __init__(self, data: bytes, error: Exception) -> None:
        self._data = io.BytesIO(data)
        self._error = error

    def read(self, size: int = -1) -> bytes:
        data = self._data.read(size)
        if size < 0 or len(data) < size:
            raise self._error
        return data

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


SERVER_ERRORS = [InvalidChunkSize(b"zz"), ChunkMissingTerminator(b"XX"), NoMoreData(b"")]
# the operations that read an XML (or JSON) document from the body: method, path
DOCUMENT_OPERATIONS = [
    ("PUT", "/bodies/kept?tagging"),
    ("PUT", "/bodies?tagging"),
    ("POST", "/bodies?delete"),
    ("PUT", "/bodies-new"),
    ("PUT", "/bodies?lifecycle"),
    ("PUT", "/bodies?cors"),
    ("PUT", "/bodies?acl"),
    ("PUT", "/bodies?versioning"),
    ("PUT", "/bodies?policy"),
    ("POST", "/bodies/kept?uploadId={upload}"),
    ("PUT", "/bodies/kept"),  # PutObject, whose body the native PUT reads
    ("PUT", "/bodies/kept?partNumber=1&uploadId={upload}"),
]


@pytest.fixture(scope="module")
def upload(pipeline) -> str:
    assert pipeline.send("PUT", f"/{BUCKET}").status_int == 200
    assert pipeline.send("PUT", f"/{BUCKET}/kept", body=b"0123456789").status_int == 200
    answer = pipeline.send("POST", f"/{BUCKET}/kept?uploads")
    return answer.body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()


def state(pipeline, upload: str) -> tuple:
    """Everything these requests could change: buckets, objects, configurations, the upload."""
    paths = ["/", f"/{BUCKET}", f"/{BUCKET}/kept", f"/{BUCKET}/kept?tagging", f"/{BUCKET}?tagging"]
    paths += [f"/{BUCKET}?{name}" for name in ("lifecycle", "cors", "acl", "versioning", "policy", "uploads")]
    paths.append(f"/{BUCKET}/kept?uploadId={upload}")
    answers = [pipeline.send("GET", path) for path in paths]
    return tuple((a.status_int, a.body.split(b"<RequestId>")[0]) for a in answers)


@pytest.mark.parametrize("error", SERVER_ERRORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(("method", "path"), DOCUMENT_OPERATIONS)
def test_a_body_the_server_cannot_read_is_incomplete_body(pipeline, upload, method, path, error):
    before = state(pipeline, upload)
    environ = pipeline.unsigned_payload_environ(method, path.format(upload=upload), {"Transfer-Encoding": "chunked"})
    environ["wsgi.input"] = BrokenStream(b"<Tag", error)
    environ["wsgi.input_terminated"] = True  # as gunicorn says of a chunked body it decodes
    answer = pipeline.call(environ)
    assert (answer.status_int, error_code(answer)) == (400, "IncompleteBody"), answer.body
    assert answer.headers["x-amz-request-id"].startswith("tx")
    assert state(pipeline, upload) == before


@pytest.mark.parametrize(("method", "path"), DOCUMENT_OPERATIONS)
def test_a_body_shorter_than_its_content_length_is_incomplete_body(pipeline, upload, method, path):
    before = state(pipeline, upload)
    environ = pipeline.unsigned_payload_environ(method, path.format(upload=upload), {"Content-Length": "1000"})
    environ["wsgi.input"] = io.BytesIO(b"<Tagging><TagSet>")
    answer = pipeline.call(environ)
    assert (answer.status_int, error_code(answer)) == (400, "IncompleteBody"), answer.body
    assert state(pipeline, upload) == before


def test_ranges_of_any_length_are_206_or_416(pipeline, upload):
    answer = pipeline.send("GET", f"/{BUCKET}/kept", {"Range": f"bytes=2-{HUGE}"})
    assert (answer.status_int, answer.body) == (206, b"23456789")
    assert answer.headers["Content-Range"] == "bytes 2-9/10"
    answer = pipeline.send("GET", f"/{BUCKET}/kept", {"Range": f"bytes={HUGE}-"})
    assert (answer.status_int, error_code(answer)) == (416, "InvalidRange")
    answer = pipeline.send("GET", f"/{BUCKET}/kept", {"Range": f"bytes=-{HUGE}"})
    assert (answer.status_int, answer.body) == (206, b"0123456789")
    answer = pipeline.send("HEAD", f"/{BUCKET}/kept", {"Range": f"bytes={HUGE}-{HUGE}"})
    assert answer.status_int == 416


def test_a_copied_part_range_of_any_length_is_416(pipeline, upload):
    before = state(pipeline, upload)
    headers = {"x-amz-copy-source": f"/{BUCKET}/kept", "x-amz-copy-source-range": f"bytes=0-{HUGE}"}
    answer = pipeline.send("PUT", f"/{BUCKET}/kept?partNumber=1&uploadId={upload}", headers)
    assert (answer.status_int, error_code(answer)) == (416, "InvalidRange")
    assert state(pipeline, upload) == before


@pytest.mark.parametrize(
    ("path", "document"),
    [
        (
            "/bodies/kept?uploadId={upload}",
            f"<CompleteMultipartUpload><Part><PartNumber>{HUGE}</PartNumber><ETag>x</ETag></Part>"
            "</CompleteMultipartUpload>",
        ),
        (
            "/bodies?lifecycle",
            f"<LifecycleConfiguration><Rule><ID>a</ID><Filter/><Status>Enabled</Status>"
            f"<Expiration><Days>{HUGE}</Days></Expiration></Rule></LifecycleConfiguration>",
        ),
        (
            "/bodies?cors",
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
            f"<MaxAgeSeconds>{HUGE}</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        ),
    ],
)
def test_a_number_too_long_for_its_document_is_malformed_xml(pipeline, upload, path, document):
    before = state(pipeline, upload)
    method = "POST" if "uploadId" in path else "PUT"
    answer = pipeline.send(method, path.format(upload=upload), body=document.encode())
    assert (answer.status_int, error_code(answer)) == (400, "MalformedXML"), answer.body
    assert state(pipeline, upload) == before


def test_a_decoded_length_too_long_for_any_object_is_entity_too_large(pipeline, upload):
    before = state(pipeline, upload)
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": HUGE}
    answer = pipeline.send("PUT", f"/{BUCKET}/kept", headers, b"0\r\n\r\n")
    assert (answer.status_int, error_code(answer)) == (400, "EntityTooLarge")
    assert state(pipeline, upload) == before
