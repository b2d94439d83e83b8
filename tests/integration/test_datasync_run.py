"""datasync_run against moto's DataSync (each describe advances the execution one status)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import datasync_run
from scripts.operator_tools import toolkit

REGION = "eu-west-3"
REPORT_CONFIG = {
    "Destination": {
        "S3": {
            "S3BucketArn": "arn:aws:s3:::patronus-documents",
            "Subdirectory": "datasync-reports/",
            "BucketAccessRoleArn": "arn:aws:iam::123456789012:role/report",
        }
    },
    "OutputType": "STANDARD",
    "ReportLevel": "ERRORS_ONLY",
}


@pytest.fixture
def datasync(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("datasync", region_name=REGION)
        requests: list[dict[str, Any]] = []
        client.meta.events.register(
            "provide-client-params.datasync.StartTaskExecution",
            lambda params, **_: requests.append(dict(params)),
        )
        client.requests = requests
        yield client


@pytest.fixture
def task_arn(datasync: Any) -> str:
    source = datasync.create_location_smb(
        ServerHostname="10.0.20.1",
        Subdirectory="/share/",
        User="svc-datasync",
        Password="not-a-real-password",
        AgentArns=["arn:aws:datasync:eu-west-3:123456789012:agent/agent-0123456789abcdef0"],
    )["LocationArn"]
    destination = datasync.create_location_s3(
        S3BucketArn="arn:aws:s3:::patronus-documents",
        Subdirectory="/legacy/",
        S3Config={"BucketAccessRoleArn": "arn:aws:iam::123456789012:role/datasync"},
    )["LocationArn"]
    return str(
        datasync.create_task(
            SourceLocationArn=source,
            DestinationLocationArn=destination,
            Name="patronus-legacy-documents",
            CloudWatchLogGroupArn="arn:aws:logs:eu-west-3:123456789012:log-group:datasync:*",
        )["TaskArn"]
    )


def run(datasync: Any, argv: list[str]) -> int:
    return toolkit.run(lambda a: datasync_run.main(a, client=datasync, sleep=lambda _s: None), argv)


def test_a_final_pass_is_started_with_full_verification_and_followed_to_success(
    datasync: Any, task_arn: str, tmp_path: Path, capsys: Any
) -> None:
    # Given a task whose report configuration the API returns (moto does not keep it: added here)
    datasync.meta.events.register(
        "after-call.datasync.DescribeTask",
        lambda parsed, **_: parsed.setdefault("TaskReportConfig", REPORT_CONFIG),
    )
    report = tmp_path / "run.json"

    # When the final pass runs and is followed to the end
    code = run(datasync, ["--task-arn", task_arn, "--final", "--report", str(report), "--poll-interval", "0"])

    # Then it was started with point-in-time verification and changed-data transfer
    assert datasync.requests == [
        {
            "TaskArn": task_arn,
            "OverrideOptions": {"VerifyMode": "POINT_IN_TIME_CONSISTENT", "TransferMode": "CHANGED"},
        }
    ]
    # ... it went through every phase to SUCCESS, and says where the report and the logs are
    outcome = json.loads(report.read_text())
    out = capsys.readouterr().out
    assert code == toolkit.EXIT_OK
    assert outcome["status"] == "SUCCESS"
    assert outcome["phases_seen"] == ["INITIALIZING", "PREPARING", "TRANSFERRING", "VERIFYING", "SUCCESS"]
    assert outcome["task_report"]["location"] == "s3://patronus-documents/datasync-reports/"
    assert "task report  s3://patronus-documents/datasync-reports/" in out
    assert "log-group:datasync" in out and "result       SUCCESS" in out
    # ... and the task is available again
    assert datasync.describe_task(TaskArn=task_arn)["Status"] == "AVAILABLE"


def test_no_wait_returns_at_once_and_a_second_start_names_the_running_execution(
    datasync: Any, task_arn: str, capsys: Any
) -> None:
    # When an incremental run is started without waiting
    assert run(datasync, ["--task-arn", task_arn, "--no-wait", "--transfer-mode", "ALL"]) == toolkit.EXIT_OK
    out = capsys.readouterr().out
    execution = out.split("started incremental run: ")[1].split()[0]
    assert datasync.requests[0]["OverrideOptions"] == {"TransferMode": "ALL"}
    assert f"--follow {execution}" in out
    # Then starting again while it runs is refused with a way to follow the running one
    assert run(datasync, ["--task-arn", task_arn]) == toolkit.EXIT_USAGE
    assert f"already running ({execution})" in capsys.readouterr().err
    # And following it reaches the end
    assert run(datasync, ["--follow", execution, "--poll-interval", "0"]) == toolkit.EXIT_OK


def test_a_cancelled_execution_is_a_failure(datasync: Any, task_arn: str, capsys: Any) -> None:
    # Given an execution that an operator cancelled in the console (moto ends it in ERROR)
    run(datasync, ["--task-arn", task_arn, "--no-wait"])
    execution = datasync.list_tasks()["Tasks"][0]
    current = datasync.describe_task(TaskArn=execution["TaskArn"])["CurrentTaskExecutionArn"]
    datasync.cancel_task_execution(TaskExecutionArn=current)
    # When it is followed, Then the outcome is a failure with exit code 1
    assert run(datasync, ["--follow", current, "--poll-interval", "0"]) == toolkit.EXIT_FAILED
    out = capsys.readouterr().out
    assert "status       ERROR" in out and "result       FAILED" in out
    assert "task report  none configured" in out


def test_an_execution_error_is_printed_with_its_code_and_detail(
    datasync: Any, task_arn: str, tmp_path: Path, capsys: Any
) -> None:
    # Given an execution that fails while transferring; moto never fails one by itself, so the
    # response AWS sends in that case (Status ERROR plus Result) is put in place of moto's third one
    calls = {"n": 0}

    def fail_while_transferring(parsed: dict[str, Any], **_: Any) -> None:
        calls["n"] += 1
        if calls["n"] >= 3:
            parsed["Status"] = "ERROR"
            parsed["Result"] = {
                "PrepareStatus": "SUCCESS",
                "TransferStatus": "ERROR",
                "ErrorCode": "SmbPermissionDenied",
                "ErrorDetail": "Access denied reading \\Clients\\Dupont",
            }
            parsed["FilesFailed"] = {"Transfer": 1}

    datasync.meta.events.register("after-call.datasync.DescribeTaskExecution", fail_while_transferring)
    report = tmp_path / "run.json"
    # When the run is followed
    code = run(datasync, ["--task-arn", task_arn, "--poll-interval", "0", "--report", str(report)])
    # Then the exit code is 1 and the error code and detail are shown and recorded
    out = capsys.readouterr().out
    assert code == toolkit.EXIT_FAILED
    assert "error        SmbPermissionDenied: Access denied" in out
    assert "transfer ERROR" in out and "failed files {'Transfer': 1}" in out
    assert json.loads(report.read_text())["result"]["error_code"] == "SmbPermissionDenied"


def test_bad_arguments(datasync: Any, capsys: Any) -> None:
    assert run(datasync, ["--follow", "arn:aws:datasync:eu-west-3:1:task/task-1"]) == toolkit.EXIT_USAGE
    assert run(datasync, ["--follow", "x/execution/y", "--final"]) == toolkit.EXIT_USAGE
    unknown = "arn:aws:datasync:eu-west-3:123456789012:task/task-00000000000000099"
    assert run(datasync, ["--task-arn", unknown]) == toolkit.EXIT_USAGE
    errors = capsys.readouterr().err
    assert "not a task execution ARN" in errors and "Traceback" not in errors
