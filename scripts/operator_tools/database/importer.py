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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from scripts.operator_tools.database.connection import ConnectionSpec
from scripts.operator_tools.database.loaddata import LoadData, to_load_data
from scripts.operator_tools.database.rewrite import RewriteOptions, drop_statement_for, quote_identifier
from scripts.operator_tools.database.scanner import DEFAULT_BATCH_BYTES, Batch, DumpScanner, SqlItem
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
        self._main: pymysql.connections.Connection | None = None
        self._main_cursor: Any = None
        self._threads: list[threading.Thread] = []
        self._load_data = options.load_data
        self._tmpdir: Path | None = None

    # -- orchestration --

    def run(self) -> ImportResult:
        """Run the phases asked for; on any failure stop the loaders and keep ``result`` readable."""
        self._main = self.target.connect()
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
        except BaseException:
            self._abandon()
            raise
        finally:
            with contextlib.suppress(pymysql.err.Error):
                self._main.close()
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
        return self.result

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
        state = quote_identifier(STATE_TABLE)
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (self.target.database, STATE_TABLE),
        )
        exists = bool(cursor.fetchone()[0])
        if exists:
            cursor.execute(f"SELECT table_name, status, dump_fingerprint FROM {state}")
            rows = cursor.fetchall()
            fingerprints = {row[2] for row in rows}
            if fingerprints and fingerprints != {self.plan.fingerprint} and not self.options.restart:
                raise ToolError(
                    f"the target database {self.target.database} holds an unfinished import of another dump; "
                    "pass --restart to start over from this dump"
                )
            if self.options.restart or (fingerprints and fingerprints != {self.plan.fingerprint}):
                cursor.execute(f"DROP TABLE {state}")
                exists = False
            else:
                self._done = {row[0] for row in rows if row[1] == "done" and row[0]}
                self.result.resumed = True
        if not exists:
            if "schema" in self.options.phases:
                self._refuse_non_empty()
            cursor.execute(
                f"CREATE TABLE {state} ("
                " table_name VARCHAR(64) NOT NULL,"
                " status VARCHAR(16) NOT NULL,"
                " dump_fingerprint CHAR(64) NOT NULL,"
                " bytes BIGINT NOT NULL DEFAULT 0,"
                " updated_at DATETIME NOT NULL,"
                " PRIMARY KEY (table_name)"
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            )
            cursor.execute(
                f"INSERT INTO {state} VALUES ('', 'running', %s, %s, UTC_TIMESTAMP())",
                (self.plan.fingerprint, self.plan.size),
            )
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

    def _mark(self, cursor: Any, table: str, status: str) -> None:
        if not self._state_ready:
            return
        cursor.execute(
            f"INSERT INTO {quote_identifier(STATE_TABLE)} VALUES (%s, %s, %s, %s, UTC_TIMESTAMP()) "
            "ON DUPLICATE KEY UPDATE status = VALUES(status), bytes = VALUES(bytes), "
            "updated_at = VALUES(updated_at)",
            (
                table,
                status,
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
        if classified.kind == "create_table" and table:
            # Re-create: a table left by an interrupted load (or a view of that name) goes first.
            kind = "VIEW" if self._existing.get(table) == "VIEW" else "TABLE"
            self._execute(
                self._main_cursor, item, f"DROP {kind} IF EXISTS {quote_identifier(table)}".encode()
            )
            self._execute(self._main_cursor, item)
            self._existing[table] = "BASE TABLE"
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
        for item in self.plan.post:
            drop = drop_statement_for(item.classified)
            if drop is not None:
                self._execute(cursor, item, drop)
            self._execute(cursor, item)

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
        if self._load_data and scratch is not None:
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
        scratch.write_bytes(data.payload)
        # pymysql formats parameters into str queries only; '%' in names must be doubled.
        table = data.table.decode("utf-8", "surrogateescape").replace("%", "%%")
        columns = data.columns.decode("utf-8", "surrogateescape").replace("%", "%%")
        sql = (
            f"LOAD DATA LOCAL INFILE %s INTO TABLE {table} CHARACTER SET {self.plan.charset} "
            "FIELDS TERMINATED BY ',' ENCLOSED BY '''' ESCAPED BY '\\\\' LINES TERMINATED BY %s " + columns
        )
        for attempt in range(1, 6):
            try:
                cursor.execute(sql, (str(scratch), data.terminator))
                if cursor.warning_count:
                    cursor.connection.rollback()
                    return False
                cursor.connection.commit()
                with self._lock:
                    self.result.batches["load_data"] += 1
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
