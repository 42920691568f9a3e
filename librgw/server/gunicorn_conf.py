"""The gateway's gunicorn settings: ``librgw serve`` runs gunicorn with ``--config
python:librgw.server.gunicorn_conf``, and the checkout's ``gunicorn.conf.py`` imports these
so that ``gunicorn --paste paste.ini`` run there gets them too. Command-line options win
(``librgw serve --workers``/``--threads``, ``gunicorn -w 4``).

- ``worker_class``: gthread that keeps slowly sent request heads out of its threads, ends
  them after 20 s with a 408, and lets connections go without stalling its main loop
  (``worker.py``);
- ``workers`` x ``threads``: 4 x 4, sixteen requests served at once. A request's store reads
  and fsyncs let go of the interpreter lock dozens of times, and each time the threads of one
  process queue for it again: in one process, 8 threads serving 4 KiB GETs spent 4.9 ms of CPU
  each where one thread spent 1.3 ms. More processes with fewer threads each queue less; on this
  2-core machine (one run per shape, 10 s cells, ``benchmarks/README.md``) 4 x 4 served 4 KiB
  HEADs at 1,451/s where 2 x 8 served 336-719/s, GETs (c=16) at 929 against 676-765, PUTs at
  188 (p99 165 ms) against 160-183 (p99 249-430 ms). 4 x 2 and 6 x 2 were as fast or a little
  faster but serve only 8 or 12 requests at once; 8 x 2 was slower again.
- ``keepalive``: seconds an idle kept-alive connection, or one whose request head has
  stopped arriving, stays open (gunicorn's default is 2; 5 as Apache's ``KeepAliveTimeout``,
  so that clients reusing connections rarely find them closed).
- ``post_worker_init``: each worker hands the interpreter lock between its threads every 1 ms
  (``SWITCH_INTERVAL_S``) instead of CPython's 5 ms. A thread back from a system call (a read
  of the store, a socket write) waits for the lock while another computes, up to that interval,
  and a request makes dozens of such calls: when one worker got all 16 connections of a run
  (the kernel hands them to whichever worker accepts first), 4 KiB HEADs fell from 870 to
  210/s with 5 ms; with 1 ms they stayed at 750-870/s, and balanced runs were no slower
  (``benchmarks/README.md``, issue 19).
- ``header_map``: a request with a header whose name holds ``_`` is refused (400, "Invalid
  HTTP Header Name"). WSGI spells ``-`` as ``_`` in environ keys, so such a name cannot reach
  the gateway as it was sent: gunicorn's default drops the header without a word (an
  ``X-Object-Meta-c_real`` lost, an S3 ``x-amz-meta-c_real`` then failing its signature), and
  ``dangerous`` would rename it (``c-real``). Refusing says so at once.
"""

import sys

worker_class = "librgw.server.worker.HeadDeadlineWorker"
workers = 4
threads = 4
keepalive = 5
header_map = "refuse"
SWITCH_INTERVAL_S = 0.001


def post_worker_init(worker) -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_S)
