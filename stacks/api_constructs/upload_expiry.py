"""Upload expiry: an EventBridge schedule runs ``upload_expiry``, which expires the pending
uploads nobody finished within the configured age and aborts orphan multipart uploads
(:mod:`patronus.services.expiry`).

The function reaches the database as the application user and the documents bucket with only
what the clean-up needs: abort multipart uploads and delete object versions under the documents
prefix, list the bucket's multipart uploads, and list the object versions of that prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

from stacks.api_constructs.functions import FunctionDefaults, FunctionSpec, patronus_function
from stacks.config import FunctionConfig
from stacks.logical_ids import FlatScope
from stacks.storage import UPLOAD_PREFIX, DocumentAccess

EXPIRY_FUNCTION = FunctionSpec(
    folder="upload_expiry",
    handler="patronus_upload_expiry.handler.handler",
    service="patronus-upload-expiry",
    description="Expires pending uploads not finished in time and aborts orphan multipart uploads",
    # The schedule invokes $LATEST: no published version, so no snapshot to restore from.
    snap_start=False,
)

# Object actions under documents/: abort an upload, remove the versions an abandoned upload
# stored (never read them: no s3:GetObject, no KMS permission).
DOCUMENT_ACCESS = (
    DocumentAccess(
        "AbandonedUploads",
        ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectVersion"),
        UPLOAD_PREFIX,
        "Abort and remove abandoned uploads under documents/ (keys are created at run time); "
        "no read of any object.",
    ),
)


@dataclass(frozen=True)
class UploadExpiryProps:
    """Inputs of :class:`UploadExpiry`.

    Attributes:
        defaults / sizing: the function's shared settings, its memory and timeout.
        bucket_arn: the documents bucket (the listing actions are bucket-level).
        schedule_minutes: how often the function runs.
        max_age_hours: the age after which a pending upload is expired.
        runs_after: what must complete before the code runs (the schema migration).
    """

    defaults: FunctionDefaults
    sizing: FunctionConfig
    bucket_arn: str
    schedule_minutes: int
    max_age_hours: int
    runs_after: Sequence[IDependable]


class UploadExpiry(FlatScope):
    """The schedule and the function; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, props: UploadExpiryProps) -> None:
        super().__init__(scope, construct_id)
        self.function = patronus_function(
            self, "UploadExpiryFunction", props.defaults, EXPIRY_FUNCTION, props.sizing
        )
        self.function.add_environment("PATRONUS_PENDING_UPLOAD_MAX_AGE_HOURS", str(props.max_age_hours))
        self.function.node.add_dependency(*props.runs_after)
        self._grant_listing(props.bucket_arn)
        self.rule = self._build_schedule(props.schedule_minutes)

    def _grant_listing(self, bucket_arn: str) -> None:
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="ListMultipartUploads", actions=["s3:ListBucketMultipartUploads"], resources=[bucket_arn]
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="ListUploadVersions",
                actions=["s3:ListBucketVersions"],
                resources=[bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{UPLOAD_PREFIX}*"]}},
            )
        )

    def _build_schedule(self, minutes: int) -> events.Rule:
        rule = events.Rule(
            self,
            "UploadExpirySchedule",
            description="Expires pending uploads not finished in time",
            schedule=events.Schedule.rate(Duration.minutes(minutes)),
        )
        # A failed run is logged; the next one takes up the work (each step is idempotent).
        rule.add_target(
            targets.LambdaFunction(self.function, retry_attempts=0, max_event_age=Duration.minutes(minutes))
        )
        return rule
