"""Document storage: one versioned, KMS-encrypted bucket reached only through presigned URLs.

Keys: ``documents/<dossier>/<document>/<filename>`` for uploads, ``legacy/...`` for the files
migrated from the CIFS share. Clients upload and download directly with presigned URLs signed by
the API function's role, so that role holds the object and KMS permissions (S3 uses the signer's
permissions to call KMS for SSE-KMS). Where ``storage.malware_scanning`` is on, GuardDuty scans
the uploads (``stacks/malware_scanning.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from patronus.storage import KEY_PREFIX
from stacks.common import removal_policy
from stacks.config import EnvironmentConfig
from stacks.malware_scanning import MalwareScanning
from stacks.nag import acknowledge

UPLOAD_PREFIX = KEY_PREFIX  # the keys the API gives uploads (patronus.storage.document_key)
LEGACY_PREFIX = "legacy/"


@dataclass(frozen=True)
class DocumentAccess:
    """Object ``actions`` under ``prefix`` of the documents bucket, as statement ``sid``; ``why``
    tells cdk-nag's reviewer why the prefix wildcard is needed."""

    sid: str
    actions: tuple[str, ...]
    prefix: str
    why: str


class StorageStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.config = config
        removal = removal_policy(config)
        self.key = kms.Key(
            self,
            "DocumentsKey",
            description=f"Patronus {config.name}: documents bucket (SSE-KMS with bucket key)",
            enable_key_rotation=True,
            removal_policy=removal,
        )
        self.access_logs = self._build_access_log_bucket(removal)
        self.bucket = self._build_documents_bucket(removal)
        self._acknowledge_notifications_handler()
        scanning = config.storage.malware_scanning
        self.malware_scanning = (
            MalwareScanning(
                self,
                "MalwareScanning",
                bucket=self.bucket,
                key=self.key,
                prefix=UPLOAD_PREFIX,
                tag_objects=scanning.tag_objects,
            )
            if scanning.enabled
            else None
        )
        self._bucket_arn_import: str | None = None
        CfnOutput(self, "DocumentsBucketName", value=self.bucket.bucket_name, description="Documents bucket")

    @property
    def bucket_arn_export_name(self) -> str:
        """The name of the one export of the documents bucket's ARN."""
        return f"{self.stack_name}-documents-bucket-arn"

    def import_bucket_arn(self) -> str:
        """The documents bucket's ARN for another stack, through one export of a fixed name.

        A fixed name (not a generated one) lets cdk-nag findings on object prefixes name it
        (``AwsSolutions-IAM5[Resource::<export name>/legacy/*]``); every stack imports the same one.
        """
        if self._bucket_arn_import is None:
            self._bucket_arn_import = self.export_value(
                self.bucket.bucket_arn, name=self.bucket_arn_export_name
            )
        return self._bucket_arn_import

    def grant_documents(self, function: lambda_.Function, access: DocumentAccess) -> None:
        """Let ``function`` (of another stack) act on the documents as ``access`` says.

        A principal policy of the function's role on ``<bucket ARN>/<prefix>*``, the ARN through
        the one named export, and the acknowledgment of cdk-nag's finding on the prefix wildcard,
        which names that export.
        """
        resource = f"{self.import_bucket_arn()}/{access.prefix}*"
        function.add_to_role_policy(
            iam.PolicyStatement(sid=access.sid, actions=list(access.actions), resources=[resource])
        )
        assert function.role is not None
        finding = f"AwsSolutions-IAM5[Resource::{self.bucket_arn_export_name}/{access.prefix}*]"
        acknowledge(function.role.node.find_child("DefaultPolicy"), finding, access.why)

    def _acknowledge_notifications_handler(self) -> None:
        # aws-cdk-lib's fixed construct id of the function that turns on EventBridge delivery.
        handler = self.node.try_find_child("BucketNotificationsHandler050a0587b7544547bf325f094a3db834")
        if handler is not None:
            acknowledge(
                handler.node.find_child("Role"),
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "aws-cdk-lib bucket notification function (turns on EventBridge delivery at deploy "
                "time): basic execution policy for its own logs.",
            )

    def _build_access_log_bucket(self, removal: RemovalPolicy) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging can only deliver to an SSE-S3 bucket.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=False,
            removal_policy=removal,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(self.config.storage.access_logs_expiration_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "This is the server access log bucket itself; logging it into itself would loop.",
        )
        return bucket

    def _archive_tiers(self) -> list[s3.IntelligentTieringConfiguration] | None:
        """The Intelligent-Tiering archive tiers of the migrated documents, where configured."""
        legacy = self.config.storage.legacy_documents
        if legacy.archive_access_after_days is None and legacy.deep_archive_access_after_days is None:
            return None
        archive, deep = legacy.archive_access_after_days, legacy.deep_archive_access_after_days
        return [
            s3.IntelligentTieringConfiguration(
                name="legacy-archive",
                prefix=LEGACY_PREFIX,
                archive_access_tier_time=Duration.days(archive) if archive is not None else None,
                deep_archive_access_tier_time=Duration.days(deep) if deep is not None else None,
            )
        ]

    def _build_documents_bucket(self, removal: RemovalPolicy) -> s3.Bucket:
        storage = self.config.storage
        # CORS rules name the web application's origin, which the web stack knows: it writes them.
        return s3.Bucket(
            self,
            "Documents",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="documents-bucket/",
            event_bridge_enabled=True,
            intelligent_tiering_configurations=self._archive_tiers(),
            removal_policy=removal,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="intelligent-tiering",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                            transition_after=Duration.days(storage.intelligent_tiering_after_days),
                        )
                    ],
                ),
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(storage.noncurrent_version_expiration_days),
                    expired_object_delete_marker=True,
                ),
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(
                        storage.abort_incomplete_multipart_days
                    ),
                ),
            ],
        )
