"""The gateway's gunicorn settings: ``librgw serve`` runs gunicorn with ``--config
python:librgw.server.gunicorn_conf``, and the checkout's ``gunicorn.conf.py`` imports these
so that ``gunicorn --paste paste.ini`` run there gets them too. Command-line options win
(``librgw serve --workers``/``--threads``, ``gunicorn -w 4``).

- ``worker_class``: gthread that keeps slowly sent request heads out of its threads, ends
  them after 20 s with a 408, and lets connections go without stalling its main loop
  (``worker.py``);
- ``workers`` x ``threads``: 2 x 8, requests served at once;
- ``keepalive``: seconds an idle kept-alive connection, or one whose request head has
  stopped arriving, stays open (gunicorn's default is 2; 5 as Apache's ``KeepAliveTimeout``,
  so that clients reusing connections rarely find them closed).
"""

worker_class = "librgw.server.worker.HeadDeadlineWorker"
workers = 2
threads = 8
keepalive = 5
