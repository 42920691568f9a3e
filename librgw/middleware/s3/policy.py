"""Bucket policies: PutBucketPolicy, GetBucketPolicy and DeleteBucketPolicy.

Each is one request to the native API's ``?policy`` sub-resource of the bucket
(``swift/access_control.py``), which checks a policy before keeping it (``policy.py``
says what is served) and keeps it for the bucket owner alone. A policy that is not one is
``MalformedPolicy``, one using what is not served ``NotImplemented``; GetBucketPolicy of a
bucket without one is ``NoSuchBucketPolicy``. Objects have no policy: ``?policy`` with a
key is ``NotImplemented``.
"""

from __future__ import annotations

from webob import Response

from librgw.policy import MAX_POLICY_BYTES

from ..swift.errors import ERROR_HEADER
from .errors import S3Error, native_failure
from .native import Native
from .s3_request import S3Request

MESSAGES = {"NoSuchBucketPolicy": "The bucket policy does not exist"}


def applies(s3: S3Request) -> bool:
    return "policy" in s3.params


def handle(native: Native, owner: str, s3: S3Request) -> Response:
    if s3.key:
        raise S3Error("NotImplemented", "Objects have no policy; buckets do")
    method = s3.request.method
    if method == "PUT":
        body = s3.request.body_file.read(MAX_POLICY_BYTES + 1)
        answer = native.call("PUT", owner, s3.bucket, query={"policy": ""}, body=body)
    elif method in ("GET", "DELETE"):
        answer = native.call(method, owner, s3.bucket, query={"policy": ""})
    else:
        raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")
    if answer.status_int // 100 != 2:
        code = answer.headers.get(ERROR_HEADER, "")
        if code in MESSAGES:
            raise S3Error(code, MESSAGES[code], BucketName=s3.bucket)
        raise native_failure(answer.status_int, answer.body, code, "NoSuchBucket")
    if method == "GET":
        return Response(body=answer.body, content_type="application/json", charset=None)
    return Response(status=204)
