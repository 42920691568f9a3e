"""The gateway's gunicorn worker's pure parts: when a request head is ready for gunicorn's parser.
(Its behaviour under slow clients, through real gunicorn: ``tests/integration/test_slowloris.py``.)"""

import pytest
from gunicorn.config import Config

from librgw.server.worker import head_is_ready, max_head_bytes

LIMIT = 1000


@pytest.mark.parametrize(
    "head",
    [b"", b"GET / HTTP/1.1\r\n", b"GET / HTTP/1.1\r\nHost: a\r\n", b"GET / HTTP/1.1\r\nHost: a\r\n\r", b"G" * LIMIT],
)
def test_a_head_still_arriving_is_not_ready(head):
    assert not head_is_ready(head, LIMIT)


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",  # whole
        b"PUT /o HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",  # whole, with its body behind it
        b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",  # with the one empty line allowed before it
        b"GET / HTTP/1.1\nHost: a\n",  # a bare LF: the parser refuses it, no need to wait
        b"G" * (LIMIT + 1),  # longer than the parser takes
    ],
)
def test_a_head_the_parser_can_decide_on_is_ready(head):
    assert head_is_ready(head, LIMIT)


def test_the_longest_head_is_gunicorns_limits_with_their_defaults_for_zero():
    cfg = Config()
    assert max_head_bytes(cfg) == 4094 + 2 + 100 * (8190 + 2) + 4  # gunicorn's default limits
    cfg.set("limit_request_line", 0)
    cfg.set("limit_request_fields", 0)
    cfg.set("limit_request_field_size", 0)
    assert max_head_bytes(cfg) == 8190 + 2 + 32768 * (8190 + 2) + 4
