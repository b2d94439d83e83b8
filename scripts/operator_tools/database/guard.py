"""Keep the migration tools out of the application's own schema.

The legacy data lives in a schema of its own in Aurora (``legacy_migration.legacy_database`` in
cdk.json, ``legacy`` by default; rehearsals in ``legacy_migration.rehearsal_database``). The
application's schema (``database.name``, ``patronus``) belongs to the application and its schema
migrations: ``db_import`` and ``db_verify`` refuse it, recognised two ways, so that neither a
renamed schema nor a copy of cdk.json from another checkout lets one through:

* by name: the ``database.name`` of every environment of the repository's cdk.json (for the
  Aurora side only: the legacy server's own schema may bear the same name);
* by content: the schema holds the application's schema-migration history table
  (:data:`APPLICATION_MARKER_TABLE`, created by ``patronus.schema``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pymysql

from scripts.operator_tools.database.connection import ConnectionSpec
from scripts.operator_tools.toolkit import ToolError

# The table in which the application records its schema migrations (patronus.schema).
APPLICATION_MARKER_TABLE = "schema_migrations"
CDK_JSON = Path(__file__).resolve().parents[3] / "cdk.json"
DEFAULT_APPLICATION_SCHEMA = "patronus"
DEFAULT_LEGACY_SCHEMA = "legacy"


class ApplicationSchemaRefused(ToolError):
    """A migration tool was pointed at the application's own schema."""


def _names(section: Any, key: str) -> Iterable[str]:
    if isinstance(section, dict):
        value = section.get(key)
        if isinstance(value, str):
            yield value


def configured_schemas(cdk_json: Path = CDK_JSON) -> tuple[set[str], str]:
    """The application's schema names of every environment, and the default legacy schema."""
    try:
        patronus = json.loads(cdk_json.read_text(encoding="utf-8"))["context"]["patronus"]
    except (OSError, ValueError, KeyError):
        return {DEFAULT_APPLICATION_SCHEMA}, DEFAULT_LEGACY_SCHEMA
    sections = [patronus.get("defaults", {}), *patronus.get("environments", {}).values()]
    application = {DEFAULT_APPLICATION_SCHEMA}
    legacy = DEFAULT_LEGACY_SCHEMA
    for section in sections:
        if not isinstance(section, dict):
            continue
        application.update(_names(section.get("database"), "name"))
        legacy = next(iter(_names(section.get("legacy_migration"), "legacy_database")), legacy)
    return application, legacy


def holds_application_marker(spec: ConnectionSpec) -> bool:
    """Whether ``spec``'s database holds the application's schema-migration history."""
    if not spec.database:
        return False
    connection = spec.connect(use_database=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                (spec.database, APPLICATION_MARKER_TABLE),
            )
            row = cursor.fetchone()
    except pymysql.err.MySQLError:
        return False
    finally:
        connection.close()
    return bool(row and row[0])


def refuse_application_schema(
    spec: ConnectionSpec, *, tool: str, check_name: bool = True, check_content: bool = True
) -> None:
    """Raise :class:`ApplicationSchemaRefused` when ``spec`` names the application's schema.

    ``check_name=False`` for a legacy server, whose own schema may bear the application's name
    (``patronus``): only its content can tell.
    """
    if not spec.database:
        return
    application, legacy = configured_schemas()
    by_name = check_name and spec.database.lower() in {name.lower() for name in application}
    if by_name or (check_content and holds_application_marker(spec)):
        why = (
            "is the application's schema (database.name in cdk.json)"
            if by_name
            else f"holds the application's {APPLICATION_MARKER_TABLE} table"
        )
        raise ApplicationSchemaRefused(
            f"{tool}: the {spec.role} database {spec.database!r} {why}; the migration tools never "
            f"touch it. The legacy data goes to its own schema ({legacy!r}, "
            "legacy_migration.legacy_database; rehearsals: legacy_migration.rehearsal_database)"
        )
