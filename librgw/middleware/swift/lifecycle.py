"""A container's lifecycle rules in the native API: the ``?lifecycle`` sub-resource, and the
expiration an object's GET and HEAD announce.

The rules are S3's; the core keeps them and applies them (``librgw/lifecycle_rules.py``:
their JSON form and their checks; ``librgw/lifecycle.py``: the agent, ``librgw admin lc
process``). On
``/v1/AUTH_<uid>/<container>``:

- ``GET ?lifecycle``: 200 and ``{"rules": [...]}``; 404 with ``X-Librgw-Error:
  NoSuchLifecycleConfiguration`` for a container without.
- ``PUT ?lifecycle`` with such a document replaces the rules (204); one S3 would refuse is
  400 with S3's code in ``X-Librgw-Error`` (``InvalidArgument``, ``InvalidRequest``).
- ``DELETE ?lifecycle`` removes them (204).

Reading the rules takes READ and changing them WRITE in the account (a rule can delete
every object, as the account's writers can), as S3's ``s3:GetLifecycleConfiguration`` and
``s3:PutLifecycleConfiguration``, which neither ACLs nor bucket policies grant to others
(a policy may deny them).

``GET`` and ``HEAD`` of an object that an enabled rule expires answer
``X-Lifecycle-Expiration: expiry-date="<HTTP date>", rule-id="<id>"`` (S3's
``x-amz-expiration``), by the earliest such rule.

Example::

    curl -X PUT -H "X-Auth-Token: $T" "$URL/logs?lifecycle" -d '{"rules": [{"id": "old",
        "status": "Enabled", "filter": {"prefix": "tmp/"}, "expiration": {"days": 7}}]}'
"""

from __future__ import annotations

from email.utils import formatdate

from webob import Response, exc

from librgw.bucket_info import BucketInfo
from librgw.lifecycle import LC_ATTR, configuration_of
from librgw.lifecycle_rules import LifecycleConfiguration
from librgw.objects import ObjectState

from . import metadata
from .context import Context
from .errors import ERROR_HEADER
from .json_doc import json_response, read_json

LIFECYCLE = "lifecycle"
EXPIRATION_HEADER = "X-Lifecycle-Expiration"
S3_ACTIONS = {
    "GET": "s3:GetLifecycleConfiguration",
    "PUT": "s3:PutLifecycleConfiguration",
    "DELETE": "s3:PutLifecycleConfiguration",
}


def handle_container(ctx: Context) -> Response:
    bucket = ctx.configured_bucket(S3_ACTIONS)
    method = ctx.request.method
    if method == "GET":
        config = configuration_of(bucket)
        if config is None:
            raise exc.HTTPNotFound(
                "The container has no lifecycle configuration",
                headers=[(ERROR_HEADER, "NoSuchLifecycleConfiguration")],
            )
        return json_response(config.to_json())
    if method == "PUT":
        ctx.rgw.lifecycle.set(bucket.name, LifecycleConfiguration.from_json(read_json(ctx.request)))
        return Response(status=204)
    ctx.rgw.lifecycle.remove(bucket.name)
    return Response(status=204)


def expiration_headers(bucket: BucketInfo, info: ObjectState) -> list[tuple[str, str]]:
    """``X-Lifecycle-Expiration`` for an object of ``bucket`` a rule expires; costs nothing
    in a bucket without rules."""
    if LC_ATTR not in bucket.attrs:
        return []
    expiration = configuration_of(bucket).expiration(info.key, info.mtime, info.size, info.tags)
    if expiration is None:
        return []
    when, rule_id = expiration
    value = f'expiry-date="{formatdate(when, usegmt=True)}", rule-id="{rule_id}"'
    return [(EXPIRATION_HEADER, metadata.to_wsgi(value))]
