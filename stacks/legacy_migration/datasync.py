"""DataSync from the legacy SMB share to the documents bucket (``legacy/`` prefix).

The construct creates:

* the SMB location (agent, server, share and folder, domain user; the password is a
  CloudFormation dynamic reference to a Secrets Manager secret, never a literal);
* the S3 location on ``<documents bucket>/legacy/`` with its own role, scoped to that prefix
  (the statements AWS documents for DataSync S3 locations, object actions limited to the
  prefix, listing limited to the prefix, KMS use on the bucket key if it has one);
* the task: changed data only, files transferred verified (``ONLY_FILES_TRANSFERRED``; the
  final pass overrides it with ``POINT_IN_TIME_CONSISTENT``, see ``scripts/datasync_run.py``),
  files deleted at the source kept (``PRESERVE``), Windows/Office/macOS litter excluded, the
  bandwidth limit, an optional schedule, task reports to S3 with their own role, and a
  CloudWatch log group DataSync may write to.

The agent itself is deployed on premises and activated by the operator (see
docs/migration.md, Part 2); its ARN comes in through the props, from
``legacy_migration.datasync`` of cdk.json (``stacks/legacy_migration_stack.py`` wires it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_datasync as datasync
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

# DataSync matches filter patterns against "/<path relative to the location>", case-sensitively,
# "*" spanning folders: "*/Thumbs.db" excludes Thumbs.db in every folder. Keep in step with
# scripts/operator_tools/documents/excludes.py (tests/infrastructure/test_datasync_excludes.py
# checks that both agree).
DEFAULT_EXCLUDE_PATTERNS: tuple[str, ...] = ("*/Thumbs.db", "*/desktop.ini", "*/~$*", "*/.DS_Store")

UNLIMITED_BANDWIDTH = -1
SmbVersion = Literal["AUTOMATIC", "SMB3", "SMB2", "SMB2_0", "SMB1"]


@dataclass(frozen=True)
class LegacyDocumentsSyncProps:
    """Everything the transfer needs; defaults match the Patronus share.

    The values that come from cdk.json arrive validated by ``stacks.config`` (its
    ``DataSyncConfig``); this class checks only what no one else does.

    Attributes:
        agent_arns: ARNs of the activated DataSync agent(s) that can reach the share
            (``arn:aws:datasync:<region>:<account>:agent/agent-<17 chars>``).
        documents_bucket: the documents bucket; files land under ``destination_prefix``.
        smb_password_secret: ARN or name of the Secrets Manager secret holding the SMB
            user's password. Resolved by CloudFormation at deploy time (dynamic reference).
        smb_password_json_field: the JSON key of the password in the secret, or None when the
            secret string is the password itself.
        smb_user: the domain user DataSync mounts the share with (read access is enough).
        smb_domain: the Windows domain of that user, None for a local account.
        smb_server: host name or IP of the file server.
        smb_share: the share name.
        smb_subdirectory: the folder inside the share to copy ("" for the whole share).
        smb_version: SMB protocol version (AUTOMATIC negotiates).
        destination_prefix: key prefix of the copies in the bucket.
        storage_class: the S3 storage class DataSync writes the copies in.
        bytes_per_second: bandwidth cap for the agent, or -1 for none.
        schedule_expression: optional ``cron(...)``/``rate(...)`` for unattended incremental
            runs (DataSync allows at most one run per hour).
        log_retention: how long the task's CloudWatch logs are kept.
        log_removal_policy: what becomes of those logs when the construct is removed.
        log_level: BASIC (errors and summaries) or TRANSFER (one line per file).
        reports_bucket: where task reports go; None means the documents bucket.
        reports_prefix: key prefix of the task reports.
        report_level: ERRORS_ONLY or SUCCESSES_AND_ERRORS (lists every file: large reports).
        excludes: DataSync exclude patterns.
        restrict_listing_to_prefix: limit the location role's ``s3:ListBucket`` to the prefix.
        task_name: the task's name.
    """

    agent_arns: Sequence[str]
    documents_bucket: s3.IBucket
    smb_password_secret: str
    smb_user: str
    smb_password_json_field: str | None = "password"  # noqa: S105 - a JSON key, not a secret
    smb_domain: str | None = None
    smb_server: str = "10.0.20.1"
    smb_share: str = "share"
    smb_subdirectory: str = ""
    smb_version: SmbVersion = "AUTOMATIC"
    destination_prefix: str = "legacy/"
    storage_class: Literal["STANDARD", "INTELLIGENT_TIERING", "STANDARD_IA"] = "STANDARD"
    bytes_per_second: int = UNLIMITED_BANDWIDTH
    schedule_expression: str | None = None
    log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS
    log_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN
    log_level: Literal["BASIC", "TRANSFER"] = "BASIC"
    reports_bucket: s3.IBucket | None = None
    reports_prefix: str = "datasync-reports/"
    report_level: Literal["ERRORS_ONLY", "SUCCESSES_AND_ERRORS"] = "ERRORS_ONLY"
    excludes: Sequence[str] = field(default=DEFAULT_EXCLUDE_PATTERNS)
    restrict_listing_to_prefix: bool = True
    task_name: str = "patronus-legacy-documents"

    def __post_init__(self) -> None:
        """Check the options that only this construct takes; the values that come from cdk.json
        (agents, share, user, secret, bandwidth, schedule) are validated once, by ``stacks.config``."""
        if not self.destination_prefix.strip("/"):
            raise ValueError("destination_prefix: the copies must go under a prefix (e.g. legacy/)")
        if not self.reports_prefix.strip("/"):
            raise ValueError("reports_prefix: task reports need their own prefix")
        for pattern in self.excludes:
            if not pattern or "|" in pattern:
                raise ValueError(f"excludes: {pattern!r} is not a single DataSync pattern")


class LegacyDocumentsSync(Construct):
    """The SMB location, the S3 location (``legacy/``), the task, its reports and its logs."""

    def __init__(self, scope: Construct, construct_id: str, props: LegacyDocumentsSyncProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self._prefix = props.destination_prefix.strip("/") + "/"
        self._reports_bucket = props.reports_bucket or props.documents_bucket
        self._reports_prefix = props.reports_prefix.strip("/") + "/"
        stack = cdk.Stack.of(self)
        self._source_arn_pattern = f"arn:{stack.partition}:datasync:{stack.region}:{stack.account}:*"

        self.location_role = self._build_location_role()
        self.report_role = self._build_report_role()
        self.log_group = self._build_log_group()
        self.smb_location = self._build_smb_location()
        self.s3_location = self._build_s3_location()
        self.task = self._build_task()
        self.task_arn = self.task.attr_task_arn

    # -- roles -----------------------------------------------------------------------------
    def _datasync_principal(self) -> iam.IPrincipal:
        """DataSync, only on behalf of this account's DataSync resources (confused deputy guard)."""
        stack = cdk.Stack.of(self)
        return iam.ServicePrincipal("datasync.amazonaws.com").with_conditions(
            {
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": self._source_arn_pattern},
            }
        )

    def _build_location_role(self) -> iam.Role:
        bucket = self.props.documents_bucket
        role = iam.Role(
            self,
            "LocationRole",
            assumed_by=self._datasync_principal(),
            description=f"DataSync writes the legacy share copy to {self._prefix} of the documents bucket",
        )
        listing_condition = (
            {"StringLike": {"s3:prefix": [self._prefix, f"{self._prefix}*"]}}
            if self.props.restrict_listing_to_prefix
            else None
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListThePrefix",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions=listing_condition,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="BucketLevel",
                actions=["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                resources=[bucket.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ObjectsUnderThePrefix",
                actions=[
                    "s3:AbortMultipartUpload",
                    "s3:DeleteObject",
                    "s3:GetObject",
                    "s3:GetObjectTagging",
                    "s3:GetObjectVersion",
                    "s3:GetObjectVersionTagging",
                    "s3:ListMultipartUploadParts",
                    "s3:PutObject",
                    "s3:PutObjectTagging",
                ],
                resources=[bucket.arn_for_objects(f"{self._prefix}*")],
            )
        )
        if bucket.encryption_key is not None:
            bucket.encryption_key.grant(role, "kms:Decrypt", "kms:GenerateDataKey")
        self._acknowledge_prefix_wildcard(role, bucket, self._prefix, "copies of the share's files")
        return role

    def _build_report_role(self) -> iam.Role:
        bucket = self._reports_bucket
        role = iam.Role(
            self,
            "ReportRole",
            assumed_by=self._datasync_principal(),
            description=f"DataSync writes task reports under {self._reports_prefix}",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteTaskReports",
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{self._reports_prefix}*")],
            )
        )
        if bucket.encryption_key is not None:
            bucket.encryption_key.grant(role, "kms:GenerateDataKey")
        self._acknowledge_prefix_wildcard(
            role, bucket, self._reports_prefix, "one report object per execution"
        )
        return role

    def _acknowledge_prefix_wildcard(
        self, role: iam.Role, bucket: s3.IBucket, prefix: str, what: str
    ) -> None:
        """The only wildcard in these roles is the object prefix: DataSync names the objects."""
        reason = f"DataSync creates the object names ({what}); the grant is limited to the {prefix} prefix."
        rendered = _render_for_nag(cdk.Stack.of(self).resolve(bucket.arn_for_objects(f"{prefix}*")))
        finding = f"AwsSolutions-IAM5[Resource::{rendered}]" if rendered else "AwsSolutions-IAM5"
        cdk.Validations.of(role).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))

    # -- logs ------------------------------------------------------------------------------
    def _build_log_group(self) -> logs.LogGroup:
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=self.props.log_retention,
            removal_policy=self.props.log_removal_policy,
        )
        stack = cdk.Stack.of(self)
        policy = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="DataSyncTaskLogs",
                    principals=[iam.ServicePrincipal("datasync.amazonaws.com")],
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group.log_group_arn],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": self._source_arn_pattern.replace(":*", ":task/*")},
                    },
                )
            ]
        )
        logs.CfnResourcePolicy(
            self,
            "LogsResourcePolicy",
            policy_name=f"datasync-{cdk.Names.unique_id(self)}"[:255],
            policy_document=cdk.Fn.to_json_string(policy.to_json()),
        )
        return log_group

    # -- locations -------------------------------------------------------------------------
    def _build_smb_location(self) -> datasync.CfnLocationSMB:
        props = self.props
        password = cdk.SecretValue.secrets_manager(
            props.smb_password_secret,
            json_field=props.smb_password_json_field,
        ).unsafe_unwrap()  # a {{resolve:secretsmanager:...}} reference, resolved by CloudFormation
        folder = "/".join(
            part for part in (props.smb_share, props.smb_subdirectory.replace("\\", "/").strip("/")) if part
        )
        return datasync.CfnLocationSMB(
            self,
            "SmbLocation",
            agent_arns=list(props.agent_arns),
            server_hostname=props.smb_server,
            subdirectory=f"/{folder}/",
            user=props.smb_user,
            domain=props.smb_domain,
            password=password,
            authentication_type="NTLM",
            mount_options=datasync.CfnLocationSMB.MountOptionsProperty(version=props.smb_version),
        )

    def _build_s3_location(self) -> datasync.CfnLocationS3:
        location = datasync.CfnLocationS3(
            self,
            "S3Location",
            s3_bucket_arn=self.props.documents_bucket.bucket_arn,
            subdirectory=f"/{self._prefix}",
            s3_storage_class=self.props.storage_class,
            s3_config=datasync.CfnLocationS3.S3ConfigProperty(
                bucket_access_role_arn=self.location_role.role_arn
            ),
        )
        # DataSync checks the role when the location is created: its policy must exist first.
        location.node.add_dependency(self.location_role.node.find_child("DefaultPolicy"))
        return location

    # -- task ------------------------------------------------------------------------------
    def _build_task(self) -> datasync.CfnTask:
        props = self.props
        schedule = (
            datasync.CfnTask.TaskScheduleProperty(
                schedule_expression=props.schedule_expression, status="ENABLED"
            )
            if props.schedule_expression
            else None
        )
        task = datasync.CfnTask(
            self,
            "Task",
            name=props.task_name,
            source_location_arn=self.smb_location.attr_location_arn,
            destination_location_arn=self.s3_location.attr_location_arn,
            cloud_watch_log_group_arn=self.log_group.log_group_arn,
            task_mode="BASIC",
            options=datasync.CfnTask.OptionsProperty(
                transfer_mode="CHANGED",
                verify_mode="ONLY_FILES_TRANSFERRED",
                preserve_deleted_files="PRESERVE",
                overwrite_mode="ALWAYS",
                bytes_per_second=props.bytes_per_second,
                task_queueing="ENABLED",
                log_level=props.log_level,
                atime="BEST_EFFORT",
                mtime="PRESERVE",
                uid="NONE",
                gid="NONE",
                posix_permissions="NONE",
                preserve_devices="NONE",
                security_descriptor_copy_flags="NONE",
                object_tags="NONE",
            ),
            excludes=[
                datasync.CfnTask.FilterRuleProperty(
                    filter_type="SIMPLE_PATTERN", value="|".join(props.excludes)
                )
            ],
            schedule=schedule,
            task_report_config=datasync.CfnTask.TaskReportConfigProperty(
                destination=datasync.CfnTask.DestinationProperty(
                    s3=datasync.CfnTask.S3Property(
                        s3_bucket_arn=self._reports_bucket.bucket_arn,
                        subdirectory=self._reports_prefix,
                        bucket_access_role_arn=self.report_role.role_arn,
                    )
                ),
                output_type="STANDARD",
                report_level=props.report_level,
                object_version_ids="INCLUDE",
            ),
        )
        task.node.add_dependency(self.report_role.node.find_child("DefaultPolicy"))
        return task


def _render_for_nag(value: object) -> str | None:
    """Spell a resolved ARN the way cdk-nag names it in a finding (``<Logical.Arn>/legacy/*``,
    ``<export name>/legacy/*`` for an import of a named export).

    None when the value uses an intrinsic function this does not know; the caller then
    acknowledges the rule for the role as a whole.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref" and isinstance(argument, str):
            return f"<{argument}>"
        if function == "Fn::ImportValue" and isinstance(argument, str):
            return argument  # an export of a fixed name, e.g. the storage stack's bucket ARN
        if function == "Fn::GetAtt" and isinstance(argument, list) and len(argument) == 2:
            return f"<{argument[0]}.{argument[1]}>"
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            rendered = [_render_for_nag(part) for part in parts]
            if isinstance(separator, str) and all(part is not None for part in rendered):
                return separator.join(part for part in rendered if part is not None)
    return None
