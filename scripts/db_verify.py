"""Prove that a target database holds what the source holds: structure, objects and rows.

    python -m scripts.db_verify --source-url mysql://verify@10.0.20.2/patronus \\
        --target-url mysql://patronus_admin@$AURORA_WRITER:3306/legacy --source-password-file src.pw \\
        --target-password-file aurora.pw --consistent-snapshot --report verify.json

Compared: tables, columns, indexes, foreign keys; views, routines, triggers and events (their
definitions, normalised so that DEFINER and whitespace do not count); row counts; and content
checksums computed on each server per primary-key chunk of ``--chunk-size`` rows, naming the
first differing chunk, its key range and the differing keys. Tables without a primary key are
compared with an order-independent checksum over all rows.

``--consistent-snapshot`` reads each side in one REPEATABLE READ transaction started WITH
CONSISTENT SNAPSHOT (use it on a live source; freeze writes for the final proof).

Exit status: 0 when everything is equal, 1 on any difference, 2 on a usage or connection error.
Passwords: ``--source-password-file`` / ``--target-password-file``, the variables
SOURCE_MYSQL_PWD / TARGET_MYSQL_PWD (then MYSQL_PWD), or a prompt.
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
from scripts.operator_tools.database.connection import add_connection_arguments, spec_from_args
from scripts.operator_tools.database.guard import refuse_application_schema
from scripts.operator_tools.database.verifier import (
    CHECKS,
    DEFAULT_CHUNK_SIZE,
    VerifyError,
    VerifyOptions,
    VerifyResult,
    verify,
)


def _checks(value: str) -> tuple[str, ...]:
    checks = tuple(c.strip() for c in value.split(",") if c.strip())
    if not checks or any(c not in CHECKS for c in checks):
        raise argparse.ArgumentTypeError(f"checks are a comma-separated subset of {','.join(CHECKS)}")
    return tuple(c for c in CHECKS if c in checks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="db_verify",
        description=(
            "Compare a source and a target MySQL/MariaDB/Aurora schema: structure, objects, rows, checksums."
        ),
        epilog="Exit status: 0 equal, 1 differences found, 2 usage or connection error.",
    )
    add_connection_arguments(parser, prefix="source-", role="source", env_var="SOURCE_MYSQL_PWD")
    add_connection_arguments(parser, prefix="target-", role="target", env_var="TARGET_MYSQL_PWD")
    parser.add_argument(
        "--checks",
        type=_checks,
        default=CHECKS,
        metavar="LIST",
        help=f"what to compare, among {','.join(CHECKS)} (default: all)",
    )
    parser.add_argument(
        "--chunk-size",
        type=toolkit.positive_int,
        default=DEFAULT_CHUNK_SIZE,
        metavar="ROWS",
        help=f"rows per checksum chunk (default {DEFAULT_CHUNK_SIZE})",
    )
    parser.add_argument(
        "--consistent-snapshot",
        action="store_true",
        help="read each side in one REPEATABLE READ transaction WITH CONSISTENT SNAPSHOT (live source)",
    )
    parser.add_argument(
        "--exclude-table", action="append", default=[], metavar="NAME", help="leave a table out (repeatable)"
    )
    parser.add_argument(
        "--application-schema",
        action="store_true",
        help="compare the application's own schema (a restore, docs/operations.md 6.2), "
        "refused otherwise: the legacy migration is verified on its own schema",
    )
    parser.add_argument("--report", type=Path, metavar="FILE", help="write a JSON report to FILE")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="always show progress bars"
    )
    shown.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show progress bars"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    source = spec_from_args(args, prefix="source-", role="source", env_vars=("SOURCE_MYSQL_PWD", "MYSQL_PWD"))
    target = spec_from_args(args, prefix="target-", role="target", env_vars=("TARGET_MYSQL_PWD", "MYSQL_PWD"))
    if not args.application_schema:
        # The source is the legacy server, whose schema may be called patronus too: its content decides.
        refuse_application_schema(source, tool="db_verify", check_name=False)
        refuse_application_schema(target, tool="db_verify")
    options = VerifyOptions(
        checks=args.checks,
        chunk_size=args.chunk_size,
        consistent_snapshot=args.consistent_snapshot,
        exclude_tables=frozenset(args.exclude_table),
        progress=args.progress,
    )
    started = toolkit.iso()
    try:
        result = verify(source, target, options)
    except VerifyError as exc:
        print(f"error: could not verify: {exc}", file=sys.stderr)
        toolkit.write_report(
            args.report, {"tool": "db_verify", "started_at": started, "outcome": "error", "error": str(exc)}
        )
        return toolkit.EXIT_USAGE
    report: dict[str, Any] = {
        "tool": "db_verify",
        "started_at": started,
        "finished_at": toolkit.iso(),
        "source": source.public(),
        "target": target.public(),
        "server_versions": result.server_versions,
        "checks": list(options.checks),
        "chunk_size": options.chunk_size,
        "consistent_snapshot": options.consistent_snapshot,
        "excluded_tables": sorted(options.exclude_tables),
        "equal": result.equal,
        "outcome": "equal" if result.equal else "different",
        "counts": result.counts,
        "differences": [d.as_dict() for d in result.differences],
        "notes": result.notes,
        "tables": {name: vars(report) for name, report in result.tables.items()},
        "seconds": result.seconds,
    }
    toolkit.write_report(args.report, report)
    print_summary(result, source.describe(), target.describe(), options, args.report)
    return toolkit.EXIT_OK if result.equal else toolkit.EXIT_FAILED


def print_summary(
    result: VerifyResult, source: str, target: str, options: VerifyOptions, report: Path | None
) -> None:
    print(f"source: {source} ({result.server_versions.get('source', '?')})")
    print(f"target: {target} ({result.server_versions.get('target', '?')})")
    counts = result.counts
    print(
        f"compared: {counts.get('tables', 0)} tables, {counts.get('views', 0)} views, "
        f"{counts.get('routines', 0)} routines, {counts.get('triggers', 0)} triggers, "
        f"{counts.get('events', 0)} events "
        f"[{', '.join(options.checks)}]{' in consistent snapshots' if options.consistent_snapshot else ''}"
    )
    rows = sum(t.rows_source or 0 for t in result.tables.values())
    chunks = sum(t.chunks for t in result.tables.values())
    if result.tables:
        print(f"rows: {rows} in the source; {chunks} checksum chunks")
    for note in result.notes:
        print(f"note: {note}")
    if result.equal:
        print(f"EQUAL: no difference found ({result.seconds:.1f} s)")
    else:
        print(f"DIFFERENT: {len(result.differences)} difference(s) ({result.seconds:.1f} s)")
        for difference in result.differences:
            print(f"  - {difference.object}: {difference.detail}")
    if report is not None:
        print(f"report: {report}")


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
