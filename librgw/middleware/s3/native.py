"""Native requests on behalf of an S3 request: built here, sent down the pipeline.

The S3 middleware never touches objects itself: each S3 operation becomes one or more
requests to the native Swift API below it (``/v1/AUTH_<owner's account>/<bucket>/<key>``, the
account being the owner's tenant or, without one, the owner: ``librgw/tenants.py``), carrying
the S3 request's identity (``request_identity.IDENTITY_KEY``), request id and, for uploads,
its body stream. Responses come back unconsumed, so a GET streams straight through.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from webob import Request, Response

from librgw.authorization import ACCOUNT_PREFIX, Identity
from librgw.tenants import account_of

from ..request_identity import IDENTITY_KEY, NATIVE_S3_KEY
from ..request_log import TRANS_ID_KEY

# what authorization may look at too: the client's address, https, the Referer (acl.py's referrer grants)
COPIED = (
    "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR", "wsgi.url_scheme", "wsgi.errors", "HTTP_REFERER",
)  # fmt: skip


def wsgi_path(*segments: str) -> str:
    """A WSGI ``PATH_INFO`` (UTF-8 bytes in a Latin-1 string) from text segments."""
    return "/" + "/".join(segments).encode("utf-8").decode("latin-1")


def s3_etag(answer: Response) -> str:
    """A native answer's ``ETag`` as S3 writes every ETag, quoted (Swift sends an MD5 bare)."""
    return '"' + answer.headers["ETag"].strip('"') + '"'


@dataclass(frozen=True)
class StreamedBody:
    """An upload's body, passed down as it arrives: ``stream`` (the S3 request's, decoded) of
    ``length`` bytes (None: chunked)."""

    stream: object
    length: str | None


class Native:
    def __init__(self, app: Callable, environ: dict, identity: Identity | None) -> None:
        self.app = app
        self.environ = environ
        self.identity = identity

    def call(
        self,
        method: str,
        owner: str,
        bucket: str = "",
        key: str = "",
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: bytes | StreamedBody | None = None,
    ) -> Response:
        """``method`` on ``/v1/AUTH_<owner's account>[/<bucket>[/<key>]]`` with ``body``: bytes,
        or for an upload a ``StreamedBody``."""
        streamed = body if isinstance(body, StreamedBody) else None
        segments = ["v1", ACCOUNT_PREFIX + account_of(owner)] + ([bucket] if bucket else []) + ([key] if key else [])
        environ = {name: self.environ[name] for name in COPIED if name in self.environ}
        environ.update(
            {
                "REQUEST_METHOD": method,
                "SCRIPT_NAME": "",
                "PATH_INFO": wsgi_path(*segments),
                "QUERY_STRING": urlencode(query or {}),
                "wsgi.input": streamed.stream if streamed is not None else io.BytesIO(body or b""),
                "wsgi.input_terminated": True,
                IDENTITY_KEY: self.identity,
                TRANS_ID_KEY: self.environ.get(TRANS_ID_KEY, "-"),
                NATIVE_S3_KEY: True,
            }
        )
        if streamed is None:
            environ["CONTENT_LENGTH"] = str(len(body or b""))
        elif streamed.length is not None:
            environ["CONTENT_LENGTH"] = streamed.length
        else:
            environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        for name, value in (headers or {}).items():
            if name.lower() == "content-type":
                environ["CONTENT_TYPE"] = value
            else:
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        return Request(environ).get_response(self.app)
