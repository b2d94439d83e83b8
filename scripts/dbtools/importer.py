"""The dump importer: plan a dump in one streaming pass, then load it in three phases.

1. **plan** (:func:`plan_dump`): one pass over the file. Schema statements, session ``SET``s and
   post-data objects (views, routines, triggers, events) are kept in memory with their rewrites
   applied (they are small); data statements are only located (byte offset, length) and grouped
   into *batches* of consecutive ``INSERT``s of one table, up to ``batch_bytes``.
2. **schema**: the tables are created in dump order on one connection.
3. **data**: one reader thread streams the batches from the file (plain or gzip) to ``workers``
   connections; each batch is one multi-statement transaction. Batches of one table may run on
   several connections at once. A table is marked finished in the state table once all of its
   batches are committed.
4. **post**: views, routines, triggers and events are created after all the data, on one
   connection that replays the dump's session settings in order (each object keeps the
   ``sql_mode`` and character set it was dumped with). Triggers therefore never fire during
   the load.

Resuming: the state table ``__db_import_state`` in the target database records the dump's
fingerprint and each table's status. A rerun with the same dump skips finished tables and drops,
re-creates and reloads every other one (so a table whose load was interrupted is never left
half-filled); the state table is dropped once the import has completed.

All SQL the importer itself issues (state table, ``DROP ... IF EXISTS``, session settings) is
in the subset that MySQL 8.0 (Aurora MySQL 3) and MariaDB 10.11 both accept.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from scripts.dbtools.cli import UsageError, progress_bar
from scripts.dbtools.connection import ConnectionSpec
from scripts.dbtools.dumpparser import DumpReader, DumpSyntaxError, fingerprint, is_gzip, open_dump
from scripts.dbtools.rewrite import (
    POST_KINDS,
    Classified,
    RewriteOptions,
    classify,
    drop_statement_for,
    engines_of,
    quote_identifier,
    rewrite_statement,
)

STATE_TABLE = "__db_import_state"
DEFAULT_BATCH_BYTES = 4 << 20
DEFAULT_WORKERS = 4
PHASES = ("schema", "data", "post")
RETRYABLE = {1205, 1213}  # lock wait timeout, deadlock: the batch transaction is replayed
SESSION_SETUP = b"SET SESSION foreign_key_checks = 0, unique_checks = 0"


class ImportFailed(Exception):
    """A statement failed on the target; the message names where in the dump."""


class ImportInterrupted(Exception):
    """Stopped by the operator (Ctrl-C) or a signal; finished tables stay finished."""


# --- plan ------------------------------------------------------------------------------------


@dataclass
class Batch:
    table: str
    offset: int
    length: int
    statements: int
    line: int
    multi: bool  # several ';'-separated statements, sent as one multi-statement query


@dataclass
class TablePlan:
    name: str
    batches: list[Batch] = field(default_factory=list)
    created: bool = False

    @property
    def bytes(self) -> int:
        return sum(batch.length for batch in self.batches)

    @property
    def statements(self) -> int:
        return sum(batch.statements for batch in self.batches)


@dataclass
class SqlItem:
    sql: bytes
    classified: Classified
    line: int


@dataclass
class Plan:
    dump: Path
    compressed: bool
    size: int
    fingerprint: str
    header: list[bytes] = field(default_factory=list)
    schema: list[SqlItem] = field(default_factory=list)
    post: list[SqlItem] = field(default_factory=list)
    tables: dict[str, TablePlan] = field(default_factory=dict)
    objects: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in POST_KINDS})
    rewrites: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    source_databases: list[str] = field(default_factory=list)
    statements: int = 0

    @property
    def data_bytes(self) -> int:
        return sum(table.bytes for table in self.tables.values())

    def batches(self) -> list[Batch]:
        return sorted((b for t in self.tables.values() for b in t.batches), key=lambda b: b.offset)

    def summary(self) -> dict[str, Any]:
        return {
            "dump": str(self.dump),
            "compressed": self.compressed,
            "bytes": self.size,
            "fingerprint": self.fingerprint,
            "statements": self.statements,
            "tables": [
                {"name": t.name, "bytes": t.bytes, "statements": t.statements, "batches": len(t.batches)}
                for t in self.tables.values()
            ],
            "objects": {kind: sorted(set(names)) for kind, names in self.objects.items()},
            "rewrites": dict(sorted(self.rewrites.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "warnings": self.warnings,
            "source_databases": self.source_databases,
        }


def _wants_text(head: bytes) -> bool:
    start = head[:7].upper()
    return not (start.startswith(b"INSERT") or start.startswith(b"REPLACE"))


def plan_dump(
    path: Path,
    *,
    rewrite: RewriteOptions | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    progress: bool | None = None,
) -> Plan:
    """Scan the dump once and return what to execute, where the data is, and every rewrite."""
    rewrite = rewrite or RewriteOptions()
    if not path.is_file():
        raise UsageError(f"the dump {path} does not exist or is not a file")
    size = path.stat().st_size
    plan = Plan(dump=path, compressed=is_gzip(path), size=size, fingerprint=fingerprint(path))
    stream, raw = open_dump(path)
    bar = progress_bar(total=size, desc="scanning dump", enabled=progress)
    reader = DumpReader(stream, want_text=_wants_text, on_read=lambda _n: bar.update(raw.tell() - bar.n))
    current: Batch | None = None
    in_header = True
    view_names: set[str] = set()
    try:
        for statement in reader:
            classified = classify(statement.head)
            if classified.action == "data" and classified.table:
                in_header = False
                table = plan.tables.setdefault(classified.table, TablePlan(classified.table))
                multi = statement.delimiter == b";"
                if (
                    current is not None
                    and current.table == classified.table
                    and current.multi
                    and multi
                    and statement.body_end - current.offset <= batch_bytes
                ):
                    current.length = statement.body_end - current.offset
                    current.statements += 1
                else:
                    current = Batch(
                        classified.table, statement.offset, statement.length, 1, statement.line, multi
                    )
                    table.batches.append(current)
                continue
            current = None
            sql = statement.sql if statement.sql is not None else b""
            if classified.action == "data":  # an INSERT whose table name could not be read
                classified = Classified("schema", "other")
            sql, counts = rewrite_statement(sql, classified, rewrite)
            plan.rewrites.update(counts)
            item = SqlItem(sql, classified, statement.line)
            if classified.action == "session":
                if in_header:
                    plan.header.append(sql)
                plan.schema.append(item)
                plan.post.append(item)
            elif classified.action == "schema":
                in_header = False
                plan.schema.append(item)
                if classified.kind == "create_table" and classified.table:
                    plan.tables.setdefault(classified.table, TablePlan(classified.table)).created = True
                    for engine in engines_of(sql):
                        if engine.lower() != "innodb":
                            plan.warnings.append(
                                f"line {statement.line}: table {classified.table} keeps ENGINE={engine}; "
                                "Aurora MySQL and DMS expect InnoDB"
                            )
            elif classified.action == "post":
                in_header = False
                plan.post.append(item)
                if classified.verb == "create" and classified.name:
                    plan.objects[classified.kind].append(classified.name)
                    if classified.kind == "view":
                        view_names.add(classified.name)
            elif classified.action == "drop":
                plan.rewrites[classified.kind] += 1
                named = classified.kind == "database_dropped" and classified.name
                if named and classified.name and classified.name not in plan.source_databases:
                    plan.source_databases.append(classified.name)
            else:
                plan.skipped[classified.kind] += 1
    except DumpSyntaxError as exc:
        raise UsageError(f"{path}: cannot read the dump at {exc}") from exc
    except (OSError, EOFError) as exc:
        raise UsageError(f"{path}: cannot read the dump: {exc}") from exc
    finally:
        bar.close()
        raw.close()
    plan.statements = reader.stats.statements
    if reader.stats.sandbox_markers:
        plan.rewrites["sandbox_marker_dropped"] += reader.stats.sandbox_markers
    for name in view_names:  # old mysqldump versions create a placeholder TABLE for each view
        placeholder = plan.tables.get(name)
        if placeholder is not None and not placeholder.batches:
            del plan.tables[name]
    if len(plan.source_databases) > 1:
        raise UsageError(
            f"{path} holds several databases ({', '.join(plan.source_databases)}): "
            "dump and import one database at a time"
        )
    return plan


# --- execution -------------------------------------------------------------------------------


@dataclass
class ImportOptions:
    workers: int = DEFAULT_WORKERS
    phases: tuple[str, ...] = PHASES
    force: bool = False
    restart: bool = False
    keep_state: bool = False
    progress: bool | None = None
    on_batch: Callable[[Batch], None] | None = None  # called after each committed batch


@dataclass
class TableOutcome:
    name: str
    status: str  # loaded | skipped | pending | failed
    bytes: int
    batches: int
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


def _describe_sql(sql: bytes, limit: int = 200) -> str:
    text = sql.decode("utf-8", "replace").strip()
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _sql_error(exc: pymysql.err.MySQLError) -> str:
    if len(exc.args) >= 2:
        return f"{exc.args[1]} (error {exc.args[0]})"
    return str(exc)


class Importer:
    def __init__(self, plan: Plan, target: ConnectionSpec, options: ImportOptions) -> None:
        if not target.database:
            raise UsageError("name the target database")
        self.plan = plan
        self.target = target
        self.options = options
        self.result = ImportResult()
        self._done: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._state_ready = False

    # -- orchestration --

    def run(self) -> ImportResult:
        main = self.target.connect()
        try:
            with _cursor(main) as cursor:
                cursor.execute("SELECT VERSION()")
                self.result.server_version = str(cursor.fetchone()[0])
            if "data" in self.options.phases:
                self._prepare_state(main)
            elif "schema" in self.options.phases:
                self._refuse_non_empty(main)
            for table in self.plan.tables.values():
                status = "skipped" if table.name in self._done else "pending"
                self.result.tables[table.name] = TableOutcome(
                    table.name, status, table.bytes, len(table.batches)
                )
            if "schema" in self.options.phases:
                self._timed("schema", lambda: self._run_schema(main))
            if "data" in self.options.phases:
                self._timed("data", self._run_data)
            if "post" in self.options.phases:
                self._timed("post", lambda: self._run_post(main))
            if self._state_ready and not self.options.keep_state:
                with _cursor(main) as cursor:
                    cursor.execute(f"DROP TABLE IF EXISTS {quote_identifier(STATE_TABLE)}")
        finally:
            main.close()
        return self.result

    def _timed(self, phase: str, action: Callable[[], None]) -> None:
        started = time.monotonic()
        action()
        self.result.seconds[phase] = round(time.monotonic() - started, 3)
        self.result.phases_done.append(phase)

    # -- state --

    def _prepare_state(self, main: pymysql.connections.Connection) -> None:
        state = quote_identifier(STATE_TABLE)
        with _cursor(main) as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                (self.target.database, STATE_TABLE),
            )
            exists = bool(cursor.fetchone()[0])
            if exists:
                cursor.execute(f"SELECT table_name, status, dump_fingerprint FROM {state}")
                rows = cursor.fetchall()
                fingerprints = {row[2] for row in rows}
                if fingerprints and fingerprints != {self.plan.fingerprint}:
                    if not self.options.restart:
                        raise UsageError(
                            f"the target database {self.target.database} holds an unfinished import "
                            "of another dump; pass --restart to start over from this dump"
                        )
                    cursor.execute(f"DROP TABLE {state}")
                    exists = False
                elif self.options.restart:
                    cursor.execute(f"DROP TABLE {state}")
                    exists = False
                else:
                    self._done = {row[0] for row in rows if row[1] == "done" and row[0]}
                    self.result.resumed = True
            if not exists:
                if "schema" in self.options.phases:
                    self._refuse_non_empty(main)
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

    def _refuse_non_empty(self, main: pymysql.connections.Connection) -> None:
        if self.options.force:
            return
        with _cursor(main) as cursor:
            cursor.execute(
                "SELECT TABLE_NAME FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = %s AND TABLE_NAME <> %s ORDER BY TABLE_NAME",
                (self.target.database, STATE_TABLE),
            )
            names = [row[0] for row in cursor.fetchall()]
        if names:
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            raise UsageError(
                f"the target database {self.target.database} already holds {len(names)} tables or views "
                f"({shown}); import into an empty database, "
                "or pass --force to replace the tables the dump contains"
            )

    def _mark(self, cursor: Any, table: str, status: str, size: int) -> None:
        cursor.execute(
            f"INSERT INTO {quote_identifier(STATE_TABLE)} VALUES (%s, %s, %s, %s, UTC_TIMESTAMP()) "
            "ON DUPLICATE KEY UPDATE status = VALUES(status), bytes = VALUES(bytes), "
            "updated_at = VALUES(updated_at)",
            (table, status, self.plan.fingerprint, size),
        )

    # -- phases --

    def _execute(self, cursor: Any, item: SqlItem, sql: bytes | None = None) -> None:
        text = item.sql if sql is None else sql
        try:
            cursor.execute(text)
        except pymysql.err.MySQLError as exc:
            raise ImportFailed(
                f"line {item.line} of the dump ({item.classified.kind}): {_sql_error(exc)}\n"
                f"  {_describe_sql(text)}"
            ) from exc

    def _run_schema(self, main: pymysql.connections.Connection) -> None:
        with _cursor(main) as cursor:
            cursor.execute(
                "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                (self.target.database,),
            )
            existing = {name: kind for name, kind in cursor.fetchall()}
            cursor.execute(SESSION_SETUP)
            for item in self.plan.schema:
                table = item.classified.table
                if table is not None and table in self._done:
                    continue
                if item.classified.kind == "create_table" and table:
                    # Re-create: a table left by an interrupted load (or a view of that name) goes first.
                    kind = "VIEW" if existing.get(table) == "VIEW" else "TABLE"
                    self._execute(cursor, item, f"DROP {kind} IF EXISTS {quote_identifier(table)}".encode())
                    existing[table] = "BASE TABLE"
                self._execute(cursor, item)

    def _run_post(self, main: pymysql.connections.Connection) -> None:
        with _cursor(main) as cursor:
            cursor.execute(SESSION_SETUP)
            for item in self.plan.post:
                drop = drop_statement_for(item.classified)
                if drop is not None:
                    self._execute(cursor, item, drop)
                self._execute(cursor, item)

    def _run_data(self) -> None:
        pending = [t for t in self.plan.tables.values() if t.name not in self._done]
        batches = sorted((b for t in pending for b in t.batches), key=lambda b: b.offset)
        remaining = {t.name: len(t.batches) for t in pending}
        started: dict[str, float] = {}
        total = sum(b.length for b in batches)
        bar = progress_bar(total=total, desc="loading data", enabled=self.options.progress)
        done_count = len(self._done)
        table_total = len(self.plan.tables)
        bar.set_postfix_str(f"tables {done_count}/{table_total}", refresh=False)
        work: queue.Queue[tuple[Batch, bytes] | None] = queue.Queue(maxsize=max(2, 2 * self.options.workers))

        state_connection = self.target.connect()
        try:
            with _cursor(state_connection) as cursor:
                cursor.execute(SESSION_SETUP)
                for table in pending:
                    if "schema" not in self.options.phases:
                        # No schema phase re-created the table: empty it, it may hold a partial load.
                        cursor.execute(f"TRUNCATE TABLE {quote_identifier(table.name)}")
                    self._mark(cursor, table.name, "loading" if table.batches else "done", table.bytes)
                    if not table.batches:
                        self._finish_table(table.name)
        except pymysql.err.MySQLError as exc:
            raise ImportFailed(f"cannot prepare the tables for loading: {_sql_error(exc)}") from exc
        finally:
            state_connection.close()
        done_count = sum(
            1 for outcome in self.result.tables.values() if outcome.status in {"loaded", "skipped"}
        )

        def finished(batch: Batch, cursor: Any) -> None:
            nonlocal done_count
            with self._lock:
                remaining[batch.table] -= 1
                last = remaining[batch.table] == 0
                bar.update(batch.length)
                self.result.loaded_bytes += batch.length
            if last:
                self._mark(cursor, batch.table, "done", self.plan.tables[batch.table].bytes)
                cursor.connection.commit()
                with self._lock:
                    outcome = self.result.tables[batch.table]
                    outcome.status = "loaded"
                    outcome.seconds = round(time.monotonic() - started.get(batch.table, time.monotonic()), 3)
                    done_count += 1
                    bar.set_postfix_str(f"tables {done_count}/{table_total}", refresh=False)

        def reader() -> None:
            stream, raw = open_dump(self.plan.dump)
            position = 0
            try:
                for batch in batches:
                    if self._stop.is_set():
                        return
                    if batch.offset != position:
                        stream.seek(batch.offset)
                    data = stream.read(batch.length)
                    position = batch.offset + len(data)
                    if len(data) != batch.length:
                        raise ImportFailed(f"the dump ended early at byte {batch.offset} (was it changed?)")
                    with self._lock:
                        started.setdefault(batch.table, time.monotonic())
                    while not self._stop.is_set():
                        try:
                            work.put((batch, data), timeout=0.2)
                            break
                        except queue.Full:
                            continue
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                self._fail(exc)
            finally:
                raw.close()
                for _ in range(self.options.workers):
                    while not self._stop.is_set():
                        try:
                            work.put(None, timeout=0.2)
                            break
                        except queue.Full:
                            continue

        def worker() -> None:
            try:
                connection = self.target.connect(autocommit=False, multi_statements=True)
            except BaseException as exc:  # noqa: BLE001
                self._fail(exc)
                return
            try:
                with _cursor(connection) as cursor:
                    for sql in self.plan.header:
                        cursor.execute(sql)
                    cursor.execute(SESSION_SETUP)
                    while not self._stop.is_set():
                        try:
                            item = work.get(timeout=0.2)
                        except queue.Empty:
                            continue
                        if item is None:
                            return
                        batch, data = item
                        self._load_batch(cursor, batch, data)
                        finished(batch, cursor)
                        if self.options.on_batch is not None:
                            self.options.on_batch(batch)
            except BaseException as exc:  # noqa: BLE001
                self._fail(exc)
            finally:
                with contextlib.suppress(pymysql.err.Error):
                    connection.close()

        threads = [threading.Thread(target=reader, name="dump-reader", daemon=True)]
        threads += [
            threading.Thread(target=worker, name=f"loader-{i + 1}", daemon=True)
            for i in range(self.options.workers)
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.2)
        except KeyboardInterrupt:
            self._stop.set()
            for thread in threads:
                thread.join(timeout=30)
            raise ImportInterrupted("interrupted by the operator") from None
        finally:
            bar.close()
        if self._error is not None:
            for name, count in remaining.items():
                if count and self.result.tables[name].status == "pending":
                    self.result.tables[name].status = "unfinished"
            if isinstance(self._error, ImportFailed | UsageError | ImportInterrupted):
                raise self._error
            if isinstance(self._error, pymysql.err.MySQLError):
                raise ImportFailed(f"loading failed: {_sql_error(self._error)}") from self._error
            raise ImportFailed(f"loading failed: {self._error!r}") from self._error

    def _finish_table(self, name: str) -> None:
        self.result.tables[name].status = "loaded"

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            if self._error is None:
                self._error = exc
        self._stop.set()

    def _load_batch(self, cursor: Any, batch: Batch, data: bytes) -> None:
        connection = cursor.connection
        for attempt in range(1, 6):
            try:
                warnings = 0
                cursor.execute(data)
                warnings += _warning_count(cursor)
                while cursor.nextset():
                    warnings += _warning_count(cursor)
                if warnings:
                    self._record_warnings(cursor, batch, warnings)
                connection.commit()
                return
            except pymysql.err.MySQLError as exc:
                with contextlib.suppress(pymysql.err.MySQLError):
                    connection.rollback()
                code = exc.args[0] if exc.args else 0
                if code in RETRYABLE and attempt < 5:
                    time.sleep(0.2 * attempt)
                    continue
                raise ImportFailed(
                    f"table {batch.table}: the statements from line {batch.line} of the dump failed: "
                    f"{_sql_error(exc)}\n  {_describe_sql(data)}"
                ) from exc

    def _record_warnings(self, cursor: Any, batch: Batch, count: int) -> None:
        cursor.execute("SHOW WARNINGS LIMIT 3")
        messages = [f"{row[0]} {row[1]}: {row[2]}" for row in cursor.fetchall()]
        with self._lock:
            self.result.tables[batch.table].warnings += count
            for message in messages:
                if len(self.result.warning_samples) < 20:
                    self.result.warning_samples.append(f"table {batch.table} (line {batch.line}): {message}")


def _cursor(connection: pymysql.connections.Connection) -> Any:
    """A cursor typed loosely: pymysql sends ``bytes`` queries unchanged, its stubs only say ``str``."""
    return connection.cursor()


def _warning_count(cursor: Any) -> int:
    result = getattr(cursor, "_result", None)
    return int(getattr(result, "warning_count", 0) or 0)


def run_import(plan: Plan, target: ConnectionSpec, options: ImportOptions) -> ImportResult:
    return Importer(plan, target, options).run()
