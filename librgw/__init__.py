"""librgw: object storage in Python on the RADOS model.

Layers, each usable on its own (see DESIGN.md):
``librgw.storage`` (the embedded cluster), ``librgw.rados`` (its python-rados API),
and, above them, the Rados Gateway data layout and the HTTP gateway.
"""

from .connection import RGW, connect

__all__ = ["RGW", "connect"]
__version__ = "0.1.0"
