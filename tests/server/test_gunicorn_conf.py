"""The gunicorn settings the gateway runs with, as gunicorn itself loads them."""

import sys

from gunicorn.app.base import Application

from librgw.server import gunicorn_conf


class Loaded(Application):
    """gunicorn's own loading of a ``python:`` config module, as ``librgw serve`` passes it."""

    def init(self, parser, opts, args):
        return None

    def load_config(self):
        self.load_config_from_module_name_or_filename("python:librgw.server.gunicorn_conf")

    def load(self):
        return None


def test_workers_hand_the_interpreter_lock_over_every_millisecond():
    cfg = Loaded().cfg
    assert (cfg.worker_class_str, cfg.workers, cfg.threads) == ("librgw.server.worker.HeadDeadlineWorker", 4, 4)
    before = sys.getswitchinterval()
    try:
        cfg.post_worker_init(None)  # what gunicorn calls in each worker once it is set up
        assert sys.getswitchinterval() == gunicorn_conf.SWITCH_INTERVAL_S == 0.001
    finally:
        sys.setswitchinterval(before)
