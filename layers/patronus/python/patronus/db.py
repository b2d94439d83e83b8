"""MySQL connections for one Lambda execution environment.

One connection is kept per execution environment and reused across invocations. Every unit of
work starts with ``START TRANSACTION`` (read-only for reads); if that first statement finds the
connection dead (idle timeout, failover, a killed session), the connection is replaced and the
statement retried once, so no request fails because an old connection went away. A failure
after that point rolls back and surfaces as :class:`~patronus.errors.Unavailable`.

A database that cannot be reached (down, failing over, or paused at 0 ACU and resuming) gives
:class:`~patronus.errors.Unavailable` with the settings' ``retry_after``: the API answers 503
with that ``Retry-After``. ``connect_timeout`` is long enough, where the cluster may pause, to
wait through a typical resume within one request.

Nothing here pins an RDS Proxy session: no session variables are set after connect, no
temporary tables, no named locks, no prepared statements (pymysql interpolates client-side).

Only this module and ``patronus.repositories`` import pymysql.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pymysql
import pymysql.cursors
from pymysql.connections import Connection

from patronus.deadline import deadline
from patronus.errors import Unavailable
from patronus.settings import DatabaseSettings

# Client and server error codes that mean "this connection is gone", not "this query is wrong".
CONNECTION_LOST_CODES = frozenset({0, 1053, 1927, 2003, 2006, 2013, 2055, 4031})
# An RDS IAM auth token is valid for 15 minutes; a fresh one is made well before that.
IAM_TOKEN_LIFETIME_SECONDS = 10 * 60
# Less than the query timeout when the invocation has less left (patronus.deadline), so that
# the API answers 503 before API Gateway gives up.
MIN_CONNECT_SECONDS = 0.5

Cursor = pymysql.cursors.DictCursor
TokenFactory = Callable[[DatabaseSettings], str]


def rds_iam_token(settings: DatabaseSettings, region: str) -> str:
    """Sign an RDS IAM auth token locally (no network call)."""
    import boto3  # lazily: only IAM-auth deployments pay for the import

    client = boto3.client("rds", region_name=region)
    return str(
        client.generate_db_auth_token(
            DBHostname=settings.host, Port=settings.port, DBUsername=settings.user, Region=region
        )
    )


def is_connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, pymysql.err.InterfaceError):
        return True
    if isinstance(exc, pymysql.err.OperationalError):
        code = exc.args[0] if exc.args else 0
        return code in CONNECTION_LOST_CODES
    return isinstance(exc, (ConnectionError, TimeoutError, OSError))


class Database:
    """The execution environment's connection, with transactions around every unit of work."""

    def __init__(
        self,
        settings: DatabaseSettings,
        *,
        region: str = "eu-west-3",
        token_factory: TokenFactory | None = None,
    ) -> None:
        self.settings = settings
        self.region = region
        self._token_factory = token_factory
        self._connection: Connection[Cursor] | None = None
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    # -- connection management -------------------------------------------------------------

    def _password(self) -> str | None:
        if not self.settings.iam_auth:
            return self.settings.password
        now = time.monotonic()
        if self._token is None or now - self._token[1] > IAM_TOKEN_LIFETIME_SECONDS:
            factory = self._token_factory or (lambda s: rds_iam_token(s, self.region))
            self._token = (factory(self.settings), now)
        return self._token[0]

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not (self.settings.tls or self.settings.iam_auth):
            return None
        context = ssl.create_default_context(cafile=self.settings.tls_ca_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def _connect(self) -> Connection[Cursor]:
        context = self._ssl_context()
        try:
            connection = pymysql.connect(
                host=self.settings.host,
                port=self.settings.port,
                user=self.settings.user,
                password=self._password() or "",
                database=self.settings.name,
                charset="utf8mb4",
                autocommit=True,
                cursorclass=Cursor,
                connect_timeout=deadline.bound(self.settings.connect_timeout),
                # The server's greeting and the sign-in are read with read_timeout: bounded by
                # connect_timeout too (a resuming database may take the TCP connection before it
                # answers), then set to the statements' timeout below.
                read_timeout=deadline.bound(self.settings.connect_timeout),
                write_timeout=deadline.bound(self.settings.query_timeout),
                # With IAM auth the token goes out through mysql_clear_password, inside TLS.
                ssl=context,
                # Without TLS settings, no TLS at all: PyMySQL would otherwise try TLS
                # opportunistically, loading the system CA store (~50 ms) on every connect.
                ssl_disabled=context is None,
            )
        except pymysql.err.OperationalError as exc:
            # Also what a paused Aurora Serverless v2 instance gives when it does not resume
            # within connect_timeout: the client is told when to come back.
            raise Unavailable(
                "the database cannot be reached", retry_after=self.settings.retry_after
            ) from exc
        # pymysql reads every packet with _read_timeout and offers no setter for it.
        connection._read_timeout = self.settings.query_timeout  # type: ignore[attr-defined]
        return connection

    def connection(self) -> Connection[Cursor]:
        if self._connection is None or not self._connection.open:
            deadline.require(MIN_CONNECT_SECONDS, "the database")
            self._connection = self._connect()
        # pymysql applies these to the socket before each read and write.
        timeout = deadline.bound(self.settings.query_timeout)
        connection: Any = self._connection  # pymysql's stubs omit the timeouts it keeps
        connection._read_timeout = connection._write_timeout = timeout
        return self._connection

    def close(self) -> None:
        """Drop the connection; a dead socket is closed without error (it is gone anyway)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with suppress(OSError, pymysql.err.Error):
                connection.close()

    def _begin(self, statement: str) -> Connection[Cursor]:
        """Start a transaction, replacing a dead connection once if needed."""
        for attempt in (1, 2):
            connection = self.connection()
            try:
                with connection.cursor() as cursor:
                    cursor.execute(statement)
                return connection
            except pymysql.err.Error as exc:
                self.close()
                if attempt == 2 or not is_connection_lost(exc):
                    raise Unavailable(
                        "the database connection was lost", retry_after=self.settings.retry_after
                    ) from exc
        raise AssertionError("unreachable")

    # -- units of work ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A read-write transaction: committed when the block ends, rolled back on any error."""
        with self._lock:
            yield from self._unit_of_work("START TRANSACTION")

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A read-only transaction: one consistent snapshot for every query in the block."""
        with self._lock:
            yield from self._unit_of_work("START TRANSACTION READ ONLY")

    def _unit_of_work(self, begin: str) -> Iterator[Cursor]:
        connection = self._begin(begin)
        cursor = connection.cursor()
        try:
            yield cursor
            connection.commit()
        except BaseException as exc:
            self._rollback(connection)
            if isinstance(exc, pymysql.err.Error) and is_connection_lost(exc):
                raise Unavailable(
                    "the database connection was lost", retry_after=self.settings.retry_after
                ) from exc
            raise
        finally:
            cursor.close()

    def _rollback(self, connection: Connection[Cursor]) -> None:
        try:
            connection.rollback()
        except pymysql.err.Error:
            self.close()

    def ping(self) -> None:
        """Round trip to the server (the health check)."""
        with self.reading() as cursor:
            cursor.execute("SELECT 1 AS ok")
            cursor.fetchone()


def run_script(cursor: Any, sql: str) -> None:
    """Execute a ``;``-separated script (no DELIMITER blocks) statement by statement."""
    for statement in split_statements(sql):
        cursor.execute(statement)


def split_statements(sql: str) -> list[str]:
    """Split SQL on ``;`` outside quotes and comments."""
    statements: list[str] = []
    current: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(sql):
        char = sql[i]
        if quote:
            current.append(char)
            if char == "\\" and quote != "`" and i + 1 < len(sql):
                current.append(sql[i + 1])
                i += 1
            elif char == quote:
                quote = None
        elif char in "'\"`":
            quote = char
            current.append(char)
        elif sql.startswith("--", i) or char == "#":
            end = sql.find("\n", i)
            i = len(sql) if end == -1 else end
            continue
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = len(sql) if end == -1 else end + 2
            continue
        elif char == ";":
            text = "".join(current).strip()
            if text:
                statements.append(text)
            current = []
        else:
            current.append(char)
        i += 1
    text = "".join(current).strip()
    if text:
        statements.append(text)
    return statements
