"""Schema migrations of the application database, and the one runner that applies them.

"Migration" here means a change of this database's schema, shipped with the code that needs it.
The one-off move of the legacy data into AWS (DMS, DataSync, the dump importer, the cutover) is
another thing, and lives in ``scripts/`` and the migration stack, never in this package.

Files are ``sql/V<number>__<name>.sql``, applied in version order. Each applied version is
recorded in ``schema_migrations`` with the SHA-256 of its file; the runner refuses to run when a
recorded migration was edited or removed since it was applied (fix forward with a new version).
The local stack, the tests and the deploy-time custom resource all use this runner.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patronus.units import DEFAULT_UNIT, check_unit_name

SQL_DIR = Path(__file__).parent / "sql"
_FILE_NAME = re.compile(r"^V(?P<version>\d{3,})__(?P<name>[a-z0-9_]+)\.sql$")
LOCK_NAME = "patronus_schema_migrations"

_CREATE_HISTORY = """
CREATE TABLE IF NOT EXISTS schema_migrations (
  version VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name VARCHAR(128) NOT NULL,
  checksum CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  applied_at DATETIME(6) NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
"""


class SchemaMigrationError(RuntimeError):
    """The migration history and the files disagree, or a migration failed."""


@dataclass(frozen=True)
class SchemaMigration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(sql_dir: Path = SQL_DIR) -> list[SchemaMigration]:
    migrations = []
    for path in sorted(sql_dir.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise SchemaMigrationError(f"migration file {path.name} does not match V<nnn>__<name>.sql")
        migrations.append(SchemaMigration(match["version"], match["name"], path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise SchemaMigrationError("two migration files share a version number")
    return sorted(migrations, key=lambda m: int(m.version))


def fingerprint(migrations: list[SchemaMigration]) -> str:
    """One hash over the whole migration set (changes whenever a migration is added)."""
    digest = hashlib.sha256()
    for migration in migrations:
        digest.update(f"{migration.version}:{migration.checksum}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class SchemaMigrationReport:
    applied: list[str]
    already_applied: list[str]

    @property
    def current_version(self) -> str | None:
        versions = self.already_applied + self.applied
        return max(versions, key=int) if versions else None


def migrate(
    connection: Any, migrations: list[SchemaMigration] | None = None, *, default_unit: str = DEFAULT_UNIT
) -> SchemaMigrationReport:
    """Apply the pending migrations over an autocommit pymysql connection.

    ``default_unit`` (the settings' ``PATRONUS_DEFAULT_UNIT``) is the unit that dossiers which
    predate units are given; migrations read it as the session variable ``@patronus_default_unit``.

    A named lock keeps two runners (two deploys, or a test and the local stack) from applying
    the same version twice. DDL commits implicitly in MySQL, so a migration that fails halfway
    is reported with its version and must be repaired by hand before the runner goes on.
    """
    from patronus.db import run_script

    migrations = discover() if migrations is None else migrations
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, 120) AS got", (LOCK_NAME,))
        row = cursor.fetchone()
        got = row["got"] if isinstance(row, dict) else row[0]
        if got != 1:
            raise SchemaMigrationError("another migration runner holds the lock; try again later")
        try:
            cursor.execute(_CREATE_HISTORY)
            cursor.execute("SET @patronus_default_unit = %s", (check_unit_name(default_unit, ""),))
            cursor.execute("SELECT version, checksum FROM schema_migrations")
            rows = cursor.fetchall()
            applied = {
                (r["version"] if isinstance(r, dict) else r[0]): (
                    r["checksum"] if isinstance(r, dict) else r[1]
                )
                for r in rows
            }
            _check_history(applied, migrations)
            newly_applied = []
            for migration in migrations:
                if migration.version in applied:
                    continue
                try:
                    run_script(cursor, migration.sql)
                except Exception as exc:
                    raise SchemaMigrationError(
                        f"migration V{migration.version} ({migration.name}) failed: {exc}"
                    ) from exc
                cursor.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                    "VALUES (%s, %s, %s, UTC_TIMESTAMP(6))",
                    (migration.version, migration.name, migration.checksum),
                )
                newly_applied.append(migration.version)
            return SchemaMigrationReport(newly_applied, sorted(applied, key=int))
        finally:
            cursor.execute("SELECT RELEASE_LOCK(%s)", (LOCK_NAME,))
            cursor.fetchall()


def _check_history(applied: dict[str, str], migrations: list[SchemaMigration]) -> None:
    known = {m.version: m for m in migrations}
    for version, checksum in sorted(applied.items()):
        migration = known.get(version)
        if migration is None:
            raise SchemaMigrationError(f"migration V{version} is recorded as applied but its file is missing")
        if migration.checksum != checksum:
            raise SchemaMigrationError(
                f"migration V{version} ({migration.name}) was edited after it was applied "
                "(checksum differs); add a new migration instead of editing an applied one"
            )
