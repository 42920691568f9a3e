"""The S3 protocol, as a middleware that turns S3 requests into native (Swift API) requests.

``middleware.py`` is the filter; ``s3_request.py`` says which requests are S3's and what
they address; ``authenticate.py`` checks their signatures against the core's keys;
``native.py`` sends the translated requests down the pipeline; ``service.py``,
``buckets.py`` and ``objects.py`` translate each operation; ``payload.py`` checks an
upload's body against its signature (payload hash, chunk signatures, ``checksums.py``)
and decodes aws-chunked; ``errors.py`` and ``xml_doc.py`` speak S3's error codes and XML.
``subresources.py`` dispatches the bucket configurations: ``tagging.py``, ``cors.py`` (also
the preflight and the ``Access-Control-*`` headers) and ``lifecycle.py``.
"""
