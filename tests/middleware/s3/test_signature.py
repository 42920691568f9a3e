"""``s3.signature``: requests signed by botocore (SigV2, SigV4, presigned) verify, and nothing else does."""

import base64
import functools
import hashlib
import hmac
import time
from email.utils import formatdate
from urllib.parse import quote, urlsplit

import boto3
import pytest
from botocore.auth import HmacV1Auth, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from webob import Request

from librgw.middleware.s3.signature import (
    EMPTY_PAYLOAD_HASH,
    STREAMING_PAYLOAD,
    UNSIGNED_PAYLOAD,
    S3Credentials,
    SignatureError,
    parse_s3_auth,
    verify,
)

ENDPOINT = "http://127.0.0.1:8080"
ACCESS_KEY = "AKIDLIBRGWEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
WRONG_SECRET = "not-the-secret-key-at-all"
REGION = "us-east-1"
KEYS = ["photo.jpg", "my file.txt", "ünïcødé/ключ.txt", "a+b=c&d.txt", "~tilde/x~y", "dir/sub dir/(1)!*'.txt"]
QUERIES = ["uploads", "partNumber=1&uploadId=x", "list-type=2&prefix=a%20b", "versionId=3&acl", "tagging="]
SKEW = 16 * 60


def signer(version: str, region: str = REGION):
    credentials = Credentials(ACCESS_KEY, SECRET_KEY)
    return HmacV1Auth(credentials) if version == "v2" else S3SigV4Auth(credentials, "s3", region)


def object_path(key: str, bucket: str = "bucket") -> str:
    return f"/{bucket}/{quote(key, safe='/~')}"  # as botocore's serializer puts a key in the URL


def signed_request(
    version: str, method="GET", path="/bucket/photo.jpg", query="", headers=None, body=b"", auth=None
) -> AWSRequest:
    url = f"{ENDPOINT}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
    (auth or signer(version)).add_auth(request)
    return request


def environ_of(method: str, url: str, headers=None, body=b"", raw_uri: bool = True) -> dict:
    """The WSGI environ gunicorn would give the app for this request."""
    split = urlsplit(url)
    target = split.path + (f"?{split.query}" if split.query else "")
    environ = Request.blank(target, method=method, headers=dict(headers or {}), body=body).environ
    environ["HTTP_HOST"] = split.netloc
    if raw_uri:
        environ["RAW_URI"] = target
    return environ


def environ_of_request(request: AWSRequest, raw_uri: bool = True) -> dict:
    prepared = request.prepare()
    return environ_of(prepared.method, prepared.url, prepared.headers, prepared.body or b"", raw_uri)


@functools.cache
def s3_client(signature_version: str):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version=signature_version, s3={"addressing_style": "path"}),
    )


def presigned_environ(version: str, key: str = "photo.jpg", expires_in: int = 60, operation="get_object") -> dict:
    signature_version = "s3v4" if version == "v4-presigned" else "s3"
    url = s3_client(signature_version).generate_presigned_url(
        operation, Params={"Bucket": "bucket", "Key": key}, ExpiresIn=expires_in
    )
    return environ_of("PUT" if operation == "put_object" else "GET", url)


def environ_for(version: str, **kwargs) -> dict:
    """A good request of each kind: header-signed GET, or a presigned GET."""
    if version.endswith("presigned"):
        return presigned_environ(version, **kwargs)
    return environ_of_request(signed_request(version, **kwargs))


def claim_error(environ: dict, **kwargs) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        parse_s3_auth(environ, **kwargs)
    return caught.value


def verify_error(environ: dict, secret: str = SECRET_KEY, now: float | None = None) -> SignatureError:
    claim = parse_s3_auth(environ)
    assert claim is not None
    with pytest.raises(SignatureError) as caught:
        verify(claim, secret, now)
    return caught.value


def set_query(environ: dict, query: str) -> None:
    environ["QUERY_STRING"] = query
    environ["RAW_URI"] = environ["RAW_URI"].partition("?")[0] + "?" + query


HEADER_VERSIONS = ["v2", "v4"]
ALL_VERSIONS = ["v2", "v4", "v2-presigned", "v4-presigned"]


# --- good signatures -----------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("version", HEADER_VERSIONS)
def test_a_header_signed_get_of_any_key_verifies(version, key):
    claim = parse_s3_auth(environ_of_request(signed_request(version, path=object_path(key))))
    assert claim.access_key == ACCESS_KEY and claim.version == version
    verify(claim, SECRET_KEY)


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("version", HEADER_VERSIONS)
def test_sub_resources_and_query_parameters_verify(version, query):
    verify(parse_s3_auth(environ_of_request(signed_request(version, query=query))), SECRET_KEY)


@pytest.mark.parametrize("version", HEADER_VERSIONS)
def test_a_put_with_body_md5_type_and_amz_headers_verifies(version):
    body = b"hello, world\n" * 100
    headers = {
        "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
        "Content-Type": "text/plain; charset=utf-8",
        "x-amz-meta-color": "  deep   blue ",
        "x-amz-acl": "private",
    }
    request = signed_request(version, method="PUT", path=object_path("my file.txt"), headers=headers, body=body)
    claim = parse_s3_auth(environ_of_request(request))
    verify(claim, SECRET_KEY)
    if version == "v4":
        assert claim.payload_hash == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("version", HEADER_VERSIONS)
def test_without_raw_uri_the_decoded_path_is_requoted(version):
    request = signed_request(version, path=object_path("ünïcødé/my file+(1).txt"), query="uploads")
    verify(parse_s3_auth(environ_of_request(request, raw_uri=False)), SECRET_KEY)


@pytest.mark.parametrize("raw_uri", [True, False])
@pytest.mark.parametrize("version", HEADER_VERSIONS)
def test_a_key_whose_bytes_are_not_utf8_verifies(version, raw_uri):
    request = signed_request(version, path="/bucket/caf%E9%FF.txt")
    verify(parse_s3_auth(environ_of_request(request, raw_uri=raw_uri)), SECRET_KEY)


def test_request_uri_serves_when_raw_uri_is_absent():
    environ = environ_of_request(signed_request("v4", path=object_path("a b.txt")))
    environ["REQUEST_URI"] = environ.pop("RAW_URI")
    environ["PATH_INFO"] = "/somewhere/else"  # a rewrite below the server: the raw URI is what was signed
    verify(parse_s3_auth(environ), SECRET_KEY)


def test_sigv4_path_escapes_are_recanonicalised_not_taken_verbatim():
    environ = environ_of_request(signed_request("v4", path=object_path("(1) ~x.txt")))
    environ["RAW_URI"] = "/bucket/(1)%20%7ex.txt"  # same key, escaped differently on the wire
    verify(parse_s3_auth(environ), SECRET_KEY)


@pytest.mark.parametrize("payload", [UNSIGNED_PAYLOAD, STREAMING_PAYLOAD, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"])
def test_sigv4_payload_hash_tokens_are_signed_as_sent(payload):
    class TokenSigner(S3SigV4Auth):
        def payload(self, request):
            return payload

    auth = TokenSigner(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION)
    request = signed_request("v4", method="PUT", body=b"data", auth=auth)
    claim = parse_s3_auth(environ_of_request(request))
    verify(claim, SECRET_KEY)
    assert claim.payload_hash == payload


def test_a_generic_sigv4_signer_verifies_for_a_request_without_body():
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "default")
    claim = parse_s3_auth(environ_of_request(signed_request("v4", auth=auth)))
    assert (claim.region, claim.service, claim.payload_hash) == ("default", "s3", EMPTY_PAYLOAD_HASH)
    assert claim.scope == f"{claim.scope_date}/default/s3/aws4_request"
    verify(claim, SECRET_KEY)


def test_a_generic_sigv4_signer_with_a_body_lacks_the_payload_hash_header():
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION)
    request = signed_request("v4", method="PUT", body=b"data", auth=auth)
    error = claim_error(environ_of_request(request))
    assert (error.code, error.status) == ("MissingSecurityHeader", 400)


def test_sigv4_dated_by_the_date_header_verifies():
    request = signed_request("v4", headers={"Date": formatdate(usegmt=True)})
    environ = environ_of_request(request)
    assert "HTTP_X_AMZ_DATE" not in environ
    verify(parse_s3_auth(environ), SECRET_KEY)


def test_sigv2_x_amz_date_blanks_the_date_line():
    now = time.time()
    amz_date = formatdate(now, usegmt=True)
    string_to_sign = f"GET\n\n\n\nx-amz-date:{amz_date}\n/bucket/photo.jpg"
    signature = base64.b64encode(hmac.new(SECRET_KEY.encode(), string_to_sign.encode(), "sha1").digest()).decode()
    headers = {
        "Date": formatdate(now - 3600, usegmt=True),  # ignored: x-amz-date rules
        "x-amz-date": amz_date,
        "Authorization": f"AWS {ACCESS_KEY}:{signature}",
    }
    claim = parse_s3_auth(environ_of("GET", f"{ENDPOINT}/bucket/photo.jpg", headers))
    assert claim.string_to_sign == string_to_sign
    verify(claim, SECRET_KEY, now=now)


def test_sigv2_virtual_hosted_requests_sign_the_bucket_in_the_path():
    request = AWSRequest(method="GET", url="http://photos.s3.example.com/a%20b.jpg?acl", headers={})
    request.auth_path = "/photos/a%20b.jpg"
    signer("v2").add_auth(request)
    environ = environ_of_request(request)
    verify(parse_s3_auth(environ, bucket_in_host="photos"), SECRET_KEY)
    assert verify_error(environ).code == "SignatureDoesNotMatch"  # without the bucket, the path differs


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("version", ["v2-presigned", "v4-presigned"])
def test_a_presigned_url_verifies(version, key):
    claim = parse_s3_auth(presigned_environ(version, key))
    assert claim.version == version and claim.access_key == ACCESS_KEY
    verify(claim, SECRET_KEY)


def test_a_presigned_put_verifies_and_lasts_up_to_seven_days():
    claim = parse_s3_auth(presigned_environ("v4-presigned", operation="put_object", expires_in=604800))
    assert claim.expires == claim.timestamp + 604800 and claim.payload_hash == UNSIGNED_PAYLOAD
    verify(claim, SECRET_KEY, now=claim.timestamp + 604000)


# --- AWS's published examples --------------------------------------------------------------

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_CREDENTIAL = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
AWS_DATE = 1369353600.0  # 2013-05-24T00:00:00Z


def test_aws_sigv4_get_object_example():
    signature = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    headers = {
        "Range": "bytes=0-9",
        "x-amz-content-sha256": EMPTY_PAYLOAD_HASH,
        "x-amz-date": "20130524T000000Z",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={AWS_CREDENTIAL},"
        f"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature={signature}",
    }
    claim = parse_s3_auth(environ_of("GET", "http://examplebucket.s3.amazonaws.com/test.txt", headers))
    assert claim.string_to_sign.endswith("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
    verify(claim, AWS_SECRET, now=AWS_DATE)


def test_aws_sigv4_presigned_example():
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
        "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )
    claim = parse_s3_auth(environ_of("GET", f"https://examplebucket.s3.amazonaws.com/test.txt?{query}"))
    verify(claim, AWS_SECRET, now=AWS_DATE + 86400)
    with pytest.raises(SignatureError, match="AccessDenied: Request has expired"):
        verify(claim, AWS_SECRET, now=AWS_DATE + 86401)


def test_aws_sigv2_virtual_hosted_example():
    headers = {
        "Date": "Tue, 27 Mar 2007 19:36:42 +0000",
        "Authorization": "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
    }
    environ = environ_of("GET", "http://awsexamplebucket1.us-west-1.s3.amazonaws.com/photos/puppy.jpg", headers)
    claim = parse_s3_auth(environ, bucket_in_host="awsexamplebucket1")
    verify(claim, AWS_SECRET, now=claim.timestamp)


# --- wrong signatures ----------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_a_wrong_secret_does_not_match_and_says_nothing_secret(version):
    error = verify_error(environ_for(version), secret=WRONG_SECRET)
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)
    assert WRONG_SECRET not in str(error) and SECRET_KEY not in str(error)


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_a_tampered_path_does_not_match(version):
    environ = environ_for(version)
    environ["RAW_URI"] = environ["RAW_URI"].replace("photo.jpg", "other.jpg")
    assert verify_error(environ).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_a_tampered_method_does_not_match(version):
    environ = environ_for(version)
    environ["REQUEST_METHOD"] = "DELETE"
    assert verify_error(environ).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    "version, query, tampered",
    [
        ("v2", "partNumber=1&uploadId=x", "partNumber=2&uploadId=x"),
        ("v2", "uploads", "uploads&versionId=1"),
        ("v4", "list-type=2&prefix=a%20b", "list-type=2&prefix=a%20c"),
        ("v4", "list-type=2", "list-type=2&delimiter=%2F"),
    ],
)
def test_a_tampered_query_does_not_match(version, query, tampered):
    environ = environ_of_request(signed_request(version, query=query))
    set_query(environ, tampered)
    assert verify_error(environ).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("version", ["v2-presigned", "v4-presigned"])
def test_a_presigned_url_with_an_added_parameter_does_not_match(version):
    environ = presigned_environ(version)
    set_query(environ, environ["QUERY_STRING"] + "&versionId=7")
    assert verify_error(environ).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("header, value", [("x-amz-meta-color", "red"), ("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==")])
@pytest.mark.parametrize("version", HEADER_VERSIONS)
def test_a_tampered_header_does_not_match(version, header, value):
    headers = {"x-amz-meta-color": "blue", "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}
    environ = environ_of_request(signed_request(version, method="PUT", headers=headers))
    Request(environ).headers[header] = value
    assert verify_error(environ).code == "SignatureDoesNotMatch"


def test_sigv4_a_tampered_host_does_not_match():
    environ = environ_for("v4")
    environ["HTTP_HOST"] = "evil.example.com"
    assert verify_error(environ).code == "SignatureDoesNotMatch"


def test_sigv2_an_added_amz_header_does_not_match():
    environ = environ_for("v2")
    environ["HTTP_X_AMZ_ACL"] = "public-read"
    assert verify_error(environ).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("version", ["v4", "v4-presigned"])
def test_sigv4_an_unsigned_amz_header_is_refused(version):
    environ = environ_for(version)
    environ["HTTP_X_AMZ_ACL"] = "public-read"
    error = claim_error(environ)
    assert error.code == "AccessDenied" and "x-amz-acl" in error.message


# --- time ----------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-SKEW, SKEW])
@pytest.mark.parametrize("version", HEADER_VERSIONS)
def test_a_header_signed_request_outside_fifteen_minutes_is_too_skewed(version, offset):
    claim = parse_s3_auth(environ_for(version))
    verify(claim, SECRET_KEY, now=claim.timestamp + offset / SKEW * 14 * 60)
    with pytest.raises(SignatureError) as caught:
        verify(claim, SECRET_KEY, now=claim.timestamp + offset)
    assert (caught.value.code, caught.value.status) == ("RequestTimeTooSkewed", 403)


@pytest.mark.parametrize("version", ["v2-presigned", "v4-presigned"])
def test_an_expired_presigned_url_is_denied(version):
    claim = parse_s3_auth(presigned_environ(version, expires_in=60))
    verify(claim, SECRET_KEY, now=claim.expires)
    error = verify_error(presigned_environ(version, expires_in=60), now=claim.expires + 1)
    assert (error.code, error.message) == ("AccessDenied", "Request has expired")


def test_a_presigned_url_dated_in_the_future_is_not_valid_yet():
    claim = parse_s3_auth(presigned_environ("v4-presigned"))
    with pytest.raises(SignatureError, match="AccessDenied: Request is not valid yet"):
        verify(claim, SECRET_KEY, now=claim.timestamp - SKEW)


def test_a_claim_without_a_date_is_treated_as_skewed():
    claim = S3Credentials(ACCESS_KEY, "v2", "sig", "GET\n\n\n\n/", timestamp=None)
    with pytest.raises(SignatureError, match="RequestTimeTooSkewed"):
        verify(claim, SECRET_KEY)


@pytest.mark.parametrize("expires", ["0", "604801", "-5", "soon"])
def test_sigv4_presigned_expiry_must_be_one_second_to_seven_days(expires):
    environ = presigned_environ("v4-presigned")
    set_query(environ, environ["QUERY_STRING"].replace("X-Amz-Expires=60", f"X-Amz-Expires={expires}"))
    assert claim_error(environ).code == "AuthorizationQueryParametersError"


# --- malformed and absent ------------------------------------------------------------------

V4 = "AWS4-HMAC-SHA256 "
MALFORMED = "AuthorizationHeaderMalformed"


@pytest.mark.parametrize(
    "authorization, code",
    [
        (V4 + "SignedHeaders=host, Signature=abc", MALFORMED),
        (V4 + "Credential=AKID/20240101/us-east-1/s3, SignedHeaders=host, Signature=a", MALFORMED),
        (V4 + "Credential=AKID/20240101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=a", MALFORMED),
        (V4 + "Credential=AKID/2024-01-01/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=a", MALFORMED),
        (V4 + "Credential=/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=a", MALFORMED),
        (V4 + "Credential=AKID/20240101/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=a", MALFORMED),
        (
            V4 + "Credential=AKID/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;;x-amz-date, Signature=a",
            MALFORMED,
        ),
        (V4 + "Credential=AKID/20240101/us-east-1/s3/aws4_request, SignedHeaders=host", MALFORMED),
        (V4 + ",,,===,, garbage", MALFORMED),
        ("AWS AKIDWITHOUTSIGNATURE", "InvalidArgument"),
        ("AWS :signature", "InvalidArgument"),
        ("Bearer abc.def", "AccessDenied"),
        ("AWS4-HMAC-SHA512 Credential=x", "AccessDenied"),
        ("\xff\xfe garbage", "AccessDenied"),
    ],
)
def test_a_malformed_authorization_header_is_an_s3_error(authorization, code):
    headers = {"Authorization": authorization, "x-amz-date": "20240101T000000Z"}
    error = claim_error(environ_of("GET", f"{ENDPOINT}/bucket/key", headers))
    assert (error.code, error.status) == (code, 403 if code == "AccessDenied" else 400)


def test_sigv4_scope_date_must_be_the_request_date():
    environ = environ_for("v4")
    environ["HTTP_X_AMZ_DATE"] = "20200101T000000Z"
    assert claim_error(environ).code == "AuthorizationHeaderMalformed"


@pytest.mark.parametrize("date", [None, "yesterday"])
@pytest.mark.parametrize("version", HEADER_VERSIONS)
def test_a_header_signed_request_needs_a_valid_date(version, date):
    environ = environ_for(version)
    environ.pop("HTTP_DATE", None)
    environ.pop("HTTP_X_AMZ_DATE", None)
    if date is not None:
        environ["HTTP_X_AMZ_DATE"] = date
    assert claim_error(environ).code == "AccessDenied"


def test_sigv4_a_bad_payload_hash_is_an_invalid_argument():
    environ = environ_for("v4")
    environ["HTTP_X_AMZ_CONTENT_SHA256"] = "not-a-sha256"
    assert claim_error(environ).code == "InvalidArgument"


@pytest.mark.parametrize(
    "replace, by",
    [
        ("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"),
        ("X-Amz-Credential=", "X-Amz-Credentials="),
        ("X-Amz-Date=", "X-Amz-Date=2024"),
        ("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders="),
        ("%2Fs3%2F", "%2Fec2%2F"),
    ],
)
def test_a_malformed_presigned_v4_query_is_a_query_parameters_error(replace, by):
    environ = presigned_environ("v4-presigned")
    set_query(environ, environ["QUERY_STRING"].replace(replace, by))
    assert claim_error(environ).code == "AuthorizationQueryParametersError"


@pytest.mark.parametrize("replace, by", [("Expires=", "Expiry="), ("Expires=", "Expires=x"), ("Signature=", "Sig=")])
def test_a_malformed_presigned_v2_query_is_denied(replace, by):
    environ = presigned_environ("v2-presigned")
    set_query(environ, environ["QUERY_STRING"].replace(replace, by))
    assert claim_error(environ).code == "AccessDenied"


@pytest.mark.parametrize("version", ["v2-presigned", "v4-presigned"])
def test_a_presigned_url_with_an_authorization_header_is_two_mechanisms(version):
    environ = presigned_environ(version)
    environ["HTTP_AUTHORIZATION"] = f"AWS {ACCESS_KEY}:abc"
    assert claim_error(environ).code == "InvalidArgument"


@pytest.mark.parametrize(
    "target, headers",
    [
        ("/bucket/photo.jpg", {}),
        ("/bucket?list-type=2&prefix=a%20b", {}),
        ("/v1/AUTH_alice/photos", {"X-Auth-Token": "AUTH_tk0123"}),
        ("/bucket/photo.jpg", {"Authorization": ""}),
    ],
)
def test_a_request_without_s3_auth_claims_nothing(target, headers):
    assert parse_s3_auth(environ_of("GET", f"{ENDPOINT}{target}", headers)) is None
