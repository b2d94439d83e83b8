"""Connection options shared by the database tools: a URL or flags, and a password source.

A server is named by ``--url mysql://user@host:port/database`` and/or by the flags ``--host``,
``--port``, ``--user``, ``--database`` (flags win over the URL). The password never comes from a
flag value: it is read from ``--password-file``, from an environment variable (``MYSQL_PWD``,
or a role-specific one such as ``SOURCE_MYSQL_PWD``) or, when standard input is a terminal,
from a prompt. A URL that carries a password is refused.

TLS (Aurora requires it when ``require_secure_transport`` is on): ``--ssl-ca`` names the RDS CA
bundle; through an SSH or SSM tunnel to 127.0.0.1 the host name cannot match the certificate, so
``--ssl-verify-identity`` is opt-in.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.cursors
from pymysql.constants import CLIENT

from scripts.operator_tools.toolkit import ToolError

DEFAULT_PORT = 3306
CONNECT_TIMEOUT = 10


class ConnectionFailed(ToolError):
    """The server could not be reached or refused the login."""


@dataclass(frozen=True)
class ConnectionSpec:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    user: str = "root"
    database: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl_ca: str | None = None
    ssl_verify_identity: bool = False
    role: str = "target"

    def describe(self) -> str:
        database = f"/{self.database}" if self.database else ""
        return f"{self.user}@{self.host}:{self.port}{database}"

    def public(self) -> dict[str, Any]:
        """What a report may show (never the password)."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "database": self.database,
            "tls": bool(self.ssl_ca),
        }

    def with_database(self, database: str | None) -> ConnectionSpec:
        return replace(self, database=database)

    def connect(
        self,
        *,
        autocommit: bool = True,
        multi_statements: bool = False,
        dict_cursor: bool = False,
        use_database: bool = True,
        local_infile: bool = False,
    ) -> pymysql.connections.Connection:
        kwargs: dict[str, Any] = {}
        if self.ssl_ca:
            kwargs.update(
                ssl_ca=self.ssl_ca, ssl_verify_cert=True, ssl_verify_identity=self.ssl_verify_identity
            )
        try:
            return pymysql.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password or "",
                database=self.database if use_database else None,
                charset="utf8mb4",
                autocommit=autocommit,
                connect_timeout=CONNECT_TIMEOUT,
                client_flag=CLIENT.MULTI_STATEMENTS if multi_statements else 0,
                max_allowed_packet=1 << 30,
                local_infile=local_infile,
                cursorclass=pymysql.cursors.DictCursor if dict_cursor else pymysql.cursors.Cursor,
                **kwargs,
            )
        except pymysql.err.MySQLError as exc:
            code = exc.args[0] if exc.args else 0
            reason = exc.args[1] if len(exc.args) > 1 else str(exc)
            raise ConnectionFailed(
                f"cannot connect to the {self.role} {self.describe()}: {reason} ({code})"
            ) from exc
        except OSError as exc:  # TLS files that cannot be read, for instance
            raise ConnectionFailed(f"cannot connect to the {self.role} {self.describe()}: {exc}") from exc


def add_connection_arguments(
    parser: argparse.ArgumentParser,
    *,
    prefix: str = "",
    role: str = "target",
    env_var: str = "MYSQL_PWD",
) -> None:
    """Add ``--[prefix]url``, ``--[prefix]host`` ... ``--[prefix]ssl-ca`` to ``parser``."""
    group = parser.add_argument_group(f"{role} server")
    dash = f"--{prefix}"
    group.add_argument(
        f"{dash}url",
        metavar="URL",
        help=f"{role} as mysql://user@host:port/database (no password in the URL)",
    )
    group.add_argument(f"{dash}host", metavar="HOST", help=f"{role} host (default 127.0.0.1)")
    group.add_argument(f"{dash}port", metavar="PORT", type=int, help=f"{role} port (default {DEFAULT_PORT})")
    group.add_argument(f"{dash}user", metavar="USER", help=f"{role} user (default root)")
    group.add_argument(f"{dash}database", metavar="NAME", help=f"{role} database (schema)")
    group.add_argument(
        f"{dash}password-file",
        metavar="FILE",
        type=Path,
        help=f"read the {role} password from the first line of FILE (else ${env_var}, else a prompt)",
    )
    group.add_argument(
        f"{dash}ssl-ca", metavar="FILE", help="CA bundle: connect with TLS and verify the certificate"
    )
    group.add_argument(
        f"{dash}ssl-verify-identity",
        action="store_true",
        help="also check that the certificate names the host (not through a tunnel)",
    )


def spec_from_args(
    args: argparse.Namespace,
    *,
    prefix: str = "",
    role: str = "target",
    env_vars: tuple[str, ...] = ("MYSQL_PWD",),
    environ: Mapping[str, str] | None = None,
    prompt: Callable[[str], str] | None = None,
    require_database: bool = True,
) -> ConnectionSpec:
    """Build a :class:`ConnectionSpec` from parsed arguments; raises :class:`ToolError`."""
    attr = prefix.replace("-", "_")
    values = {
        name: getattr(args, f"{attr}{name}", None) for name in ("url", "host", "port", "user", "database")
    }
    spec = ConnectionSpec(role=role)
    if values["url"]:
        spec = parse_url(values["url"], role=role)
    overrides = {k: v for k, v in values.items() if k != "url" and v is not None}
    spec = replace(spec, **overrides)
    if not spec.port or not 0 < spec.port < 65536:
        raise ToolError(f"the {role} port must be between 1 and 65535")
    if require_database and not spec.database:
        raise ToolError(f"name the {role} database with --{prefix}database or in the URL path")
    password = read_password(
        getattr(args, f"{attr}password_file", None),
        env_vars=env_vars,
        environ=os.environ if environ is None else environ,
        prompt=prompt,
        label=f"Password for the {role} {spec.describe()}: ",
    )
    return replace(
        spec,
        password=password,
        ssl_ca=getattr(args, f"{attr}ssl_ca", None),
        ssl_verify_identity=bool(getattr(args, f"{attr}ssl_verify_identity", False)),
    )


def parse_url(url: str, *, role: str = "target") -> ConnectionSpec:
    parts = urlsplit(url)
    if parts.scheme not in {"mysql", "mariadb"}:
        raise ToolError(f"the {role} URL must start with mysql://, got {url!r}")
    if parts.password:
        raise ToolError(
            f"the {role} URL carries a password: remove it and use --password-file or the MYSQL_PWD variable"
        )
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise ToolError(f"the {role} URL has a bad port: {url!r}") from exc
    return ConnectionSpec(
        host=parts.hostname or "127.0.0.1",
        port=port,
        user=unquote(parts.username) if parts.username else "root",
        database=unquote(parts.path.lstrip("/")) or None,
        role=role,
    )


def read_password(
    password_file: Path | None,
    *,
    env_vars: tuple[str, ...],
    environ: Mapping[str, str],
    prompt: Callable[[str], str] | None,
    label: str,
) -> str | None:
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ToolError(f"cannot read the password file {password_file}: {exc.strerror}") from exc
        return lines[0] if lines else ""
    for name in env_vars:
        if name in environ:
            return environ[name]
    if prompt is None and sys.stdin.isatty():
        prompt = getpass.getpass
    if prompt is not None:
        return prompt(label)
    return None
