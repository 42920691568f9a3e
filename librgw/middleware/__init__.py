"""The gateway: WSGI middlewares, each a Paste Deploy filter, and the terminal ``gateway`` app.

``paste.ini`` at the repository root composes them; ``librgw serve`` (or ``gunicorn --paste
paste.ini``) serves the pipeline. See ``../shared/DESIGN.md`` §3.
"""
