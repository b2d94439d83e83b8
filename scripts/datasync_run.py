"""Start a DataSync task execution, follow it to the end, and say how it went.

    python -m scripts.datasync_run --task-arn arn:aws:datasync:eu-west-3:123456789012:task/task-0abc
    python -m scripts.datasync_run --task-arn ARN --final          # cut-over pass, full verification
    python -m scripts.datasync_run --task-arn ARN --no-wait        # start and return
    python -m scripts.datasync_run --follow arn:...:task/task-0abc/execution/exec-0def

An incremental run uses the task's own options (changed data only, files transferred verified).
``--final`` overrides, for this execution only, ``VerifyMode=POINT_IN_TIME_CONSISTENT`` (DataSync
compares the whole source with the whole destination at the end) and ``TransferMode``
(``--transfer-mode``, CHANGED by default; ALL recopies everything).

While it runs, a progress bar shows the phase and the files and bytes transferred and verified
(from ``describe_task_execution``). At the end it prints the outcome, the phase results, the
error if any, and where the task report and the logs are. Ctrl-C stops following, not the
execution (``--follow`` picks it up again).

The engine is ``scripts/operator_tools/documents/datasync.py``.

Exit status: 0 on SUCCESS (or when started with ``--no-wait``), 1 when the execution ends in
ERROR, 2 on bad input or AWS errors, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents.datasync import (
    FINISHED_OK,
    Follower,
    start_execution,
    summarise,
    task_arn_of,
)
from scripts.operator_tools.documents.s3 import DEFAULT_REGION, make_client


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.datasync_run",
        description="Start a DataSync task execution (or follow one), show its progress, print the "
        "outcome and where its report is. Exit 0 on success, 1 when it fails, 2 on bad input.",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--task-arn", help="the DataSync task to run")
    which.add_argument("--follow", metavar="EXECUTION_ARN", help="follow an execution already started")
    parser.add_argument(
        "--final",
        action="store_true",
        help="final pass: VerifyMode=POINT_IN_TIME_CONSISTENT (whole source vs whole destination)",
    )
    parser.add_argument(
        "--transfer-mode",
        choices=("CHANGED", "ALL"),
        help="override TransferMode for this run (with --final the default is CHANGED)",
    )
    parser.add_argument("--include", help="only transfer these DataSync patterns (|-separated) this time")
    parser.add_argument("--no-wait", action="store_true", help="start the execution and return at once")
    parser.add_argument("--poll-interval", type=float, default=15.0, help="seconds between status polls")
    parser.add_argument("--report", help="write the final execution description as JSON here")
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"AWS region (default {DEFAULT_REGION})")
    parser.add_argument("--endpoint-url", help="DataSync endpoint (tests, moto server)")
    toolkit.add_progress_arguments(parser)
    return parser


def main(
    argv: Sequence[str] | None = None, *, client: Any = None, sleep: Callable[[float], None] = time.sleep
) -> int:
    args = build_parser().parse_args(argv)
    _check(args)
    datasync = client or make_client("datasync", region=args.region, endpoint_url=args.endpoint_url)
    if args.follow:
        execution_arn = args.follow
    else:
        execution_arn = start_execution(
            datasync, args.task_arn, final=args.final, transfer_mode=args.transfer_mode, includes=args.include
        )
        kind = "final pass (point-in-time verification)" if args.final else "incremental run"
        print(f"started {kind}: {execution_arn}")
        if args.no_wait:
            print(f"follow it with: python -m scripts.datasync_run --follow {execution_arn}")
            return toolkit.EXIT_OK

    task = datasync.describe_task(TaskArn=task_arn_of(execution_arn))
    follower = Follower(datasync, poll_interval=args.poll_interval, show_progress=args.progress, sleep=sleep)
    try:
        final = follower.follow(execution_arn)
    except KeyboardInterrupt:
        print(
            f"\nstopped following; the execution goes on in AWS. Resume with:\n"
            f"  python -m scripts.datasync_run --follow {execution_arn}",
            file=sys.stderr,
        )
        return toolkit.EXIT_INTERRUPTED

    outcome = summarise(task, final)
    toolkit.write_report(args.report, outcome)
    print_outcome(outcome)
    return toolkit.EXIT_OK if outcome["status"] in FINISHED_OK else toolkit.EXIT_FAILED


def _check(args: argparse.Namespace) -> None:
    if args.poll_interval < 0:
        raise toolkit.ToolError("--poll-interval cannot be negative")
    if args.follow and (args.final or args.transfer_mode or args.include or args.no_wait):
        raise toolkit.ToolError(
            "--follow only follows: --final, --transfer-mode, --include and --no-wait start a run"
        )
    if args.follow and "/execution/" not in args.follow:
        raise toolkit.ToolError(
            f"{args.follow!r} is not a task execution ARN (…:task/task-…/execution/exec-…)"
        )


def print_outcome(outcome: dict[str, Any]) -> None:
    result = outcome["result"]
    counters = outcome["counters"]
    lines = [
        f"task         {outcome['task_name'] or ''} {outcome['task_arn']}",
        f"execution    {outcome['execution_arn']}",
        f"status       {outcome['status']}",
        f"phases       prepare {result['prepare'] or '-'}, transfer {result['transfer'] or '-'}, "
        f"verify {result['verify'] or '-'}",
    ]
    if counters:
        lines.append(
            f"files        {counters.get('FilesTransferred', 0)} transferred, "
            f"{counters.get('FilesVerified', 0)} verified, {counters.get('FilesSkipped', 0)} skipped, "
            f"{counters.get('FilesDeleted', 0)} deleted"
        )
        lines.append(
            f"bytes        {toolkit.human_bytes(counters.get('BytesTransferred', 0))} transferred, "
            f"{toolkit.human_bytes(counters.get('BytesWritten', 0))} written"
        )
    if outcome.get("files_failed"):
        lines.append(f"failed files {outcome['files_failed']}")
    if result["error_code"] or result["error_detail"]:
        lines.append(f"error        {result['error_code'] or ''}: {result['error_detail'] or ''}")
    report = outcome["task_report"]
    if report["location"]:
        state = f" ({report['status']})" if report["status"] else ""
        lines.append(
            f"task report  {report['location']}{state} (in the folders of {report['task_id']} / "
            f"{report['execution_id']})"
        )
    else:
        lines.append("task report  none configured on this task")
    if outcome["log_group_arn"]:
        lines.append(f"logs         {outcome['log_group_arn']}")
    lines.append("result       " + ("SUCCESS" if outcome["status"] in FINISHED_OK else "FAILED"))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
