"""Container listing entries whose ``hash`` carries parameters: ``<etag>; <name>=<value>...``.

A filter that keeps something of its objects in their listing entries (a symlink's target, a
static large object's ETag) gives the object Swift's container-update override etag
(``librgw.objects.LISTED_ETAG``), which the gateway's listings show as the entry's ``hash``, as
Swift's container server does. On the way back up, the filter turns its parameters into fields
of a JSON listing and leaves every parameter out of an XML one, as Swift's filters do; a plain
listing shows names only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from webob import Response

XML_HASH_PARAMS = re.compile(rb"(<hash>[^<;]*);[^<]*(</hash>)")


def hash_params(item: dict) -> tuple[str, list[tuple[str, str]]]:
    """An entry's own hash, and the parameters after it, in order."""
    value, *params = item["hash"].split(";")
    return value.strip(), [(key.strip(), text) for key, _, text in (param.partition("=") for param in params)]


def with_params(value: str, params: list[tuple[str, str]]) -> str:
    """A hash carrying ``params`` after ``value``, as Swift writes one."""
    return value + "".join(f"; {key}={text}" for key, text in params)


def rewrite_listing(response: Response, mark: bytes, entry: Callable[[dict], dict]) -> Response:
    """A GET listing's ``response``, its JSON entries passed through ``entry`` and its XML
    hashes without parameters, when its body holds ``mark`` (else as it is)."""
    if response.status_int != 200 or mark not in response.body:
        return response
    if response.content_type == "application/json":
        response.body = json.dumps([entry(item) for item in json.loads(response.body)]).encode("ascii")
    elif response.content_type.endswith("/xml"):
        response.body = XML_HASH_PARAMS.sub(rb"\1\2", response.body)
    return response
