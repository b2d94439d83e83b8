"""The cutover runbook (docs/cutover.md) followed against the local MariaDB standing in for Aurora.

One server holds, side by side, the application's schema (migrated, with the application's rows),
the legacy server's schema and the schema ``legacy`` the migration fills, as Aurora does after the
cutover. The tools refuse the application's schema; the legacy data is imported and proved equal;
the application's schema is proved untouched; then the rollback path runs: rows written on the
legacy schema after go-live are carried back to the legacy server and proved equal again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from scripts.db_import import main as import_main
from scripts.db_verify import main as verify_main
from scripts.devstack.database import connect, drop_database, ensure_database
from scripts.operator_tools.database.guard import APPLICATION_MARKER_TABLE, configured_schemas
from scripts.operator_tools.toolkit import EXIT_OK, EXIT_USAGE, run
from tests.fixtures.legacy_db import dump_database

if TYPE_CHECKING:
    from tests.fixtures.legacy_db import LegacySource

pytest_plugins = ["tests.fixtures.legacy_db"]

REPO = Path(__file__).resolve().parents[2]


def tool(main: Any, argv: list[str], report: Path) -> tuple[int, dict[str, Any]]:
    code = run(main, [*argv, "--report", str(report)])
    return code, json.loads(report.read_text()) if report.exists() else {}


def checksums(url: str) -> dict[str, Any]:
    """CHECKSUM TABLE of every table of a schema: what "untouched" means here."""
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW TABLES")
            tables = sorted(next(iter(row.values())) for row in cursor.fetchall())
            result = {}
            for table in tables:
                cursor.execute(f"CHECKSUM TABLE `{table}`")
                result[table] = cursor.fetchone()["Checksum"]
            return result
    finally:
        connection.close()


def scalar(url: str, sql: str) -> Any:
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return next(iter(cursor.fetchone().values()))
    finally:
        connection.close()


def execute(url: str, sql: str) -> None:
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


@pytest.fixture
def schema(mysql_server_url: str) -> Iterator[Any]:
    """Fresh databases by prefix, dropped after the test."""
    made: list[str] = []

    def make(prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        made.append(name)
        return ensure_database(mysql_server_url, name)

    yield make
    for name in made:
        drop_database(mysql_server_url, name)


def test_the_runbook_keeps_the_legacy_and_application_schemas_apart_and_rolls_back(
    legacy_source: LegacySource, legacy_dump: Path, database_url: str, schema: Any, tmp_path: Path
) -> None:
    # Given the application's schema, migrated and holding the application's rows
    execute(
        database_url,
        "INSERT INTO dossiers (public_id, reference, title, owner, unit, created_at, updated_at) "
        "VALUES (REPEAT('a', 32), 'D-1', 'application row', 'admin', (SELECT MIN(name) FROM units), "
        "NOW(6), NOW(6))",
    )
    before = checksums(database_url)
    assert APPLICATION_MARKER_TABLE in before
    # When db_import is pointed at it (runbook: the legacy data never goes there)
    code, report = tool(import_main, [str(legacy_dump), "--url", database_url], tmp_path / "refused.json")
    # Then it is refused, says where the legacy data goes, and changes nothing
    assert code == EXIT_USAGE
    assert "application's schema_migrations table" in report["error"] and "'legacy'" in report["error"]
    assert checksums(database_url) == before
    # And db_verify refuses to compare it as a migration target
    code, _ = tool(
        verify_main, ["--source-url", legacy_source.url, "--target-url", database_url], tmp_path / "v0.json"
    )
    assert code == EXIT_USAGE

    # When the legacy dump is imported into the legacy schema and verified (runbook steps 1.3, 1.8)
    legacy = schema("legacy")
    code, report = tool(import_main, [str(legacy_dump), "--url", legacy], tmp_path / "import.json")
    assert code == EXIT_OK, report
    code, verdict = tool(
        verify_main, ["--source-url", legacy_source.url, "--target-url", legacy], tmp_path / "final.json"
    )
    # Then both schemas are verified: the legacy one equal to its source, the application's untouched
    assert code == EXIT_OK, verdict["differences"]
    assert verdict["counts"]["tables"] == 7
    assert checksums(database_url) == before

    # When the new system writes to the legacy schema after go-live (the repointed legacy application)
    execute(legacy, "UPDATE customers SET name = CONCAT(name, ' (after go-live)') WHERE id = 1")
    # And the rollback carries the legacy schema back: dump, import on the legacy server, verify
    back_dump = dump_database(legacy_source.server_url, legacy.rsplit("/", 1)[1], tmp_path / "back.sql")
    back = schema("legacy_back")
    code, report = tool(import_main, [str(back_dump), "--url", back], tmp_path / "back.json")
    assert code == EXIT_OK, report
    code, verdict = tool(verify_main, ["--source-url", legacy, "--target-url", back], tmp_path / "bv.json")
    # Then the legacy server's copy holds the write made after go-live
    assert code == EXIT_OK, verdict["differences"]
    assert scalar(back, "SELECT name FROM customers WHERE id = 1").endswith("(after go-live)")


def test_the_configured_schema_names_come_from_cdk_json() -> None:
    context = json.loads((REPO / "cdk.json").read_text())["context"]["patronus"]
    application, legacy = configured_schemas()
    assert context["defaults"]["database"]["name"] in application
    assert legacy == "legacy"


def test_the_marker_table_is_the_one_the_application_creates() -> None:
    # Two independent sources: the guard's constant and the application's own migration code
    source = (REPO / "layers/patronus/python/patronus/schema/__init__.py").read_text()
    assert f"CREATE TABLE IF NOT EXISTS {APPLICATION_MARKER_TABLE} (" in source
