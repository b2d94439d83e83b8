"""The engine of datasync_run: start a DataSync task execution, follow it, summarise the outcome.

An incremental run uses the task's own options (changed data only, files transferred verified);
a final run overrides, for that execution only, ``VerifyMode=POINT_IN_TIME_CONSISTENT`` (DataSync
compares the whole source with the whole destination at the end) and ``TransferMode``.
:class:`Follower` polls ``describe_task_execution`` and drives a progress bar until the execution
ends; :func:`summarise` turns the final description into the JSON report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from scripts.operator_tools import toolkit

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


def start_execution(
    datasync: Any, task_arn: str, *, final: bool, transfer_mode: str | None, includes: str | None
) -> str:
    """Start a run; a task already running is an operator error that says how to follow it."""
    request = start_request(task_arn, final=final, transfer_mode=transfer_mode, includes=includes)
    try:
        return str(datasync.start_task_execution(**request)["TaskExecutionArn"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "InvalidRequestException":
            raise
        current = current_execution(datasync, task_arn)
        if current:
            raise toolkit.ToolError(
                f"the task is already running ({current}); follow it with "
                f"python -m scripts.datasync_run --follow {current}"
            ) from exc
        raise toolkit.ToolError(
            f"DataSync refused to start {task_arn}: {exc.response['Error'].get('Message')}"
        ) from exc


def current_execution(datasync: Any, task_arn: str) -> str | None:
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
