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

Exit status: 0 on SUCCESS (or when started with ``--no-wait``), 1 when the execution ends in
ERROR, 2 on bad input or AWS errors, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents.s3 import DEFAULT_REGION, make_client

RUNNING = {"QUEUED", "LAUNCHING", "INITIALIZING", "PREPARING", "TRANSFERRING", "VERIFYING", "CANCELLING"}
FINISHED_OK = {"SUCCESS"}
FINISHED_FAILED = {"ERROR"}


def start_request(
    task_arn: str, *, final: bool, transfer_mode: str | None, includes: str | None
) -> dict[str, Any]:
    """The ``start_task_execution`` parameters for an incremental or a final run."""
    request: dict[str, Any] = {"TaskArn": task_arn}
    overrides: dict[str, str] = {}
    if final:
        overrides["VerifyMode"] = "POINT_IN_TIME_CONSISTENT"
        overrides["TransferMode"] = transfer_mode or "CHANGED"
    elif transfer_mode:
        overrides["TransferMode"] = transfer_mode
    if overrides:
        request["OverrideOptions"] = overrides
    if includes:
        request["Includes"] = [{"FilterType": "SIMPLE_PATTERN", "Value": includes}]
    return request


def report_location(task_report_config: dict[str, Any] | None) -> str | None:
    """``s3://bucket/prefix/`` of the task report, from a TaskReportConfig."""
    destination = ((task_report_config or {}).get("Destination") or {}).get("S3") or {}
    bucket_arn = destination.get("S3BucketArn")
    if not bucket_arn:
        return None
    bucket = bucket_arn.split(":::", 1)[-1]
    subdirectory = (destination.get("Subdirectory") or "").strip("/")
    return f"s3://{bucket}/{subdirectory}/" if subdirectory else f"s3://{bucket}/"


def execution_id(execution_arn: str) -> str:
    return execution_arn.rsplit("/", 1)[-1]


def task_arn_of(execution_arn: str) -> str:
    return execution_arn.split("/execution/", 1)[0]


class Follower:
    """Polls ``describe_task_execution`` and drives a progress bar until the execution ends."""

    def __init__(
        self, client: Any, *, poll_interval: float, show_progress: bool | None, sleep: Callable[[float], None]
    ):
        self.client = client
        self.poll_interval = poll_interval
        self.show_progress = show_progress
        self.sleep = sleep

    def follow(self, execution_arn: str) -> dict[str, Any]:
        bar = toolkit.progress(desc="starting", enabled=self.show_progress)
        phases: list[str] = []
        try:
            while True:
                described = self.client.describe_task_execution(TaskExecutionArn=execution_arn)
                status = described.get("Status", "UNKNOWN")
                if not phases or phases[-1] != status:
                    phases.append(status)
                self._update(bar, described)
                if status not in RUNNING:
                    described["_phases"] = phases
                    return described
                self.sleep(self.poll_interval)
        finally:
            bar.close()

    @staticmethod
    def _update(bar: Any, described: dict[str, Any]) -> None:
        estimated = described.get("EstimatedBytesToTransfer")
        if estimated and bar.total != estimated:
            bar.total = estimated
        transferred = int(described.get("BytesTransferred") or 0)
        bar.n = transferred
        bar.set_description(str(described.get("Status", "")).lower())
        bar.set_postfix(
            files=f"{described.get('FilesTransferred', 0)}/{described.get('EstimatedFilesToTransfer', '?')}",
            verified=described.get("FilesVerified", 0),
            written=toolkit.human_bytes(int(described.get("BytesWritten") or 0)),
            refresh=False,
        )
        bar.refresh()


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
    if args.poll_interval < 0:
        raise toolkit.ToolError("--poll-interval cannot be negative")
    if args.follow and (args.final or args.transfer_mode or args.include or args.no_wait):
        raise toolkit.ToolError(
            "--follow only follows: --final, --transfer-mode, --include and --no-wait start a run"
        )
    datasync = client or make_client("datasync", region=args.region, endpoint_url=args.endpoint_url)

    if args.follow:
        if "/execution/" not in args.follow:
            raise toolkit.ToolError(
                f"{args.follow!r} is not a task execution ARN (…:task/task-…/execution/exec-…)"
            )
        execution_arn = args.follow
        task_arn = task_arn_of(execution_arn)
    else:
        task_arn = args.task_arn
        execution_arn = _start(datasync, task_arn, args)
        kind = "final pass (point-in-time verification)" if args.final else "incremental run"
        print(f"started {kind}: {execution_arn}")
        if args.no_wait:
            print(f"follow it with: python -m scripts.datasync_run --follow {execution_arn}")
            return toolkit.EXIT_OK

    task = datasync.describe_task(TaskArn=task_arn)
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


def _start(datasync: Any, task_arn: str, args: argparse.Namespace) -> str:
    request = start_request(
        task_arn, final=args.final, transfer_mode=args.transfer_mode, includes=args.include
    )
    try:
        return str(datasync.start_task_execution(**request)["TaskExecutionArn"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "InvalidRequestException":
            raise
        current = _current_execution(datasync, task_arn)
        if current:
            raise toolkit.ToolError(
                f"the task is already running ({current}); follow it with "
                f"python -m scripts.datasync_run --follow {current}"
            ) from exc
        raise toolkit.ToolError(
            f"DataSync refused to start {task_arn}: {exc.response['Error'].get('Message')}"
        ) from exc


def _current_execution(datasync: Any, task_arn: str) -> str | None:
    try:
        task = datasync.describe_task(TaskArn=task_arn)
    except ClientError:
        return None
    current = task.get("CurrentTaskExecutionArn")
    return str(current) if current and task.get("Status") == "RUNNING" else None


def summarise(task: dict[str, Any], execution: dict[str, Any]) -> dict[str, Any]:
    result = execution.get("Result") or {}
    report_config = execution.get("TaskReportConfig") or task.get("TaskReportConfig")
    location = report_location(report_config)
    counters = (
        "EstimatedFilesToTransfer",
        "EstimatedBytesToTransfer",
        "FilesPrepared",
        "FilesTransferred",
        "FilesVerified",
        "FilesSkipped",
        "FilesDeleted",
        "BytesTransferred",
        "BytesWritten",
        "BytesCompressed",
    )
    return {
        "task_arn": task.get("TaskArn"),
        "task_name": task.get("Name"),
        "execution_arn": execution.get("TaskExecutionArn"),
        "status": execution.get("Status"),
        "phases_seen": execution.get("_phases", []),
        "options": execution.get("Options") or task.get("Options"),
        "result": {
            "prepare": result.get("PrepareStatus"),
            "transfer": result.get("TransferStatus"),
            "verify": result.get("VerifyStatus"),
            "error_code": result.get("ErrorCode"),
            "error_detail": result.get("ErrorDetail"),
            "total_duration_ms": result.get("TotalDuration"),
        },
        "counters": {name: execution.get(name) for name in counters if execution.get(name) is not None},
        "files_failed": execution.get("FilesFailed"),
        "start_time": execution.get("StartTime"),
        "end_time": execution.get("EndTime"),
        "task_report": {
            "location": location,
            "task_id": execution_id(task.get("TaskArn") or ""),
            "execution_id": execution_id(execution.get("TaskExecutionArn") or ""),
            "status": (execution.get("ReportResult") or {}).get("Status"),
            "error": (execution.get("ReportResult") or {}).get("ErrorDetail"),
        },
        "log_group_arn": task.get("CloudWatchLogGroupArn"),
    }


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
