"""``domain_remap``: Swift's domain remapping, accounts and containers addressed by host name.

A request whose host (``Host``, else ``SERVER_NAME``; its port aside) ends in one of the
``storage_domain`` domains has its path rewritten, the host left as it is:

- ``<container>.<account>.<domain>/<object>`` to ``/v1/<account>/<container>/<object>``;
- ``<account>.<domain>/<container>/<object>`` to ``/v1/<account>/<container>/<object>``;
- a host with more labels before the domain is ``400 Bad domain in host header``.

The account must carry one of ``reseller_prefixes`` (``AUTH``): since browsers and DNS lower the
case of host names, the prefix is matched whatever its case and written as configured, and a
``-`` in an account without ``_`` stands for its first ``_`` (``auth-alice`` is ``AUTH_alice``).
An account with another prefix gets ``default_reseller_prefix`` (``alice`` is ``AUTH_alice``)
when that is set, else the request goes on untouched. A ``Location`` or ``Content-Location``
the pipeline answers with the rewritten path is written back with the path the client asked
for, so redirects (``staticweb``'s) stay on the host name.

With ``mangle_client_paths`` a path that already starts with ``path_root`` has it taken off first
(``/v1/obj`` is the object ``obj``), as Swift did before 2.17; by default it is kept
(``/v1/obj`` is the object ``v1/obj``).

This filter sits early in the pipeline, before anything that reads the path: before ``s3``
(which takes every path not under ``/v1/`` for S3's), before the auth filter (the account is
only known once the host is read) and before ``staticweb``, so a container is a static site on
its own host name. The ``s3`` filter's own ``storage_domain`` (``<bucket>.<domain>`` hosts for S3
buckets) must not be the same domain nor lie under this one: a host is either a Swift account's
or container's (remapped here) or an S3 bucket's (passed on, its path not under ``/v1/``).

It speaks only Swift's protocol, so it runs unchanged in an OpenStack Swift proxy's pipeline
(``use = egg:librgw#domain_remap``).

Settings (``[filter:domain_remap]``, Swift's names and defaults): ``storage_domain``
(``example.com``; several separated by commas), ``path_root`` (``v1``), ``reseller_prefixes``
(``AUTH``; comma separated), ``default_reseller_prefix`` (none), ``mangle_client_paths``
(``false``). It registers ``domain_remap`` in ``/info`` with ``default_reseller_prefix``, as
Swift's.

``paste.ini``::

    [filter:domain_remap]
    use = egg:librgw#domain_remap
    storage_domain = example.com

Example: ``curl -H 'Host: site.auth-alice.example.com' http://127.0.0.1:8080/index.html``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote

from webob import exc

from .registry import register_swift_info

DEFAULT_STORAGE_DOMAIN = "example.com"
DEFAULT_PATH_ROOT = "v1"
DEFAULT_RESELLER_PREFIXES = "AUTH"
TRUE_VALUES = ("true", "1", "yes", "on", "t", "y")  # Swift's config_true_value
REWRITTEN_HEADERS = ("location", "content-location")


def csv_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@dataclass(frozen=True)
class RemapSettings:
    storage_domains: tuple[str, ...]  # each with its leading dot
    path_root: str
    reseller_prefixes: tuple[str, ...]
    default_reseller_prefix: str | None
    mangle_client_paths: bool

    @classmethod
    def of(cls, conf: dict) -> RemapSettings:
        domains = csv_list(conf.get("storage_domain", DEFAULT_STORAGE_DOMAIN))
        return cls(
            storage_domains=tuple(  # as Swift orders them, which decides between nested domains
                ["." + d for d in domains if not d.startswith(".")] + [d for d in domains if d.startswith(".")]
            ),
            path_root=conf.get("path_root", DEFAULT_PATH_ROOT).strip("/"),
            reseller_prefixes=tuple(csv_list(conf.get("reseller_prefixes", DEFAULT_RESELLER_PREFIXES))),
            default_reseller_prefix=conf.get("default_reseller_prefix") or None,
            mangle_client_paths=conf.get("mangle_client_paths", "false").lower() in TRUE_VALUES,
        )

    def account(self, name: str) -> str | None:
        """The account a host names, its reseller prefix as configured; None if it is none of theirs."""
        if not self.reseller_prefixes:
            return name
        if "_" not in name and "-" in name:
            name = name.replace("-", "_", 1)
        prefix = name.split("_", 1)[0].lower()
        lowered = [p.lower() for p in self.reseller_prefixes]
        if prefix in lowered:
            real = self.reseller_prefixes[lowered.index(prefix)]
            return name if name.startswith(real) else real + name[len(real) :]
        if self.default_reseller_prefix:
            return f"{self.default_reseller_prefix}_{name}"
        return None


class HostNotUnderstood(ValueError):
    """A host under a storage domain with more labels than a container's and an account's."""


def remapped_path(settings: RemapSettings, host: str, path: str) -> str | None:
    """The path (WSGI string) a request for ``path`` on ``host`` is rewritten to; None when the
    host is not one of ours."""
    host = host.rsplit(":", 1)[0] if ":" in host else host
    domain = next((d for d in settings.storage_domains if host.endswith(d)), None)
    if domain is None:
        return None
    labels = host[: -len(domain)].strip(".").split(".")
    if len(labels) > 2:
        raise HostNotUnderstood(host)
    container, account = labels if len(labels) == 2 else (None, labels[0])
    account = settings.account(account)
    if account is None:
        return None
    rest = path[1:]
    if settings.mangle_client_paths and (rest + "/").startswith(settings.path_root + "/"):
        rest = rest[len(settings.path_root) + 1 :]
    return "/".join(["", settings.path_root, account, *([container] if container else []), rest])


class DomainRemap:
    def __init__(self, app: Callable, conf: dict) -> None:
        self.app = app
        self.settings = RemapSettings.of(conf)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not self.settings.storage_domains:
            return self.app(environ, start_response)
        requested = environ.get("PATH_INFO", "")
        try:
            new_path = remapped_path(
                self.settings, environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""), requested
            )
        except HostNotUnderstood:
            refusal = exc.HTTPBadRequest(body=b"Bad domain in host header", content_type="text/plain", charset=None)
            return refusal(environ, start_response)
        if new_path is None:
            return self.app(environ, start_response)
        environ["PATH_INFO"] = new_path
        rewritten = re.compile(r"^(https?://[^/]+)" + re.escape(wsgi_quote(new_path)) + "(.*)$")
        replacement = wsgi_quote(requested)

        def answer(status: str, headers: list[tuple[str, str]], exc_info=None):
            headers = [
                (name, rewritten.sub(lambda m: m.group(1) + replacement + m.group(2), value))
                if name.lower() in REWRITTEN_HEADERS
                else (name, value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.app(environ, answer)


def wsgi_quote(path: str) -> str:
    """A WSGI path string quoted for a URL, as Swift's ``wsgi_quote``."""
    return quote(path, safe="/", encoding="latin-1")


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    conf = {**global_conf, **local_conf}
    register_swift_info("domain_remap", default_reseller_prefix=conf.get("default_reseller_prefix"))
    return lambda app: DomainRemap(app, conf)
