"""The go/no-go check of the cutover window (docs/cutover.md): every gate reads its evidence.

    python -m scripts.cutover_gate --replication-config-arn "$REPLICATION_ARN" \\
        --datasync-task-arn "$TASK_ARN" --admin-secret-id "$ADMIN_SECRET" \\
        --db-verify-report final-verify.json --files-verify-report files-verify.json \\
        --catalog-report catalog.json --rewrite-report rewrite.json --report gate.json

Gates: the DMS replication (running, or stopped after the catch-up; full load complete), its CDC
latency (CloudWatch), its per-table validation; the last DataSync execution and its
verification; the DataSync schedule disabled; the rotation of the Aurora admin secret paused; the
db_verify, files_verify, catalog_legacy and rewrite_refs reports (complete, recent, on the legacy
schema). It prints a table of gates and writes them as JSON.

Exit status: 0 every gate passes (GO); 1 at least one fails, or its evidence was not given
(NO-GO); 2 a bad option, an unreadable report or an AWS error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.operator_tools import toolkit
from scripts.operator_tools.cutover import (
    REPORT_GATES,
    AwsTargets,
    GateOptions,
    aws_gates,
    print_table,
    report_gate,
)
from scripts.operator_tools.database.guard import configured_schemas

REPORT_FLAGS = {
    "db_verify": "db-verify",
    "files_verify": "files-verify",
    "catalog": "catalog",
    "rewrite": "rewrite",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cutover_gate",
        description="Go/no-go of the cutover: DMS, DataSync, the admin secret's rotation, the reports.",
        epilog="Exit status: 0 GO (every gate passes), 1 NO-GO, 2 usage, unreadable report or AWS error.",
    )
    parser.add_argument("--region", default="eu-west-3", help="AWS region (default eu-west-3)")
    parser.add_argument(
        "--replication-config-arn", metavar="ARN", help="the stack output ReplicationConfigArn"
    )
    parser.add_argument("--datasync-task-arn", metavar="ARN", help="the stack output DataSyncTaskArn")
    parser.add_argument("--admin-secret-id", metavar="ID", help="name or ARN of the Aurora admin secret")
    for kind, flag in REPORT_FLAGS.items():
        parser.add_argument(
            f"--{flag}-report", type=Path, metavar="FILE", help=f"JSON report: {REPORT_GATES[kind][0]}"
        )
    parser.add_argument(
        "--legacy-database",
        default=configured_schemas()[1],
        metavar="NAME",
        help="the Aurora schema the db_verify report must cover (default: legacy_migration.legacy_database)",
    )
    parser.add_argument(
        "--max-report-age-hours",
        type=float,
        default=2.0,
        metavar="H",
        help="reports older than this fail (default 2)",
    )
    parser.add_argument(
        "--max-cdc-latency",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="highest CDC latency (default 10 s)",
    )
    parser.add_argument("--report", type=Path, metavar="FILE", help="write the gates as JSON to FILE")
    return parser


def aws_clients(region: str) -> dict[str, Any]:
    import boto3  # only when AWS is asked

    return {
        name: boto3.client(name, region_name=region)
        for name in ("dms", "cloudwatch", "datasync", "secretsmanager")
    }


def main(argv: Sequence[str] | None = None, *, clients: Mapping[str, Any] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = GateOptions(
        now=toolkit.utc_now(),
        max_report_age=timedelta(hours=args.max_report_age_hours),
        max_cdc_latency_seconds=args.max_cdc_latency,
        legacy_database=args.legacy_database,
    )
    targets = AwsTargets(args.replication_config_arn, args.datasync_task_arn, args.admin_secret_id)
    gates = aws_gates(clients if clients is not None else aws_clients(args.region), targets, options)
    gates += [
        report_gate(kind, getattr(args, f"{flag.replace('-', '_')}_report"), options)
        for kind, flag in REPORT_FLAGS.items()
    ]
    go = all(gate.ok for gate in gates)
    toolkit.write_report(
        args.report,
        {
            "tool": "cutover_gate",
            "checked_at": toolkit.iso(options.now),
            "go": go,
            "gates": [gate.as_dict() for gate in gates],
        },
    )
    print_table(gates)
    return toolkit.EXIT_OK if go else toolkit.EXIT_FAILED


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
