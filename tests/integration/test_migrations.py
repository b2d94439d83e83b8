"""The migration runner against a real MariaDB/MySQL server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patronus.schema import SchemaMigration, SchemaMigrationError, discover, migrate
from scripts.devstack.database import connect


def test_applies_every_migration_once_and_records_checksums(empty_database_url: str) -> None:
    # Given an empty database
    connection = connect(empty_database_url)
    # When the runner runs twice
    first = migrate(connection)
    second = migrate(connection)
    # Then the first run applied everything, the second nothing, and checksums are recorded
    expected = [m.version for m in discover()]
    assert first.applied == expected
    assert second.applied == []
    assert second.already_applied == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT version, checksum FROM schema_migrations ORDER BY version")
        rows: Any = cursor.fetchall()
    assert [(r["version"], r["checksum"]) for r in rows] == [(m.version, m.checksum) for m in discover()]


def test_refuses_to_run_when_an_applied_migration_was_edited(empty_database_url: str) -> None:
    # Given a database migrated with the real files
    connection = connect(empty_database_url)
    migrate(connection)
    edited = [
        SchemaMigration(m.version, m.name, m.sql + "\n-- edited afterwards\n") if i == 0 else m
        for i, m in enumerate(discover())
    ]
    # When the runner sees an edited copy of an applied migration, Then it refuses
    with pytest.raises(SchemaMigrationError, match="edited after it was applied"):
        migrate(connection, edited)


def test_refuses_when_an_applied_migration_file_is_missing(empty_database_url: str) -> None:
    connection = connect(empty_database_url)
    migrate(connection)
    with pytest.raises(SchemaMigrationError, match="file is missing"):
        migrate(connection, discover()[1:] if len(discover()) > 1 else [])


def test_a_failing_migration_names_its_version(empty_database_url: str, tmp_path: Path) -> None:
    broken = [SchemaMigration("900", "broken", "CREATE TABLE nope (;")]
    with pytest.raises(SchemaMigrationError, match="V900"):
        migrate(connect(empty_database_url), broken)


def test_dossiers_that_predate_units_go_to_the_default_unit(empty_database_url: str) -> None:
    # Given a database at the schema before units, holding a dossier
    connection = connect(empty_database_url)
    before_units = [m for m in discover() if int(m.version) < 3]
    migrate(connection, before_units)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO dossiers (public_id, reference, title, status, owner, version, created_at,"
            " updated_at) VALUES (%s, 'OLD-1', 'Old', 'open', 'legacy', 1, NOW(6), NOW(6))",
            ("a" * 32,),
        )
    # When the units migration runs with the settings' default unit
    migrate(connection, default_unit="unit-archives")
    # Then the dossier belongs to that unit, which is recorded
    with connection.cursor() as cursor:
        cursor.execute("SELECT unit FROM dossiers WHERE reference = 'OLD-1'")
        assert cursor.fetchone()["unit"] == "unit-archives"
        cursor.execute("SELECT name FROM units")
        assert [r["name"] for r in cursor.fetchall()] == ["unit-archives"]
