"""Which requests are S3's, and what they address: the bucket, the key and the sub-resources.

Everything that is not the native API (``/v1/``), the Swift auth endpoint or an open path
is S3's. The bucket is the first path segment (path style), or, when ``storage_domain``
is set and ``Host`` is ``<bucket>.<storage_domain>``, the host's first labels
(virtual-hosted style); the key is the rest of the path, as UTF-8 text.

A bucket is its tenant's (``librgw/tenants.py``): a path-style ``<tenant>:<bucket>`` names
another tenant's (``:<bucket>`` one without a tenant), a plain name one of the requester's
tenant. ``address`` splits the name so, once the requester is known; from then on ``bucket``
is the name within ``tenant``, what the native API's account ``AUTH_<tenant>`` calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from webob import Request

from librgw.tenants import S3_TENANT_SEP, bucket_entry

from .errors import S3Error

NATIVE_PREFIXES = ("/v1/", "/auth/", "/v1.0")
NATIVE_PATHS = ("/healthcheck", "/info", "/v1", "/auth")


def is_s3(environ: dict) -> bool:
    path = environ.get("PATH_INFO", "")
    return not (path.startswith(NATIVE_PREFIXES) or path in NATIVE_PATHS)


@dataclass
class S3Request:
    request: Request
    bucket: str
    key: str
    params: dict[str, str] = field(default_factory=dict)  # the query, decoded
    host_bucket: str = ""  # the bucket, when the Host header named it
    tenant: str = ""  # the bucket's, once ``address`` has read it
    source_owner: str = ""  # a copy's: the owner of the bucket of ``x-amz-copy-source``, once found

    @property
    def resource(self) -> str:
        return "/" + self.bucket + ("/" + self.key if self.key else "") if self.bucket else "/"

    @property
    def bucket_entry(self) -> str:
        """The bucket's entry name, as the core's bucket store knows it."""
        return bucket_entry(self.tenant, self.bucket)

    def address(self, requester_tenant: str) -> None:
        """Read the bucket's tenant from its name (``<tenant>:<bucket>``), else take the
        requester's ("" for an anonymous request)."""
        named, sep, name = self.bucket.partition(S3_TENANT_SEP)
        self.tenant, self.bucket = (named, name) if sep else (requester_tenant, self.bucket)


def host_bucket(host: str, storage_domain: str) -> str:
    """The bucket a virtual-hosted ``Host`` names, or "" for a path-style request."""
    host = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else ""
    if not storage_domain or not host.endswith("." + storage_domain):
        return ""
    return host[: -len(storage_domain) - 1]


def parse_request(request: Request, storage_domain: str) -> S3Request:
    try:
        path = request.environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        params = dict(request.GET)
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise S3Error("InvalidURI", "Couldn't parse the specified URI: it is not UTF-8", 400) from None
    if "\x00" in path:
        raise S3Error("InvalidURI", "Couldn't parse the specified URI", 400)
    in_host = host_bucket(request.host, storage_domain)
    if in_host:
        return S3Request(request, in_host, path[1:], params, in_host)
    bucket, _, key = path[1:].partition("/")
    return S3Request(request, bucket, key, params)
