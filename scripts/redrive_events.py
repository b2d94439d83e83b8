"""Send the document events that failed back to the document_events function, then drop them.

    python -m scripts.redrive_events --queue-url "$DLQ_URL" --function-name "$FUNCTION" --dry-run
    python -m scripts.redrive_events --queue-url "$DLQ_URL" --function-name "$FUNCTION" --report redrive.json

The dead-letter queue of document_events receives two kinds of message: events EventBridge could
not deliver (the body is the S3 "Object Created" event) and invocations that failed after
Lambda's retries (the body is Lambda's failure record, whose ``requestPayload`` is the event).
SQS's own redrive cannot return them (their source is not a queue), so each event is invoked
again asynchronously, as EventBridge would, and its message deleted only once Lambda accepted it.
The function is idempotent on the object key, so a redriven event that had in fact succeeded
changes nothing. Fix the cause first (the alarm's runbook entry, docs/operations.md section 7).

Exit status: 0 every message redriven (or listed, with --dry-run); 1 some could not be (they
stay in the queue); 2 a bad option or AWS unreachable.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.operator_tools import toolkit


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="redrive_events",
        description="Invoke document_events again with its dead letters' events, then delete them.",
        epilog="Exit status: 0 all redriven, 1 some stay in the queue, 2 usage or AWS error.",
    )
    parser.add_argument(
        "--queue-url", required=True, help="the dead-letter queue (DocumentEventsDeadLetters)"
    )
    parser.add_argument("--function-name", required=True, help="the document_events function (name or ARN)")
    parser.add_argument("--max", type=toolkit.positive_int, default=1000, help="at most this many messages")
    parser.add_argument("--dry-run", action="store_true", help="list the events, invoke and delete nothing")
    parser.add_argument("--region", default="eu-west-3", help="AWS region (default eu-west-3)")
    parser.add_argument("--report", type=Path, metavar="FILE", help="write a JSON report to FILE")
    return parser


def event_of(body: str) -> dict[str, Any]:
    """The original event of a dead letter (an EventBridge event, or Lambda's failure record)."""
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("not a JSON object")
    payload = message.get("requestPayload", message)
    if not isinstance(payload, dict) or "detail" not in payload:
        raise ValueError("no event in the message")
    return payload


def redrive(
    sqs: Any, queue_url: str, invoke: Callable[[dict[str, Any]], None], *, limit: int, dry_run: bool
) -> dict[str, Any]:
    done: list[str] = []
    failed: dict[str, str] = {}
    seen = 0
    while seen < limit:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, limit - seen),
            WaitTimeSeconds=0,
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            seen += 1
            key = message["MessageId"]
            try:
                event = event_of(message["Body"])
                if not dry_run:
                    invoke(event)
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                done.append(f"{key} {event.get('detail', {}).get('object', {}).get('key', '?')}")
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
                failed[key] = str(exc)
        if dry_run:
            break  # received messages stay invisible for a minute: list one batch
    return {"redriven" if not dry_run else "listed": done, "failed": failed}


def main(
    argv: Sequence[str] | None = None,
    *,
    sqs: Any = None,
    invoke: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    args = build_parser().parse_args(argv)
    if sqs is None or invoke is None:
        import boto3  # only when AWS is asked

        sqs = sqs or boto3.client("sqs", region_name=args.region)
        function = boto3.client("lambda", region_name=args.region)

        def invoke_async(event: dict[str, Any]) -> None:
            function.invoke(
                FunctionName=args.function_name, InvocationType="Event", Payload=json.dumps(event)
            )

        invoke = invoke or invoke_async
    result = redrive(sqs, args.queue_url, invoke, limit=args.max, dry_run=args.dry_run)
    toolkit.write_report(args.report, {"tool": "redrive_events", "finished_at": toolkit.iso(), **result})
    for line in result.get("listed", []) + result.get("redriven", []):
        print(("would redrive " if args.dry_run else "redriven ") + line)
    for key, error in result["failed"].items():
        print(f"FAILED {key}: {error} (left in the queue)")
    print(
        f"{len(result.get('listed', result.get('redriven', [])))} message(s), {len(result['failed'])} failed"
    )
    return toolkit.EXIT_FAILED if result["failed"] else toolkit.EXIT_OK


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
