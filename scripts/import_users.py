"""Create Patronus Cloud's users in the Cognito user pool from a CSV file, with their role and units.

    python -m scripts.import_users users.csv --user-pool-id "$USER_POOL_ID" --dry-run
    python -m scripts.import_users users.csv --user-pool-id "$USER_POOL_ID" --report users.json

The file (UTF-8, a header line): ``email,role,units,given_name,family_name``; ``role`` is a role
group (``readers``, ``editors``, ``admins``), ``units`` the unit names separated by ``;`` (the
groups ``unit-<name>``, which must exist). Every row is checked first: one bad row and nothing
changes. Then missing users are created (Cognito e-mails each a temporary password) and added to
the groups they lack; groups beyond the file are reported, not removed. Idempotent.

Exit status: 0 done (or planned, with --dry-run); 1 some users failed (the others are done: run
it again); 2 a bad file, an unknown group, or AWS unreachable.
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
from scripts.operator_tools.users import ImportOutcome, import_users, read_rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="import_users",
        description="Create users in the Cognito user pool from a CSV file, with their role and unit groups.",
        epilog="Exit status: 0 done, 1 some users failed (rerun), 2 bad file, unknown group or AWS error.",
    )
    parser.add_argument("csv", type=Path, help="email,role,units[,given_name,family_name] (units: a;b)")
    parser.add_argument(
        "--user-pool-id", required=True, metavar="ID", help="the api stack's output UserPoolId"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be created and added, change nothing"
    )
    parser.add_argument("--region", default="eu-west-3", help="AWS region (default eu-west-3)")
    parser.add_argument("--endpoint-url", help="another Cognito endpoint (tests)")
    parser.add_argument("--report", type=Path, metavar="FILE", help="write a JSON report to FILE")
    return parser


def main(argv: Sequence[str] | None = None, *, cognito: Any = None) -> int:
    args = build_parser().parse_args(argv)
    rows = read_rows(args.csv)
    if cognito is None:
        import boto3  # only when AWS is asked

        cognito = boto3.client("cognito-idp", region_name=args.region, endpoint_url=args.endpoint_url)
    outcome = import_users(cognito, args.user_pool_id, rows, dry_run=args.dry_run)
    toolkit.write_report(
        args.report,
        {
            "tool": "import_users",
            "finished_at": toolkit.iso(),
            "dry_run": args.dry_run,
            "rows": len(rows),
            "created": outcome.created,
            "existing": outcome.existing,
            "groups_added": outcome.groups_added,
            "extra_groups": outcome.extra_groups,
            "failed": outcome.failed,
            "ok": not outcome.failed,
        },
    )
    print_summary(outcome, len(rows), dry_run=args.dry_run)
    return toolkit.EXIT_FAILED if outcome.failed else toolkit.EXIT_OK


def print_summary(outcome: ImportOutcome, rows: int, *, dry_run: bool) -> None:
    verb = "would create" if dry_run else "created"
    added = sum(len(groups) for groups in outcome.groups_added.values())
    print(
        f"{rows} rows: {verb} {len(outcome.created)} users, {len(outcome.existing)} already there; "
        f"{'would add' if dry_run else 'added'} {added} group memberships"
    )
    for email, groups in sorted(outcome.extra_groups.items()):
        print(f"  note: {email} is also in {', '.join(groups)} (not in the file; left as is)")
    for email, error in sorted(outcome.failed.items()):
        print(f"  FAILED {email}: {error}")
    if dry_run:
        print("dry run: nothing was changed")


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
