"""The gateway's gunicorn worker: ``gthread``, except that slow clients hold no thread while they
send a request head or a body no one reads, nor the worker's main loop while they are let go.

gunicorn's ``gthread`` worker gives a connection to a pool thread as soon as its first bytes
arrive, and the thread then reads the request line and headers with blocking reads and no
time limit. A client that sends its head slowly (one header line every few seconds, as the
"slowloris" attack does) keeps that thread for as long as it likes: 16 of them stop a
gateway of 2 workers x 8 threads (``benchmarks/README.md``). No gunicorn setting bounds that
time: ``timeout`` watches the worker's main loop, ``keepalive`` idle connections, and
``limit_request_*`` sizes.

``HeadDeadlineWorker`` reads whatever a connection has sent without blocking and hands the
thread back, the connection waiting in the worker's selector again, until the head is
whole: the blank line that ends it (or bytes that gunicorn's parser is bound to refuse: a
bare LF, more than ``limit_request_*`` allow). Only then does gthread's own code parse and
serve the request, from memory. A slow head thus costs a selector entry, not a thread, and
two limits end it:

- silence: a head that gets no bytes for ``keepalive`` seconds is dropped (gthread's own
  timer for connections waiting for data);
- ``HEAD_TIMEOUT`` (20 s) after the connection (or, on a kept-alive one, the next request)
  started, a head still incomplete is answered ``408 Request Timeout`` and the connection
  closed, as nginx's ``client_header_timeout`` does.

Closing a connection after its last response, gthread half-closes it and reads what the
client still sends until the client closes too (so that the response is not cut off by a
reset, RFC 9112 section 9.6), for up to 2 s, on the worker's main loop: 100 clients that
neither read nor close stop the worker for 200 s. Here the selector does that reading.

A body the application did not read (a PUT refused 401) is not waited for: unless it has
all arrived, the connection is closed after the response. A body the application reads is
read by the thread serving the request: a client with valid credentials that trickles a
body keeps its thread (measured in ``benchmarks/README.md``).
A TLS handshake is done by a thread too, as in gthread.

Select it with ``worker_class = "librgw.server.worker.HeadDeadlineWorker"`` (``gunicorn_conf.py``).
"""

from __future__ import annotations

import errno
import selectors
import socket
import ssl
import time
from collections import deque
from functools import partial

from gunicorn.http.message import DEFAULT_MAX_HEADERFIELD_SIZE, MAX_HEADERS, MAX_REQUEST_LINE
from gunicorn.workers import gthread

HEAD_TIMEOUT = 20.0  # seconds from a request's start to the end of its head
LINGER_SECONDS = 2.0  # how long a closing connection is read, as gunicorn's util.close_graceful
LINGER_BYTES = 65536
READ_SIZE = 65536
UNREAD_BODY_WAIT = 0.01  # seconds to read the rest of a body the application did not read
REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
# gthread's answer from a pool thread for "no request to serve yet: wait in the selector"
WAIT = gthread._DEFER


def max_head_bytes(cfg) -> int:
    """The most bytes gunicorn's parser accepts before the blank line ending a head, with the
    same defaults for limits set to 0 (``limit_request_line``, ``_fields``, ``_field_size``)."""
    line = cfg.limit_request_line if 0 < cfg.limit_request_line < MAX_REQUEST_LINE else MAX_REQUEST_LINE
    fields = cfg.limit_request_fields if 0 < cfg.limit_request_fields <= MAX_HEADERS else MAX_HEADERS
    field_size = cfg.limit_request_field_size if cfg.limit_request_field_size > 0 else DEFAULT_MAX_HEADERFIELD_SIZE
    return line + 2 + fields * (field_size + 2) + 4


def head_is_ready(head: bytes, limit: int) -> bool:
    """Whether the parser can decide on ``head`` without reading more: it ends the head, or
    it holds what the parser refuses anyway (a line ended by a bare LF, more than ``limit``)."""
    return b"\r\n\r\n" in head or head.count(b"\n") != head.count(b"\r\n") or len(head) > limit


class HeadDeadlineWorker(gthread.ThreadWorker):
    def init_process(self) -> None:
        self.max_head = max_head_bytes(self.cfg)
        self.lingering: deque[gthread.TConn] = deque()  # closing connections, oldest first
        super().init_process()

    # -- in a pool thread: the request head -------------------------------------------

    def handle(self, conn: gthread.TConn):
        """Runs in a pool thread whenever ``conn`` is readable (or was just accepted)."""
        if getattr(conn, "head_deadline", None) is None:  # a new connection, or the next request on one
            conn.head_deadline = time.monotonic() + HEAD_TIMEOUT
        if not conn.initialized:
            if not conn.wait_for_data(0):
                return WAIT  # connected, nothing sent yet
            try:
                conn.init()  # the parser; with TLS, the handshake
            except OSError as error:
                self.log.debug("Closing a connection that failed to start: %s", error)
                return False
        if conn.is_http2:  # negotiated in the TLS handshake: gthread's HTTP/2 code reads frames
            return super().handle(conn)
        state = self._read_head(conn)
        if state is not None:
            return state
        conn.head_deadline = None
        return super().handle(conn)

    def handle_request(self, req, conn: gthread.TConn) -> bool:
        """Serve one request; whether ``conn`` stays open for the next."""
        keepalive = super().handle_request(req, conn)
        # gthread then reads the rest of a body the application left unread, in this thread,
        # for up to 5 s: a client that trickles it would hold the thread. Only what has come
        # already is read here; if that is not all of it, the connection is closed (and the
        # selector reads what the client still sends while it lingers).
        return keepalive and conn.parser.finish_body(deadline=time.monotonic() + UNREAD_BODY_WAIT)

    def _read_head(self, conn: gthread.TConn):
        """None once the head is whole in ``conn``'s parser buffer; else what ``handle`` returns."""
        unreader = conn.parser.unreader
        head = unreader.take_buffered()
        conn.sock.setblocking(False)
        try:
            while not head_is_ready(head, self.max_head):
                chunk = conn.sock.recv(READ_SIZE)
                if not chunk:
                    return False  # the client went away
                head += chunk
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError as error:
            if error.errno not in (errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN):
                self.log.debug("Closing a connection: %s", error)
            return False
        finally:
            unreader.unread(head)
            conn.sock.setblocking(True)
        if head_is_ready(head, self.max_head):
            return None
        if not self.alive:
            return False  # a stopping worker does not wait for slow heads
        if time.monotonic() < conn.head_deadline:
            return WAIT
        self.log.info("408 Request Timeout: %s sent no whole request head in %.0f s", conn.client, HEAD_TIMEOUT)
        conn.sock.setblocking(False)
        try:
            conn.sock.send(REQUEST_TIMEOUT)
        except OSError:
            pass  # the client does not read: it is closed all the same
        return False

    # -- on the main loop: letting connections go --------------------------------------

    def finish_request(self, conn: gthread.TConn, fs) -> None:
        if fs.cancelled() or fs.exception() is not None or fs.result():
            super().finish_request(conn, fs)  # kept alive, waiting for data, or failed
        else:
            self._linger(conn)

    def _linger(self, conn: gthread.TConn) -> None:
        """Half-close ``conn`` and let the selector read what the client still sends, until it
        closes too, ``LINGER_BYTES`` were read or ``LINGER_SECONDS`` passed."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + LINGER_SECONDS
        conn.lingered = 0
        self.lingering.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._drain, conn))

    def _drain(self, conn: gthread.TConn, _sock) -> None:
        try:
            data = conn.sock.recv(READ_SIZE)
        except (BlockingIOError, ssl.SSLWantReadError):
            return
        except OSError:
            data = b""
        conn.lingered += len(data)
        if not data or conn.lingered >= LINGER_BYTES:
            self.lingering.remove(conn)
            self._close(conn)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        while self.lingering and self.lingering[0].timeout <= now:
            self._close(self.lingering.popleft())

    def _close(self, conn: gthread.TConn) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass  # never registered: the half-close failed
        self.nr_conns -= 1
        conn.close()
