"""S3 upload bodies over a real gunicorn: presigned URLs driven by curl, boto3's payload modes
(signed, unsigned, aws-chunked with trailing checksums over https), hand-built signed
streaming uploads, and bodies that are not what was signed, which must store nothing."""

import base64
import datetime
import hashlib
import hmac
import io
import os
import socket
import subprocess
import time
from urllib.parse import quote

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.integration.conftest import S3_KEYS, self_signed_certificate, start_gateway, stop_gateway

pytestmark = pytest.mark.slow

BUCKET = "s3-payload"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
REGION = "us-east-1"


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


def error_code(body: bytes) -> str:
    return body.split(b"<Code>")[1].split(b"</Code>")[0].decode() if b"<Code>" in body else ""


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture(scope="module")
def s3(gateway):
    client = gateway.s3()
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def tls_gateway(gateway, s3, tmp_path_factory):
    """A second gunicorn on the same cluster, over https, where boto3 sends aws-chunked."""
    base = tmp_path_factory.mktemp("tls")
    served = start_gateway(gateway.conf, base / "gunicorn.log", tls=self_signed_certificate(base))
    yield served
    stop_gateway(served)
    assert "Traceback" not in served.log.read_text(), served.log.read_text()[-5000:]


def sent_headers(client) -> list[dict[str, str]]:
    """The headers of every request ``client`` sends from now on, as botocore sent them."""
    seen: list[dict[str, str]] = []

    def record(request, **_) -> None:
        text = {name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()}
        seen.append(text)

    client.meta.events.register("before-send.s3.*", record)
    return seen


def stored(s3, key: str) -> bytes | None:
    try:
        return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NoSuchKey"
        return None


# --- presigned URLs with curl --------------------------------------------------------------


def curl(*args: str) -> tuple[int, bytes]:
    """(HTTP status, body) of a curl run; curl is what a user without an SDK has."""
    done = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", *args], capture_output=True, check=True)
    body, _, status = done.stdout.rpartition(b"\n")
    return int(status), body


PRESIGN_VERSIONS = {"s3": "Expires=", "s3v4": "X-Amz-Expires="}  # boto3's default for us-east-1, and SigV4


def presigner(gateway, version: str):
    return gateway.s3(signature_version=version)


def presign(client, operation: str, key: str, expires: int = 300) -> str:
    return client.generate_presigned_url(operation, Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=expires)


@pytest.mark.parametrize("version", list(PRESIGN_VERSIONS))
def test_presigned_put_and_get_work_with_curl(gateway, s3, tmp_path, version):
    client, key = presigner(gateway, version), f"curl/{version}/ü x+y.bin"
    data = os.urandom(300_000)
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    status, body = curl("-X", "PUT", "--upload-file", str(source), presign(client, "put_object", key))
    assert status == 200, body
    target = tmp_path / "download.bin"
    status, _ = curl("-o", str(target), presign(client, "get_object", key))
    assert status == 200 and md5(target.read_bytes()) == md5(data)


@pytest.mark.parametrize("version", list(PRESIGN_VERSIONS))
def test_an_expired_presigned_url_is_access_denied(gateway, s3, tmp_path, version):
    client, key = presigner(gateway, version), f"curl/{version}/expiring"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"old")
    get_url, put_url = presign(client, "get_object", key, 1), presign(client, "put_object", key, 1)
    time.sleep(2)
    status, body = curl(get_url)
    assert (status, error_code(body)) == (403, "AccessDenied")
    source = tmp_path / "new"
    source.write_bytes(b"new")
    status, body = curl("-X", "PUT", "--upload-file", str(source), put_url)
    assert (status, error_code(body)) == (403, "AccessDenied")
    assert stored(s3, key) == b"old"


def tampered(url: str, expires_param: str) -> list[str]:
    """``url`` for another key, with a longer life, and with its signature changed."""
    path, _, query = url.partition("?")
    params = dict(item.split("=", 1) for item in query.split("&"))
    expires_name = expires_param.rstrip("=")
    signature_name = "Signature" if "Signature" in params else "X-Amz-Signature"
    signature = params[signature_name]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    if signature_name == "X-Amz-Signature":
        flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    longer = str(int(params[expires_name]) + 600)
    return [
        path.replace("/mine", "/other") + "?" + query,
        url.replace(f"{expires_name}={params[expires_name]}", f"{expires_name}={longer}"),
        url.replace(f"{signature_name}={signature}", f"{signature_name}={flipped}"),
    ]


@pytest.mark.parametrize("version", list(PRESIGN_VERSIONS))
def test_a_tampered_presigned_url_is_refused(gateway, s3, tmp_path, version):
    client = presigner(gateway, version)
    mine, other = f"curl/{version}/mine", f"curl/{version}/other"
    s3.put_object(Bucket=BUCKET, Key=mine, Body=b"mine")
    s3.put_object(Bucket=BUCKET, Key=other, Body=b"other")
    for forged in tampered(presign(client, "get_object", mine), PRESIGN_VERSIONS[version]):
        status, body = curl(forged)
        assert (status, error_code(body)) == (403, "SignatureDoesNotMatch"), forged
    source = tmp_path / "evil"
    source.write_bytes(b"evil")
    for forged in tampered(presign(client, "put_object", mine), PRESIGN_VERSIONS[version]):
        status, body = curl("-X", "PUT", "--upload-file", str(source), forged)
        assert (status, error_code(body)) == (403, "SignatureDoesNotMatch"), forged
    assert stored(s3, other) == b"other" and stored(s3, mine) == b"mine"


# --- boto3's payload modes -----------------------------------------------------------------

HTTP_MODES = {
    # boto3 1.36+ over http: signed payload (hex SHA-256) and an x-amz-checksum-crc32 header
    "default": ({}, "sha256", "x-amz-checksum-crc32"),
    "checksums when required": ({"request_checksum_calculation": "when_required"}, "sha256", None),
    "payload signing on": ({"s3": {"payload_signing_enabled": True}}, "sha256", "x-amz-checksum-crc32"),
    "payload signing off": ({"s3": {"payload_signing_enabled": False}}, "UNSIGNED-PAYLOAD", "x-amz-checksum-crc32"),
    "sigv2": ({"signature_version": "s3"}, None, "x-amz-checksum-crc32"),
}


def checksum_headers(headers: dict[str, str]) -> list[str]:
    return [name.lower() for name in headers if name.lower().startswith("x-amz-checksum-")]


def content_sha256_kind(headers: dict[str, str]) -> str | None:
    value = headers.get("X-Amz-Content-SHA256")
    return "sha256" if value and len(value) == 64 else value


@pytest.mark.parametrize("mode", list(HTTP_MODES))
def test_boto3_uploads_over_http_store_the_exact_bytes(gateway, s3, mode):
    config, content_sha256, checksum = HTTP_MODES[mode]
    client = gateway.s3(**config)
    seen = sent_headers(client)
    for size in (0, 1, 5 * 1024 * 1024 + 3):
        data = os.urandom(size)
        key = f"http/{mode}/{size}"
        client.put_object(Bucket=BUCKET, Key=key, Body=data)
        assert md5(stored(s3, key)) == md5(data)
        client.upload_fileobj(io.BytesIO(data), BUCKET, key + ".fileobj")
        assert md5(stored(s3, key + ".fileobj")) == md5(data)
    assert len(seen) == 6 and all(content_sha256_kind(headers) == content_sha256 for headers in seen)
    assert all(checksum_headers(headers) == ([checksum] if checksum else []) for headers in seen)


TLS_MODES = {
    # boto3 1.36+ over https: aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER, a CRC32 trailer
    "default": ({}, {}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    "sha256 trailer": ({}, {"ChecksumAlgorithm": "SHA256"}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    "sha1 trailer": ({}, {"ChecksumAlgorithm": "SHA1"}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    "payload signing on": ({"s3": {"payload_signing_enabled": True}}, {}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    "checksums when required": ({"request_checksum_calculation": "when_required"}, {}, "sha256"),
    "unsigned payload": (
        {"request_checksum_calculation": "when_required", "s3": {"payload_signing_enabled": False}},
        {},
        "UNSIGNED-PAYLOAD",
    ),
}


@pytest.mark.parametrize("mode", list(TLS_MODES))
def test_boto3_uploads_over_https_store_the_exact_bytes(tls_gateway, s3, mode):
    config, extra, content_sha256 = TLS_MODES[mode]
    client = tls_gateway.s3(**config)
    seen = sent_headers(client)
    for size in (0, 1, 3 * 1024 * 1024 + 5):
        data = os.urandom(size)
        key = f"https/{mode}/{size}"
        client.put_object(Bucket=BUCKET, Key=key, Body=data, ContentEncoding="identity", **extra)
        assert md5(stored(s3, key)) == md5(data)
        assert s3.head_object(Bucket=BUCKET, Key=key)["ContentEncoding"] == "identity"
        client.upload_fileobj(io.BytesIO(data), BUCKET, key + ".fileobj", ExtraArgs=extra)
        assert md5(stored(s3, key + ".fileobj")) == md5(data)
    assert seen and all(content_sha256_kind(headers) == content_sha256 for headers in seen)
    if content_sha256.startswith("STREAMING"):
        assert all("aws-chunked" in headers["Content-Encoding"] for headers in seen)


def test_a_wrong_checksum_header_is_bad_digest_and_stores_nothing(s3):
    s3.put_object(Bucket=BUCKET, Key="checksum/kept", Body=b"kept")
    assert code_of(s3.put_object, Bucket=BUCKET, Key="checksum/kept", Body=b"changed", ChecksumCRC32="AAAAAA==") == (
        "BadDigest"
    )
    assert stored(s3, "checksum/kept") == b"kept"


# --- hand-built bodies that are not what was signed ----------------------------------------


class StreamingSigner(S3SigV4Auth):
    """botocore's SigV4 with a streaming payload hash, which botocore itself never sends."""

    def __init__(self, content_sha256: str) -> None:
        super().__init__(Credentials(*S3_KEYS["alice"]), "s3", REGION)
        self.content_sha256 = content_sha256

    def payload(self, request) -> str:
        return self.content_sha256


def signing_key(date: str) -> bytes:
    key = ("AWS4" + S3_KEYS["alice"][1]).encode()
    for part in (date, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signed_streaming_put(
    gateway, key: str, data: bytes, chunk_size: int = 64 * 1024, trailer: bool = False, corrupt: int | None = None
):
    """PUT ``data`` as STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], its chunks signed as AWS
    says; ``corrupt``: flip a character of that chunk's signature. (status, headers, body)."""
    content_sha256 = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    path = f"/{BUCKET}/{quote(key)}"
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        **({"x-amz-trailer": "x-amz-checksum-sha256"} if trailer else {}),
    }
    request = AWSRequest(method="PUT", url=gateway.url + path, headers=headers)
    StreamingSigner(content_sha256).add_auth(request)
    headers = dict(request.headers)
    seed = headers["Authorization"].rpartition("Signature=")[2]
    stamp = headers["X-Amz-Date"]
    scope = f"{stamp[:8]}/{REGION}/s3/aws4_request"
    key_bytes = signing_key(stamp[:8])

    def sign(*lines: str) -> str:
        return hmac.new(key_bytes, "\n".join(lines).encode(), hashlib.sha256).hexdigest()

    wire, previous = bytearray(), seed
    pieces = [data[at : at + chunk_size] for at in range(0, len(data), chunk_size)] + [b""]
    for number, piece in enumerate(pieces):
        previous = sign(
            "AWS4-HMAC-SHA256-PAYLOAD", stamp, scope, previous, EMPTY_SHA256, hashlib.sha256(piece).hexdigest()
        )
        sent = previous if number != corrupt else ("0" if previous[0] != "0" else "1") + previous[1:]
        wire += f"{len(piece):x};chunk-signature={sent}\r\n".encode() + piece + b"\r\n"
    del wire[-2:]
    if trailer:
        trailers = f"x-amz-checksum-sha256:{base64.b64encode(hashlib.sha256(data).digest()).decode()}\n"
        wire += trailers.replace("\n", "\r\n").encode()
        signature = sign(
            "AWS4-HMAC-SHA256-TRAILER", stamp, scope, previous, hashlib.sha256(trailers.encode()).hexdigest()
        )
        wire += f"x-amz-trailer-signature:{signature}\r\n".encode()
    wire += b"\r\n"
    headers["Content-Length"] = str(len(wire))
    return gateway.raw("PUT", path, headers, bytes(wire))


@pytest.mark.parametrize("trailer", [False, True])
def test_signed_streaming_uploads_store_the_exact_bytes(gateway, s3, trailer):
    for size in (0, 10, 64 * 1024, 300_000):
        data = os.urandom(size)
        key = f"streaming/{trailer}/{size}"
        status, _, body = signed_streaming_put(gateway, key, data, trailer=trailer)
        assert status == 200, body
        assert md5(stored(s3, key)) == md5(data)
        assert "ContentEncoding" not in s3.head_object(Bucket=BUCKET, Key=key)


@pytest.mark.parametrize("corrupt", [0, 2, 5])  # the first chunk, one in the middle, the final empty one
def test_a_corrupted_chunk_signature_stores_nothing(gateway, s3, corrupt):
    data = os.urandom(300_000)
    status, _, body = signed_streaming_put(gateway, f"streaming/corrupt-{corrupt}", data, corrupt=corrupt)
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")
    assert code_of(s3.head_object, Bucket=BUCKET, Key=f"streaming/corrupt-{corrupt}") == "404"
    s3.put_object(Bucket=BUCKET, Key="streaming/existing", Body=b"before")
    status, _, body = signed_streaming_put(gateway, "streaming/existing", data, corrupt=corrupt)
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")
    assert stored(s3, "streaming/existing") == b"before"


def signed_put(gateway, key: str, data: bytes) -> tuple[str, dict[str, str]]:
    """(path, headers) of a PUT of ``data`` signed by botocore with its SHA-256 (signed payload)."""
    path = f"/{BUCKET}/{quote(key)}"
    request = AWSRequest(method="PUT", url=gateway.url + path, data=data)
    S3SigV4Auth(Credentials(*S3_KEYS["alice"]), "s3", REGION).add_auth(request)
    assert request.headers["X-Amz-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    return path, {**dict(request.headers), "Content-Length": str(len(data))}


def test_a_body_altered_after_signing_is_a_sha256_mismatch_and_stores_nothing(gateway, s3):
    data = os.urandom(5 * 1024 * 1024)
    altered = data[:-1000] + bytes([data[-1000] ^ 1]) + data[-999:]
    path, headers = signed_put(gateway, "altered/new", data)
    status, _, body = gateway.raw("PUT", path, headers, altered)
    assert (status, error_code(body)) == (400, "XAmzContentSHA256Mismatch")
    assert code_of(s3.head_object, Bucket=BUCKET, Key="altered/new") == "404"
    s3.put_object(Bucket=BUCKET, Key="altered/existing", Body=b"before")
    path, headers = signed_put(gateway, "altered/existing", data)
    status, _, body = gateway.raw("PUT", path, headers, altered)
    assert (status, error_code(body)) == (400, "XAmzContentSHA256Mismatch")
    assert stored(s3, "altered/existing") == b"before"
    status, _, body = gateway.raw("PUT", path, headers, data)  # the body as signed
    assert status == 200, body
    assert md5(stored(s3, "altered/existing")) == md5(data)


def test_a_body_shorter_than_its_length_is_incomplete_and_stores_nothing(gateway, s3):
    data = os.urandom(100_000)
    path, headers = signed_put(gateway, "short", data)
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as conn:
        headers["Host"] = f"127.0.0.1:{gateway.port}"
        head = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        conn.sendall(head.encode() + b"\r\n" + data[:50_000])
        conn.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: conn.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.1 400") and error_code(answer) == "IncompleteBody", answer[:500]
    assert code_of(s3.head_object, Bucket=BUCKET, Key="short") == "404"


@pytest.mark.parametrize(
    "wire",
    [b"5\r\nabc", b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n", b"3\r\nabc\r\n0\r\n\r\ntrailing junk"],
)
def test_malformed_aws_chunked_is_a_client_error_never_a_500(gateway, s3, wire):
    now = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = f"/{BUCKET}/malformed"
    request = AWSRequest(
        method="PUT",
        url=gateway.url + path,
        headers={"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "3", "X-Amz-Date": now},
    )
    StreamingSigner("STREAMING-UNSIGNED-PAYLOAD-TRAILER").add_auth(request)
    status, _, body = gateway.raw("PUT", path, {**dict(request.headers), "Content-Length": str(len(wire))}, wire)
    assert status == 400 and error_code(body) in ("IncompleteBody", "InvalidRequest"), body
    assert code_of(s3.head_object, Bucket=BUCKET, Key="malformed") == "404"


def test_multipart_parts_over_https_are_decoded_and_checked_like_puts(tls_gateway, s3):
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(11 * 1024 * 1024)
    client = tls_gateway.s3()
    seen = sent_headers(client)
    client.upload_fileobj(
        io.BytesIO(data),
        BUCKET,
        "https/multipart",
        Config=TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20),
    )
    assert md5(stored(s3, "https/multipart")) == md5(data)
    assert s3.head_object(Bucket=BUCKET, Key="https/multipart")["ETag"].endswith('-3"')
    assert any("aws-chunked" in headers.get("Content-Encoding", "") for headers in seen)  # the parts came framed
