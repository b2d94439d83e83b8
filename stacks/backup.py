"""AWS Backup of the Aurora cluster and the documents bucket, beyond the region when configured.

Aurora keeps its own continuous backups (point-in-time restore within ``database.
backup_retention_days``) and the bucket keeps every object version; both live in the region and
the account's own hands. This stack adds recovery points that do not: a daily AWS Backup plan
(``backup.schedule``) into a vault encrypted with its own key, optionally copied to a vault in a
second region (``backup.copy_to_region``, deployed by :class:`BackupCopyStack`) and optionally
locked (``backup.vault_lock``: compliance mode, nobody can delete a recovery point before its
retention ends once the grace period is over). docs/operations.md has the restore drill.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.common import removal_policy
from stacks.config import BackupConfig, EnvironmentConfig
from stacks.database import DatabaseStack
from stacks.nag import acknowledge
from stacks.storage import StorageStack

S3_BACKUP_POLICIES = ("AWSBackupServiceRolePolicyForS3Backup", "AWSBackupServiceRolePolicyForS3Restore")


def copy_vault_name(config: EnvironmentConfig) -> str:
    """The fixed name of the vault in the second region (its ARN is built from it)."""
    return f"{config.project}-{config.name}-backup-copy"


def _vault(
    scope: Construct, construct_id: str, config: EnvironmentConfig, *, name: str | None
) -> backup.BackupVault:
    """A vault with its own rotating key, locked when ``backup.vault_lock``."""
    settings = config.backup
    key = kms.Key(
        scope,
        f"{construct_id}Key",
        description=f"Patronus {config.name}: AWS Backup recovery points",
        enable_key_rotation=True,
        removal_policy=removal_policy(config),
    )
    lock = (
        backup.LockConfiguration(
            min_retention=Duration.days(min(settings.retention_days, settings.copy_retention_days)),
            changeable_for=Duration.days(settings.vault_lock_grace_days),
        )
        if settings.vault_lock
        else None
    )
    return backup.BackupVault(
        scope,
        construct_id,
        backup_vault_name=name,
        encryption_key=key,
        lock_configuration=lock,
        # A vault with recovery points cannot be deleted anyway; keep it with the stack's policy.
        removal_policy=RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY,
    )


class BackupCopyStack(Stack):
    """The vault in the second region that receives the copies."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.vault = _vault(self, "BackupCopyVault", config, name=copy_vault_name(config))


class BackupStack(Stack):
    """The plan, its vault and what it backs up: the cluster and the documents bucket."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        database: DatabaseStack,
        storage: StorageStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.config = config
        self.vault = _vault(self, "BackupVault", config, name=None)
        self.plan = backup.BackupPlan(self, "BackupPlan", backup_vault=self.vault)
        self.plan.add_rule(self._rule(config.backup))
        self.selection = self.plan.add_selection(
            "Selection",
            resources=[
                backup.BackupResource.from_rds_database_cluster(database.cluster),
                backup.BackupResource.from_arn(storage.bucket.bucket_arn),
            ],
            allow_restores=True,
        )
        self._grant_s3(storage)

    def _rule(self, settings: BackupConfig) -> backup.BackupPlanRule:
        copies = []
        if settings.copy_to_region:
            copy_vault = backup.BackupVault.from_backup_vault_arn(
                self,
                "CopyVault",
                f"arn:{Aws.PARTITION}:backup:{settings.copy_to_region}:{Aws.ACCOUNT_ID}:backup-vault:"
                f"{copy_vault_name(self.config)}",
            )
            copies.append(
                backup.BackupPlanCopyActionProps(
                    destination_backup_vault=copy_vault,
                    delete_after=Duration.days(settings.copy_retention_days),
                )
            )
        return backup.BackupPlanRule(
            rule_name="Daily",
            schedule_expression=events.Schedule.expression(settings.schedule),
            delete_after=Duration.days(settings.retention_days),
            copy_actions=copies or None,
        )

    def _grant_s3(self, storage: StorageStack) -> None:
        """S3 backups and restores need their own managed policies and the bucket's key."""
        role = self.selection.grant_principal
        assert isinstance(role, iam.Role)
        for name in S3_BACKUP_POLICIES:
            role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(name))
        storage.key.grant(role, "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")
        managed = (
            "service-role/AWSBackupServiceRolePolicyForBackup",
            "service-role/AWSBackupServiceRolePolicyForRestores",
            *S3_BACKUP_POLICIES,
        )
        for name in managed:
            acknowledge(
                role,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]",
                "AWS-managed policy of the AWS Backup service role: what Backup needs to back up "
                "and restore the cluster and the bucket it selects; AWS keeps it in step with the "
                "services.",
            )
