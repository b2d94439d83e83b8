"""Shared code of the document migration tools (DataSync runs, verification, catalog, rewrite).

* :mod:`.paths`: legacy share paths (UNC, forward slashes, mapped drive letters) to S3 keys.
* :mod:`.excludes`: the exclude patterns of the DataSync task, with DataSync's matching rules.
* :mod:`.hashing`: streamed SHA-256, including the composite checksum of multipart objects.
* :mod:`.s3`: S3 client construction and listings.
* :mod:`.db`: MySQL connections for the operator scripts.
"""
