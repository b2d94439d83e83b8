"""The engines of the database tools (db_import, db_verify, dms_preflight).

* :mod:`.dumpparser`: streams a mysqldump/mariadb-dump file into statements.
* :mod:`.rewrite`: classifies statements and rewrites what Aurora refuses.
* :mod:`.connection`: connection options (URL or flags, password sources).
"""
