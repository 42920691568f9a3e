"""The Fractals app of the OpenStack First App tutorial ("faafo"), small but real: a worker
that renders fractals (``worker``, ``render``), a SQLite database of them (``db``), an API
that serves them (``api``), images on local disk or in object storage (``storage``), and the
"Making it durable" chapter's steps against a librgw gateway (``durability``). The commands
are in ``__main__``: ``python -m fractals --help``."""
