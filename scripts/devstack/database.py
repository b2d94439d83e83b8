"""Create a database on a MySQL-compatible server and bring its schema up to date."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pymysql
import pymysql.cursors

from patronus.schema import SchemaMigrationReport, migrate
from patronus.settings import DatabaseSettings


def with_database(server_url: str, name: str) -> str:
    """The server URL with its path replaced by ``/name``."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def connect(url: str, *, database: bool = True) -> pymysql.connections.Connection[Any]:
    settings = DatabaseSettings.from_url(url if database else with_database(url, "mysql"))
    return pymysql.connect(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password or "",
        database=settings.name if database else None,
        charset="utf8mb4",
        autocommit=True,
        cursorclass=pymysql.cursors.DictCursor,
    )


def ensure_database(server_url: str, name: str) -> str:
    """Create the database if it does not exist and return its URL."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {name!r}")
    connection = connect(server_url, database=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        connection.close()
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    connection = connect(server_url, database=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        connection.close()


def migrate_url(url: str) -> SchemaMigrationReport:
    connection = connect(url)
    try:
        return migrate(connection)
    finally:
        connection.close()
