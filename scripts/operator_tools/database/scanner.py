"""Read a dump once, in order: classify and rewrite each statement, group the rows in batches.

:class:`DumpScanner` streams a plain or gzip dump through :class:`~.dumpparser.DumpReader` and
hands what it finds, in dump order, to a :class:`ScanSink`: schema statements (with the Aurora
rewrites of :mod:`.rewrite` applied), batches of consecutive ``INSERT``s of one table of about
``batch_bytes``, and the end of each table's rows. It also builds the :class:`Plan`: tables,
objects (views, routines, triggers, events, kept for after the data), session settings of the
header, rewrites and warnings. :func:`plan_dump` scans without a server (``--dry-run``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from scripts.operator_tools.database.dumpcheck import (
    Completeness,
    DatabaseDefaults,
    check_completeness,
    read_head,
)
from scripts.operator_tools.database.dumpparser import (
    DumpReader,
    DumpSyntaxError,
    ReaderStats,
    Statement,
    fingerprint,
    is_gzip,
    open_dump,
)
from scripts.operator_tools.database.rewrite import (
    POST_KINDS,
    Classified,
    RewriteOptions,
    classify,
    engines_of,
    rewrite_statement,
)
from scripts.operator_tools.toolkit import ToolError, progress

DEFAULT_BATCH_BYTES = 4 << 20
_SET_NAMES = re.compile(rb"(?i)\bSET\s+NAMES\s+'?(\w+)")


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
    database: DatabaseDefaults | None = None  # the source database's defaults (CREATE DATABASE)
    completeness: Completeness | None = None  # trailer and statements, once checked
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
            "database_defaults": vars(self.database) if self.database else None,
            "trailer": None if self.completeness is None else self.completeness.trailer,
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


# Column types whose values the dump clients may write as hex, bit or introducer literals.
_BINARY_TYPES = re.compile(
    rb"(?i)\b(?:binary|varbinary|tinyblob|blob|mediumblob|longblob|bit|geometry|point|linestring|polygon|"
    rb"multipoint|multilinestring|multipolygon|geometrycollection|geomcollection|vector)\b"
)


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
        head = read_head(path)
        self.plan.dump_tool, self.plan.database = head.tool, head.database
        self.bar: Any = None

    def check_complete(self, *, accept_partial: bool) -> Completeness:
        """Refuse (:class:`ToolError`) a dump without the client's trailer or without any
        statement, unless ``accept_partial``; a damaged gzip is refused in any case."""
        completeness = check_completeness(self.path, progress_bar=self.progress)
        self.plan.completeness = completeness
        problem = completeness.problem()
        if problem is not None:
            if not accept_partial:
                raise ToolError(
                    f"{self.path} looks unfinished: {problem}. Make the dump again, or pass "
                    "--accept-partial-dump if you know it is whole"
                )
            self.plan.warnings.append(f"accepted with --accept-partial-dump although {problem}")
        return completeness

    def scan(self, sink: ScanSink) -> Plan:
        stream, raw = open_dump(self.path)
        self.bar = bar = progress(total=self.plan.size, desc=self.desc, enabled=self.progress)
        wants_data = sink.wants_data
        reader = DumpReader(
            stream,
            want_text=lambda head: wants_data or not _is_insert(head),
            on_read=lambda _n: bar.update(raw.tell() - bar.n),
            trusted_inserts=self.plan.dump_tool != "unknown",
        )
        scan = _Scan(self, sink)
        try:
            for statement in reader:
                scan.statement(statement)
            scan.close_table()
        except DumpSyntaxError as exc:
            raise ToolError(f"{self.path}: cannot read the dump at {exc}") from exc
        except (OSError, EOFError) as exc:
            raise ToolError(f"{self.path}: cannot read the dump: {exc}") from exc
        finally:
            bar.close()
            raw.close()
        scan.finish(reader.stats)
        return self.plan


class _Scan:
    """The state of one scan: the batch being filled, the table whose rows are being read, and
    whether the dump's header (its leading session settings) is still going on."""

    def __init__(self, scanner: DumpScanner, sink: ScanSink) -> None:
        self.scanner = scanner
        self.plan = scanner.plan
        self.sink = sink
        self.current: Batch | None = None
        self.open_table: str | None = None
        self.in_header = True
        self.view_names: set[str] = set()
        self.handlers: dict[str, Callable[[SqlItem], None]] = {
            "session": self.session,
            "schema": self.schema,
            "post": self.post,
            "drop": self.drop,
        }

    def statement(self, statement: Statement) -> None:
        classified = classify(statement.head)
        if classified.action == "data" and classified.table:
            self.data(statement, classified.table)
            return
        self.flush()
        if classified.action == "data":  # an INSERT whose table name could not be read
            classified = Classified("schema", "other")
        sql, counts = rewrite_statement(statement.sql or b"", classified, self.scanner.rewrite)
        self.plan.rewrites.update(counts)
        item = SqlItem(sql, classified, statement.line)
        self.handlers.get(classified.action, self.skip)(item)

    # -- rows --------------------------------------------------------------------------------
    def data(self, statement: Statement, table_name: str) -> None:
        self.in_header = False
        if self.open_table != table_name:
            self.close_table()
            self.open_table = table_name
        table = self.plan.tables.setdefault(table_name, TablePlan(table_name))
        table.bytes += statement.length
        table.statements += 1
        current = self.current
        if current is not None and (
            current.table != table_name
            or current.delimiter != statement.delimiter
            or current.nbytes + statement.length > self.scanner.batch_bytes
        ):
            self.flush()
        if self.current is None:
            self.current = Batch(table_name, statement.line, statement.delimiter)
        if statement.sql is not None:
            self.current.statements.append(statement.sql)
        self.current.nbytes += statement.length

    def flush(self) -> None:
        if self.current is not None:
            self.plan.tables[self.current.table].batches += 1
            self.sink.batch(self.current)
            self.current = None

    def close_table(self) -> None:
        self.flush()
        if self.open_table is not None:
            self.sink.table_complete(self.open_table)
            self.open_table = None

    # -- everything else, by action ----------------------------------------------------------
    def session(self, item: SqlItem) -> None:
        if self.in_header:
            self.plan.header.append(item.sql)
            names = _SET_NAMES.search(item.sql)
            if names:
                self.plan.charset = names.group(1).decode().lower()
        self.plan.schema.append(item)
        self.plan.post.append(item)
        self.sink.schema(item)

    def schema(self, item: SqlItem) -> None:
        self.in_header = False
        classified = item.classified
        if classified.table != self.open_table:
            self.close_table()
        if classified.kind == "create_table" and classified.table:
            self.create_table(item, classified.table)
        self.plan.schema.append(item)
        self.sink.schema(item)

    def create_table(self, item: SqlItem, name: str) -> None:
        created = self.plan.tables.setdefault(name, TablePlan(name))
        created.created = True
        created.binary_columns = bool(_BINARY_TYPES.search(item.sql))
        self.open_table = name
        for engine in engines_of(item.sql):
            if engine.lower() != "innodb":
                self.plan.warnings.append(
                    f"line {item.line}: table {name} keeps ENGINE={engine}; "
                    "Aurora MySQL and DMS expect InnoDB"
                )

    def post(self, item: SqlItem) -> None:
        self.in_header = False
        classified = item.classified
        self.plan.post.append(item)
        if classified.verb == "create" and classified.name:
            self.plan.objects[classified.kind].append(classified.name)
            if classified.kind == "view":
                self.view_names.add(classified.name)

    def drop(self, item: SqlItem) -> None:
        classified = item.classified
        plan = self.plan
        plan.rewrites[classified.kind] += 1
        name = classified.name
        if classified.kind != "database_dropped" or not name or name in plan.source_databases:
            return
        plan.source_databases.append(name)
        if len(plan.source_databases) > 1:
            raise ToolError(
                f"{self.scanner.path} holds several databases ({', '.join(plan.source_databases)}): "
                "dump and import one database at a time"
            )

    def skip(self, item: SqlItem) -> None:
        self.plan.skipped[item.classified.kind] += 1

    def finish(self, stats: ReaderStats) -> None:
        plan = self.plan
        plan.statements = stats.statements
        if stats.sandbox_markers:
            plan.rewrites["sandbox_marker_dropped"] += stats.sandbox_markers
        for name in self.view_names:  # old mysqldump versions create a placeholder TABLE for each view
            placeholder = plan.tables.get(name)
            if placeholder is not None and not placeholder.statements:
                del plan.tables[name]


def plan_dump(
    path: Path,
    *,
    rewrite: RewriteOptions | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    progress: bool | None = None,
    accept_partial: bool = False,
) -> Plan:
    """Scan the dump without a server: tables, objects, batches and every rewrite; an
    unfinished dump is a warning here (the import refuses it)."""
    scanner = DumpScanner(path, rewrite=rewrite, batch_bytes=batch_bytes, progress=progress)
    try:
        scanner.check_complete(accept_partial=accept_partial)
    except ToolError as exc:
        scanner.plan.warnings.append(f"the import will refuse this dump: {exc}")
        if scanner.plan.completeness is None:  # a damaged gzip: nothing more can be read
            return scanner.plan
    return scanner.scan(_NullSink())
