"""MySQL connections for the operator scripts (Aurora through a tunnel, or a local server).

The URL is ``mysql://user@host:port/database``. The password comes, in this order, from
``--password-file``, the ``MYSQL_PWD`` variable, or the URL (fine for a throwaway local server,
not for production: it would end up in the shell history).
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.cursors

from scripts.operator_tools.toolkit import ToolError

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_$]{1,64}$")


@dataclass(frozen=True)
class DatabaseTarget:
    host: str
    port: int
    user: str
    database: str
    password: str | None = None


def parse_url(url: str) -> DatabaseTarget:
    parts = urlsplit(url)
    if parts.scheme not in {"mysql", "mariadb"}:
        raise ToolError(f"database URL must look like mysql://user@host:3306/database, got {url!r}")
    database = parts.path.lstrip("/")
    if not database:
        raise ToolError(f"database URL {url!r} names no database (add /<name>)")
    try:
        port = parts.port or 3306
    except ValueError as exc:
        raise ToolError(f"database URL {url!r} has a bad port") from exc
    return DatabaseTarget(
        host=parts.hostname or "127.0.0.1",
        port=port,
        user=unquote(parts.username or "root"),
        database=unquote(database),
        password=unquote(parts.password) if parts.password else None,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("database")
    group.add_argument(
        "--database-url",
        default=os.environ.get("PATRONUS_DATABASE_URL"),
        help="mysql://user@host:port/database (default: $PATRONUS_DATABASE_URL)",
    )
    group.add_argument("--password-file", type=Path, help="file holding the password (else $MYSQL_PWD)")
    group.add_argument("--ssl-ca", type=Path, help="CA bundle for TLS (e.g. the RDS global bundle)")


def connect_from_args(args: argparse.Namespace) -> Any:
    if not args.database_url:
        raise ToolError("no database given: pass --database-url or set PATRONUS_DATABASE_URL")
    target = parse_url(args.database_url)
    password = target.password
    if args.password_file:
        try:
            password = args.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ToolError(f"cannot read the password file: {exc}") from exc
    elif os.environ.get("MYSQL_PWD"):
        password = os.environ["MYSQL_PWD"]
    ssl: dict[str, Any] | None = None
    if args.ssl_ca:
        if not args.ssl_ca.is_file():
            raise ToolError(f"CA bundle {args.ssl_ca} does not exist")
        ssl = {"ca": str(args.ssl_ca)}
    try:
        return pymysql.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=password or "",
            database=target.database,
            charset="utf8mb4",
            autocommit=True,
            ssl=ssl,
            connect_timeout=10,
            cursorclass=pymysql.cursors.DictCursor,
        )
    except pymysql.err.MySQLError as exc:
        raise ToolError(
            f"cannot connect to {target.user}@{target.host}:{target.port}/{target.database}: {exc}"
        ) from exc


def quote_identifier(name: str) -> str:
    """Backtick-quote a table or column name after checking it is a plain identifier."""
    if not _IDENTIFIER.match(name):
        raise ToolError(f"{name!r} is not a plain table or column name")
    return f"`{name}`"
