# gunicorn reads ./gunicorn.conf.py when started here without --config: `gunicorn --paste paste.ini`
# then gets the gateway's settings, the ones `librgw serve` uses (librgw/server/gunicorn_conf.py).
from librgw.server.gunicorn_conf import (  # noqa: F401
    header_map,
    keepalive,
    post_worker_init,
    threads,
    worker_class,
    workers,
)
