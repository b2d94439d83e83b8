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
import re
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pymysql

from scripts.operator_tools.database.connection import ConnectionSpec
from scripts.operator_tools.database.dumpparser import (
    DumpReader,
    DumpSyntaxError,
    fingerprint,
    is_gzip,
    open_dump,
)
from scripts.operator_tools.database.rewrite import (
    POST_KINDS,
    Classified,
    RewriteOptions,
    classify,
    drop_statement_for,
    engines_of,
    quote_identifier,
    rewrite_statement,
)
from scripts.operator_tools.toolkit import ToolError, progress

STATE_TABLE = "__db_import_state"
DEFAULT_BATCH_BYTES = 4 << 20
DEFAULT_WORKERS = 4
PHASES = ("schema", "data", "post")
RETRYABLE = {1205, 1213}  # lock wait timeout, deadlock: the batch transaction is replayed
LOCAL_INFILE_REFUSED = {1148, 3948, 2068, 3950}  # the server or client does not allow LOAD DATA LOCAL
SESSION_SETUP = b"SET SESSION foreign_key_checks = 0, unique_checks = 0"
_SET_NAMES = re.compile(rb"(?i)\bSET\s+NAMES\s+'?(\w+)")


class ImportFailed(Exception):
    """A statement failed on the target; the message names where in the dump."""


class ImportInterrupted(Exception):
    """Stopped by the operator (Ctrl-C); finished tables stay finished."""


class _Stopped(Exception):
    """The scan stops because a loader failed (the loader's error is raised instead)."""


# --- plan ------------------------------------------------------------------------------------


@dataclass
class Batch:
    """Consecutive INSERTs of one table, loaded in one transaction."""

    table: str
    line: int
    delimiter: bytes
    statements: list[bytes] = field(default_factory=list)
    nbytes: int = 0


@dataclass
class TablePlan:
    name: str
    bytes: int = 0
    statements: int = 0
    batches: int = 0
    created: bool = False
    binary_columns: bool = True  # unknown until its CREATE TABLE is seen


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
    charset: str = "utf8mb4"
    dump_tool: str = "unknown"  # mysqldump / mariadb-dump, read from the first comment line
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

    def summary(self) -> dict[str, Any]:
        return {
            "dump": str(self.dump),
            "compressed": self.compressed,
            "bytes": self.size,
            "fingerprint": self.fingerprint,
            "charset": self.charset,
            "statements": self.statements,
            "tables": [
                {"name": t.name, "bytes": t.bytes, "statements": t.statements, "batches": t.batches}
                for t in self.tables.values()
            ],
            "objects": {kind: sorted(set(names)) for kind, names in self.objects.items()},
            "rewrites": dict(sorted(self.rewrites.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "warnings": self.warnings,
            "source_databases": self.source_databases,
        }


class ScanSink(Protocol):
    """What the scan hands over, in dump order."""

    wants_data: bool

    def schema(self, item: SqlItem) -> None: ...

    def batch(self, batch: Batch) -> None: ...

    def table_complete(self, name: str) -> None: ...


class _NullSink:
    wants_data = False

    def schema(self, item: SqlItem) -> None:
        return None

    def batch(self, batch: Batch) -> None:
        return None

    def table_complete(self, name: str) -> None:
        return None


_BINARY_TYPES = re.compile(
    rb"(?i)\b(?:binary|varbinary|tinyblob|blob|mediumblob|longblob|bit|geometry|point|linestring|polygon|"
    rb"multipoint|multilinestring|multipolygon|geometrycollection|geomcollection|vector)\b"
)


def _dump_tool(path: Path) -> str:
    """Which client wrote the dump, from its first comment line (their value format is known)."""
    stream, raw = open_dump(path)
    try:
        head = stream.read(2048)
    except (OSError, EOFError):
        return "unknown"
    finally:
        raw.close()
    if b"\r\n" in head:  # edited or converted on another system: no format guarantee
        return "unknown"
    if b"-- MariaDB dump" in head:
        return "mariadb-dump"
    if b"-- MySQL dump" in head:
        return "mysqldump"
    return "unknown"


def _is_insert(head: bytes) -> bool:
    start = head[:7].upper()
    return start.startswith(b"INSERT") or start.startswith(b"REPLACE")


class DumpScanner:
    """Read a dump once: classify, rewrite, batch; hand everything to a :class:`ScanSink`."""

    def __init__(
        self,
        path: Path,
        *,
        rewrite: RewriteOptions | None = None,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        progress: bool | None = None,
        desc: str = "scanning dump",
    ) -> None:
        if not path.is_file():
            raise ToolError(f"the dump {path} does not exist or is not a file")
        self.path = path
        self.rewrite = rewrite or RewriteOptions()
        self.batch_bytes = batch_bytes
        self.progress = progress
        self.desc = desc
        self.plan = Plan(
            dump=path, compressed=is_gzip(path), size=path.stat().st_size, fingerprint=fingerprint(path)
        )
        self.plan.dump_tool = _dump_tool(path)
        self.bar: Any = None

    def scan(self, sink: ScanSink) -> Plan:
        plan = self.plan
        stream, raw = open_dump(self.path)
        self.bar = bar = progress(total=plan.size, desc=self.desc, enabled=self.progress)
        wants_data = sink.wants_data

        def want_text(head: bytes) -> bool:
            return wants_data or not _is_insert(head)

        reader = DumpReader(
            stream,
            want_text=want_text,
            on_read=lambda _n: bar.update(raw.tell() - bar.n),
            trusted_inserts=plan.dump_tool != "unknown",
        )
        current: Batch | None = None
        open_table: str | None = None
        in_header = True
        view_names: set[str] = set()

        def flush() -> None:
            nonlocal current
            if current is not None:
                plan.tables[current.table].batches += 1
                sink.batch(current)
                current = None

        def close_table() -> None:
            nonlocal open_table
            flush()
            if open_table is not None:
                sink.table_complete(open_table)
                open_table = None

        try:
            for statement in reader:
                classified = classify(statement.head)
                if classified.action == "data" and classified.table:
                    in_header = False
                    table_name = classified.table
                    if open_table != table_name:
                        close_table()
                        open_table = table_name
                    table = plan.tables.setdefault(table_name, TablePlan(table_name))
                    table.bytes += statement.length
                    table.statements += 1
                    if current is not None and (
                        current.table != table_name
                        or current.delimiter != statement.delimiter
                        or current.nbytes + statement.length > self.batch_bytes
                    ):
                        flush()
                    if current is None:
                        current = Batch(table_name, statement.line, statement.delimiter)
                    if statement.sql is not None:
                        current.statements.append(statement.sql)
                    current.nbytes += statement.length
                    continue
                flush()
                sql = statement.sql if statement.sql is not None else b""
                if classified.action == "data":  # an INSERT whose table name could not be read
                    classified = Classified("schema", "other")
                sql, counts = rewrite_statement(sql, classified, self.rewrite)
                plan.rewrites.update(counts)
                item = SqlItem(sql, classified, statement.line)
                if classified.action == "session":
                    if in_header:
                        plan.header.append(sql)
                        names = _SET_NAMES.search(sql)
                        if names:
                            plan.charset = names.group(1).decode().lower()
                    plan.schema.append(item)
                    plan.post.append(item)
                    sink.schema(item)
                elif classified.action == "schema":
                    in_header = False
                    if classified.table != open_table:
                        close_table()
                    if classified.kind == "create_table" and classified.table:
                        created = plan.tables.setdefault(classified.table, TablePlan(classified.table))
                        created.created = True
                        created.binary_columns = bool(_BINARY_TYPES.search(sql))
                        open_table = classified.table
                        for engine in engines_of(sql):
                            if engine.lower() != "innodb":
                                plan.warnings.append(
                                    f"line {statement.line}: table {classified.table} keeps ENGINE={engine}; "
                                    "Aurora MySQL and DMS expect InnoDB"
                                )
                    plan.schema.append(item)
                    sink.schema(item)
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
                        if len(plan.source_databases) > 1:
                            raise ToolError(
                                f"{self.path} holds several databases ({', '.join(plan.source_databases)}): "
                                "dump and import one database at a time"
                            )
                else:
                    plan.skipped[classified.kind] += 1
            close_table()
        except DumpSyntaxError as exc:
            raise ToolError(f"{self.path}: cannot read the dump at {exc}") from exc
        except (OSError, EOFError) as exc:
            raise ToolError(f"{self.path}: cannot read the dump: {exc}") from exc
        finally:
            bar.close()
            raw.close()
        plan.statements = reader.stats.statements
        if reader.stats.sandbox_markers:
            plan.rewrites["sandbox_marker_dropped"] += reader.stats.sandbox_markers
        for name in view_names:  # old mysqldump versions create a placeholder TABLE for each view
            placeholder = plan.tables.get(name)
            if placeholder is not None and not placeholder.statements:
                del plan.tables[name]
        return plan


def plan_dump(
    path: Path,
    *,
    rewrite: RewriteOptions | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    progress: bool | None = None,
) -> Plan:
    """Scan the dump without a server: tables, objects, batches and every rewrite."""
    return DumpScanner(path, rewrite=rewrite, batch_bytes=batch_bytes, progress=progress).scan(_NullSink())


# --- LOAD DATA conversion --------------------------------------------------------------------

_VALUES = re.compile(
    rb"(?is)INSERT\s+INTO\s+(?P<table>`(?:[^`]|``)+`|[A-Za-z0-9_$]+)\s*(?P<columns>\((?:[^()`]|`(?:[^`]|``)*`)*\))?"
    rb"\s*VALUES(?P<space>\s*)\("
)
# The rows convert exactly when every value is a number, NULL or a single-quoted string without
# \% or \_ (an INSERT keeps that backslash, LOAD DATA drops it). Anything else (hex, bit or
# introducer literals, double quotes, functions) sends the batch down the INSERT path. mysqldump
# and mariadb-dump only write such values for binary and BIT columns, so rows of their other
# tables only need the cheap backslash check.
_SAFE_ROWS = re.compile(
    rb"(?:'(?:[^'\\]++|\\[^%_])*+'|NULL|[-+]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][-+]?\d++)?|[,\s]++|\),\s*+\()*+",
    re.DOTALL,
)


@dataclass(frozen=True)
class LoadData:
    table: bytes
    columns: bytes
    terminator: bytes
    payload: bytes


def to_load_data(batch: Batch, *, trusted_format: bool = False) -> LoadData | None:
    """The batch's rows as a LOAD DATA payload, or None when a row might not convert exactly.

    mysqldump writes ``INSERT INTO t VALUES (r1),(r2)`` (MariaDB: one row per line, ``),\\n(``).
    The payload is the rows without their outer parentheses, separated by that terminator:
    fields are ``,``-separated, ``'``-enclosed, ``\\``-escaped, and an unquoted ``NULL`` is NULL,
    which are exactly the INSERT literal rules for what mysqldump emits.
    """
    if batch.delimiter != b";" or not batch.statements:
        return None
    parts: list[bytes] = []
    table = columns = terminator = None
    for statement in batch.statements:
        match = _VALUES.match(statement)
        if match is None or not statement.endswith(b")"):
            return None
        this_terminator = b"),\n(" if b"\n" in match.group("space") else b"),("
        key = (match.group("table"), match.group("columns") or b"", this_terminator)
        if table is None:
            table, columns, terminator = key
        elif key != (table, columns, terminator):
            return None
        body = statement[match.end() : -1]
        if trusted_format:
            if b"\\%" in body or b"\\_" in body:
                return None
        else:
            safe = _SAFE_ROWS.match(body)
            if safe is None or safe.end() != len(body):
                return None
        parts.append(body)
    assert table is not None and columns is not None and terminator is not None
    return LoadData(table, columns, terminator, terminator.join(parts))


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
        self._load_data = options.load_data
        self._tmpdir: Path | None = None

    # -- orchestration --

    def run(self) -> ImportResult:
        self._main = main = self.target.connect()
        self._main_cursor = _cursor(main)
        threads: list[threading.Thread] = []
        try:
            self._main_cursor.execute("SELECT VERSION()")
            self.result.server_version = str(self._main_cursor.fetchone()[0])
            if "data" in self.options.phases:
                self._prepare_state()
            elif "schema" in self.options.phases:
                self._refuse_non_empty()
            self._main_cursor.execute(
                "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                (self.target.database,),
            )
            self._existing = {name: kind for name, kind in self._main_cursor.fetchall()}
            self._main_cursor.execute(SESSION_SETUP)
            if self.wants_data:
                self._check_load_data()
                threads = [
                    threading.Thread(target=self._worker, name=f"loader-{i + 1}", daemon=True)
                    for i in range(self.options.workers)
                ]
                for thread in threads:
                    thread.start()
            started = time.monotonic()
            try:
                self.scanner.scan(self)
            except _Stopped:
                pass
            except BaseException:
                self._stop.set()
                raise
            finally:
                for _ in threads:
                    self._put(None, force=True)
                self._join(threads)
            self._raise_loader_error()
            self._finish_outcomes()
            self.result.seconds["schema+data"] = round(time.monotonic() - started, 3)
            self.result.phases_done += [p for p in ("schema", "data") if p in self.options.phases]
            if "post" in self.options.phases:
                started = time.monotonic()
                self._run_post()
                self.result.seconds["post"] = round(time.monotonic() - started, 3)
                self.result.phases_done.append("post")
            if self._state_ready and not self.options.keep_state:
                self._main_cursor.execute(f"DROP TABLE IF EXISTS {quote_identifier(STATE_TABLE)}")
        except KeyboardInterrupt:
            self._stop.set()
            self._join(threads, timeout=30)
            self._finish_outcomes()
            raise ImportInterrupted("interrupted by the operator") from None
        except BaseException:
            self._stop.set()
            self._join(threads, timeout=30)
            self._finish_outcomes()
            raise
        finally:
            with contextlib.suppress(pymysql.err.Error):
                main.close()
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
        return self.result

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
                session_ready = False
                while not self._stop.is_set():
                    try:
                        batch = self._queue.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    if batch is None:
                        return
                    if not session_ready:
                        # The dump's header (SET NAMES, TIME_ZONE, SQL_MODE...) is complete once a
                        # batch exists: it ends at the first statement that is not a session SET.
                        for sql in self.plan.header:
                            cursor.execute(sql)
                        cursor.execute(SESSION_SETUP)
                        session_ready = True
                    self._load_batch(cursor, batch, scratch)
                    with self._lock:
                        self._pending[batch.table] -= 1
                        last = self._pending[batch.table] == 0 and batch.table in self._complete
                        self.result.loaded_bytes += batch.nbytes
                    if last:
                        self._finish_table(cursor, batch.table)
                    if self.options.on_batch is not None:
                        self.options.on_batch(batch)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self._fail(exc)
        finally:
            with contextlib.suppress(pymysql.err.Error):
                connection.close()

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
        connection = cursor.connection
        # ';'-delimited INSERTs go as one multi-statement query; others one by one.
        queries = [b";\n".join(batch.statements)] if batch.delimiter == b";" else batch.statements
        for attempt in range(1, 6):
            try:
                warnings = 0
                for query in queries:
                    cursor.execute(query)
                    warnings += cursor.warning_count
                    while cursor.nextset():
                        warnings += cursor.warning_count
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
