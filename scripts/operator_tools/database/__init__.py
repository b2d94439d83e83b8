"""The engines of the database tools (db_import, db_verify, dms_preflight).

* :mod:`.dumpparser`: streams a mysqldump/mariadb-dump file into statements.
* :mod:`.rewrite`: classifies statements and rewrites what Aurora refuses.
* :mod:`.scanner`: reads a dump once, hands schema statements and batches of rows to a sink,
  and builds the plan (``db_import --dry-run`` prints it).
* :mod:`.loaddata`: turns a batch of INSERTs into a ``LOAD DATA LOCAL`` payload when exact.
* :mod:`.importer`: runs an import: schema, parallel loaders, post-data objects, resume state.
* :mod:`.verifier`: compares a source and a target (structure, objects, rows, checksums).
* :mod:`.preflight`: what DMS change data capture needs from the source, check by check.
* :mod:`.connection`: connection options (URL or flags, password sources).
"""
