"""Compare a source and a target schema: structure, objects, row counts and content checksums.

Everything is computed on the servers; only catalog rows, counts and one 64-bit sum per chunk
cross the network (plus, for the first differing chunk of a table, one hash per row of that
chunk to name the differing keys).

Row checksum, identical on MySQL 8.0 (Aurora MySQL 3) and MariaDB 10.11::

    e_i  = the column as bytes: CAST(CONVERT(c USING utf8mb4) AS BINARY) for text,
           the raw bytes for binary types, c + 0 for BIT, CAST(c AS CHAR) otherwise
    x_i  = IF(c IS NULL, 'N', MD5(e_i))                   -- column by column, NULL marked
    row  = MD5(CONCAT_WS('|', x_1, ..., x_n))             -- at most 33 bytes per column
    sum  = SUM(CAST(CONV(LEFT(row, 16), 16, 10) AS UNSIGNED))   -- exact DECIMAL, order-free

Each column is hashed on its own, so no intermediate string grows with the row: a row of two
9 MiB blobs is compared exactly whatever ``max_allowed_packet`` is (a ``CONCAT`` of the values
would be NULL past it, with warning 1301). Any warning drawn by a comparison query is an
error (:class:`VerifyError`): nothing is reported equal that was not compared.

A chunk is equal when its row count and its sum are equal on both sides. Tables with a
primary key (or a unique key over NOT NULL columns) are cut into chunks of ``chunk_size``
rows by key ranges read from the source; a table without one is checked as a whole (the sum
is order-independent and counts duplicate rows). Both sessions use ``time_zone = '+00:00'``
so TIMESTAMP columns compare in UTC.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pymysql

from scripts.operator_tools.database.connection import ConnectionSpec
from scripts.operator_tools.database.rewrite import quote_identifier, remove_definer
from scripts.operator_tools.toolkit import progress

CHECKS = ("schema", "objects", "rows", "checksums")
DEFAULT_CHUNK_SIZE = 10_000
MAX_KEYS_SHOWN = 10

TEXT_TYPES = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json"}
BINARY_TYPES = {
    "binary",
    "varbinary",
    "tinyblob",
    "blob",
    "mediumblob",
    "longblob",
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
    "geomcollection",
}


class VerifyError(Exception):
    """A query needed for the comparison failed (privileges, lost connection...)."""


@dataclass
class Difference:
    kind: str
    object: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "object": self.object,
            "detail": self.detail,
            **({"data": self.data} if self.data else {}),
        }


@dataclass
class TableReport:
    name: str
    rows_source: int | None = None
    rows_target: int | None = None
    key: list[str] = field(default_factory=list)
    chunks: int = 0
    differing_chunks: int = 0
    first_difference: dict[str, Any] | None = None
    equal: bool | None = None


@dataclass
class VerifyOptions:
    checks: tuple[str, ...] = CHECKS
    chunk_size: int = DEFAULT_CHUNK_SIZE
    consistent_snapshot: bool = False
    exclude_tables: frozenset[str] = frozenset()
    progress: bool | None = None


@dataclass
class VerifyResult:
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: dict[str, TableReport] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    server_versions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def equal(self) -> bool:
        return not self.differences


# --- normalisation ---------------------------------------------------------------------------

_INT_WIDTH = re.compile(r"\b(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)")
_SPACES = re.compile(r"\s+")


def normalize_charset(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.lower()
    if name == "utf8":
        return "utf8mb3"
    return "utf8mb3_" + name[5:] if name.startswith("utf8_") else name


def normalize_column_type(column_type: str) -> str:
    """Lower-case, without integer display widths (MySQL 8.0.19+ no longer shows them)."""
    return _INT_WIDTH.sub(r"\1", column_type.lower()).replace("integer", "int")


def normalize_default(value: str | None) -> str:
    """MariaDB quotes string defaults and spells NULL; MySQL gives the bare value or SQL NULL."""
    if value is None or value.upper() == "NULL":
        return "NULL"
    if len(value) >= 2 and value.startswith("'") and value.endswith("'"):
        return "'" + value[1:-1].replace("''", "'") + "'"
    lowered = value.lower()
    if lowered.startswith("current_timestamp") or lowered.endswith(")"):
        return lowered.replace("()", "")
    return value if _looks_numeric(value) else "'" + value + "'"


def _looks_numeric(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def normalize_extra(extra: str | None) -> str:
    text = (extra or "").lower().replace("default_generated", "").replace("()", "")
    return " ".join(text.split())


def normalize_sql_mode(mode: str | None) -> str:
    flags = {m.strip().upper() for m in (mode or "").split(",") if m.strip()}
    flags.discard("NO_AUTO_CREATE_USER")  # removed by MySQL 8.0 and by the importer
    return ",".join(sorted(flags))


def normalize_definition(text: str | None, schema: str) -> str | None:
    """A definition without DEFINER clause, own-schema qualifiers or whitespace differences."""
    if text is None:
        return None
    raw, _ = remove_definer(text.encode("utf-8"))
    result = raw.decode("utf-8")
    result = result.replace(quote_identifier(schema) + ".", "")
    return _SPACES.sub(" ", result).strip()


# --- catalog ---------------------------------------------------------------------------------


@dataclass
class Catalog:
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {type, engine, collation}
    columns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    indexes: dict[str, dict[str, tuple[Any, ...]]] = field(default_factory=dict)
    foreign_keys: dict[str, dict[str, tuple[Any, ...]]] = field(default_factory=dict)
    objects: dict[str, dict[str, str | None]] = field(default_factory=dict)  # kind -> name -> definition
    database: dict[str, str | None] = field(default_factory=dict)  # default charset and collation

    def base_tables(self) -> list[str]:
        return sorted(n for n, t in self.tables.items() if t["type"] == "BASE TABLE")

    def views(self) -> list[str]:
        return sorted(n for n, t in self.tables.items() if t["type"] == "VIEW")


class Side:
    """One server session (one connection, so one snapshot when asked for)."""

    def __init__(self, spec: ConnectionSpec, *, consistent_snapshot: bool) -> None:
        self.spec = spec
        self.schema = spec.database or ""
        self.connection = spec.connect()
        self.query("SET SESSION time_zone = '+00:00'")
        self.version = str(self.query("SELECT VERSION()")[0][0])
        if consistent_snapshot:
            self.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            self.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def query(self, sql: str, args: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(sql, args)
                return list(cursor.fetchall())
        except pymysql.err.MySQLError as exc:
            message = exc.args[1] if len(exc.args) > 1 else str(exc)
            raise VerifyError(
                f"{self.spec.role} {self.spec.describe()}: {message}\n  {' '.join(sql.split())[:300]}"
            ) from exc

    def compare(self, sql: str, args: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """A comparison query: like :meth:`query`, but any warning it draws is an error.

        A warning means the server may have answered with something other than the data (a
        NULL past ``max_allowed_packet``, a truncated or converted value): nothing is claimed
        about data that was not compared.
        """
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(sql, args)
                rows = list(cursor.fetchall())
                count = cursor.warning_count
                if count:
                    cursor.execute("SHOW WARNINGS LIMIT 3")
                    warnings = "; ".join(f"{w[1]} {w[2]}" for w in cursor.fetchall())
                    raise VerifyError(
                        f"{self.spec.role} {self.spec.describe()}: a comparison query drew "
                        f"{count} warning(s) ({warnings}): the data it covers could not "
                        f"be compared\n  {' '.join(sql.split())[:300]}"
                    )
                return rows
        except pymysql.err.MySQLError as exc:
            message = exc.args[1] if len(exc.args) > 1 else str(exc)
            raise VerifyError(
                f"{self.spec.role} {self.spec.describe()}: {message}\n  {' '.join(sql.split())[:300]}"
            ) from exc

    def close(self) -> None:
        with contextlib.suppress(pymysql.err.Error):
            self.connection.close()

    def catalog(self, with_objects: bool) -> Catalog:
        catalog = Catalog()
        schema = (self.schema,)
        for charset, collation in self.query(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
            "WHERE SCHEMA_NAME = %s",
            schema,
        ):
            catalog.database = {
                "charset": normalize_charset(charset),
                "collation": normalize_charset(collation),
            }
        for name, kind, engine, collation in self.query(
            "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s",
            schema,
        ):
            catalog.tables[name] = {"type": kind, "engine": engine, "collation": normalize_charset(collation)}
        for row in self.query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, "
            "CHARACTER_SET_NAME, COLLATION_NAME, GENERATION_EXPRESSION FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, ORDINAL_POSITION",
            schema,
        ):
            table, name, column_type, data_type, nullable, default, extra, charset, collation, generation = (
                row
            )
            catalog.columns.setdefault(table, []).append(
                {
                    "name": name,
                    "type": normalize_column_type(column_type),
                    "data_type": data_type.lower(),
                    "nullable": nullable == "YES",
                    "default": normalize_default(default),
                    "extra": normalize_extra(extra),
                    "charset": normalize_charset(charset),
                    "collation": normalize_charset(collation),
                    "generated": " ".join((generation or "").split()),
                }
            )
        parts: dict[tuple[str, str], list[Any]] = {}
        for table, index, non_unique, _seq, column, sub_part, index_type in self.query(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, INDEX_TYPE "
            "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
            "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
            schema,
        ):
            entry = parts.setdefault((table, index), [int(non_unique) == 0, index_type, []])
            entry[2].append((column, int(sub_part) if sub_part is not None else None))
        for (table, index), (unique, index_type, columns) in parts.items():
            catalog.indexes.setdefault(table, {})[index] = (unique, index_type, tuple(columns))
        fk_parts: dict[tuple[str, str], list[Any]] = {}
        for (
            table,
            constraint,
            column,
            ref_schema,
            ref_table,
            ref_column,
            update_rule,
            delete_rule,
        ) in self.query(
            "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, "
            "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE "
            "FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
            "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
            "AND r.TABLE_NAME = k.TABLE_NAME "
            "WHERE k.TABLE_SCHEMA = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL "
            "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
            schema,
        ):
            other = None if ref_schema == self.schema else ref_schema
            entry = fk_parts.setdefault((table, constraint), [other, ref_table, update_rule, delete_rule, []])
            entry[4].append((column, ref_column))
        for (table, constraint), (other, ref_table, update_rule, delete_rule, columns) in fk_parts.items():
            catalog.foreign_keys.setdefault(table, {})[constraint] = (
                other,
                ref_table,
                update_rule,
                delete_rule,
                tuple(columns),
            )
        if with_objects:
            catalog.objects = self._objects(catalog)
        return catalog

    def _objects(self, catalog: Catalog) -> dict[str, dict[str, str | None]]:
        objects: dict[str, dict[str, str | None]] = {"view": {}, "routine": {}, "trigger": {}, "event": {}}
        schema = quote_identifier(self.schema)
        for name in catalog.views():
            row = self.query(f"SHOW CREATE VIEW {schema}.{quote_identifier(name)}")[0]
            objects["view"][name] = normalize_definition(row[1], self.schema)
        for name, kind, *context in self.query(
            f"SELECT ROUTINE_NAME, ROUTINE_TYPE, {_CONTEXT} FROM information_schema.ROUTINES "
            "WHERE ROUTINE_SCHEMA = %s",
            (self.schema,),
        ):
            row = self.query(f"SHOW CREATE {kind} {schema}.{quote_identifier(name)}")[0]
            objects["routine"][f"{kind.lower()} {name}"] = _with_mode(
                normalize_definition(row[2], self.schema), row[1], context
            )
        for name, *context in self.query(
            f"SELECT TRIGGER_NAME, {_CONTEXT} FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s",
            (self.schema,),
        ):
            row = self.query(f"SHOW CREATE TRIGGER {schema}.{quote_identifier(name)}")[0]
            objects["trigger"][name] = _with_mode(normalize_definition(row[2], self.schema), row[1], context)
        for name, *context in self.query(
            f"SELECT EVENT_NAME, {_CONTEXT} FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s",
            (self.schema,),
        ):
            row = self.query(f"SHOW CREATE EVENT {schema}.{quote_identifier(name)}")[0]
            objects["event"][name] = _with_mode(normalize_definition(row[3], self.schema), row[1], context)
        return objects


# What a stored program runs with besides its text: the client character set and connection
# collation of its creation, and the database collation (the default of its variables).
_CONTEXT = "CHARACTER_SET_CLIENT, COLLATION_CONNECTION, DATABASE_COLLATION"


def _with_mode(definition: str | None, sql_mode: str | None, context: Sequence[Any] = ()) -> str | None:
    if definition is None:
        return None
    charset, connection, database = ([normalize_charset(str(c)) for c in context] + [None] * 3)[:3]
    extra = f"; database_collation={database}" if database else ""
    if charset or connection:
        extra += f"; character_set_client={charset}; collation_connection={connection}"
    return f"{definition} [sql_mode={normalize_sql_mode(sql_mode)}{extra}]"


# --- comparison ------------------------------------------------------------------------------


def _first_difference(a: str, b: str) -> str:
    for index, (left, right) in enumerate(zip(a, b, strict=False)):
        if left != right:
            start = max(0, index - 30)
            return (
                f"first difference at character {index}: "
                f"source '...{a[start : index + 40]}' target '...{b[start : index + 40]}'"
            )
    return f"one is a prefix of the other (lengths {len(a)} and {len(b)})"


def compare_schema(
    source: Catalog, target: Catalog, excluded: Iterable[str] = (), *, views: bool = True
) -> tuple[list[Difference], list[str]]:
    """Tables, columns, indexes, foreign keys (and view presence unless ``views`` is false)."""
    differences: list[Difference] = []
    notes: list[str] = []
    skip = set(excluded)
    if source.database != target.database:
        in_source = f"{source.database.get('charset')} / {source.database.get('collation')}"
        in_target = f"{target.database.get('charset')} / {target.database.get('collation')}"
        differences.append(
            Difference(
                "database",
                "database",
                f"default character set / collation {in_source} in the source, {in_target} in the target "
                "(tables, routines and columns without their own take the default)",
            )
        )
    kinds = (("table", "BASE TABLE"), ("view", "VIEW")) if views else (("table", "BASE TABLE"),)
    for kind_label, kind in kinds:
        source_names = {n for n, t in source.tables.items() if t["type"] == kind} - skip
        target_names = {n for n, t in target.tables.items() if t["type"] == kind} - skip
        for name in sorted(source_names - target_names):
            differences.append(
                Difference(f"{kind_label}_missing", f"{kind_label} {name}", "missing in the target")
            )
        for name in sorted(target_names - source_names):
            differences.append(
                Difference(f"{kind_label}_extra", f"{kind_label} {name}", "only in the target")
            )
    for name in sorted(set(source.base_tables()) & set(target.base_tables()) - skip):
        left, right = source.tables[name], target.tables[name]
        if left["collation"] != right["collation"]:
            differences.append(
                Difference(
                    "table_option", f"table {name}", f"collation {left['collation']} != {right['collation']}"
                )
            )
        if (left["engine"] or "").lower() != (right["engine"] or "").lower():
            notes.append(
                f"table {name}: engine {left['engine']} in the source, {right['engine']} in the target"
            )
        differences += _compare_columns(name, source.columns.get(name, []), target.columns.get(name, []))
        differences += _compare_named(
            name, "index", source.indexes.get(name, {}), target.indexes.get(name, {}), _describe_index
        )
        differences += _compare_named(
            name, "foreign_key", source.foreign_keys.get(name, {}), target.foreign_keys.get(name, {}), repr
        )
    return differences, notes


def _describe_index(value: tuple[Any, ...]) -> str:
    unique, index_type, columns = value
    cols = ", ".join(c if s is None else f"{c}({s})" for c, s in columns)
    return f"{'UNIQUE ' if unique else ''}{index_type} ({cols})"


def _compare_named(
    table: str,
    kind: str,
    left: dict[str, Any],
    right: dict[str, Any],
    describe: Callable[[Any], str],
) -> list[Difference]:
    differences = []
    label = kind.replace("_", " ")
    for name in sorted(set(left) - set(right)):
        differences.append(Difference(kind, f"table {table}", f"{label} {name} missing in the target"))
    for name in sorted(set(right) - set(left)):
        differences.append(Difference(kind, f"table {table}", f"{label} {name} only in the target"))
    for name in sorted(set(left) & set(right)):
        if left[name] != right[name]:
            differences.append(
                Difference(
                    kind,
                    f"table {table}",
                    f"{label} {name}: {describe(left[name])} != {describe(right[name])}",
                )
            )
    return differences


def _compare_columns(table: str, left: list[dict[str, Any]], right: list[dict[str, Any]]) -> list[Difference]:
    differences = []
    left_names = [c["name"] for c in left]
    right_names = [c["name"] for c in right]
    for name in [n for n in left_names if n not in right_names]:
        differences.append(Difference("column", f"table {table}", f"column {name} missing in the target"))
    for name in [n for n in right_names if n not in left_names]:
        differences.append(Difference("column", f"table {table}", f"column {name} only in the target"))
    common = [n for n in left_names if n in right_names]
    if common != [n for n in right_names if n in left_names]:
        differences.append(Difference("column", f"table {table}", "columns are in a different order"))
    by_name = {c["name"]: c for c in right}
    for column in left:
        other = by_name.get(column["name"])
        if other is None:
            continue
        for attribute in ("type", "nullable", "default", "extra", "charset", "collation", "generated"):
            if column[attribute] != other[attribute]:
                differences.append(
                    Difference(
                        "column",
                        f"table {table}",
                        f"column {column['name']}: {attribute} {column[attribute]!r} != {other[attribute]!r}",
                    )
                )
    return differences


def compare_objects(source: Catalog, target: Catalog) -> list[Difference]:
    differences = []
    for kind in ("view", "routine", "trigger", "event"):
        left, right = source.objects.get(kind, {}), target.objects.get(kind, {})
        for name in sorted(set(left) - set(right)):
            differences.append(Difference(f"{kind}_missing", f"{kind} {name}", "missing in the target"))
        for name in sorted(set(right) - set(left)):
            differences.append(Difference(f"{kind}_extra", f"{kind} {name}", "only in the target"))
        for name in sorted(set(left) & set(right)):
            a, b = left[name], right[name]
            if a is None or b is None:
                differences.append(
                    Difference(
                        kind, f"{kind} {name}", "definition not visible to this user on one side (privileges)"
                    )
                )
            elif a != b:
                differences.append(
                    Difference(kind, f"{kind} {name}", f"definitions differ: {_first_difference(a, b)}")
                )
    return differences


# --- content ---------------------------------------------------------------------------------


def column_expression(column: dict[str, Any]) -> str:
    ident = quote_identifier(column["name"])
    data_type = column["data_type"]
    if data_type in TEXT_TYPES:
        value = f"CAST(CONVERT({ident} USING utf8mb4) AS BINARY)"
    elif data_type in BINARY_TYPES:
        value = ident
    elif data_type == "bit":
        value = f"CAST({ident} + 0 AS CHAR)"
    else:
        value = f"CAST({ident} AS CHAR)"
    return f"IF({ident} IS NULL, 'N', MD5({value}))"


def row_hash_expression(columns: Sequence[dict[str, Any]]) -> str:
    return "MD5(CONCAT_WS('|', " + ", ".join(column_expression(c) for c in columns) + "))"


def key_columns(catalog: Catalog, table: str) -> list[str]:
    """Primary key, else the first unique key over NOT NULL columns, else none."""
    indexes = catalog.indexes.get(table, {})
    if "PRIMARY" in indexes:
        return [c for c, _ in indexes["PRIMARY"][2]]
    nullable = {c["name"] for c in catalog.columns.get(table, []) if c["nullable"]}
    for name in sorted(indexes):
        unique, _type, columns = indexes[name]
        if unique and all(s is None and c not in nullable for c, s in columns):
            return [c for c, _ in columns]
    return []


def _after(keys: Sequence[str], inclusive: bool) -> str:
    """SQL for ``(k1, k2, ...) > (v1, v2, ...)`` (or >=), spelled out so both optimizers use the index."""
    terms = []
    for i, key in enumerate(keys):
        equal = [f"{quote_identifier(k)} = %s" for k in keys[:i]]
        last = i == len(keys) - 1
        op = ">=" if (inclusive and last) else ">"
        terms.append("(" + " AND ".join([*equal, f"{quote_identifier(key)} {op} %s"]) + ")")
    return "(" + " OR ".join(terms) + ")"


def _after_args(values: Sequence[Any]) -> list[Any]:
    args: list[Any] = []
    for i in range(len(values)):
        args += [*values[:i], values[i]]
    return args


def _not_after(keys: Sequence[str]) -> str:
    return "NOT " + _after(keys, inclusive=False)


def range_predicate(
    keys: Sequence[str], low: Sequence[Any] | None, high: Sequence[Any] | None
) -> tuple[str, list[Any]]:
    """``low < key <= high`` (either bound may be open)."""
    parts: list[str] = []
    args: list[Any] = []
    if low is not None:
        parts.append(_after(keys, inclusive=False))
        args += _after_args(low)
    if high is not None:
        parts.append(_not_after(keys))
        args += _after_args(high)
    return (" AND ".join(parts) if parts else "1 = 1"), args


def _format_key(keys: Sequence[str], values: Sequence[Any] | None) -> str | None:
    if values is None:
        return None
    shown = []
    for value in values:
        if isinstance(value, bytes | bytearray):
            shown.append("0x" + bytes(value).hex())
        else:
            shown.append(str(value))
    return ", ".join(shown)


class Verifier:
    def __init__(self, source: ConnectionSpec, target: ConnectionSpec, options: VerifyOptions) -> None:
        self.source_spec = source
        self.target_spec = target
        self.options = options
        self.result = VerifyResult()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="verify")

    def _both(
        self, source: Side, target: Side, sql: str, args: Sequence[Any] | None = None
    ) -> tuple[Any, Any]:
        left = self._pool.submit(source.compare, sql, args)
        right = self._pool.submit(target.compare, sql, args)
        return left.result(), right.result()

    def run(self) -> VerifyResult:
        started = time.monotonic()
        source = Side(self.source_spec, consistent_snapshot=self.options.consistent_snapshot)
        try:
            target = Side(self.target_spec, consistent_snapshot=self.options.consistent_snapshot)
        except BaseException:
            source.close()
            raise
        try:
            self.result.server_versions = {"source": source.version, "target": target.version}
            with_objects = "objects" in self.options.checks
            left_future = self._pool.submit(source.catalog, with_objects)
            right_future = self._pool.submit(target.catalog, with_objects)
            source_catalog, target_catalog = left_future.result(), right_future.result()
            excluded = self.options.exclude_tables
            tables = [
                t for t in source_catalog.base_tables() if t in target_catalog.tables and t not in excluded
            ]
            self.result.counts = {
                "tables": len([t for t in source_catalog.base_tables() if t not in excluded]),
                "views": len(source_catalog.views()),
                "routines": len(source_catalog.objects.get("routine", {})),
                "triggers": len(source_catalog.objects.get("trigger", {})),
                "events": len(source_catalog.objects.get("event", {})),
            }
            if "schema" in self.options.checks:
                differences, notes = compare_schema(
                    source_catalog, target_catalog, excluded, views=not with_objects
                )
                self.result.differences += differences
                self.result.notes += notes
            if with_objects:
                self.result.differences += compare_objects(source_catalog, target_catalog)
            if "rows" in self.options.checks or "checksums" in self.options.checks:
                self._content(source, target, source_catalog, target_catalog, tables)
        finally:
            source.close()
            target.close()
            self._pool.shutdown(wait=True)
        self.result.seconds = round(time.monotonic() - started, 3)
        return self.result

    def _content(self, source: Side, target: Side, left: Catalog, right: Catalog, tables: list[str]) -> None:
        counts: dict[str, tuple[int, int]] = {}
        for name in tables:
            table = f"{quote_identifier(name)}"
            a, b = self._both(source, target, f"SELECT COUNT(*) FROM {table}")
            counts[name] = (int(a[0][0]), int(b[0][0]))
            report = self.result.tables.setdefault(name, TableReport(name))
            report.rows_source, report.rows_target = counts[name]
            if "rows" in self.options.checks and counts[name][0] != counts[name][1]:
                self.result.differences.append(
                    Difference(
                        "row_count",
                        f"table {name}",
                        f"{counts[name][0]} rows in the source, {counts[name][1]} in the target",
                        {"source": counts[name][0], "target": counts[name][1]},
                    )
                )
        if "checksums" not in self.options.checks:
            for report in self.result.tables.values():
                report.equal = report.rows_source == report.rows_target
            return
        total = sum(max(c[0], c[1]) for c in counts.values())
        bar = progress(total=total, desc="checksums", unit="rows", enabled=self.options.progress)
        try:
            for name in tables:
                columns = left.columns.get(name, [])
                if [c["name"] for c in columns] != [c["name"] for c in right.columns.get(name, [])]:
                    self.result.notes.append(f"table {name}: columns differ, content not compared")
                    self.result.tables[name].equal = False
                    bar.update(max(counts[name]))
                    continue
                self._checksum_table(source, target, name, columns, key_columns(left, name), bar)
        finally:
            bar.close()

    def _checksum_table(
        self,
        source: Side,
        target: Side,
        name: str,
        columns: list[dict[str, Any]],
        keys: list[str],
        bar: Any,
    ) -> None:
        report = self.result.tables[name]
        report.key = keys
        table = quote_identifier(name)
        row_hash = row_hash_expression(columns)
        aggregate = f"SELECT COUNT(*), SUM(CAST(CONV(LEFT({row_hash}, 16), 16, 10) AS UNSIGNED)) FROM {table}"
        if not keys:
            a, b = self._both(source, target, aggregate)
            report.chunks = 1
            bar.update(max(report.rows_source or 0, report.rows_target or 0))
            if _sums(a) != _sums(b):
                report.differing_chunks = 1
                report.first_difference = {"range": "whole table (no primary or unique key)"}
                self.result.differences.append(
                    Difference(
                        "checksum",
                        f"table {name}",
                        "content differs (no primary or unique key: compared as a whole, order-independent)",
                    )
                )
            report.equal = report.differing_chunks == 0
            return
        key_list = ", ".join(quote_identifier(k) for k in keys)
        low: Sequence[Any] | None = None
        chunk = 0
        while True:
            where, args = range_predicate(keys, low, None)
            boundary = source.compare(
                f"SELECT {key_list} FROM {table} WHERE {where} ORDER BY {key_list} LIMIT 1 OFFSET %s",
                [*args, self.options.chunk_size - 1],
            )
            high: Sequence[Any] | None = boundary[0] if boundary else None
            where, args = range_predicate(keys, low, high)
            a, b = self._both(source, target, f"{aggregate} WHERE {where}", args)
            chunk += 1
            bar.update(max(int(a[0][0]), int(b[0][0])))
            if _sums(a) != _sums(b):
                report.differing_chunks += 1
                if report.first_difference is None:
                    report.first_difference = {
                        "chunk": chunk,
                        "key": keys,
                        "from_exclusive": _format_key(keys, low),
                        "to_inclusive": _format_key(keys, high),
                        "rows_source": int(a[0][0]),
                        "rows_target": int(b[0][0]),
                        "keys": self._differing_keys(source, target, table, keys, row_hash, where, args),
                    }
            if high is None:
                break
            low = high
        report.chunks = chunk
        report.equal = report.differing_chunks == 0
        if report.first_difference is not None:
            first = report.first_difference
            bounds = (
                f"key ({', '.join(keys)}) after {first['from_exclusive'] or 'the start'} "
                f"up to {first['to_inclusive'] or 'the end'}"
            )
            shown = "; ".join(first["keys"][:MAX_KEYS_SHOWN]) or "no single row isolated"
            self.result.differences.append(
                Difference(
                    "checksum",
                    f"table {name}",
                    f"{report.differing_chunks} of {chunk} chunks differ; "
                    f"first: chunk {first['chunk']}, {bounds}; rows: {shown}",
                    {"first_difference": first},
                )
            )

    def _differing_keys(
        self,
        source: Side,
        target: Side,
        table: str,
        keys: list[str],
        row_hash: str,
        where: str,
        args: list[Any],
    ) -> list[str]:
        key_list = ", ".join(quote_identifier(k) for k in keys)
        sql = f"SELECT {key_list}, {row_hash} FROM {table} WHERE {where} ORDER BY {key_list}"
        a, b = self._both(source, target, sql, args)
        left = {tuple(row[:-1]): row[-1] for row in a}
        right = {tuple(row[:-1]): row[-1] for row in b}
        found = []
        for key in sorted(set(left) | set(right), key=lambda k: [str(v) for v in k]):
            label = ", ".join(
                f"{k}={v}" for k, v in zip(keys, (_format_key(keys, [x]) for x in key), strict=True)
            )
            if key not in right:
                found.append(f"{label} missing in the target")
            elif key not in left:
                found.append(f"{label} only in the target")
            elif left[key] != right[key]:
                found.append(f"{label} differs")
            if len(found) >= MAX_KEYS_SHOWN:
                break
        return found


def _sums(rows: list[tuple[Any, ...]]) -> tuple[int, str]:
    count, total = rows[0]
    return int(count), str(total)


def verify(source: ConnectionSpec, target: ConnectionSpec, options: VerifyOptions) -> VerifyResult:
    return Verifier(source, target, options).run()
