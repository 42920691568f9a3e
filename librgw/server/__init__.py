"""How gunicorn serves the gateway: the worker class (``worker.py``) and its settings
(``gunicorn_conf.py``, read by ``librgw serve`` and, through the checkout's
``gunicorn.conf.py``, by ``gunicorn --paste paste.ini``)."""
