"""The engines of the document tools (datasync_run, files_verify, catalog_legacy, rewrite_refs).

* :mod:`.paths`: legacy share paths (UNC, forward slashes, mapped drive letters) to S3 keys.
* :mod:`.excludes`: the exclude patterns of the DataSync task, with DataSync's matching rules.
* :mod:`.hashing`: streamed SHA-256, including the composite checksum of multipart objects.
* :mod:`.s3`: S3 and DataSync client construction, and listings.
* :mod:`.db`: MySQL connections of the document tools.
* :mod:`.datasync`: starts and follows a DataSync task execution, and summarises it.
* :mod:`.verifier`: compares the share with the S3 prefix, folder by folder.
* :mod:`.catalog`: registers migrated objects as documents, batch by batch.
* :mod:`.references`: rewrites share paths in legacy columns into S3 keys, and restores them.
"""

from scripts.devstack.paths import add_code_paths

# The catalog checks unit names with the application's own rule (patronus.units, in the layer).
add_code_paths()
