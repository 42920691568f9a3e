"""``/info``'s admin part (``info.py``): Swift's ``admin_key`` signatures, ``disallowed_sections``
and ``expose_info``, over the gateway app's real factory (``/info`` never opens its cluster)."""

from __future__ import annotations

import hashlib
import hmac
import time

from webob import Request

from librgw.middleware import gateway, registry
from librgw.middleware.swift.answer_bodies import stock_page

KEY = "info-secret"
CLUSTER = "never-opened/cluster.conf"


def signed(method: str, expires: int, key: str = KEY) -> str:
    sig = hmac.new(key.encode(), f"{method}\n{expires}\n/info".encode(), hashlib.sha1).hexdigest()
    return f"/info?swiftinfo_sig={sig}&swiftinfo_expires={expires}"


def test_admin_part_behind_the_signature():
    app = gateway.app_factory({}, cluster=CLUSTER, admin_key=KEY, disallowed_sections="swift.max_file_size, librgw")
    registry.register_swift_info("secretive", admin=True, enabled=False)
    public = Request.blank("/info").get_response(app).json
    assert "librgw" not in public and "max_file_size" not in public["swift"] and "admin" not in public
    later = int(time.time()) + 60
    admin = Request.blank(signed("GET", later)).get_response(app).json["admin"]
    assert admin == {"secretive": {"enabled": False}, "disallowed_sections": ["swift.max_file_size", "librgw"]}
    assert Request.blank(signed("GET", later), method="HEAD").get_response(app).status_int == 200
    for path in (signed("GET", later, "wrong"), signed("GET", int(time.time()) - 1), "/info?swiftinfo_sig=x"):
        answer = Request.blank(path).get_response(app)
        assert (answer.status_int, answer.body) == (401, stock_page(401))
    assert Request.blank(signed("HEAD", later)).get_response(app).status_int == 401  # a HEAD's is not a GET's


def test_no_admin_key_or_no_info_is_403():
    app = gateway.app_factory({}, cluster=CLUSTER)
    assert Request.blank(signed("GET", int(time.time()) + 60)).get_response(app).status_int == 403
    app = gateway.app_factory({}, cluster=CLUSTER, expose_info="false")
    assert Request.blank("/info").get_response(app).status_int == 403
