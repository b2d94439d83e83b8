"""redrive_events against moto's SQS: both kinds of dead letter go back to the function, bad ones stay."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts.operator_tools import toolkit
from scripts.redrive_events import main

EVENT = {
    "source": "aws.s3",
    "detail-type": "Object Created",
    "detail": {"object": {"key": "uploads/a/b.pdf"}},
}


@pytest.fixture
def queue() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-3")
        url = sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
        yield sqs, url


def count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_both_kinds_of_dead_letter_are_invoked_again_and_deleted(queue: tuple[Any, str]) -> None:
    sqs, url = queue
    # Given an event EventBridge could not deliver and a failure record of Lambda's async retries
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(EVENT))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"requestPayload": EVENT, "responseContext": {}}))
    # And a message that holds no event
    sqs.send_message(QueueUrl=url, MessageBody="not json")
    invoked: list[dict[str, Any]] = []
    argv = ["--queue-url", url, "--function-name", "document-events"]
    # When they are redriven
    code = toolkit.run(lambda args: main(args, sqs=sqs, invoke=invoked.append), argv)
    # Then both events went to the function, their messages are gone, the bad one stays
    assert code == toolkit.EXIT_FAILED
    assert invoked == [EVENT, EVENT]
    assert count(sqs, url) == 1


def test_a_dry_run_invokes_and_deletes_nothing(queue: tuple[Any, str]) -> None:
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(EVENT))
    invoked: list[dict[str, Any]] = []
    argv = ["--queue-url", url, "--function-name", "document-events", "--dry-run"]
    assert toolkit.run(lambda args: main(args, sqs=sqs, invoke=invoked.append), argv) == toolkit.EXIT_OK
    assert invoked == [] and count(sqs, url) == 1


def test_a_failed_invocation_leaves_the_message(queue: tuple[Any, str]) -> None:
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(EVENT))

    def refuse(event: dict[str, Any]) -> None:
        raise RuntimeError("TooManyRequestsException")

    argv = ["--queue-url", url, "--function-name", "document-events"]
    assert toolkit.run(lambda args: main(args, sqs=sqs, invoke=refuse), argv) == toolkit.EXIT_FAILED
    assert count(sqs, url) == 1
