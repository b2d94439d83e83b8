"""Document events: S3 "Object Created" events of uploads, through EventBridge, to a function.

An EventBridge rule matches the bucket's "Object Created" events under the uploads prefix and
invokes the ``live`` alias of ``document_events``, which marks the uploaded document available
(or scanning). Where malware scanning is on, a second rule sends GuardDuty's scan results of
the same objects to the same alias (available, or quarantined).
The alias points at the function's latest published version: SnapStart starts published versions
only, never ``$LATEST``. Events EventBridge
cannot deliver, and invocations that still fail after Lambda's own retries, land in one
encrypted dead-letter queue (the monitoring stack alarms on its depth).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IDependable

from patronus.services.documents import SCAN_RESULT_EVENT
from stacks.api_constructs.functions import FunctionDefaults, FunctionSpec, patronus_function
from stacks.config import FunctionConfig
from stacks.logical_ids import FlatScope
from stacks.nag import acknowledge
from stacks.storage import UPLOAD_PREFIX, DocumentAccess

EVENTS_FUNCTION = FunctionSpec(
    folder="document_events",
    handler="patronus_document_events.handler.handler",
    service="patronus-document-events",
    description="Marks uploaded documents available when S3 reports the object",
)

# HEAD on the uploaded object (size, checksum) needs s3:GetObject; without kms:Decrypt the
# function cannot read the content of an SSE-KMS object.
DOCUMENT_ACCESS = (
    DocumentAccess(
        "UploadedDocumentsMetadata",
        ("s3:GetObject",),
        UPLOAD_PREFIX,
        "HEAD of any uploaded object under documents/ (keys are created at run time); "
        "no KMS permission, so the content stays unreadable to this function.",
    ),
)


@dataclass(frozen=True)
class DocumentEventsProps:
    """Inputs of :class:`DocumentEvents`.

    Attributes:
        defaults / sizing: the function's shared settings, its memory and timeout.
        bucket_name: the documents bucket; a new object under ``documents/`` is an event.
        retry_attempts: EventBridge's delivery retries before the dead-letter queue.
        runs_after: what must complete before the code runs (the schema migration).
        scan_results: route GuardDuty's malware scan results of the uploads too.
    """

    defaults: FunctionDefaults
    sizing: FunctionConfig
    bucket_name: str
    retry_attempts: int
    runs_after: Sequence[IDependable]
    scan_results: bool = False


class DocumentEvents(FlatScope):
    """The rule, the dead-letter queue and the function; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, props: DocumentEventsProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.dead_letter_queue = self._build_dead_letter_queue()
        self.function = patronus_function(
            self, "DocumentEventsFunction", props.defaults, EVENTS_FUNCTION, props.sizing
        )
        self.function.node.add_dependency(*props.runs_after)
        version = self.function.current_version
        version.node.add_dependency(*props.runs_after)
        self.alias = lambda_.Alias(
            self,
            "DocumentEventsLiveAlias",
            alias_name="live",
            version=version,
            description="The version EventBridge invokes (SnapStart applies to published versions)",
        )
        # Failures after Lambda's own retries of the asynchronous invocation land in the queue.
        self.alias.configure_async_invoke(
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
        )
        self.rule = self._build_rule()
        self.scan_rule = self._build_scan_rule() if props.scan_results else None

    def _build_dead_letter_queue(self) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "DocumentEventsDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the document event rule and function; it has "
            "no dead-letter queue of its own.",
        )
        return queue

    def _build_rule(self) -> events.Rule:
        props = self.props
        rule = events.Rule(
            self,
            "DocumentCreated",
            description=f"Uploads to the documents bucket ({UPLOAD_PREFIX} prefix)",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [props.bucket_name]},
                    "object": {"key": [{"prefix": UPLOAD_PREFIX}]},
                },
            ),
        )
        rule.add_target(self._target())
        return rule

    def _build_scan_rule(self) -> events.Rule:
        source, detail_type = SCAN_RESULT_EVENT
        rule = events.Rule(
            self,
            "DocumentScanned",
            description=f"Malware scan results of uploads ({UPLOAD_PREFIX} prefix)",
            event_pattern=events.EventPattern(
                source=[source],
                detail_type=[detail_type],
                detail={
                    "s3ObjectDetails": {
                        "bucketName": [self.props.bucket_name],
                        "objectKey": [{"prefix": UPLOAD_PREFIX}],
                    }
                },
            ),
        )
        rule.add_target(self._target())
        return rule

    def _target(self) -> targets.LambdaFunction:
        return targets.LambdaFunction(
            self.alias,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=self.props.retry_attempts,
            max_event_age=Duration.hours(2),
        )
