"""The engine of rewrite_refs: turn the legacy database's share paths into S3 keys, and undo it.

A value such as ``\\\\10.0.20.1\\share\\Dir\\File.PDF``, ``//10.0.20.1/share/dir/file.pdf``,
``S:\\dir\\file.pdf`` or a ``file:`` URL (``file://10.0.20.1/share/dir/file%20x.pdf``,
``file:///S:/dir/file.pdf``, ``file://///10.0.20.1/share/...``, percent-encoded or not) becomes
the key of the object DataSync wrote for that file, the path being matched case-insensitively
against the objects as SMB matches names. The keys are listed once into a temporary SQLite index
(:class:`KeyIndex`), so millions of objects do not sit in memory.

* **dangling** references (no such object) are reported and left alone unless ``force``;
  **ambiguous** ones (several objects differ only by case) and **invalid** ones (``..``
  segments, folders) are reported and never changed; a path outside the migrated folder, or
  text that names the share inside other words, is **unmapped**; a key longer than its column
  is **too_long**: the run never claims full resolution while a reference to the share remains;
* **orphans**, objects no configured column refers to, are reported;
* each change is written to the rollback file (JSON lines) and flushed *before* its transaction
  commits; :func:`restore` puts the old values back where the column still holds the new one;
* rows are re-read with ``SELECT ... FOR UPDATE`` inside each batch's transaction, so a value
  changed by someone else since the plan was made is left alone;
* idempotent: a rewritten value is an S3 key, which a second run recognises and leaves alone.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
import tomllib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents import db
from scripts.operator_tools.documents.paths import (
    LegacyPathParser,
    ParsedPath,
    UnsafePathError,
    normalise_prefix,
    smb_fold,
)
from scripts.operator_tools.documents.s3 import iter_objects

PROBLEM_KINDS = ("dangling", "ambiguous", "invalid", "unmapped", "too_long")
TEXT_TYPES = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext"}
CONFIG_KEYS = {"columns", "share_roots", "drives", "prefix"}
_LOOKS_LIKE_PATH = re.compile(r"^([\\/]{2}[^\\/]|[A-Za-z]:[\\/]|(?i:file):)")


# -- the object index ----------------------------------------------------------------------
class KeyIndex:
    """The keys under the prefix, in a temporary SQLite file, looked up exactly or SMB-folded."""

    def __init__(self, directory: str, prefix: str):
        self.prefix = prefix
        self.connection = sqlite3.connect(os.path.join(directory, "keys.sqlite"))
        self.connection.execute("PRAGMA journal_mode=OFF")
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.execute(
            "CREATE TABLE objects (key TEXT PRIMARY KEY, fold TEXT NOT NULL, "
            "referenced INTEGER NOT NULL DEFAULT 0)"
        )
        self.count = 0

    def load(self, keys: Iterable[str]) -> int:
        batch: list[tuple[str, str]] = []
        for key in keys:
            if key.endswith("/"):
                continue  # folder marker
            batch.append((key, smb_fold(key[len(self.prefix) :])))
            if len(batch) >= 5000:
                self._insert(batch)
                batch = []
        self._insert(batch)
        self.connection.execute("CREATE INDEX objects_fold ON objects (fold)")
        return self.count

    def _insert(self, batch: list[tuple[str, str]]) -> None:
        self.connection.executemany("INSERT OR IGNORE INTO objects (key, fold) VALUES (?, ?)", batch)
        self.count += len(batch)

    def exists(self, key: str) -> bool:
        return self.connection.execute("SELECT 1 FROM objects WHERE key = ?", (key,)).fetchone() is not None

    def candidates(self, relative: str) -> list[str]:
        rows = self.connection.execute("SELECT key FROM objects WHERE fold = ?", (smb_fold(relative),))
        return [row[0] for row in rows]

    def mark(self, key: str) -> None:
        self.connection.execute("UPDATE objects SET referenced = 1 WHERE key = ?", (key,))

    def orphans(self) -> Iterator[str]:
        yield from (
            row[0]
            for row in self.connection.execute("SELECT key FROM objects WHERE referenced = 0 ORDER BY key")
        )

    def orphan_count(self) -> int:
        return int(self.connection.execute("SELECT COUNT(*) FROM objects WHERE referenced = 0").fetchone()[0])

    def close(self) -> None:
        self.connection.close()


# -- configuration ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnRef:
    schema: str | None
    table: str
    column: str

    @classmethod
    def parse(cls, text: str) -> ColumnRef:
        parts = text.strip().split(".")
        if len(parts) == 2:
            schema, (table, column) = None, parts
        elif len(parts) == 3:
            schema, table, column = parts
        else:
            raise toolkit.ToolError(f"{text!r}: expected table.column or schema.table.column")
        for name in filter(None, (schema, table, column)):
            db.quote_identifier(name)
        return cls(schema, table, column)

    @property
    def name(self) -> str:
        return ".".join(filter(None, (self.schema, self.table, self.column)))

    @property
    def sql_table(self) -> str:
        quoted = db.quote_identifier(self.table)
        return f"{db.quote_identifier(self.schema)}.{quoted}" if self.schema else quoted


def load_config_file(path: Path | None) -> dict[str, Any]:
    """The settings of a TOML file (``columns``, ``share_roots``, ``[drives]``, ``prefix``)."""
    if not path:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise toolkit.ToolError(f"cannot read the config file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise toolkit.ToolError(f"{path} is not valid TOML: {exc}") from exc
    unknown = set(data) - CONFIG_KEYS
    if unknown:
        raise toolkit.ToolError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
    return data


@dataclass
class RewriteConfig:
    columns: list[ColumnRef]
    parser: LegacyPathParser
    prefix: str

    @classmethod
    def build(
        cls,
        settings: Mapping[str, Any],
        *,
        columns: Sequence[str] | None = None,
        share_roots: Sequence[str] | None = None,
        drives: Sequence[str] | None = None,
        prefix: str | None = None,
    ) -> RewriteConfig:
        """The configuration from a file's ``settings``; each given flag value wins over it."""
        refs = [ColumnRef.parse(c) for c in (columns or settings.get("columns") or [])]
        if not refs:
            raise toolkit.ToolError(
                "no columns to rewrite: pass --column table.column or columns in --config"
            )
        roots = share_roots or settings.get("share_roots") or []
        mapped = {**dict(settings.get("drives") or {}), **_drive_flags(drives or ())}
        try:
            parser = LegacyPathParser.from_strings(roots, mapped)
        except ValueError as exc:
            raise toolkit.ToolError(str(exc)) from exc
        clean = normalise_prefix(prefix or settings.get("prefix") or "legacy/")
        if not clean:
            raise toolkit.ToolError("the prefix cannot be empty")
        return cls(refs, parser, clean)


def _drive_flags(values: Iterable[str]) -> dict[str, str]:
    drives: dict[str, str] = {}
    for item in values:
        letter, sep, target = item.partition("=")
        if not sep:
            raise toolkit.ToolError(f"--drive {item!r}: expected LETTER=\\\\server\\share")
        drives[letter] = target
    return drives


# -- JSON for primary keys -------------------------------------------------------------------
def encode_key_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"hex": bytes(value).hex()}
    if isinstance(value, int | str | float) or value is None:
        return value
    return str(value)


def decode_key_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"hex"}:
        return bytes.fromhex(value["hex"])
    return value


# -- the rewrite -----------------------------------------------------------------------------
@dataclass
class Change:
    key: tuple[Any, ...]
    old: str
    new: str


@dataclass
class ColumnResult:
    column: str
    counts: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Cell:
    """One value of a configured column, with what names its row."""

    ref: ColumnRef
    pk: dict[str, Any]
    value: str


class Rewriter:
    def __init__(
        self,
        connection: Any,
        config: RewriteConfig,
        index: KeyIndex,
        *,
        dry_run: bool,
        force: bool,
        rollback: IO[str] | None,
        batch_size: int,
        max_listed: int,
    ):
        self.connection = connection
        self.config = config
        self.index = index
        self.dry_run = dry_run
        self.force = force
        self.rollback = rollback
        self.batch_size = batch_size
        self.max_listed = max_listed
        self.findings: dict[str, list[dict[str, Any]]] = {kind: [] for kind in PROBLEM_KINDS}
        self.plan: list[dict[str, Any]] = []
        self.totals: Counter[str] = Counter()

    # -- schema --------------------------------------------------------------------------
    def primary_key(self, ref: ColumnRef) -> list[str]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
                "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s "
                "AND CONSTRAINT_NAME = 'PRIMARY' "
                "ORDER BY ORDINAL_POSITION",
                (ref.schema, ref.table),
            )
            columns = [row["COLUMN_NAME"] for row in cursor.fetchall()]
        if not columns:
            raise toolkit.ToolError(f"table {ref.sql_table} does not exist or has no primary key")
        return columns

    def column_length(self, ref: ColumnRef) -> int | None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT CHARACTER_MAXIMUM_LENGTH AS length, DATA_TYPE AS type "
                "FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s AND COLUMN_NAME = %s",
                (ref.schema, ref.table, ref.column),
            )
            row = cursor.fetchone()
        if row is None:
            raise toolkit.ToolError(f"column {ref.name} does not exist")
        if str(row["type"]).lower() not in TEXT_TYPES:
            raise toolkit.ToolError(f"column {ref.name} is {row['type']}, not a text column")
        return int(row["length"]) if row["length"] is not None else None

    # -- classification ------------------------------------------------------------------
    def _finding(self, kind: str, cell: Cell, **extra: Any) -> None:
        self.totals[kind] += 1
        if len(self.findings[kind]) < self.max_listed:
            finding = {"column": cell.ref.name, "primary_key": cell.pk, "value": cell.value, **extra}
            self.findings[kind].append(finding)

    def target_for(
        self, ref: ColumnRef, pk: dict[str, Any], value: str | None, counts: Counter[str]
    ) -> str | None:
        """The new value of this cell, or None to leave it alone (after counting why)."""
        if value is None or not str(value).strip():
            counts["empty"] += 1
            return None
        cell = Cell(ref, pk, str(value))
        if cell.value.startswith(self.config.prefix):
            counts["already_rewritten"] += 1
            self._check_rewritten(cell)
            return None
        parsed = self._parse(cell, counts)
        if parsed is None:
            return None
        return self._resolve(cell, parsed, counts)

    def _check_rewritten(self, cell: Cell) -> None:
        if self.index.exists(cell.value):
            self.index.mark(cell.value)
        else:
            self._finding("dangling", cell, expected_key=cell.value)

    def _parse(self, cell: Cell, counts: Counter[str]) -> ParsedPath | None:
        """The share path a cell names; None (after counting why) when it names no file."""
        try:
            parsed = self.config.parser.parse(cell.value)
        except UnsafePathError as exc:
            self._finding("invalid", cell, reason=str(exc))
            return None
        if parsed is None:
            if _LOOKS_LIKE_PATH.match(cell.value.strip()):
                self._finding("unmapped", cell, reason="a path outside the migrated share folder")
            elif self.config.parser.mentions_share(cell.value):
                self._finding(
                    "unmapped", cell, reason="names the migrated share inside other text: rewrite it by hand"
                )
            else:
                counts["not_a_path"] += 1
            return None
        if parsed.is_folder:
            self._finding("invalid", cell, reason="names a folder, not a file")
            return None
        return parsed

    def _resolve(self, cell: Cell, parsed: ParsedPath, counts: Counter[str]) -> str | None:
        """The object a share path stands for: exact, else the one SMB-equal key, else dangling."""
        wanted = parsed.key(self.config.prefix)
        if self.index.exists(wanted):
            self.index.mark(wanted)
            return wanted
        candidates = self.index.candidates(parsed.relative)
        if len(candidates) == 1:
            self.index.mark(candidates[0])
            return candidates[0]
        if len(candidates) > 1:
            self._finding("ambiguous", cell, candidates=sorted(candidates)[:10])
            return None
        self._finding("dangling", cell, expected_key=wanted, forced=self.force)
        if self.force:
            counts["forced"] += 1
            return wanted
        return None

    # -- one column ----------------------------------------------------------------------
    def rows(self, ref: ColumnRef, pk: list[str]) -> Iterator[list[dict[str, Any]]]:
        """The table in primary-key order, one batch at a time (keyset pagination)."""
        pk_sql = ", ".join(db.quote_identifier(c) for c in pk)
        column = db.quote_identifier(ref.column)
        last: tuple[Any, ...] | None = None
        while True:
            where = f"WHERE ({pk_sql}) > ({', '.join(['%s'] * len(pk))})" if last is not None else ""
            sql = (
                f"SELECT {pk_sql}, {column} AS __value FROM {ref.sql_table} {where} "
                f"ORDER BY {pk_sql} LIMIT {int(self.batch_size)}"
            )
            with self.connection.cursor() as cursor:
                cursor.execute(sql, last or ())
                batch = list(cursor.fetchall())
            if not batch:
                return
            yield batch
            last = tuple(batch[-1][c] for c in pk)

    def rewrite_column(self, ref: ColumnRef, bar: Any) -> ColumnResult:
        pk = self.primary_key(ref)
        length = self.column_length(ref)
        result = ColumnResult(ref.name)
        for batch in self.rows(ref, pk):
            changes = self._changes(ref, pk, length, batch, result.counts)
            bar.update(len(batch))
            if not changes:
                continue
            if self.dry_run:
                result.counts["to_rewrite"] += len(changes)
                room = max(0, self.max_listed - len(self.plan))
                self.plan.extend(self._line(ref, pk, change) for change in changes[:room])
            else:
                self._apply(ref, pk, changes, result.counts)
        return result

    def _changes(
        self,
        ref: ColumnRef,
        pk: list[str],
        length: int | None,
        batch: list[dict[str, Any]],
        counts: Counter[str],
    ) -> list[Change]:
        """The cells of a batch of rows that get a new value."""
        changes: list[Change] = []
        for row in batch:
            counts["rows"] += 1
            key_values = tuple(row[c] for c in pk)
            pk_json = {c: encode_key_value(v) for c, v in zip(pk, key_values, strict=True)}
            old = row["__value"]
            target = self.target_for(ref, pk_json, old, counts)
            if target is None or target == old:
                continue
            if length is not None and len(target) > length:
                self._finding("too_long", Cell(ref, pk_json, old), new_value=target, limit=length)
                continue
            changes.append(Change(key_values, old, target))
        return changes

    @staticmethod
    def _line(ref: ColumnRef, pk: list[str], change: Change) -> dict[str, Any]:
        return {
            "schema": ref.schema,
            "table": ref.table,
            "primary_key": {c: encode_key_value(v) for c, v in zip(pk, change.key, strict=True)},
            "column": ref.column,
            "old": change.old,
            "new": change.new,
        }

    def _apply(self, ref: ColumnRef, pk: list[str], changes: list[Change], counts: Counter[str]) -> None:
        """One transaction: lock the rows, keep the changes whose old value is still there, write
        them to the rollback file (flushed to disk), then update."""
        pk_sql = ", ".join(db.quote_identifier(c) for c in pk)
        column = db.quote_identifier(ref.column)
        one = "(" + ", ".join(["%s"] * len(pk)) + ")"
        where = " AND ".join(f"{db.quote_identifier(c)} = %s" for c in pk)
        self.connection.begin()
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {pk_sql}, {column} AS __value FROM {ref.sql_table} "
                    f"WHERE ({pk_sql}) IN ({', '.join([one] * len(changes))}) FOR UPDATE",
                    [v for change in changes for v in change.key],
                )
                current = {tuple(row[c] for c in pk): row["__value"] for row in cursor.fetchall()}
                still = [c for c in changes if current.get(c.key) == c.old]
                counts["changed_concurrently"] += len(changes) - len(still)
                self._record(ref, pk, still)
                cursor.executemany(
                    f"UPDATE {ref.sql_table} SET {column} = %s WHERE {where}",
                    [(change.new, *change.key) for change in still],
                )
            self.connection.commit()
        except Exception:
            self.connection.rollback()
            raise
        counts["rewritten"] += len(still)

    def _record(self, ref: ColumnRef, pk: list[str], changes: list[Change]) -> None:
        if self.rollback is None:
            raise RuntimeError("a rewrite that changes data needs a rollback file")
        for change in changes:
            self.rollback.write(json.dumps(self._line(ref, pk, change), ensure_ascii=False) + "\n")
        self.rollback.flush()
        os.fsync(self.rollback.fileno())


# -- the whole run ---------------------------------------------------------------------------
@dataclass
class RewriteRun:
    """One rewrite of every configured column (or its plan, with ``dry_run``)."""

    connection: Any
    client: Any
    bucket: str
    config: RewriteConfig
    dry_run: bool
    force: bool
    rollback_path: Path
    batch_size: int
    max_listed: int
    progress: bool | None = None

    def execute(self) -> dict[str, Any]:
        """List the objects, rewrite (or plan) every column, report; the JSON report is returned."""
        started = toolkit.utc_now()
        with tempfile.TemporaryDirectory(prefix="rewrite-refs-") as scratch:
            index = KeyIndex(scratch, self.config.prefix)
            try:
                with toolkit.progress(desc="listing S3", unit=" keys", enabled=self.progress) as listing:
                    keys = iter_objects(self.client, self.bucket, self.config.prefix)
                    index.load(_counted(keys, listing))
                rewriter, results = self._rewrite(index)
                orphans = {
                    "count": index.orphan_count(),
                    "keys": list(islice(index.orphans(), self.max_listed)),
                }
                objects = index.count
            finally:
                index.close()
        if not self.dry_run and self.rollback_path.exists() and self.rollback_path.stat().st_size == 0:
            self.rollback_path.unlink()  # nothing changed: no empty file to keep
        return self._report(started, rewriter, results, orphans, objects)

    def _rewrite(self, index: KeyIndex) -> tuple[Rewriter, list[ColumnResult]]:
        rollback = None if self.dry_run else self.rollback_path.open("a", encoding="utf-8")
        try:
            rewriter = Rewriter(
                self.connection,
                self.config,
                index,
                dry_run=self.dry_run,
                force=self.force,
                rollback=rollback,
                batch_size=self.batch_size,
                max_listed=self.max_listed,
            )
            results = []
            for ref in self.config.columns:
                with toolkit.progress(desc=ref.name, unit=" rows", enabled=self.progress) as bar:
                    results.append(rewriter.rewrite_column(ref, bar))
        finally:
            if rollback is not None:
                rollback.close()
        return rewriter, results

    def _report(
        self,
        started: datetime,
        rewriter: Rewriter,
        results: list[ColumnResult],
        orphans: dict[str, Any],
        objects: int,
    ) -> dict[str, Any]:
        problems = {kind: rewriter.totals[kind] for kind in PROBLEM_KINDS}
        kept = not self.dry_run and self.rollback_path.exists()
        return {
            "bucket": self.bucket,
            "prefix": self.config.prefix,
            "dry_run": self.dry_run,
            "force": self.force,
            "started_at": toolkit.iso(started),
            "finished_at": toolkit.iso(),
            "rollback_file": str(self.rollback_path) if kept else None,
            "objects": objects,
            "columns": {r.column: dict(sorted(r.counts.items())) for r in results},
            "problems": problems,
            "findings": rewriter.findings,
            "orphans": orphans,
            "plan": rewriter.plan if self.dry_run else [],
            "ok": sum(problems.values()) == 0,
        }


def _counted(items: Iterator[Any], bar: Any) -> Iterator[str]:
    for item in items:
        bar.update(1)
        yield item.key


# -- rollback --------------------------------------------------------------------------------
def restore(connection: Any, path: Path, *, dry_run: bool, batch_size: int) -> Counter[str]:
    """Put back the old values listed in a rollback file, where the new value is still there."""
    counts: Counter[str] = Counter()
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise toolkit.ToolError(f"cannot read the rollback file: {exc}") from exc
    with handle:
        entries = (
            parse_rollback_line(path, number, line)
            for number, line in enumerate(handle, start=1)
            if line.strip()
        )
        for batch in _chunks(entries, batch_size):
            _restore_batch(connection, batch, counts, dry_run)
    return counts


def parse_rollback_line(path: Path, number: int, line: str) -> dict[str, Any]:
    """One entry of a rollback file, checked: names are plain identifiers, values are text."""
    try:
        entry = json.loads(line)
        ColumnRef.parse(".".join(filter(None, (entry.get("schema"), entry["table"], entry["column"]))))
        for name in entry["primary_key"]:
            db.quote_identifier(name)
        if not isinstance(entry["old"], str | None) or not isinstance(entry["new"], str):
            raise ValueError("old and new must be text")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise toolkit.ToolError(f"{path}:{number} is not a rollback line ({exc})") from exc
    return dict(entry)


def _chunks(entries: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(entries)
    while batch := list(islice(iterator, size)):
        yield batch


def _restore_batch(connection: Any, batch: list[dict[str, Any]], counts: Counter[str], dry_run: bool) -> None:
    connection.begin()
    try:
        with connection.cursor() as cursor:
            for entry in batch:
                counts[_restore_entry(cursor, entry, dry_run)] += 1
        if dry_run:
            connection.rollback()
        else:
            connection.commit()
    except Exception:
        connection.rollback()
        raise


def _restore_entry(cursor: Any, entry: dict[str, Any], dry_run: bool) -> str:
    """Restore one value (under a row lock); return what happened, as a count name."""
    ref = ColumnRef(entry.get("schema"), entry["table"], entry["column"])
    pk = entry["primary_key"]
    where = " AND ".join(f"{db.quote_identifier(c)} = %s" for c in pk)
    values = [decode_key_value(v) for v in pk.values()]
    column = db.quote_identifier(ref.column)
    cursor.execute(f"SELECT {column} AS __value FROM {ref.sql_table} WHERE {where} FOR UPDATE", values)
    row = cursor.fetchone()
    if row is None:
        return "row_gone"
    if row["__value"] != entry["new"]:
        return "changed_since"
    if dry_run:
        return "to_restore"
    cursor.execute(f"UPDATE {ref.sql_table} SET {column} = %s WHERE {where}", [entry["old"], *values])
    return "restored"
