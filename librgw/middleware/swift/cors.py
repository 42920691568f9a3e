"""A container's CORS rules in the native API: the ``?cors`` sub-resource.

The rules are S3's (``cors_rules.py`` has their JSON form and checks); the ``s3`` middleware
answers browsers' preflight requests and adds the ``Access-Control-*`` headers by them. On
``/v1/AUTH_<uid>/<container>``:

- ``GET ?cors``: 200 and the JSON list of rules; 404 with ``X-Librgw-Error:
  NoSuchCORSConfiguration`` for a container without.
- ``PUT ?cors`` with a JSON list of rules replaces them (204); a list S3 would refuse is
  400, with S3's code in ``X-Librgw-Error`` (``InvalidRequest``, ``InvalidArgument``).
- ``DELETE ?cors`` removes them (204).

As with a container's tags, reading the rules takes READ and changing them WRITE in the
account, as S3's ``s3:GetBucketCORS`` and ``s3:PutBucketCORS``, which neither ACLs nor
bucket policies grant to others (a policy may deny them).

Example::

    curl -X PUT -H "X-Auth-Token: $T" "$URL/photos?cors" \\
        -d '[{"allowed_origins": ["https://example.com"], "allowed_methods": ["GET"]}]'
"""

from __future__ import annotations

from webob import Response, exc

from librgw.cors_rules import CORS_ATTR, CORSConfigError, encode_rules, rules_from_json, rules_of

from .context import Context
from .errors import ERROR_HEADER
from .json_doc import json_response, read_json

CORS = "cors"
S3_ACTIONS = {"GET": "s3:GetBucketCORS", "PUT": "s3:PutBucketCORS", "DELETE": "s3:PutBucketCORS"}


def handle_container(ctx: Context) -> Response:
    bucket = ctx.configured_bucket(S3_ACTIONS)
    method = ctx.request.method
    if method == "GET":
        rules = rules_of(bucket.attrs)
        if rules is None:
            raise exc.HTTPNotFound(
                "The container has no CORS configuration", headers=[(ERROR_HEADER, "NoSuchCORSConfiguration")]
            )
        return json_response([rule.to_json() for rule in rules])
    if method == "PUT":
        try:
            rules = rules_from_json(read_json(ctx.request))
        except CORSConfigError as error:
            raise exc.HTTPBadRequest(error.message, headers=[(ERROR_HEADER, error.code)]) from None
        ctx.rgw.buckets.update_attrs(bucket.name, {CORS_ATTR: encode_rules(rules)})
        return Response(status=204)
    ctx.rgw.buckets.update_attrs(bucket.name, {CORS_ATTR: None})
    return Response(status=204)
