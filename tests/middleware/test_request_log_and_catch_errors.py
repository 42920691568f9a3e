"""``request_log`` and ``catch_errors`` built from their real Paste Deploy factories around small WSGI apps."""

import logging

import pytest
from webob import Request

from librgw.middleware import catch_errors, request_log


def pipeline(app):
    return request_log.filter_factory({})(catch_errors.filter_factory({})(app))


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"fine"]


def test_every_response_carries_one_request_id_and_one_log_line(caplog):
    caplog.set_level(logging.INFO, logger="librgw.access")
    first = Request.blank("/healthcheck").get_response(pipeline(ok_app))
    second = Request.blank("/healthcheck").get_response(pipeline(ok_app))
    assert first.status_int == 200 and first.body == b"fine"
    assert first.headers["X-Trans-Id"] == first.headers["X-Openstack-Request-Id"]
    assert "x-amz-request-id" not in first.headers  # an S3 answer's alone
    assert first.headers["X-Trans-Id"] != second.headers["X-Trans-Id"]
    lines = [r.getMessage() for r in caplog.records if r.name == "librgw.access"]
    assert len(lines) == 2 and '"GET /healthcheck' in lines[0] and first.headers["X-Trans-Id"] in lines[0]


def test_signatures_in_query_strings_never_reach_the_log(caplog):
    caplog.set_level(logging.INFO, logger="librgw.access")
    url = "/v1/AUTH_a/c/o?temp_url_sig=TOPSECRET&temp_url_expires=1&X-Amz-Signature=ALSOSECRET&Signature=S3CRET"
    Request.blank(url).get_response(pipeline(ok_app))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "librgw.access"]
    assert "SECRET" not in line and "S3CRET" not in line and "temp_url_expires=1" in line


def test_an_exception_becomes_a_clean_500_with_the_request_id(caplog):
    def broken(environ, start_response):
        raise RuntimeError("disk on fire")

    response = Request.blank("/v1/AUTH_a/c").get_response(pipeline(broken))
    assert response.status_int == 500
    trans_id = response.headers["X-Trans-Id"]
    assert trans_id in response.text and "disk on fire" not in response.text
    errors = [r for r in caplog.records if r.name == "librgw.errors"]
    assert errors and errors[0].exc_info and trans_id in errors[0].getMessage()


def test_an_exception_mid_body_reaches_the_server_to_abort_the_connection_and_is_logged(caplog):
    caplog.set_level(logging.INFO, logger="librgw.access")

    def breaks_midway(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "100")])
        yield b"first "
        raise OSError("lost a disk")

    sent = []
    body = pipeline(breaks_midway)(Request.blank("/x").environ, lambda status, headers, exc_info=None: None)
    with pytest.raises(OSError, match="lost a disk"):  # a server aborts the connection: never a clean short end
        for chunk in body:
            sent.append(chunk)
    assert sent == [b"first "]
    assert any(r.name == "librgw.errors" and r.exc_info for r in caplog.records)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "librgw.access"]
    assert line.endswith(" aborted") and '"GET /x HTTP/1.0" 200 6 ' in line, line


def test_a_complete_response_is_not_marked_aborted(caplog):
    caplog.set_level(logging.INFO, logger="librgw.access")
    Request.blank("/healthcheck").get_response(pipeline(ok_app))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "librgw.access"]
    assert not line.endswith("aborted") and " 200 4 " in line
