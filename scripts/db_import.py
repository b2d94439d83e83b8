"""Load a mysqldump / mariadb-dump file (plain or .gz) into a MySQL-compatible database.

Built for the move of the legacy Patronus database to Aurora MySQL 3, through a tunnel or
locally, and resumable:

    python -m scripts.db_import legacy.sql.gz --url mysql://patronus_admin@$AURORA_WRITER:3306/legacy \\
        --password-file ~/.aurora-password --workers 4 --report import.json

What it does, in order: scans the dump once (a progress bar in bytes), rewrites what Aurora
refuses to a user without SUPER (DEFINER clauses, SET @@GLOBAL.GTID_PURGED, SQL_LOG_BIN,
NO_AUTO_CREATE_USER, MyISAM...; each kind is counted in the summary), creates the tables, loads
the rows with ``--workers`` parallel connections, then creates views, routines, triggers and
events (so no trigger fires during the load). Interrupted? Run the same command again: finished
tables are kept, the others are re-created and reloaded.

A dump that does not end with the client's ``-- Dump completed`` line, or holds no statement, is
refused unless ``--accept-partial-dump`` (``--compact`` dumps have no such line). A missing target
database is created with the source's defaults when the dump names them (``--databases``).

Exit status (the JSON report is written in every case):

* 0: the import completed;
* 1: interrupted by the operator: run the same command again to resume;
* 2: refused, nothing was changed: a bad option, an unreadable or unfinished dump, an
  unreachable server, a target that is not empty;
* 3: the load failed part-way: the target holds a partial import, which the message describes
  with the commands that resume it (the same command), start it over (``--restart``) or remove
  it (``--clean``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.operator_tools import toolkit
from scripts.operator_tools.database.connection import (
    ConnectionSpec,
    add_connection_arguments,
    spec_from_args,
)
from scripts.operator_tools.database.guard import refuse_application_schema
from scripts.operator_tools.database.importer import (
    DEFAULT_WORKERS,
    PHASES,
    STATE_TABLE,
    Importer,
    ImportFailed,
    ImportInterrupted,
    ImportOptions,
    ImportResult,
    clean_target,
    target_state,
)
from scripts.operator_tools.database.rewrite import RewriteOptions
from scripts.operator_tools.database.scanner import DEFAULT_BATCH_BYTES, Batch, Plan, plan_dump


def _phases(value: str) -> tuple[str, ...]:
    phases = tuple(p.strip() for p in value.split(",") if p.strip())
    unknown = [p for p in phases if p not in PHASES]
    if unknown or not phases:
        raise argparse.ArgumentTypeError(f"phases are a comma-separated subset of {','.join(PHASES)}")
    return tuple(p for p in PHASES if p in phases)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="db_import",
        description=(
            "Import a mysqldump/mariadb-dump file (plain or gzip) into MySQL, MariaDB or Aurora MySQL: "
            "Aurora-safe rewrites, parallel load, resumable, JSON report."
        ),
        epilog=(
            "The password comes from --password-file, the MYSQL_PWD variable or a prompt, never from a flag. "
            f"Progress is kept in the table {STATE_TABLE} of the target database until the import completes."
        ),
    )
    parser.add_argument("dump", type=Path, nargs="?", help="the dump file (.sql or .sql.gz)")
    add_connection_arguments(parser, role="target")
    parser.add_argument(
        "--workers",
        type=toolkit.positive_int,
        default=DEFAULT_WORKERS,
        help=f"parallel loading connections (default {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--phases",
        type=_phases,
        default=PHASES,
        metavar="LIST",
        help="what to run, among schema,data,post (default: all). "
        "'schema' before a DMS full load; 'post' (views, routines, triggers, events) at cutover",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="scan the dump, report the plan and the rewrites, change nothing",
    )
    parser.add_argument("--report", type=Path, metavar="FILE", help="write a JSON report to FILE")
    parser.add_argument(
        "--force", action="store_true", help="import even if the target database already holds tables"
    )
    parser.add_argument(
        "--application-schema",
        action="store_true",
        help="allow the application's own schema as target: restores (docs/operations.md, 6.2) only; "
        "the legacy migration never writes there",
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="drop what an unfinished import created (its tables, views, routines, triggers, events) "
        "and start over from this dump",
    )
    parser.add_argument(
        "--clean",
        action="store_true",
        help="only drop what an unfinished import created, and its state table; no dump needed",
    )
    parser.add_argument(
        "--accept-partial-dump",
        action="store_true",
        help="import a dump that lacks the client's '-- Dump completed' line (--compact dumps) "
        "or holds no statement; refused otherwise",
    )
    parser.add_argument(
        "--keep-state", action="store_true", help=f"keep {STATE_TABLE} after a complete import"
    )
    parser.add_argument(
        "--batch-size",
        type=toolkit.positive_int,
        default=DEFAULT_BATCH_BYTES // 1024,
        metavar="KIB",
        help=f"group INSERTs into transactions of about KIB KiB (default {DEFAULT_BATCH_BYTES // 1024})",
    )
    parser.add_argument(
        "--load-data",
        choices=("auto", "off"),
        default="auto",
        help="auto: load rows with LOAD DATA LOCAL INFILE when the target allows it (local_infile=ON), "
        "replaying any batch that draws a warning as plain INSERTs; off: INSERTs only",
    )
    rewrites = parser.add_argument_group("rewrites (defaults suit Aurora MySQL 3)")
    rewrites.add_argument(
        "--keep-definer", action="store_true", help="keep DEFINER clauses (needs SUPER/SET_USER_ID)"
    )
    rewrites.add_argument(
        "--sql-security",
        choices=("definer", "invoker"),
        default="definer",
        help="'invoker' turns SQL SECURITY DEFINER into INVOKER (default: keep)",
    )
    rewrites.add_argument("--keep-engines", action="store_true", help="keep MyISAM/Aria instead of InnoDB")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="always show progress bars"
    )
    shown.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show progress bars"
    )
    return parser


def main(argv: Sequence[str] | None = None, *, on_batch: Callable[[Batch], None] | None = None) -> int:
    args = build_parser().parse_args(argv)
    report: dict[str, Any] = {
        "tool": "db_import",
        "started_at": toolkit.iso(),
        "dry_run": args.dry_run,
        "workers": args.workers,
        "phases": list(args.phases),
        "outcome": "refused",
    }
    try:  # the report is written on every exit, with what is known by then
        target = spec_from_args(args, role="target", require_database=not args.dry_run)
        report["target"] = target.public()
        if not args.application_schema:  # by name now; by content once the dump is known good
            refuse_application_schema(target, tool="db_import", check_content=False)
        if args.clean:
            _refuse_by_content(args, target)
            return _clean(target, report)
        if args.dump is None:
            raise toolkit.ToolError("name the dump file (or pass --clean)")
        return _import(args, target, report, on_batch)
    except toolkit.ToolError as exc:
        report.update(outcome="refused", error=str(exc))
        raise
    finally:
        report["finished_at"] = toolkit.iso()
        toolkit.write_report(args.report, report)


def _rewrite_options(args: argparse.Namespace) -> RewriteOptions:
    return RewriteOptions(
        remove_definer=not args.keep_definer,
        sql_security_invoker=args.sql_security == "invoker",
        engine_to_innodb=not args.keep_engines,
    )


def _import(
    args: argparse.Namespace,
    target: ConnectionSpec,
    report: dict[str, Any],
    on_batch: Callable[[Batch], None] | None,
) -> int:
    if args.dry_run:
        plan = plan_dump(
            args.dump,
            rewrite=_rewrite_options(args),
            batch_bytes=args.batch_size * 1024,
            progress=args.progress,
            accept_partial=args.accept_partial_dump,
        )
        print_header(plan, target.describe())
        print_plan(plan, detailed=True)
        report.update(plan=plan.summary(), outcome="planned")
        print("dry run: nothing was changed")
        return toolkit.EXIT_OK
    options = ImportOptions(
        workers=args.workers,
        phases=args.phases,
        force=args.force,
        restart=args.restart,
        keep_state=args.keep_state,
        progress=args.progress,
        load_data=args.load_data == "auto",
        batch_bytes=args.batch_size * 1024,
        rewrite=_rewrite_options(args),
        accept_partial_dump=args.accept_partial_dump,
        on_batch=on_batch,
    )
    importer = Importer(args.dump, target, options)
    _refuse_by_content(args, target)
    report["plan"] = importer.plan.summary()
    print_header(importer.plan, target.describe())
    sys.stdout.flush()
    code = toolkit.EXIT_OK
    try:
        importer.run()
        report["outcome"] = "complete"
    except ImportFailed as exc:
        report.update(outcome="failed", error=str(exc))
        print(f"error: {exc}", file=sys.stderr)
        report["target_state"] = _explain_failure(target)
        code = toolkit.EXIT_LOAD_FAILED
    except ImportInterrupted:
        report.update(outcome="interrupted")
        print("interrupted: run the same command again to resume", file=sys.stderr)
        report["target_state"] = _explain_failure(target)
        code = toolkit.EXIT_FAILED
    finally:
        report.update(plan=importer.plan.summary(), result=result_summary(importer.result))
    print_plan(importer.plan, detailed=False)
    print_result(importer.result, args.report)
    return code


def _refuse_by_content(args: argparse.Namespace, target: ConnectionSpec) -> None:
    """Refuse a target holding the application's schema-migration history (connects once)."""
    if not args.application_schema:
        refuse_application_schema(target, tool="db_import", check_name=False)


def _explain_failure(target: ConnectionSpec) -> str:
    """Tell the operator what the target now holds and the commands that resume or clean it."""
    state, rows = target_state(target)
    lines = [f"target {target.describe()}: {state}"]
    if rows is not None:
        lines += [
            "  resume once the cause is fixed (same dump file): run the same command again",
            "  start over from another or a re-made dump: the same command with --restart "
            "(drops the tables and objects this import created, then imports)",
            "  only remove what this import created: db_import --clean with the same --url",
        ]
    print("\n".join(lines), file=sys.stderr)
    return state


def _clean(target: ConnectionSpec, report: dict[str, Any]) -> int:
    counts = clean_target(target)
    if counts is None:
        print(f"{target.describe()}: no unfinished import to clean ({STATE_TABLE} is absent)")
        report.update(outcome="nothing_to_clean")
        return toolkit.EXIT_OK
    print(
        f"{target.describe()}: dropped {counts.get('tables_dropped', 0)} tables and "
        f"{counts.get('objects_dropped', 0)} views, routines, triggers or events this import created, "
        f"and {STATE_TABLE}"
        + (
            f"; kept {counts['tables_kept']} tables it only loaded (load them again with --phases data)"
            if counts.get("tables_kept")
            else ""
        )
    )
    report.update(outcome="cleaned", cleaned=counts)
    return toolkit.EXIT_OK


def result_summary(result: ImportResult) -> dict[str, Any]:
    return {
        "resumed": result.resumed,
        "server_version": result.server_version,
        "phases_done": result.phases_done,
        "seconds": result.seconds,
        "loaded_bytes": result.loaded_bytes,
        "load_data": result.load_data,
        "load_data_rows": result.rows_loaded,
        "load_data_mismatches": result.load_data_mismatches,
        "database_created": result.database_created,
        "batches": dict(result.batches),
        "tables": [vars(outcome) for outcome in result.tables.values()],
        "warnings": result.warning_samples,
    }


def print_header(plan: Plan, target: str) -> None:
    kind = "gzip" if plan.compressed else "plain"
    print(f"dump: {plan.dump} ({toolkit.human_bytes(plan.size)}, {kind}) -> {target}")


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word}es" if word.endswith(("s", "ch")) else f"{count} {word}s"


def print_plan(plan: Plan, *, detailed: bool) -> None:
    objects = ", ".join(_plural(len(set(names)), kind) for kind, names in plan.objects.items())
    batches = sum(t.batches for t in plan.tables.values())
    statements = sum(t.statements for t in plan.tables.values())
    print(
        f"plan: {_plural(len(plan.tables), 'table')}, {toolkit.human_bytes(plan.data_bytes)} of rows "
        f"in {_plural(statements, 'statement')} ({_plural(batches, 'batch')}); {objects}"
    )
    if detailed:
        for table in plan.tables.values():
            size = toolkit.human_bytes(table.bytes)
            print(f"  table {table.name}: {size}, {_plural(table.statements, 'statement')}")
    rewrites = ", ".join(f"{k} {v}" for k, v in sorted(plan.rewrites.items())) or "none"
    print(f"rewrites: {rewrites}")
    if plan.skipped:
        print(
            "skipped (the importer manages its own transactions): "
            + ", ".join(f"{k} {v}" for k, v in sorted(plan.skipped.items()))
        )
    for warning in plan.warnings:
        print(f"warning: {warning}")


def print_result(result: ImportResult, report: Path | None) -> None:
    outcomes = list(result.tables.values())
    loaded = sum(1 for t in outcomes if t.status == "loaded")
    skipped = sum(1 for t in outcomes if t.status == "skipped")
    unfinished = [t.name for t in outcomes if t.status == "unfinished"]
    line = f"tables: {loaded} loaded, {skipped} already finished"
    if unfinished:
        line += f", {len(unfinished)} not finished ({', '.join(unfinished[:5])})"
    print(line + (" (resumed)" if result.resumed else ""))
    if result.batches:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(result.batches.items()))
        print(f"batches: {counts} (LOAD DATA LOCAL: {result.load_data})")
    for mismatch in result.load_data_mismatches[:5]:
        print(f"  LOAD DATA cross-check: {mismatch}")
    if result.database_created is not None:
        created = result.database_created
        print(f"database created: {created['charset']} / {created['collation']}")
    warned = {t.name: t.warnings for t in outcomes if t.warnings}
    if warned:
        print("server warnings while loading: " + ", ".join(f"{k} {v}" for k, v in warned.items()))
        for sample in result.warning_samples[:5]:
            print(f"  {sample}")
    timing = ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in result.seconds.items())
    print(f"phases done: {', '.join(result.phases_done) or 'none'} ({timing or '-'})")
    if report is not None:
        print(f"report: {report}")


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
