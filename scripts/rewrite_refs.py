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

A value such as ``\\\\10.0.20.1\\share\\Dir\\File.PDF``, ``//10.0.20.1/share/dir/file.pdf``,
``S:\\dir\\file.pdf`` or a ``file:`` URL (``file://10.0.20.1/share/...``, ``file:///S:/...``,
``file://///10.0.20.1/share/...``, percent-encoded or not), with any case in the host, share and
drive, becomes the key of the object that
DataSync wrote for that file, ``legacy/dir/file.pdf``, the path being matched case-insensitively
against the objects as SMB matches names. The keys are listed once into a temporary SQLite
index, so millions of objects do not sit in memory.

* **dangling** references (no such object) are reported and left alone unless ``--force``;
  **ambiguous** ones (several objects differ only by case) and **invalid** ones (``..`` segments,
  folders) are reported and never changed; a value that is a path but not on the migrated
  folder, or text that names the share inside other words, is reported as **unmapped** (the
  run never claims that every reference resolves while one to the share remains);
* **orphans**, objects under the prefix that no configured column refers to, are reported;
* each change is written to the rollback file (JSON lines: table, primary key, column, old
  value, new value) and flushed *before* its transaction commits; ``--rollback FILE`` puts the
  old values back, only where the column still holds the new one;
* rows are re-read with ``SELECT ... FOR UPDATE`` inside each batch's transaction, so a value
  changed by someone else since the plan was made is left alone;
* idempotent: a rewritten value is an S3 key, which a second run recognises and leaves alone
  (it only checks that the object exists).

The engine is ``scripts/operator_tools/documents/references.py``.

Exit status: 0 when every reference points to an existing object, 1 when some do not (dangling,
ambiguous, invalid, unmapped or too long for its column), 2 on bad input or unreachable services.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents import db
from scripts.operator_tools.documents.references import (
    RewriteConfig,
    RewriteRun,
    load_config_file,
    restore,
)
from scripts.operator_tools.documents.s3 import DEFAULT_REGION, make_client


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
    config = RewriteConfig.build(
        load_config_file(args.config),
        columns=args.column,
        share_roots=args.share_root,
        drives=args.drive,
        prefix=args.prefix,
    )
    s3 = client or make_client("s3", region=args.region, endpoint_url=args.endpoint_url)
    s3.head_bucket(Bucket=args.bucket)
    rollback_path = args.rollback_file or Path(
        f"rewrite-refs-rollback-{toolkit.utc_now():%Y%m%dT%H%M%SZ}.jsonl"
    )
    connection = db.connect_from_args(args)
    try:
        report = RewriteRun(
            connection,
            s3,
            args.bucket,
            config,
            dry_run=args.dry_run,
            force=args.force,
            rollback_path=rollback_path,
            batch_size=args.batch_size,
            max_listed=args.max_listed,
            progress=args.progress,
        ).execute()
    finally:
        connection.close()
    toolkit.write_report(args.report, report)
    _print_summary(report, args.dry_run)
    return toolkit.EXIT_OK if report["ok"] else toolkit.EXIT_FAILED


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
