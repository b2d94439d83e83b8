"""Rewrite the legacy database's references to share files into S3 keys, and undo it.

    python -m scripts.rewrite_refs --database-url mysql://admin@127.0.0.1:3306/legacy \\
        --bucket DOCUMENTS_BUCKET --config rewrite.toml --dry-run      # print the plan, change nothing
    python -m scripts.rewrite_refs ... --config rewrite.toml --rollback-file rewrite-1.jsonl \\
        --report rewrite.json
    python -m scripts.rewrite_refs --database-url ... --rollback rewrite-1.jsonl   # restore the old values

The columns to rewrite (``table.column`` or ``schema.table.column``; each table needs a primary
key, read from information_schema) and the spellings of the share come from a TOML file or
flags::

    columns = ["attachments.path", "notes.file_ref"]
    share_roots = ['\\\\10.0.20.1\\share', '\\\\FILESRV\\share']   # every alias of the migrated folder
    prefix = "legacy/"
    [drives]                                   # drive letters mapped on the legacy clients
    S = '\\\\10.0.20.1\\share'
    P = '\\\\10.0.20.1\\share\\projects'

A value such as ``\\\\10.0.20.1\\share\\Dir\\File.PDF``, ``//10.0.20.1/share/dir/file.pdf`` or
``S:\\dir\\file.pdf`` (any case in the host, share and drive) becomes the key of the object that
DataSync wrote for that file, ``legacy/dir/file.pdf``, the path being matched case-insensitively
against the objects as SMB matches names. The keys are listed once into a temporary SQLite
index, so millions of objects do not sit in memory.

* **dangling** references (no such object) are reported and left alone unless ``--force``;
  **ambiguous** ones (several objects differ only by case) and **invalid** ones (``..`` segments,
  folders) are reported and never changed; a value that is a path but not on the migrated
  folder is reported as **unmapped**;
* **orphans**, objects under the prefix that no configured column refers to, are reported;
* each change is written to the rollback file (JSON lines: table, primary key, column, old
  value, new value) and flushed *before* its transaction commits; ``--rollback FILE`` puts the
  old values back, only where the column still holds the new one;
* rows are re-read with ``SELECT ... FOR UPDATE`` inside each batch's transaction, so a value
  changed by someone else since the plan was made is left alone;
* idempotent: a rewritten value is an S3 key, which a second run recognises and leaves alone
  (it only checks that the object exists).

Exit status: 0 when every reference points to an existing object, 1 when some do not (dangling,
ambiguous, invalid, unmapped or too long for its column), 2 on bad input or unreachable services.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
import tempfile
import tomllib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents import db
from scripts.operator_tools.documents.paths import (
    LegacyPathParser,
    UnsafePathError,
    normalise_prefix,
    smb_fold,
)
from scripts.operator_tools.documents.s3 import DEFAULT_REGION, iter_objects, make_client

PROBLEM_KINDS = ("dangling", "ambiguous", "invalid", "unmapped", "too_long")
_LOOKS_LIKE_PATH = re.compile(r"^([\\/]{2}[^\\/]|[A-Za-z]:[\\/])")


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

    def load(self, keys: Iterator[str]) -> int:
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


@dataclass
class RewriteConfig:
    columns: list[ColumnRef]
    parser: LegacyPathParser
    prefix: str

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RewriteConfig:
        data: dict[str, Any] = {}
        if args.config:
            try:
                data = tomllib.loads(args.config.read_text(encoding="utf-8"))
            except OSError as exc:
                raise toolkit.ToolError(f"cannot read the config file: {exc}") from exc
            except tomllib.TOMLDecodeError as exc:
                raise toolkit.ToolError(f"{args.config} is not valid TOML: {exc}") from exc
            unknown = set(data) - {"columns", "share_roots", "drives", "prefix"}
            if unknown:
                raise toolkit.ToolError(f"{args.config}: unknown setting(s) {', '.join(sorted(unknown))}")
        columns = [ColumnRef.parse(c) for c in (args.column or data.get("columns") or [])]
        if not columns:
            raise toolkit.ToolError(
                "no columns to rewrite: pass --column table.column or columns in --config"
            )
        roots = args.share_root or data.get("share_roots") or []
        drives = dict(data.get("drives") or {})
        for item in args.drive or []:
            letter, sep, target = item.partition("=")
            if not sep:
                raise toolkit.ToolError(f"--drive {item!r}: expected LETTER=\\\\server\\share")
            drives[letter] = target
        try:
            parser = LegacyPathParser.from_strings(roots, drives)
        except ValueError as exc:
            raise toolkit.ToolError(str(exc)) from exc
        prefix = normalise_prefix(args.prefix or data.get("prefix") or "legacy/")
        if not prefix:
            raise toolkit.ToolError("the prefix cannot be empty")
        return cls(columns, parser, prefix)


# -- JSON for primary keys -------------------------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"hex": bytes(value).hex()}
    if isinstance(value, int | str | float) or value is None:
        return value
    return str(value)


def _decode(value: Any) -> Any:
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


class Rewriter:
    def __init__(
        self,
        connection: Any,
        config: RewriteConfig,
        index: KeyIndex,
        *,
        dry_run: bool,
        force: bool,
        rollback: Any,
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
        if str(row["type"]).lower() not in {"char", "varchar", "tinytext", "text", "mediumtext", "longtext"}:
            raise toolkit.ToolError(f"column {ref.name} is {row['type']}, not a text column")
        return int(row["length"]) if row["length"] is not None else None

    # -- classification ------------------------------------------------------------------
    def _finding(self, kind: str, ref: ColumnRef, pk: dict[str, Any], value: str, **extra: Any) -> None:
        self.totals[kind] += 1
        if len(self.findings[kind]) < self.max_listed:
            self.findings[kind].append({"column": ref.name, "primary_key": pk, "value": value, **extra})

    def target_for(
        self, ref: ColumnRef, pk: dict[str, Any], value: str | None, counts: Counter[str]
    ) -> str | None:
        """The new value of this cell, or None to leave it alone (after counting why)."""
        if value is None or not str(value).strip():
            counts["empty"] += 1
            return None
        value = str(value)
        prefix = self.config.prefix
        if value.startswith(prefix):
            counts["already_rewritten"] += 1
            if self.index.exists(value):
                self.index.mark(value)
            else:
                self._finding("dangling", ref, pk, value, expected_key=value)
            return None
        try:
            parsed = self.config.parser.parse(value)
        except UnsafePathError as exc:
            self._finding("invalid", ref, pk, value, reason=str(exc))
            return None
        if parsed is None:
            if _LOOKS_LIKE_PATH.match(value.strip()):
                self._finding("unmapped", ref, pk, value, reason="a path outside the migrated share folder")
            else:
                counts["not_a_path"] += 1
            return None
        if parsed.is_folder:
            self._finding("invalid", ref, pk, value, reason="names a folder, not a file")
            return None
        wanted = parsed.key(prefix)
        if self.index.exists(wanted):
            self.index.mark(wanted)
            return wanted
        candidates = self.index.candidates(parsed.relative)
        if len(candidates) == 1:
            self.index.mark(candidates[0])
            return candidates[0]
        if len(candidates) > 1:
            self._finding("ambiguous", ref, pk, value, candidates=sorted(candidates)[:10])
            return None
        self._finding("dangling", ref, pk, value, expected_key=wanted, forced=self.force)
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
        counts = result.counts
        for batch in self.rows(ref, pk):
            changes: list[Change] = []
            for row in batch:
                counts["rows"] += 1
                key_values = tuple(row[c] for c in pk)
                pk_json = {c: _encode(v) for c, v in zip(pk, key_values, strict=True)}
                target = self.target_for(ref, pk_json, row["__value"], counts)
                if target is None or target == row["__value"]:
                    continue
                if length is not None and len(target) > length:
                    self._finding("too_long", ref, pk_json, row["__value"], new_value=target, limit=length)
                    continue
                changes.append(Change(key_values, row["__value"], target))
            bar.update(len(batch))
            if not changes:
                continue
            if self.dry_run:
                counts["to_rewrite"] += len(changes)
                for change in changes:
                    if len(self.plan) < self.max_listed:
                        self.plan.append(self._line(ref, pk, change))
                continue
            self._apply(ref, pk, changes, counts)
        return result

    @staticmethod
    def _line(ref: ColumnRef, pk: list[str], change: Change) -> dict[str, Any]:
        return {
            "schema": ref.schema,
            "table": ref.table,
            "primary_key": {c: _encode(v) for c, v in zip(pk, change.key, strict=True)},
            "column": ref.column,
            "old": change.old,
            "new": change.new,
        }

    def _apply(self, ref: ColumnRef, pk: list[str], changes: list[Change], counts: Counter[str]) -> None:
        pk_sql = ", ".join(db.quote_identifier(c) for c in pk)
        column = db.quote_identifier(ref.column)
        one = "(" + ", ".join(["%s"] * len(pk)) + ")"
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
                for change in still:
                    self.rollback.write(json.dumps(self._line(ref, pk, change), ensure_ascii=False) + "\n")
                self.rollback.flush()
                os.fsync(self.rollback.fileno())
                where = " AND ".join(f"{db.quote_identifier(c)} = %s" for c in pk)
                cursor.executemany(
                    f"UPDATE {ref.sql_table} SET {column} = %s WHERE {where}",
                    [(change.new, *change.key) for change in still],
                )
            self.connection.commit()
        except Exception:
            self.connection.rollback()
            raise
        counts["rewritten"] += len(still)


# -- rollback --------------------------------------------------------------------------------
def restore(connection: Any, path: Path, *, dry_run: bool, batch_size: int) -> Counter[str]:
    """Put back the old values listed in a rollback file, where the new value is still there."""
    counts: Counter[str] = Counter()
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise toolkit.ToolError(f"cannot read the rollback file: {exc}") from exc
    with handle:
        batch: list[dict[str, Any]] = []
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                ColumnRef.parse(
                    ".".join(filter(None, (entry.get("schema"), entry["table"], entry["column"])))
                )
                for name in entry["primary_key"]:
                    db.quote_identifier(name)
                if not isinstance(entry["old"], str | None) or not isinstance(entry["new"], str):
                    raise ValueError("old and new must be text")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise toolkit.ToolError(f"{path}:{number} is not a rollback line ({exc})") from exc
            batch.append(entry)
            if len(batch) >= batch_size:
                _restore_batch(connection, batch, counts, dry_run)
                batch = []
        _restore_batch(connection, batch, counts, dry_run)
    return counts


def _restore_batch(connection: Any, batch: list[dict[str, Any]], counts: Counter[str], dry_run: bool) -> None:
    if not batch:
        return
    connection.begin()
    try:
        with connection.cursor() as cursor:
            for entry in batch:
                ref = ColumnRef(entry.get("schema"), entry["table"], entry["column"])
                pk = entry["primary_key"]
                where = " AND ".join(f"{db.quote_identifier(c)} = %s" for c in pk)
                values = [_decode(v) for v in pk.values()]
                column = db.quote_identifier(ref.column)
                cursor.execute(
                    f"SELECT {column} AS __value FROM {ref.sql_table} WHERE {where} FOR UPDATE", values
                )
                row = cursor.fetchone()
                if row is None:
                    counts["row_gone"] += 1
                elif row["__value"] != entry["new"]:
                    counts["changed_since"] += 1
                elif dry_run:
                    counts["to_restore"] += 1
                else:
                    cursor.execute(
                        f"UPDATE {ref.sql_table} SET {column} = %s WHERE {where}", [entry["old"], *values]
                    )
                    counts["restored"] += 1
        if dry_run:
            connection.rollback()
        else:
            connection.commit()
    except Exception:
        connection.rollback()
        raise


# -- command line ----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.rewrite_refs",
        description="Rewrite legacy share paths in database columns into S3 keys (with a rollback file), "
        "report dangling references and orphan objects, or restore from a rollback file. "
        "Exit 0 when every reference resolves, 1 otherwise, 2 on bad input.",
    )
    parser.add_argument("--bucket", help="the documents bucket (required unless --rollback)")
    parser.add_argument("--prefix", help="key prefix of the migrated share (default legacy/)")
    parser.add_argument("--config", type=Path, help="TOML file: columns, share_roots, [drives], prefix")
    parser.add_argument(
        "--column", action="append", metavar="TABLE.COLUMN", help="a column to rewrite (repeatable)"
    )
    parser.add_argument(
        "--share-root", action="append", metavar="UNC", help="\\\\server\\share[\\folder] (repeatable)"
    )
    parser.add_argument(
        "--drive", action="append", metavar="LETTER=UNC", help="S=\\\\10.0.20.1\\share (repeatable)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the plan and the findings; change nothing"
    )
    parser.add_argument(
        "--force", action="store_true", help="also rewrite references whose object does not exist"
    )
    parser.add_argument(
        "--rollback-file", type=Path, help="where to record the changes (default: timestamped)"
    )
    parser.add_argument("--rollback", type=Path, metavar="FILE", help="restore the old values from this file")
    parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")
    parser.add_argument("--max-listed", type=int, default=10000, help="findings kept per kind in the report")
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"AWS region (default {DEFAULT_REGION})")
    parser.add_argument("--endpoint-url", help="S3 endpoint (a local S3-compatible server)")
    toolkit.add_progress_arguments(parser)
    db.add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None, *, client: Any = None) -> int:
    args = build_parser().parse_args(argv)
    if args.batch_size < 1:
        raise toolkit.ToolError("--batch-size must be at least 1")
    if args.rollback:
        return _main_rollback(args)
    if not args.bucket:
        raise toolkit.ToolError("--bucket is required to rewrite (the objects decide what a path becomes)")
    config = RewriteConfig.from_args(args)
    s3 = client or make_client("s3", region=args.region, endpoint_url=args.endpoint_url)
    s3.head_bucket(Bucket=args.bucket)
    connection = db.connect_from_args(args)
    started = toolkit.utc_now()
    rollback_path = args.rollback_file or Path(f"rewrite-refs-rollback-{started:%Y%m%dT%H%M%SZ}.jsonl")
    results: list[ColumnResult] = []
    with tempfile.TemporaryDirectory(prefix="rewrite-refs-") as scratch:
        index = KeyIndex(scratch, config.prefix)
        try:
            listing = toolkit.progress(desc="listing S3", unit=" keys", enabled=args.progress)
            with listing:
                index.load(_counted(iter_objects(s3, args.bucket, config.prefix), listing))
            rollback = None if args.dry_run else rollback_path.open("a", encoding="utf-8")
            try:
                rewriter = Rewriter(
                    connection,
                    config,
                    index,
                    dry_run=args.dry_run,
                    force=args.force,
                    rollback=rollback,
                    batch_size=args.batch_size,
                    max_listed=args.max_listed,
                )
                for ref in config.columns:
                    with toolkit.progress(desc=ref.name, unit=" rows", enabled=args.progress) as bar:
                        results.append(rewriter.rewrite_column(ref, bar))
            finally:
                if rollback is not None:
                    rollback.close()
            orphans = list(_take(index.orphans(), args.max_listed))
            orphan_count = index.orphan_count()
            object_count = index.count
        finally:
            index.close()
            connection.close()
    if not args.dry_run and rollback_path.exists() and rollback_path.stat().st_size == 0:
        rollback_path.unlink()  # nothing changed: no empty file to keep

    problems = {kind: rewriter.totals[kind] for kind in PROBLEM_KINDS}
    report = {
        "bucket": args.bucket,
        "prefix": config.prefix,
        "dry_run": args.dry_run,
        "force": args.force,
        "started_at": toolkit.iso(started),
        "finished_at": toolkit.iso(toolkit.utc_now()),
        "rollback_file": None if args.dry_run or not rollback_path.exists() else str(rollback_path),
        "objects": object_count,
        "columns": {r.column: dict(sorted(r.counts.items())) for r in results},
        "problems": problems,
        "findings": rewriter.findings,
        "orphans": {"count": orphan_count, "keys": orphans},
        "plan": rewriter.plan if args.dry_run else [],
        "ok": sum(problems.values()) == 0,
    }
    toolkit.write_report(args.report, report)
    _print_summary(report, args.dry_run)
    return toolkit.EXIT_OK if report["ok"] else toolkit.EXIT_FAILED


def _counted(items: Iterator[Any], bar: Any) -> Iterator[str]:
    for item in items:
        bar.update(1)
        yield item.key


def _take(items: Iterator[str], count: int) -> Iterator[str]:
    for number, item in enumerate(items):
        if number >= count:
            return
        yield item


def _print_summary(report: dict[str, Any], dry_run: bool) -> None:
    lines = []
    if dry_run:
        lines.append(f"DRY RUN: nothing changed. Plan ({len(report['plan'])} listed):")
        for item in report["plan"][:200]:
            lines.append(
                f"  {item['table']}.{item['column']} {item['primary_key']}: "
                f"{item['old']!r} -> {item['new']!r}"
            )
        if len(report["plan"]) > 200:
            lines.append("  ... (the JSON report lists more)")
    for column, counts in report["columns"].items():
        done = counts.get("to_rewrite", 0) if dry_run else counts.get("rewritten", 0)
        lines.append(
            f"{column}: {counts.get('rows', 0)} rows, {'would rewrite' if dry_run else 'rewrote'} {done}, "
            f"already rewritten {counts.get('already_rewritten', 0)}, "
            f"not a path {counts.get('not_a_path', 0)}, "
            f"empty {counts.get('empty', 0)}"
            + (
                f", changed concurrently {counts['changed_concurrently']}"
                if counts.get("changed_concurrently")
                else ""
            )
        )
    lines.append("problems: " + ", ".join(f"{kind} {count}" for kind, count in report["problems"].items()))
    for kind, items in report["findings"].items():
        for item in items[:10]:
            lines.append(f"  {kind:<9} {item['column']} {item['primary_key']}: {item['value']!r}")
    lines.append(f"orphans: {report['orphans']['count']} of {report['objects']} objects nothing refers to")
    if report["rollback_file"]:
        lines.append(f"rollback file: {report['rollback_file']}")
    lines.append(
        "result: " + ("every reference resolves" if report["ok"] else "some references do not resolve")
    )
    print("\n".join(lines))


def _main_rollback(args: argparse.Namespace) -> int:
    connection = db.connect_from_args(args)
    try:
        counts = restore(connection, args.rollback, dry_run=args.dry_run, batch_size=args.batch_size)
    finally:
        connection.close()
    report = {"rollback_file": str(args.rollback), "dry_run": args.dry_run, "counts": dict(counts)}
    toolkit.write_report(args.report, report)
    verb = "would restore" if args.dry_run else "restored"
    done = counts["to_restore"] if args.dry_run else counts["restored"]
    print(
        f"{'DRY RUN: ' if args.dry_run else ''}{verb} {done} value(s); left alone {counts['changed_since']} "
        f"changed since the rewrite and {counts['row_gone']} whose row is gone"
    )
    return toolkit.EXIT_OK


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
