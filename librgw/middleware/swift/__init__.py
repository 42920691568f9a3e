"""The Swift API the gateway app serves under ``/v1/``: accounts, containers and objects over the core.

One module per resource (``account.py``, ``container.py``, ``objects.py``) and per concern of
the protocol (``constraints.py`` for names and limits, ``metadata.py`` for ``X-*-Meta-*``
headers, ``listing.py`` for listing formats, ``ranges.py`` and ``conditions.py`` for GET,
``request_body.py`` for reading uploads, ``errors.py`` for the mapping of core errors to
Swift statuses). S3's features Swift lacks are native sub-resources the ``s3`` middleware
reaches down the pipeline: ``multipart.py``, ``tagging.py``, ``cors.py``, ``lifecycle.py``
(``subresources.py`` routes a container's; ``json_doc.py`` reads and writes their JSON).
"""
