"""Shared code of the database migration tools (db_import, db_verify, dms_preflight).

* :mod:`scripts.operator_tools.database.dumpparser`: streams a mysqldump/mariadb-dump file into statements.
* :mod:`scripts.operator_tools.database.rewrite`: classifies statements and rewrites what Aurora refuses.
* :mod:`scripts.operator_tools.database.connection`: connection options (URL or flags, password sources).
* :mod:`scripts.operator_tools.database.cli`: report, summary and exit-code helpers shared by the scripts.
"""
