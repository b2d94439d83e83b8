"""Create the database and the application user, then apply the schema migrations.

Runs with the cluster admin credentials (read from Secrets Manager, never from the
environment) against the cluster writer, over TLS. Every step is idempotent: a rerun after a
change of the migration set only applies the new migrations.
"""

from __future__ import annotations

import json
import re
import ssl
from dataclasses import dataclass
from typing import Any

import pymysql
import pymysql.cursors

from patronus.schema import SchemaMigrationReport, migrate
from patronus_db_migrate.settings import IDENTIFIER, SchemaMigrationSettings

APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
_IDENTIFIER = re.compile(IDENTIFIER)


class BootstrapError(RuntimeError):
    """The database could not be prepared."""


@dataclass(frozen=True)
class AdminCredentials:
    username: str
    password: str


@dataclass(frozen=True)
class BootstrapResult:
    database: str
    app_user: str
    report: SchemaMigrationReport


def admin_credentials(secrets: Any, secret_arn: str) -> AdminCredentials:
    """Read ``username`` and ``password`` from the cluster's admin secret."""
    value = secrets.get_secret_value(SecretId=secret_arn)
    try:
        payload = json.loads(value["SecretString"])
        return AdminCredentials(username=str(payload["username"]), password=str(payload["password"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise BootstrapError("the admin secret has no JSON username and password") from exc


def tls_context(settings: SchemaMigrationSettings) -> ssl.SSLContext | None:
    """TLS to the writer; verified against the RDS CA bundle when the package ships it."""
    if not settings.tls:
        return None
    if settings.tls_ca_file:
        context = ssl.create_default_context(cafile=settings.tls_ca_file)
    else:
        # Encrypted but not authenticated: the RDS CA is not in the runtime's trust store.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def connect(
    settings: SchemaMigrationSettings, credentials: AdminCredentials
) -> pymysql.connections.Connection:
    """An autocommit DictCursor connection to the server (no database selected)."""
    return pymysql.connect(
        host=settings.host,
        port=settings.port,
        user=credentials.username,
        password=credentials.password,
        charset="utf8mb4",
        autocommit=True,
        cursorclass=pymysql.cursors.DictCursor,
        connect_timeout=settings.connect_timeout,
        ssl=tls_context(settings),
    )


def _checked(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise BootstrapError(f"unsafe identifier {name!r}")
    return name


def ensure_database(cursor: Any, database: str) -> None:
    cursor.execute(
        f"CREATE DATABASE IF NOT EXISTS `{_checked(database)}` "
        "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )


def ensure_app_user(cursor: Any, user: str, database: str, *, iam: bool) -> None:
    """The application user: RDS IAM authentication, TLS, and only DML on the database."""
    user, database = _checked(user), _checked(database)
    if iam:
        cursor.execute(
            f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'"
        )
        cursor.execute(f"ALTER USER '{user}'@'%' REQUIRE SSL")
    else:
        # Local servers: the same user and grants, but locked (nobody signs in as it).
        cursor.execute(f"CREATE USER IF NOT EXISTS '{user}'@'%' ACCOUNT LOCK")
    cursor.execute(f"GRANT {APP_PRIVILEGES} ON `{database}`.* TO '{user}'@'%'")


def bootstrap(settings: SchemaMigrationSettings, secrets: Any) -> BootstrapResult:
    """Prepare the database and bring its schema up to date."""
    credentials = admin_credentials(secrets, settings.secret_arn)
    try:
        connection = connect(settings, credentials)
    except pymysql.err.OperationalError as exc:
        raise BootstrapError(f"cannot connect to {settings.host}:{settings.port}: {exc}") from exc
    try:
        with connection.cursor() as cursor:
            ensure_database(cursor, settings.database)
            ensure_app_user(cursor, settings.app_user, settings.database, iam=settings.iam_user)
        connection.select_db(settings.database)
        report = migrate(connection, default_unit=settings.default_unit)
    finally:
        connection.close()
    return BootstrapResult(settings.database, settings.app_user, report)
