"""``librgw``, the admin command line: cluster setup, status, OSDs, pools and the ``rados`` tool.

``main.main`` is the console script: it parses the command line, connects, dispatches and
turns every failure into one ``librgw: error:`` line. Each ``*_commands`` module (and
``rados_tool``) adds one group of commands with ``register(commands, common)``, where
``common`` carries ``-c`` and ``-f``; a command's ``handler(args, handle)`` gets a connected
``rados.Rados`` (None if it sets ``needs_cluster=False``) and returns the exit code.
Monitor commands go through ``session.mon_command``, plain-text output through ``render``.
"""
