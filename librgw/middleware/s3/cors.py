"""CORS: Put/Get/DeleteBucketCors, browsers' preflight requests, and the ``Access-Control-*``
headers of actual cross-origin requests.

**Why here, in the s3 middleware, and not a ``cors`` filter of its own.** The rules are
S3's (a bucket's CORSConfiguration, ``cors_rules.py``), so are the requests they answer: a
preflight is addressed the S3 way (path or virtual-hosted bucket, which only this filter
parses), must be answered before S3 authentication (a browser sends no credentials with
it), and a refusal is S3's XML ``AccessForbidden``. This filter already sees every S3
request at the one point where its bucket is known and its authentication is decided, so
the preflight is one branch before the signature check and the actual-request headers one
call on the way out, with no second parse of the request and nothing for requests without
an ``Origin`` header. Swift's container CORS (``X-Container-Meta-Access-Control-*``) is
another contract, for native requests, and is not served.

**Configuration.** ``PUT ?cors`` takes S3's document (200), ``GET ?cors`` answers it
(``NoSuchCORSConfiguration`` without one), ``DELETE ?cors`` removes it (204); the rules
are kept by the native ``?cors`` sub-resource (``swift/cors.py``)::

    <CORSConfiguration>
      <CORSRule>
        <ID>web</ID>
        <AllowedOrigin>https://*.example.com</AllowedOrigin>
        <AllowedMethod>GET</AllowedMethod> <AllowedMethod>PUT</AllowedMethod>
        <AllowedHeader>*</AllowedHeader>
        <ExposeHeader>ETag</ExposeHeader>
        <MaxAgeSeconds>3000</MaxAgeSeconds>
      </CORSRule>
    </CORSConfiguration>

A document without rules, with more than 100, or with a rule lacking an origin or a method
is ``MalformedXML``; an unknown method or a second wildcard is ``InvalidRequest``.

**Preflight.** ``OPTIONS`` on a bucket or an object, without authentication, with
``Origin`` and ``Access-Control-Request-Method`` (and ``Access-Control-Request-Headers``):
200 with ``Access-Control-Allow-Origin`` (``*`` for a rule allowing any origin, else the
origin), ``-Allow-Methods`` (the rule's), ``-Allow-Headers`` (those asked for),
``-Expose-Headers``, ``-Max-Age``, ``-Allow-Credentials`` (unless ``*``) and ``Vary`` when
a rule allows it; else 403 ``AccessForbidden`` ("CORSResponse: ..."). Without ``Origin``
or the method it is 400.

**Actual requests.** Any answer (errors too) to an S3 request with an ``Origin`` on a
bucket with rules gets ``Vary: Origin, Access-Control-Request-Headers,
Access-Control-Request-Method``, and, when a rule allows that origin and the request's
method, the same ``Access-Control-*`` headers as a preflight (but ``-Allow-Headers``).
That costs one read of the bucket's record, for requests with an ``Origin`` only.
"""

from __future__ import annotations

from webob import Response

import librgw
from librgw.cors_rules import MAX_RULES, allow_headers, matching_rule, requested_headers, rules_of
from librgw.errors import NoSuchBucket

from ..swift.cors import CORS
from .bucket_config import BucketConfiguration
from .errors import S3Error
from .s3_request import S3Request
from .xml_doc import add, document, parse, schema_int, serialize

NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted "
    "by the resource's CORS spec."
)
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
LISTS = (  # XML element -> JSON field
    ("AllowedOrigin", "allowed_origins"),
    ("AllowedMethod", "allowed_methods"),
    ("AllowedHeader", "allowed_headers"),
    ("ExposeHeader", "expose_headers"),
)


def requested_rules(body: bytes) -> list[dict]:
    """The rules of a ``CORSConfiguration`` document, as the native API takes them;
    ``MalformedXML`` for one of the wrong shape (the native API checks the rest)."""
    root = parse(body)
    elements = root.findall("CORSRule")
    if root.tag != "CORSConfiguration" or not 1 <= len(elements) <= MAX_RULES:
        raise S3Error("MalformedXML", f"A CORSConfiguration has 1 to {MAX_RULES} CORSRule elements")
    rules = []
    for element in elements:
        rule: dict = {field: [e.text or "" for e in element.findall(tag)] for tag, field in LISTS}
        if not rule["allowed_origins"] or not rule["allowed_methods"]:
            raise S3Error("MalformedXML", "Each CORSRule needs an AllowedOrigin and an AllowedMethod")
        max_age = element.findtext("MaxAgeSeconds")
        if max_age is not None:
            seconds = schema_int(max_age)
            if seconds is None or seconds < 0:
                raise S3Error("MalformedXML", "MaxAgeSeconds must be a non-negative integer")
            rule["max_age_seconds"] = seconds
        if element.findtext("ID") is not None:
            rule["id"] = element.findtext("ID")
        rules.append(rule)
    return rules


def configuration_document(rules: list[dict]) -> bytes:
    root = document("CORSConfiguration")
    for rule in rules:
        element = add(root, "CORSRule")
        if rule.get("id"):
            add(element, "ID", rule["id"])
        for tag, field in LISTS:
            for value in rule.get(field, []):
                add(element, tag, value)
        if rule.get("max_age_seconds") is not None:
            add(element, "MaxAgeSeconds", rule["max_age_seconds"])
    return serialize(root)


CONFIGURATION = BucketConfiguration(
    CORS, requested_rules, configuration_document, "NoSuchCORSConfiguration", "The CORS configuration does not exist"
)
handle = CONFIGURATION.handle


def preflight(rgw: librgw.RGW, s3: S3Request) -> Response:
    """The answer to an ``OPTIONS`` request, by the bucket's rules; no authentication asked."""
    headers = s3.request.headers
    origin, method = headers.get("Origin"), headers.get("Access-Control-Request-Method")
    if not origin:
        raise S3Error("BadRequest", "Insufficient information. Origin request header needed.")
    if not method:
        raise S3Error("BadRequest", "Invalid Access-Control-Request-Method: null")
    if not s3.bucket:
        raise S3Error("BadRequest", "A CORS preflight request is for a bucket or an object in one.")
    try:
        bucket = rgw.buckets.get(s3.bucket_entry)
    except NoSuchBucket:
        raise S3Error("AccessForbidden", "CORSResponse: Bucket not found", BucketName=s3.bucket) from None
    rules = rules_of(bucket.attrs)
    if rules is None:
        raise S3Error("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")
    asked = requested_headers(headers.get("Access-Control-Request-Headers", ""))
    rule = matching_rule(rules, origin, method, asked)
    if rule is None:
        raise S3Error("AccessForbidden", NOT_ALLOWED, Method=method, ResourceType="BUCKET" if not s3.key else "OBJECT")
    answer = allow_headers(rule, origin)
    if asked:
        answer.append(("Access-Control-Allow-Headers", ", ".join(h.lower() for h in asked)))
    response = Response(status=200, headerlist=[*answer, ("Vary", VARY)])
    response.content_type = None
    response.content_length = 0
    return response


def add_response_headers(rgw: librgw.RGW, s3: S3Request, response: Response) -> None:
    """Give the answer to an actual cross-origin request (one with ``Origin``) the headers
    the bucket's rules allow it."""
    origin = s3.request.headers.get("Origin")
    if not origin or not s3.bucket or s3.request.method == "OPTIONS":
        return
    try:
        bucket = rgw.buckets.get(s3.bucket_entry)
    except NoSuchBucket:
        return
    rules = rules_of(bucket.attrs)
    if rules is None:
        return
    response.headers["Vary"] = VARY
    rule = matching_rule(rules, origin, s3.request.method, [])
    if rule is not None:
        for name, value in allow_headers(rule, origin):
            response.headers[name] = value
