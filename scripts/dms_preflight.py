"""Check that the legacy MySQL can feed an AWS DMS full load + change data capture.

    python -m scripts.dms_preflight --url mysql://dms@10.0.20.2/patronus \\
        --password-file dms.pw --min-retention-hours 48 --report preflight.json

Run it with the account DMS will use (its grants are part of the check). It checks binary
logging (log_bin, server_id, binlog_format=ROW, binlog_row_image=FULL, retention through
binlog_expire_logs_seconds or expire_logs_days, compression, partial JSON), the account's
REPLICATION CLIENT / REPLICATION SLAVE / SELECT grants, tables without a primary key,
storage engines, cascading foreign keys, generated columns and timeouts, and prints what to
change for each problem.

Exit status: 0 when nothing blocks CDC (warnings allowed), 1 when something does, 2 on a usage
or connection error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in {None, ""}:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.operator_tools import toolkit
from scripts.operator_tools.database.connection import add_connection_arguments, spec_from_args
from scripts.operator_tools.database.preflight import BLOCKER, Finding, blockers, evaluate, gather

LABELS = {"ok": "OK", "info": "INFO", "warning": "WARNING", "blocker": "BLOCKER"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dms_preflight",
        description="Check a MySQL/MariaDB source for what AWS DMS full load + CDC needs; say what to fix.",
        epilog="Exit status: 0 ready (warnings allowed), 1 something blocks CDC, 2 usage/connection error.",
    )
    add_connection_arguments(parser, role="source")
    parser.add_argument(
        "--min-retention-hours",
        type=float,
        default=24.0,
        metavar="HOURS",
        help="binary logs must be kept at least this long (default 24)",
    )
    parser.add_argument(
        "--allow-tables-without-key",
        action="store_true",
        help="report tables without primary key as a warning (they are copied outside DMS)",
    )
    parser.add_argument("--report", type=Path, metavar="FILE", help="write a JSON report to FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    source = spec_from_args(args, role="source")
    started = toolkit.iso()
    facts = gather(source)
    findings = evaluate(
        facts,
        min_retention_hours=args.min_retention_hours,
        allow_tables_without_key=args.allow_tables_without_key,
    )
    blocking = blockers(findings)
    warnings = [f for f in findings if f.status == "warning"]
    toolkit.write_report(
        args.report,
        {
            "tool": "dms_preflight",
            "started_at": started,
            "finished_at": toolkit.iso(),
            "source": source.public(),
            "server_version": facts.version,
            "user": facts.current_user,
            "ready": not blocking,
            "blockers": len(blocking),
            "warnings": len(warnings),
            "findings": [f.as_dict() for f in findings],
        },
    )
    print_findings(source.describe(), findings)
    if blocking:
        print(
            f"NOT READY: {len(blocking)} blocker(s), {len(warnings)} warning(s): "
            "DMS change data capture cannot run until the blockers are fixed"
        )
        return toolkit.EXIT_FAILED
    print(f"READY: no blocker, {len(warnings)} warning(s)")
    return toolkit.EXIT_OK


def print_findings(source: str, findings: list[Finding]) -> None:
    print(f"source: {source}")
    order = {BLOCKER: 0, "warning": 1, "info": 2, "ok": 3}
    for finding in sorted(findings, key=lambda f: order.get(f.status, 9)):
        print(f"{LABELS.get(finding.status, finding.status):<8} {finding.check}: {finding.message}")
        for detail in finding.details[:20]:
            print(f"         - {detail}")
        if finding.fix and finding.status in {BLOCKER, "warning", "info"}:
            print(f"         fix: {finding.fix}")


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
