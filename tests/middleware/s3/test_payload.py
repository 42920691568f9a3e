"""``payload``: aws-chunked bodies decode to their data, signed chunks and payload hashes are
checked, and a refusal reaches the native PUT as a failed read that the S3 side can name."""

import base64
import hashlib
import hmac
import io
import zlib

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, Sha256Checksum
from webob import Request

from librgw.middleware.s3.checksums import new_checksum
from librgw.middleware.s3.errors import S3Error
from librgw.middleware.s3.payload import AwsChunkedReader, BodyRejected, ChunkSigner, RawBody, upload_body
from librgw.middleware.s3.s3_request import S3Request
from librgw.middleware.s3.signature import parse_s3_auth, v4_signing_key, verify
from librgw.middleware.swift.request_body import BodyReader, ClientDisconnect

# AWS's worked example of a signed streaming upload ("Signature Calculations for the
# Authorization Header: Transferring Payload in Multiple Chunks"): 65 KiB of "a" in a
# 64 KiB chunk and a 1 KiB one.
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_DATE = "20130524T000000Z"
AWS_SCOPE = "20130524/us-east-1/s3/aws4_request"
AWS_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
AWS_CHUNK_SIGNATURES = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
AWS_HEADERS = {
    "Host": "s3.amazonaws.com",
    "x-amz-date": AWS_DATE,
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        f"x-amz-decoded-content-length;x-amz-storage-class,Signature={AWS_SEED}"
    ),
    "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "Content-Encoding": "aws-chunked",
    "x-amz-decoded-content-length": "66560",
    "Content-Length": "66824",
}
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def aws_signer() -> ChunkSigner:
    return ChunkSigner(v4_signing_key(AWS_SECRET, "20130524", "us-east-1", "s3"), AWS_DATE, AWS_SCOPE, AWS_SEED)


def signed_chunks(data: bytes, chunk_size: int, signer: ChunkSigner, trailers: dict[str, str] | None = None) -> bytes:
    """An aws-chunked body signed as AWS's spec says, computed here independently of payload.py."""

    def sign(*lines: str) -> str:
        return hmac.new(signer.key, "\n".join(lines).encode(), hashlib.sha256).hexdigest()

    out, previous = bytearray(), signer.seed
    pieces = [data[at : at + chunk_size] for at in range(0, len(data), chunk_size)] + [b""]
    for piece in pieces:
        sha = hashlib.sha256(piece).hexdigest()
        previous = sign("AWS4-HMAC-SHA256-PAYLOAD", signer.timestamp, signer.scope, previous, EMPTY_SHA256, sha)
        out += f"{len(piece):x};chunk-signature={previous}\r\n".encode() + piece + b"\r\n"
    del out[-2:]  # the final chunk's CRLF is the trailer section's
    if trailers:
        canonical = "".join(f"{name}:{value}\n" for name, value in trailers.items())
        out += canonical.replace("\n", "\r\n").encode()
        sha = hashlib.sha256(canonical.encode()).hexdigest()
        signature = sign("AWS4-HMAC-SHA256-TRAILER", signer.timestamp, signer.scope, previous, sha)
        out += f"x-amz-trailer-signature:{signature}\r\n".encode()
    return bytes(out + b"\r\n")


def boto3_chunks(data: bytes, checksum_cls=Crc32Checksum, name="x-amz-checksum-crc32", chunk_size=None) -> bytes:
    """What botocore sends for PutObject over https: STREAMING-UNSIGNED-PAYLOAD-TRAILER."""
    return AwsChunkedWrapper(io.BytesIO(data), checksum_cls, name, chunk_size).read()


def rejection(read) -> S3Error:
    with pytest.raises(BodyRejected) as caught:
        read()
    return caught.value.error


def read_as_native(reader, length: int | None) -> bytes:
    """Read as the native PUT does: its BodyReader, stripe-sized reads, stopping at ``length``."""
    body = BodyReader(reader, length, 1 << 40)
    return b"".join(iter(lambda: body.read(4 * 1024 * 1024), b""))


# --- the chunk decoder ---------------------------------------------------------------------


def test_aws_example_chunk_signatures_are_computed_as_published():
    signer = aws_signer()
    first = signer.chunk_signature(AWS_SEED, hashlib.sha256(b"a" * 65536).hexdigest())
    second = signer.chunk_signature(first, hashlib.sha256(b"a" * 1024).hexdigest())
    final = signer.chunk_signature(second, EMPTY_SHA256)
    assert [first, second, final] == AWS_CHUNK_SIGNATURES


def test_aws_example_body_decodes_with_its_signatures_checked():
    wire = signed_chunks(b"a" * 66560, 65536, aws_signer())
    assert len(wire) == 66824  # the example's Content-Length
    assert AWS_CHUNK_SIGNATURES[0].encode() in wire and AWS_CHUNK_SIGNATURES[2].encode() in wire
    reader = AwsChunkedReader(io.BytesIO(wire), 66560, aws_signer())
    assert reader.read() == b"a" * 66560 and reader.complete


def test_aws_example_request_verifies_and_its_body_reaches_the_native_put_decoded():
    environ = Request.blank("/examplebucket/chunkObject.txt", method="PUT", headers=AWS_HEADERS).environ
    environ["wsgi.input"] = io.BytesIO(signed_chunks(b"a" * 66560, 65536, aws_signer()))
    environ["RAW_URI"] = "/examplebucket/chunkObject.txt"
    claim = parse_s3_auth(environ)
    verify(claim, AWS_SECRET, now=claim.timestamp)
    s3 = S3Request(Request(environ), "examplebucket", "chunkObject.txt")
    key = v4_signing_key(AWS_SECRET, "20130524", "us-east-1", "s3")
    body = upload_body(s3, claim, lambda: key)
    assert body.s3.request.headers["Content-Length"] == "66560"
    assert "Content-Encoding" not in body.s3.request.headers
    assert read_as_native(body, 66560) == b"a" * 66560 and body.error is None


def test_signed_trailer_decodes_and_is_checked():
    data = b"hello, trailers" * 1000
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    wire = signed_chunks(data, 8192, aws_signer(), {"x-amz-checksum-crc32": crc})
    reader = AwsChunkedReader(io.BytesIO(wire), len(data), aws_signer())
    assert read_as_native(reader, len(data)) == data
    assert reader.complete and reader.trailers == {"x-amz-checksum-crc32": crc}
    forged = wire.replace(crc.encode(), b"AAAAAA==")
    reader = AwsChunkedReader(io.BytesIO(forged), len(data), aws_signer())
    assert rejection(lambda: reader.read()).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("where", ["data", "signature", "final signature"])
def test_a_corrupted_signed_chunk_is_refused(where):
    wire = bytearray(signed_chunks(b"a" * 66560, 65536, aws_signer()))
    if where == "data":
        wire[200] ^= 1
    elif where == "signature":
        at = wire.index(AWS_CHUNK_SIGNATURES[1].encode())
        wire[at] = ord("f") if wire[at] != ord("f") else ord("e")
    else:
        at = wire.index(AWS_CHUNK_SIGNATURES[2].encode())
        wire[at : at + 64] = b"0" * 64
    reader = AwsChunkedReader(io.BytesIO(bytes(wire)), 66560, aws_signer())
    assert rejection(lambda: reader.read()).code == "SignatureDoesNotMatch"


def test_a_signed_upload_needs_every_chunk_signature():
    wire = signed_chunks(b"xyz", 3, aws_signer())
    unsigned = wire.split(b";", 1)[0] + b"\r\nxyz" + wire.split(b"xyz", 1)[1]
    reader = AwsChunkedReader(io.BytesIO(unsigned), 3, aws_signer())
    assert rejection(lambda: reader.read()).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("size", [1, 1024 * 1024, 3 * 1024 * 1024 + 17])
def test_botocore_unsigned_trailer_bodies_decode(size):
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    wire = boto3_chunks(data)
    reader = AwsChunkedReader(io.BytesIO(wire), size)
    assert read_as_native(reader, size) == data
    assert reader.complete and "x-amz-checksum-crc32" in reader.trailers


def test_the_decoded_length_may_be_unknown():
    data = b"q" * 100_000
    reader = AwsChunkedReader(io.BytesIO(boto3_chunks(data, chunk_size=30_000)), None)
    assert read_as_native(reader, None) == data and reader.complete


def test_stopping_at_the_decoded_length_still_checks_the_final_chunk():
    wire = signed_chunks(b"a" * 66560, 65536, aws_signer())
    at = wire.index(AWS_CHUNK_SIGNATURES[2].encode())
    wire = wire[:at] + b"0" * 64 + wire[at + 64 :]
    reader = AwsChunkedReader(io.BytesIO(wire), 66560, aws_signer())
    got = bytearray()
    with pytest.raises(BodyRejected):
        while len(got) < 66560:  # a reader that never asks past the decoded length
            got += reader.read(66560 - len(got))


@pytest.mark.parametrize(
    "wire, decoded, code",
    [
        (b"3\r\nabc\r\n0\r\n\r\n", 4, "IncompleteBody"),  # less data than announced
        (b"3\r\nabc\r\n0\r\n\r\n", 2, "InvalidRequest"),  # more
        (b"3\r\nab", 3, "IncompleteBody"),  # the body ends inside a chunk
        (b"3\r\nabc\r\n", 4, "IncompleteBody"),  # no final chunk
        (b"3\r\nabcd\r\n0\r\n\r\n", 3, "InvalidRequest"),  # a chunk longer than its header
        (b"zz\r\nabc\r\n0\r\n\r\n", 3, "InvalidRequest"),  # not hex
        (b"-3\r\nabc\r\n0\r\n\r\n", 3, "InvalidRequest"),
        (b"3" * 5000, 3, "InvalidRequest"),  # a header line without end
        (b"3\r\nabc\r\n0\r\nno colon here\r\n\r\n", 3, "InvalidRequest"),
        (b"3\r\nabc\r\n0\r\n\r\nmore", 3, "InvalidRequest"),  # data after the end
        (b"", 3, "IncompleteBody"),
    ],
)
def test_malformed_framing_is_a_client_error(wire, decoded, code):
    reader = AwsChunkedReader(io.BytesIO(wire), decoded)
    assert rejection(lambda: reader.read()).code == code


def test_the_last_empty_line_may_be_missing():
    reader = AwsChunkedReader(io.BytesIO(b"3\r\nabc\r\n0\r\n"), 3)
    assert reader.read() == b"abc" and reader.complete


# --- payload hashes and checksums, as the native PUT meets them ----------------------------


def put_environ(body: bytes, headers: dict[str, str]) -> dict:
    return Request.blank("/bucket/key", method="PUT", headers=headers, body=body).environ


def upload(body: bytes, headers: dict[str, str], claim=None):
    environ = put_environ(body, headers)
    s3 = S3Request(Request(environ), "bucket", "key")
    return upload_body(s3, claim, lambda: b"")


def test_a_hex_payload_hash_is_checked_when_the_last_byte_is_read():
    data = b"payload" * 1000
    body = upload(data, {"x-amz-content-sha256": hashlib.sha256(data).hexdigest()})
    assert read_as_native(body, len(data)) == data and body.error is None
    altered = data[:-1] + b"!"
    body = upload(altered, {"x-amz-content-sha256": hashlib.sha256(data).hexdigest()})
    with pytest.raises(ClientDisconnect):  # the native PUT's failed read: nothing is stored
        read_as_native(body, len(data))
    assert body.error.code == "XAmzContentSHA256Mismatch" and body.error.status == 400
    with pytest.raises(S3Error) as caught, body.refusals():
        raise S3Error("IncompleteBody", "what the native 499 would map to")
    assert caught.value.code == "XAmzContentSHA256Mismatch"


def test_a_short_body_is_a_disconnect_not_a_refusal():
    data = b"short"
    body = upload(data, {"x-amz-content-sha256": hashlib.sha256(data).hexdigest(), "Content-Length": "10"})
    with pytest.raises(ClientDisconnect):
        read_as_native(body, 10)
    assert body.error is None  # the native 499 answers: IncompleteBody


def test_an_empty_body_is_checked_up_front():
    upload(b"", {"x-amz-content-sha256": EMPTY_SHA256})
    with pytest.raises(S3Error) as caught:
        upload(b"", {"x-amz-content-sha256": hashlib.sha256(b"x").hexdigest()})
    assert caught.value.code == "XAmzContentSHA256Mismatch"
    chunked = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": "0",
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    upload(boto3_chunks(b""), chunked)
    with pytest.raises(S3Error) as caught:
        upload(b"0\r\nx-amz-checksum-crc32:AAAAAQ==\r\n\r\n", chunked)  # not the CRC32 of nothing
    assert caught.value.code == "BadDigest"


def test_raw_body_stops_at_its_length():
    raw = RawBody(io.BytesIO(b"abcdef"), 3, None)
    assert raw.read() == b"abc" and raw.complete and raw.read() == b""


@pytest.mark.parametrize("algorithm", ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"])
def test_a_checksum_header_is_checked(algorithm):
    data = b"checksummed" * 500
    computed = new_checksum(algorithm)
    computed.update(data)
    value = base64.b64encode(computed.digest()).decode()
    body = upload(data, {f"x-amz-checksum-{algorithm}": value})
    assert read_as_native(body, len(data)) == data
    body = upload(data[::-1], {f"x-amz-checksum-{algorithm}": value})
    with pytest.raises(ClientDisconnect):
        read_as_native(body, len(data))
    assert body.error.code == "BadDigest"


def test_a_trailing_checksum_is_checked_and_aws_chunked_is_not_stored():
    data = b"trailing" * 9000
    headers = {
        "Content-Encoding": "gzip, aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-sha256",
        "x-amz-decoded-content-length": str(len(data)),
    }
    body = upload(boto3_chunks(data, Sha256Checksum, "x-amz-checksum-sha256"), headers)
    assert body.s3.request.headers["Content-Encoding"] == "gzip"
    assert read_as_native(body, len(data)) == data
    bad = bytearray(boto3_chunks(data, Sha256Checksum, "x-amz-checksum-sha256"))
    bad[100] ^= 1  # in the first chunk's data
    body = upload(bytes(bad), headers)
    with pytest.raises(ClientDisconnect):
        read_as_native(body, len(data))
    assert body.error.code == "BadDigest"
    body = upload(boto3_chunks(data, None), headers)  # declared, never sent
    with pytest.raises(ClientDisconnect):
        read_as_native(body, len(data))
    assert body.error.code == "InvalidRequest"


@pytest.mark.parametrize(
    "headers, code",
    [
        ({"x-amz-checksum-crc32": "not base64!"}, "InvalidRequest"),
        ({"x-amz-checksum-crc32": "AAAAAAAA"}, "InvalidRequest"),  # 6 bytes, not 4
        ({"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-sha1": "A" * 28}, "InvalidRequest"),
        ({"x-amz-checksum-md4": "AAAAAA=="}, "InvalidRequest"),
        ({"x-amz-trailer": "x-amz-checksum-crc32"}, "InvalidRequest"),  # not aws-chunked
        ({"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "ten"}, "InvalidArgument"),
        ({"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, "InvalidRequest"),  # not SigV4
    ],
)
def test_headers_that_announce_a_body_wrongly_are_refused_before_it_is_read(headers, code):
    with pytest.raises(S3Error) as caught:
        upload(b"x", headers)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "algorithm, check", [("crc32", 0xCBF43926), ("crc32c", 0xE3069283), ("crc64nvme", 0xAE8B14860A799888)]
)
def test_crcs_give_their_check_values(algorithm, check):
    computed = new_checksum(algorithm)
    computed.update(b"1234")
    computed.update(b"56789")
    assert int.from_bytes(computed.digest(), "big") == check
