"""The dump importer: one streaming pass that creates the tables, feeds parallel loaders, then
creates the objects that must come after the data.

The dump is read once, in order (plain or gzip, never held in memory):

* **schema** statements (``DROP``/``CREATE TABLE`` and the session ``SET``s around them) run at
  once, in dump order, on the main connection, with Aurora rewrites applied; a table therefore
  exists before any of its rows is queued;
* **data**: consecutive ``INSERT``s of a table are grouped into batches of about
  ``batch_bytes`` and queued (the queue is bounded: memory stays small) to ``workers``
  connections; each batch is one transaction, sent as ``LOAD DATA LOCAL INFILE`` when the
  target allows it and the rows convert safely, else as the original ``INSERT``s in one
  multi-statement query. A batch that draws any warning through ``LOAD DATA`` is rolled back
  and replayed as ``INSERT``s, so the result is what the ``INSERT``s give;
* **post-data** objects (views, routines, triggers, events) are kept in memory and created after
  every row is loaded, on one connection that replays the dump's session settings in order
  (each object keeps the ``sql_mode`` and character set it was dumped with). No trigger fires
  during the load.

Resuming: the state table ``__db_import_state`` in the target database records the dump's
fingerprint and each table's status (``loading`` / ``done``). A rerun with the same dump skips
finished tables and drops, re-creates and reloads every other one; the state table is dropped
once the import has completed.

The SQL the importer issues itself (state table, ``DROP ... IF EXISTS``, session settings,
``LOAD DATA``) is in the subset MySQL 8.0 (Aurora MySQL 3) and MariaDB 10.11 both accept.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pymysql

from scripts.operator_tools.database.connection import ConnectionSpec
from scripts.operator_tools.database.loaddata import (
    LoadData,
    count_rows,
    mismatch,
    parse_load_info,
    to_load_data,
)
from scripts.operator_tools.database.rewrite import RewriteOptions, drop_statement_for, quote_identifier
from scripts.operator_tools.database.scanner import DEFAULT_BATCH_BYTES, Batch, DumpScanner, SqlItem
from scripts.operator_tools.database.verifier import normalize_charset
from scripts.operator_tools.toolkit import ToolError

STATE_TABLE = "__db_import_state"
DEFAULT_WORKERS = 4
PHASES = ("schema", "data", "post")
RETRYABLE = {1205, 1213}  # lock wait timeout, deadlock: the batch transaction is replayed
LOCAL_INFILE_REFUSED = {1148, 3948, 2068, 3950}  # the server or client does not allow LOAD DATA LOCAL
SESSION_SETUP = b"SET SESSION foreign_key_checks = 0, unique_checks = 0"


class ImportFailed(Exception):
    """A statement failed on the target; the message names where in the dump."""


class ImportInterrupted(Exception):
    """Stopped by the operator (Ctrl-C); finished tables stay finished."""


class _Stopped(Exception):
    """The scan stops because a loader failed (the loader's error is raised instead)."""


# --- the state table ---------------------------------------------------------------------------

STATE_DDL = (
    f"CREATE TABLE {quote_identifier(STATE_TABLE)} ("
    " kind VARCHAR(16) NOT NULL,"  # RUN, TABLE, VIEW, PROCEDURE, FUNCTION, TRIGGER, EVENT
    " name VARCHAR(64) NOT NULL,"
    " status VARCHAR(16) NOT NULL,"  # loading, done (tables); created (objects)
    " created TINYINT NOT NULL DEFAULT 0,"  # 1: this import created it (restart and clean drop it)
    " dump_fingerprint CHAR(64) NOT NULL,"
    " bytes BIGINT NOT NULL DEFAULT 0,"
    " updated_at DATETIME NOT NULL,"
    " PRIMARY KEY (kind, name)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
)
OBJECT_KINDS = ("VIEW", "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT")


@dataclass(frozen=True)
class StateRow:
    kind: str
    name: str
    status: str
    created: bool
    fingerprint: str


def read_state(cursor: Any, database: str) -> list[StateRow] | None:
    """The rows of the state table of ``database``, or None when there is none."""
    cursor.execute(
        "SELECT COUNT(*) FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND COLUMN_NAME = 'kind'",
        (database, STATE_TABLE),
    )
    if not cursor.fetchone()[0]:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (database, STATE_TABLE),
        )
        if cursor.fetchone()[0]:
            raise ToolError(
                f"{database}.{STATE_TABLE} was written by an older db_import: drop it and the tables "
                "it lists,"
                " then import again"
            )
        return None
    cursor.execute(
        f"SELECT kind, name, status, created, dump_fingerprint FROM {quote_identifier(STATE_TABLE)} "
        "ORDER BY kind, name"
    )
    return [StateRow(str(k), str(n), str(s), bool(c), str(f)) for k, n, s, c, f in cursor.fetchall()]


def describe_state(rows: list[StateRow]) -> str:
    """``2 tables loaded (a, b), 1 unfinished (c), 3 objects created``, from the state rows."""
    done = [r.name for r in rows if r.kind == "TABLE" and r.status == "done"]
    loading = [r.name for r in rows if r.kind == "TABLE" and r.status != "done"]
    objects = [r for r in rows if r.kind in OBJECT_KINDS]

    def names(items: list[str]) -> str:
        return ", ".join(items[:8]) + (", ..." if len(items) > 8 else "")

    parts = [f"{len(done)} tables loaded" + (f" ({names(done)})" if done else "")]
    parts.append(f"{len(loading)} unfinished" + (f" ({names(loading)})" if loading else ""))
    if objects:
        parts.append(f"{len(objects)} views, routines, triggers or events created")
    return ", ".join(parts)


def drop_recorded(cursor: Any, rows: list[StateRow]) -> dict[str, int]:
    """Drop what an unfinished import created (objects, then tables), then its state table.

    Tables it only loaded (``--phases data``) are kept: the next load empties them again.
    """
    counts: Counter[str] = Counter()
    cursor.execute("SET SESSION foreign_key_checks = 0")
    for row in rows:
        if row.kind in OBJECT_KINDS:
            cursor.execute(f"DROP {row.kind} IF EXISTS {quote_identifier(row.name)}")
            counts["objects_dropped"] += 1
    for row in rows:
        if row.kind == "TABLE" and row.created:
            cursor.execute(f"DROP TABLE IF EXISTS {quote_identifier(row.name)}")
            counts["tables_dropped"] += 1
        elif row.kind == "TABLE":
            counts["tables_kept"] += 1
    cursor.execute(f"DROP TABLE IF EXISTS {quote_identifier(STATE_TABLE)}")
    return dict(counts)


def target_state(target: ConnectionSpec) -> tuple[str, list[StateRow] | None]:
    """A one-line account of what the target holds of an unfinished import, read afresh."""
    try:
        connection = target.connect()
    except ToolError as exc:
        return f"cannot be read now ({exc})", None
    try:
        rows = read_state(_cursor(connection), target.database or "")
    except (ToolError, pymysql.err.MySQLError) as exc:
        return f"cannot be read now ({exc})", None
    finally:
        with contextlib.suppress(pymysql.err.Error):
            connection.close()
    if rows is None:
        return f"holds no unfinished import ({STATE_TABLE} is absent)", None
    return describe_state(rows) + f"; progress kept in {STATE_TABLE}", rows


def clean_target(target: ConnectionSpec) -> dict[str, int] | None:
    """``db_import --clean``: drop what an unfinished import created; None when there is none."""
    connection = target.connect()
    try:
        cursor = _cursor(connection)
        rows = read_state(cursor, target.database or "")
        if rows is None:
            return None
        return drop_recorded(cursor, rows)
    except pymysql.err.MySQLError as exc:
        raise ToolError(f"cannot clean {target.describe()}: {_sql_error(exc)}") from exc
    finally:
        with contextlib.suppress(pymysql.err.Error):
            connection.close()


# --- execution -------------------------------------------------------------------------------


@dataclass
class ImportOptions:
    workers: int = DEFAULT_WORKERS
    phases: tuple[str, ...] = PHASES
    force: bool = False
    restart: bool = False
    keep_state: bool = False
    progress: bool | None = None
    load_data: bool = True  # use LOAD DATA LOCAL when the target allows it
    batch_bytes: int = DEFAULT_BATCH_BYTES
    rewrite: RewriteOptions = field(default_factory=RewriteOptions)
    accept_partial_dump: bool = False  # load a dump without the client's trailer, or without statements
    on_batch: Callable[[Batch], None] | None = None  # called after each committed batch


@dataclass
class TableOutcome:
    name: str
    status: str  # loaded | skipped | pending | unfinished
    bytes: int = 0
    batches: int = 0
    seconds: float = 0.0
    warnings: int = 0


@dataclass
class ImportResult:
    resumed: bool = False
    server_version: str = ""
    tables: dict[str, TableOutcome] = field(default_factory=dict)
    warning_samples: list[str] = field(default_factory=list)
    phases_done: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    loaded_bytes: int = 0
    load_data: str = "not used"
    batches: Counter[str] = field(default_factory=Counter)
    rows_loaded: int = 0  # rows LOAD DATA wrote, counted by the server and checked against the dump
    load_data_mismatches: list[str] = field(default_factory=list)
    database_created: dict[str, str | None] | None = None  # charset and collation it was created with
    target_changed: bool = False  # something was written to the target


def _describe_sql(sql: bytes, limit: int = 200) -> str:
    text = " ".join(sql.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[:limit] + "..."


def _sql_error(exc: pymysql.err.MySQLError) -> str:
    if len(exc.args) >= 2:
        return f"{exc.args[1]} (error {exc.args[0]})"
    return str(exc)


def _error_code(exc: BaseException) -> int:
    args = getattr(exc, "args", ())
    return int(args[0]) if args and isinstance(args[0], int) else 0


def _execute_counting_warnings(cursor: Any, query: bytes) -> int:
    """Run a (multi-statement) query; the warnings of all its results."""
    cursor.execute(query)
    warnings = int(cursor.warning_count)
    while cursor.nextset():
        warnings += cursor.warning_count
    return warnings


def _info_message(cursor: Any) -> bytes | str | None:
    """The info text of the last statement's OK packet (``Records: 3  Deleted: 0 ...``)."""
    message = getattr(getattr(cursor, "_result", None), "message", None)
    return message if isinstance(message, bytes | str) else None


def _cursor(connection: pymysql.connections.Connection) -> Any:
    """A cursor typed loosely: pymysql sends ``bytes`` queries unchanged, its stubs only say ``str``."""
    return connection.cursor()


class Importer:
    """Runs one import; ``result`` stays readable after a failure (for the report)."""

    def __init__(self, dump: Path, target: ConnectionSpec, options: ImportOptions) -> None:
        if not target.database:
            raise ToolError("name the target database")
        self.target = target
        self.options = options
        self.scanner = DumpScanner(
            dump,
            rewrite=options.rewrite,
            batch_bytes=options.batch_bytes,
            progress=options.progress,
            desc="importing",
        )
        self.plan = self.scanner.plan
        self.result = ImportResult()
        self.wants_data = "data" in options.phases
        self._done: set[str] = set()
        self._pending: Counter[str] = Counter()
        self._complete: set[str] = set()
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._state_ready = False
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=max(2, 2 * options.workers))
        self._existing: dict[str, str] = {}
        self._created: set[str] = set()  # tables this import created (dropped by --restart, --clean)
        self._main: pymysql.connections.Connection | None = None
        self._main_cursor: Any = None
        self._threads: list[threading.Thread] = []
        self._load_data = options.load_data
        self._tmpdir: Path | None = None

    # -- orchestration --

    def run(self) -> ImportResult:
        """Run the phases asked for; on any failure stop the loaders and keep ``result`` readable.

        A failure after the target was changed is an :class:`ImportFailed` (the target holds a
        partial import); one before is a :class:`ToolError` (nothing was changed).
        """
        self.scanner.check_complete(accept_partial=self.options.accept_partial_dump)
        self._main = self._connect_main()
        self._main_cursor = _cursor(self._main)
        try:
            self._inspect_target()
            self._start_loaders()
            self._schema_and_data()
            self._post_data()
            if self._state_ready and not self.options.keep_state:
                self._main_cursor.execute(f"DROP TABLE IF EXISTS {quote_identifier(STATE_TABLE)}")
        except KeyboardInterrupt:
            self._abandon()
            raise ImportInterrupted("interrupted by the operator") from None
        except ToolError as exc:
            self._abandon()
            if self.result.target_changed:
                raise ImportFailed(str(exc)) from exc
            raise
        except BaseException:
            self._abandon()
            raise
        finally:
            with contextlib.suppress(pymysql.err.Error):
                self._main.close()
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
        return self.result

    def _connect_main(self) -> pymysql.connections.Connection:
        """The main connection, in the target database; a missing database is created with the
        source's defaults from the dump (``CREATE DATABASE`` of a ``--databases`` dump)."""
        connection = self.target.connect(use_database=False)
        cursor = _cursor(connection)
        database = self.target.database or ""
        cursor.execute(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
            "WHERE SCHEMA_NAME = %s",
            (database,),
        )
        row = cursor.fetchone()
        wanted = self.plan.database
        if row is None:
            clause = ""
            if wanted is not None and wanted.charset:
                clause += f" CHARACTER SET {wanted.charset}"
            if wanted is not None and wanted.collation:
                clause += f" COLLATE {wanted.collation}"
            try:
                cursor.execute(f"CREATE DATABASE {quote_identifier(database)}{clause}")
            except pymysql.err.MySQLError as exc:
                connection.close()
                raise ToolError(f"cannot create the target database {database}: {_sql_error(exc)}") from exc
            cursor.execute(
                "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
                "WHERE SCHEMA_NAME = %s",
                (database,),
            )
            created = cursor.fetchone()
            self.result.database_created = {"charset": created[0], "collation": created[1]}
            self.result.target_changed = True
            if wanted is None:
                self.plan.warnings.append(
                    f"the dump does not name the source database's defaults (dump with --databases): "
                    f"{database} was created with the server's, {created[0]} / {created[1]}"
                )
        elif wanted is not None and (
            (wanted.charset and normalize_charset(wanted.charset) != normalize_charset(str(row[0])))
            or (wanted.collation and normalize_charset(wanted.collation) != normalize_charset(str(row[1])))
        ):
            self.plan.warnings.append(
                f"the target database {database} has the defaults {row[0]} / {row[1]}, the source had "
                f"{wanted.charset} / {wanted.collation}: tables and routines without their own character "
                "set will differ (db_verify reports it); create the target with the source's defaults"
            )
        connection.select_db(database)
        return connection

    def _inspect_target(self) -> None:
        """Server version, the resume state (or a refusal to overwrite), the existing tables."""
        cursor = self._main_cursor
        cursor.execute("SELECT VERSION()")
        self.result.server_version = str(cursor.fetchone()[0])
        if "data" in self.options.phases:
            self._prepare_state()
        elif "schema" in self.options.phases:
            self._refuse_non_empty()
        cursor.execute(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
            (self.target.database,),
        )
        self._existing = {name: kind for name, kind in cursor.fetchall()}
        cursor.execute(SESSION_SETUP)

    def _start_loaders(self) -> None:
        if not self.wants_data:
            return
        self._check_load_data()
        self._threads = [
            threading.Thread(target=self._worker, name=f"loader-{i + 1}", daemon=True)
            for i in range(self.options.workers)
        ]
        for thread in self._threads:
            thread.start()

    def _schema_and_data(self) -> None:
        """One pass over the dump: schema statements here, batches to the loaders."""
        started = time.monotonic()
        try:
            self.scanner.scan(self)
        except _Stopped:
            pass  # a loader failed: its error is raised below
        except BaseException:
            self._stop.set()
            raise
        finally:
            for _ in self._threads:
                self._put(None, force=True)
            self._join(self._threads)
        self._raise_loader_error()
        self._finish_outcomes()
        self.result.seconds["schema+data"] = round(time.monotonic() - started, 3)
        self.result.phases_done += [p for p in ("schema", "data") if p in self.options.phases]

    def _post_data(self) -> None:
        if "post" not in self.options.phases:
            return
        started = time.monotonic()
        self._run_post()
        self.result.seconds["post"] = round(time.monotonic() - started, 3)
        self.result.phases_done.append("post")

    def _abandon(self) -> None:
        """Stop the loaders (waiting a little for them) and record how far each table got."""
        self._stop.set()
        self._join(self._threads, timeout=30)
        self._finish_outcomes()

    def _join(self, threads: list[threading.Thread], timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in threads:
            while thread.is_alive() and (deadline is None or time.monotonic() < deadline):
                thread.join(timeout=0.2)

    def _raise_loader_error(self) -> None:
        error = self._error
        if error is None:
            return
        if isinstance(error, ImportFailed | ToolError | ImportInterrupted):
            raise error
        if isinstance(error, pymysql.err.MySQLError):
            raise ImportFailed(f"loading failed: {_sql_error(error)}") from error
        raise ImportFailed(f"loading failed: {error}") from error

    def _finish_outcomes(self) -> None:
        for name in list(self.result.tables):
            if name not in self.plan.tables:  # an old-style view placeholder, not a table
                del self.result.tables[name]
        for name, table in self.plan.tables.items():
            outcome = self.result.tables.setdefault(name, TableOutcome(name, "pending"))
            outcome.bytes, outcome.batches = table.bytes, table.batches
            if outcome.status == "pending" and name in self._done:
                outcome.status = "skipped"
            elif outcome.status == "pending":
                outcome.status = "unfinished" if self.wants_data else "not_loaded"

    # -- state --

    def _prepare_state(self) -> None:
        cursor = self._main_cursor
        rows = read_state(cursor, self.target.database or "")
        if rows is not None:
            fingerprints = {row.fingerprint for row in rows}
            if fingerprints and fingerprints != {self.plan.fingerprint} and not self.options.restart:
                raise ToolError(
                    f"the target database {self.target.database} holds an unfinished import of another dump "
                    f"({describe_state(rows)}); pass --restart to drop what that import created and start "
                    "over from this dump, or --clean to only drop it"
                )
            if self.options.restart or (fingerprints and fingerprints != {self.plan.fingerprint}):
                drop_recorded(cursor, rows)
                self.result.target_changed = True
                rows = None
            else:
                self._done = {row.name for row in rows if row.kind == "TABLE" and row.status == "done"}
                self._created = {row.name for row in rows if row.kind == "TABLE" and row.created}
                self.result.resumed = True
        if rows is None:
            if "schema" in self.options.phases:
                self._refuse_non_empty()
            cursor.execute(STATE_DDL)
            cursor.execute(
                f"INSERT INTO {quote_identifier(STATE_TABLE)} VALUES ('RUN', '', 'running', 0, %s, %s, "
                "UTC_TIMESTAMP())",
                (self.plan.fingerprint, self.plan.size),
            )
            self.result.target_changed = True
        self._state_ready = True

    def _refuse_non_empty(self) -> None:
        if self.options.force:
            return
        self._main_cursor.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME <> %s ORDER BY TABLE_NAME",
            (self.target.database, STATE_TABLE),
        )
        names = [row[0] for row in self._main_cursor.fetchall()]
        if names:
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            raise ToolError(
                f"the target database {self.target.database} already holds {len(names)} tables or views "
                f"({shown}); import into an empty database, "
                "or pass --force to replace the tables the dump contains"
            )

    def _mark(self, cursor: Any, table: str, status: str, *, kind: str = "TABLE") -> None:
        if not self._state_ready:
            return
        created = kind != "TABLE" or table in self._created
        cursor.execute(
            f"INSERT INTO {quote_identifier(STATE_TABLE)} VALUES (%s, %s, %s, %s, %s, %s, UTC_TIMESTAMP()) "
            "ON DUPLICATE KEY UPDATE status = VALUES(status), created = VALUES(created), "
            "bytes = VALUES(bytes), updated_at = VALUES(updated_at)",
            (
                kind,
                table,
                status,
                int(created),
                self.plan.fingerprint,
                self.plan.tables[table].bytes if table in self.plan.tables else 0,
            ),
        )

    # -- ScanSink: called by the scanner, on the main thread, in dump order --

    def schema(self, item: SqlItem) -> None:
        if self._stop.is_set():
            raise _Stopped
        classified = item.classified
        table = classified.table
        if classified.action == "session":
            if "schema" in self.options.phases:
                self._execute(self._main_cursor, item)
            return
        if "schema" not in self.options.phases or (table is not None and table in self._done):
            return
        self.result.target_changed = True
        if classified.kind == "create_table" and table:
            # Re-create: a table left by an interrupted load (or a view of that name) goes first.
            kind = "VIEW" if self._existing.get(table) == "VIEW" else "TABLE"
            self._execute(
                self._main_cursor, item, f"DROP {kind} IF EXISTS {quote_identifier(table)}".encode()
            )
            self._execute(self._main_cursor, item)
            self._existing[table] = "BASE TABLE"
            self._created.add(table)
            self.result.target_changed = True
            self._open(table)
            return
        self._execute(self._main_cursor, item)

    def batch(self, batch: Batch) -> None:
        if not self.wants_data or batch.table in self._done:
            return
        self._open(batch.table)
        with self._lock:
            self._pending[batch.table] += 1
        self._put(batch)

    def table_complete(self, name: str) -> None:
        if not self.wants_data or name in self._done:
            return
        self._open(name)
        with self._lock:
            self._complete.add(name)
            finished = self._pending[name] == 0
        if finished:
            self._finish_table(self._main_cursor, name)

    def _open(self, table: str) -> None:
        """First sight of a table to load: mark it loading (and empty it if no schema phase ran)."""
        if not self.wants_data or table in self._started:
            return
        self._started[table] = time.monotonic()
        self.result.tables.setdefault(table, TableOutcome(table, "pending"))
        try:
            if "schema" not in self.options.phases:
                self.result.target_changed = True
                self._main_cursor.execute(f"TRUNCATE TABLE {quote_identifier(table)}")
            self._mark(self._main_cursor, table, "loading")
        except pymysql.err.MySQLError as exc:
            raise ImportFailed(f"table {table}: cannot prepare it for loading: {_sql_error(exc)}") from exc

    def _put(self, item: Batch | None, *, force: bool = False) -> None:
        while True:
            if self._stop.is_set() and not force:
                raise _Stopped
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                if self._stop.is_set() and force:
                    return

    def _finish_table(self, cursor: Any, name: str) -> None:
        self._mark(cursor, name, "done")
        with contextlib.suppress(AttributeError):
            cursor.connection.commit()
        with self._lock:
            outcome = self.result.tables.setdefault(name, TableOutcome(name, "pending"))
            outcome.status = "loaded"
            outcome.seconds = round(time.monotonic() - self._started.get(name, time.monotonic()), 3)
            done = sum(1 for o in self.result.tables.values() if o.status == "loaded")
        bar = self.scanner.bar
        if bar is not None:
            bar.set_postfix_str(f"tables loaded {done}", refresh=False)

    def _execute(self, cursor: Any, item: SqlItem, sql: bytes | None = None) -> None:
        text = item.sql if sql is None else sql
        try:
            cursor.execute(text)
        except pymysql.err.MySQLError as exc:
            raise ImportFailed(
                f"line {item.line} of the dump ({item.classified.kind}): {_sql_error(exc)}\n"
                f"  {_describe_sql(text)}"
            ) from exc

    def _run_post(self) -> None:
        cursor = self._main_cursor
        self.result.target_changed = True
        for item in self.plan.post:
            classified = item.classified
            drop = drop_statement_for(classified)
            if drop is not None:
                self._execute(cursor, item, drop)
            self._execute(cursor, item)
            if drop is not None and classified.name:  # recorded so that --restart and --clean find it
                self._mark(cursor, classified.name, "created", kind=classified.object_type)

    # -- loaders --

    def _check_load_data(self) -> None:
        if not self._load_data:
            self.result.load_data = "off (--load-data off)"
            return
        self._main_cursor.execute("SELECT @@GLOBAL.local_infile")
        value = str(self._main_cursor.fetchone()[0]).upper()
        if value not in {"1", "ON"}:
            self._load_data = False
            self.result.load_data = "off: local_infile is disabled on the target (INSERTs used)"
            return
        self._tmpdir = Path(tempfile.mkdtemp(prefix="db_import-"))
        self.result.load_data = "on"

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            if self._error is None:
                self._error = exc
        self._stop.set()

    def _worker(self) -> None:
        """A loader thread: its own connection, batches from the queue until the end marker."""
        try:
            connection = self.target.connect(
                autocommit=False, multi_statements=True, local_infile=self._load_data
            )
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self._fail(exc)
            return
        scratch = None
        if self._tmpdir is not None:
            scratch = self._tmpdir / threading.current_thread().name
        try:
            with _cursor(connection) as cursor:
                self._load_batches(cursor, scratch)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self._fail(exc)
        finally:
            with contextlib.suppress(pymysql.err.Error):
                connection.close()

    def _load_batches(self, cursor: Any, scratch: Path | None) -> None:
        session_ready = False
        for batch in self._batches():
            if not session_ready:
                # The dump's header (SET NAMES, TIME_ZONE, SQL_MODE...) is complete once a batch
                # exists: it ends at the first statement that is not a session SET.
                for sql in self.plan.header:
                    cursor.execute(sql)
                cursor.execute(SESSION_SETUP)
                session_ready = True
            self._load_batch(cursor, batch, scratch)
            self._batch_loaded(cursor, batch)

    def _batches(self) -> Iterator[Batch]:
        """Batches from the queue, until the end marker (None) or a stop."""
        while not self._stop.is_set():
            try:
                batch = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if batch is None:
                return
            yield batch

    def _batch_loaded(self, cursor: Any, batch: Batch) -> None:
        with self._lock:
            self._pending[batch.table] -= 1
            last = self._pending[batch.table] == 0 and batch.table in self._complete
            self.result.loaded_bytes += batch.nbytes
        if last:
            self._finish_table(cursor, batch.table)
        if self.options.on_batch is not None:
            self.options.on_batch(batch)

    def _load_batch(self, cursor: Any, batch: Batch, scratch: Path | None) -> None:
        if self._load_data and scratch is not None and not self._backslashes_are_literal():
            table = self.plan.tables.get(batch.table)
            trusted = self.plan.dump_tool != "unknown" and table is not None and not table.binary_columns
            converted = to_load_data(batch, trusted_format=trusted)
            if converted is not None:
                if self._try_load_data(cursor, batch, converted, scratch):
                    return
                with self._lock:
                    self.result.batches["load_data_replayed_as_insert"] += 1
        self._insert(cursor, batch)

    def _try_load_data(self, cursor: Any, batch: Batch, data: LoadData, scratch: Path) -> bool:
        """Load the batch with LOAD DATA LOCAL; True when committed.

        The batch is rolled back (and replayed as INSERTs by the caller) when the server draws a
        warning, or when its own count of the rows it read and wrote differs from the tuples
        parsed: the fast path checks itself, and every difference is reported.
        """
        scratch.write_bytes(data.payload)
        # pymysql formats parameters into str queries only; '%' in names must be doubled.
        table = data.table.decode("utf-8", "surrogateescape").replace("%", "%%")
        columns = data.columns.decode("utf-8", "surrogateescape").replace("%", "%%")
        sql = (
            f"LOAD DATA LOCAL INFILE %s {data.modifier.decode()} INTO TABLE {table} "
            f"CHARACTER SET {self.plan.charset} "
            "FIELDS TERMINATED BY ',' ENCLOSED BY '''' ESCAPED BY '\\\\' LINES TERMINATED BY %s " + columns
        )
        for attempt in range(1, 6):
            try:
                cursor.execute(sql, (str(scratch), data.terminator))
                if cursor.warning_count:
                    cursor.connection.rollback()
                    return False
                counts = parse_load_info(_info_message(cursor))
                problem = mismatch(data, counts, int(cursor.rowcount))
                if problem is not None and not data.exact:  # counted by separators: parse to be sure
                    exact = count_rows(batch)
                    if exact is not None:
                        data = replace(data, rows=exact, exact=True)
                        problem = mismatch(data, counts, int(cursor.rowcount))
                if problem is not None:
                    cursor.connection.rollback()
                    self._record_mismatch(batch, problem)
                    return False
                cursor.connection.commit()
                with self._lock:
                    self.result.batches["load_data"] += 1
                    self.result.rows_loaded += data.rows
                return True
            except pymysql.err.MySQLError as exc:
                with contextlib.suppress(pymysql.err.MySQLError):
                    cursor.connection.rollback()
                code = _error_code(exc)
                if code in LOCAL_INFILE_REFUSED:
                    self._load_data = False
                    self.result.load_data = f"off: the target refused LOAD DATA LOCAL ({_sql_error(exc)})"
                    return False
                if code in RETRYABLE and attempt < 5:
                    time.sleep(0.2 * attempt)
                    continue
                return False  # replayed as INSERTs, which report the error precisely
        return False  # pragma: no cover

    def _backslashes_are_literal(self) -> bool:
        """True when the dump's sql_mode has NO_BACKSLASH_ESCAPES: LOAD DATA would read its
        strings otherwise than the INSERTs do (the header is complete once a batch exists)."""
        return any(b"NO_BACKSLASH_ESCAPES" in sql.upper() for sql in self.plan.header)

    def _record_mismatch(self, batch: Batch, problem: str) -> None:
        with self._lock:
            self.result.batches["load_data_count_mismatch"] += 1
            if len(self.result.load_data_mismatches) < 20:
                self.result.load_data_mismatches.append(
                    f"table {batch.table} (line {batch.line}): {problem}; replayed as INSERTs"
                )

    def _insert(self, cursor: Any, batch: Batch) -> None:
        """The batch's INSERTs in one transaction, replayed on a deadlock or lock wait timeout."""
        connection = cursor.connection
        # ';'-delimited INSERTs go as one multi-statement query; others one by one.
        queries = [b";\n".join(batch.statements)] if batch.delimiter == b";" else batch.statements
        for attempt in range(1, 6):
            try:
                warnings = sum(_execute_counting_warnings(cursor, query) for query in queries)
                if warnings:
                    self._record_warnings(cursor, batch, warnings)
                connection.commit()
                with self._lock:
                    self.result.batches["insert"] += 1
                return
            except pymysql.err.MySQLError as exc:
                with contextlib.suppress(pymysql.err.MySQLError):
                    connection.rollback()
                if _error_code(exc) in RETRYABLE and attempt < 5:
                    time.sleep(0.2 * attempt)
                    continue
                raise ImportFailed(
                    f"table {batch.table}: the statements from line {batch.line} of the dump failed: "
                    f"{_sql_error(exc)}\n  {_describe_sql(queries[0])}"
                ) from exc

    def _record_warnings(self, cursor: Any, batch: Batch, count: int) -> None:
        cursor.execute("SHOW WARNINGS LIMIT 3")
        messages = [f"{row[0]} {row[1]}: {row[2]}" for row in cursor.fetchall()]
        with self._lock:
            self.result.tables.setdefault(batch.table, TableOutcome(batch.table, "pending")).warnings += count
            for message in messages:
                if len(self.result.warning_samples) < 20:
                    self.result.warning_samples.append(f"table {batch.table} (line {batch.line}): {message}")


def run_import(dump: Path, target: ConnectionSpec, options: ImportOptions) -> ImportResult:
    return Importer(dump, target, options).run()
