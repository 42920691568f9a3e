"""The embedded object cluster: pools, placement groups, OSD stores on local disks.

Clients use it through :mod:`librgw.rados`; nothing above that module imports from here
except the admin CLI's ``cluster init``.
"""
