"""Shared code of the database migration tools (db_import, db_verify, dms_preflight).

* :mod:`scripts.dbtools.dumpparser`: streams a mysqldump/mariadb-dump file into statements.
* :mod:`scripts.dbtools.rewrite`: classifies statements and rewrites what Aurora refuses.
* :mod:`scripts.dbtools.connection`: connection options (URL or flags, password sources).
* :mod:`scripts.dbtools.cli`: report, summary and exit-code helpers shared by the scripts.
"""
