"""Bucket configurations the native API keeps as one JSON document behind a container
sub-resource (``?cors``, ``?lifecycle``): S3's Put, Get and Delete of them, in S3's XML.

PUT parses the S3 document into the native JSON (refusing a bad one with S3's code), GET
renders the native JSON back as the S3 document, DELETE removes it; a bucket without one
answers the configuration's own "no such" code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from webob import Response

from ..swift.errors import ERROR_HEADER
from .errors import S3Error, native_failure
from .native import Native
from .s3_request import S3Request

JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class BucketConfiguration:
    sub_resource: str  # the native container sub-resource that keeps it
    parse: Callable[[bytes], object]  # a PUT's S3 document -> the native JSON
    render: Callable[[object], bytes]  # the native JSON -> the S3 document
    missing_code: str  # NoSuchCORSConfiguration, ...
    missing_message: str

    def handle(self, native: Native, owner: str, s3: S3Request, body: bytes | None) -> Response:
        """Put, Get or Delete the configuration; ``body`` is a PUT's document."""
        method = s3.request.method
        query = {self.sub_resource: ""}
        if method == "GET":
            answer = native.call("GET", owner, s3.bucket, query=query)
            if answer.status_int != 200:
                raise self._failure(answer)
            return Response(body=self.render(json.loads(answer.body)), content_type="application/xml")
        if method == "PUT":
            doc = json.dumps(self.parse(body or b"")).encode()
            answer = native.call("PUT", owner, s3.bucket, headers=JSON_HEADERS, query=query, body=doc)
            if answer.status_int // 100 != 2:
                raise self._failure(answer)
            return Response(status=200)
        if method == "DELETE":
            answer = native.call("DELETE", owner, s3.bucket, query=query)
            if answer.status_int // 100 != 2:
                raise self._failure(answer)
            return Response(status=204)
        raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")

    def _failure(self, answer: Response) -> S3Error:
        error = native_failure(answer.status_int, answer.body, answer.headers.get(ERROR_HEADER, ""), "NoSuchBucket")
        if error.code == self.missing_code:
            return S3Error(error.code, self.missing_message)
        return error
