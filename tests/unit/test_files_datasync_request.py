"""The request datasync_run sends and what it reads back, without any AWS call."""

from __future__ import annotations

from scripts.operator_tools.documents.datasync import (
    execution_id,
    report_location,
    start_request,
    task_arn_of,
)

TASK = "arn:aws:datasync:eu-west-3:123456789012:task/task-0123456789abcdef0"


def test_an_incremental_run_keeps_the_task_options() -> None:
    assert start_request(TASK, final=False, transfer_mode=None, includes=None) == {"TaskArn": TASK}


def test_the_final_pass_verifies_everything_and_transfers_changes() -> None:
    # When the final pass is requested, Then the whole destination is verified against the source
    assert start_request(TASK, final=True, transfer_mode=None, includes=None)["OverrideOptions"] == {
        "VerifyMode": "POINT_IN_TIME_CONSISTENT",
        "TransferMode": "CHANGED",
    }
    assert start_request(TASK, final=True, transfer_mode="ALL", includes="/a|/b") == {
        "TaskArn": TASK,
        "OverrideOptions": {"VerifyMode": "POINT_IN_TIME_CONSISTENT", "TransferMode": "ALL"},
        "Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/a|/b"}],
    }


def test_report_location_from_the_task_report_config() -> None:
    config = {
        "Destination": {
            "S3": {"S3BucketArn": "arn:aws:s3:::patronus-documents", "Subdirectory": "datasync-reports/"}
        },
        "OutputType": "STANDARD",
    }
    assert report_location(config) == "s3://patronus-documents/datasync-reports/"
    assert report_location({"Destination": {"S3": {"S3BucketArn": "arn:aws:s3:::b"}}}) == "s3://b/"
    assert report_location(None) is None


def test_arn_helpers() -> None:
    execution = f"{TASK}/execution/exec-0123456789abcdef0"
    assert task_arn_of(execution) == TASK
    assert execution_id(execution) == "exec-0123456789abcdef0"
