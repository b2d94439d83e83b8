"""The legacy migration: the one-off move of the datacenter's data, DMS for the legacy MySQL and
DataSync for the share (schema migrations of the application database are another thing:
``stacks/schema_migration.py``).

Built only where ``legacy_migration.enabled`` (``patronus-<env>-migration``, construct id ``Migration``)
and removed after the cutover with ``cdk destroy <env>/Migration``. It holds no data: the rows
land in Aurora and the files in the documents bucket, which belong to the database and storage
stacks. Nothing imports from it (no exports), and the rules it needs in the other stacks' security
groups are declared here, so removing it leaves the other stacks as they are.

* DMS Serverless (``LegacyDatabaseReplication``) in the app subnets of the VPC, with a security
  group of its own: out to the legacy MySQL through the site-to-site VPN, into the cluster on 3306
  (``DatabaseStack.allow_database_access``) and to the Secrets Manager endpoint
  (``NetworkStack.allow_endpoint_access``). Target: the Aurora schema ``database.name`` with the
  cluster's admin secret; source: the secret of ``legacy_migration.dms.source_secret_arn``. A key of its
  own encrypts the endpoints' settings and the replication storage.
* DataSync (``LegacyDocumentsSync``) from the SMB share to ``legacy/`` of the documents bucket,
  with ``kms:GenerateDataKey``/``kms:Decrypt`` on the bucket's key for its location role, and task
  reports under ``datasync-reports/`` of the same bucket.

Outputs (no exports): ``ReplicationConfigArn`` and ``DataSyncTaskArn``, which the runbooks'
commands take, and the names of the secrets the operator fills in
(``LegacyDatabaseSecretName``, ``LegacyShareSecretName``).
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.config import ConfigError, DataSyncConfig, DmsConfig, EnvironmentConfig, secret_name
from stacks.database import DatabaseStack
from stacks.legacy_migration.alarms import MigrationAlarms, MigrationAlarmsProps
from stacks.legacy_migration.datasync import LegacyDocumentsSync, LegacyDocumentsSyncProps
from stacks.legacy_migration.dms import (
    LegacyDatabaseReplication,
    LegacyDatabaseReplicationProps,
    TableSelection,
)
from stacks.network import MYSQL_PORT, NetworkStack
from stacks.storage import LEGACY_PREFIX, StorageStack

REPORTS_PREFIX = "datasync-reports/"


def substituted(value: str) -> str:
    """An ARN of cdk.json: ``${AWS::AccountId}`` and the like become the stage's (``Fn::Sub``)."""
    return Fn.sub(value) if "${" in value else value


class LegacyMigrationStack(Stack):
    """DMS replication and DataSync task of one environment; see the module docstring."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: NetworkStack,
        database: DatabaseStack,
        storage: StorageStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        migration = config.legacy_migration
        if not migration.enabled:
            raise ConfigError(f"patronus.environments.{config.name}.legacy_migration.enabled is false")
        self.config = config
        self.network = network
        self.database = database
        self.storage = storage
        self.replication: LegacyDatabaseReplication | None = None
        self.documents_sync: LegacyDocumentsSync | None = None
        for cidr in migration.operator_cidrs:
            # The operator machine and the legacy application, in the datacenter, over the VPN.
            database.allow_network_access(self, str(cidr), "Datacenter operators over the VPN (TLS)")
        if migration.dms is not None:
            self.replication = self._build_replication(migration.dms)
        if migration.datasync is not None:
            self.documents_sync = self._build_documents_sync(migration.datasync)
        self.alarms = MigrationAlarms(
            self,
            "Alarms",
            MigrationAlarmsProps(
                email=config.monitoring.alarm_email,
                replication_config_arn=self.replication.replication_config_arn if self.replication else None,
                datasync_task_arn=self.documents_sync.task_arn if self.documents_sync else None,
                max_cdc_latency_seconds=migration.alarm_cdc_latency_seconds,
            ),
        )

    # -- DMS -------------------------------------------------------------------------------------

    def _build_replication(self, dms: DmsConfig) -> LegacyDatabaseReplication:
        network, database = self.network, self.database
        self.replication_sg = ec2.SecurityGroup(
            self,
            "ReplicationSecurityGroup",
            vpc=network.vpc,
            description="DMS replication of the legacy MySQL",
            allow_all_outbound=False,
        )
        self.replication_sg.add_egress_rule(
            ec2.Peer.ipv4(f"{dms.source_host}/32"),
            ec2.Port.tcp(dms.source_port),
            "Legacy MySQL through the site-to-site VPN",
        )
        database.allow_database_access(self.replication_sg, "DMS replication of the legacy database")
        network.allow_endpoint_access(self.replication_sg, "DMS reads its endpoints' secrets")
        self.replication_key = kms.Key(
            self,
            "ReplicationKey",
            description=f"Patronus {self.config.name}: DMS endpoints' settings and replication storage",
            enable_key_rotation=True,
            # Nothing outlives the replication: the key goes with the stack (after the waiting period).
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        secret_keys: list[kms.IKey] = []
        if dms.source_secret_key_arn is not None:
            secret_keys.append(
                kms.Key.from_key_arn(self, "LegacySecretKey", substituted(dms.source_secret_key_arn))
            )
        props = LegacyDatabaseReplicationProps(
            vpc=network.vpc,
            security_group=self.replication_sg,
            subnets=network.app_subnets,
            source_secret_arn=substituted(dms.source_secret_arn),
            source_database=dms.source_database,
            target_database=self.config.legacy_migration.dms_target_database,
            target_endpoint=database.cluster.cluster_endpoint.hostname,
            target_secret_arn=database.admin_secret.secret_arn,
            target_port=MYSQL_PORT,
            kms_key=self.replication_key,
            secret_keys=secret_keys,
            source_host=str(dms.source_host),
            source_port=dms.source_port,
            table_selections=[
                TableSelection(rule.schema_name, rule.table_name, rule.include)
                for rule in dms.table_selections
            ],
            min_capacity_units=dms.min_capacity_units,
            max_capacity_units=dms.max_capacity_units,
            source_server_timezone=dms.source_server_timezone,
            create_account_roles=dms.create_account_roles,
            replication_identifier=f"{self.config.project}-{self.config.name}-legacy-db",
        )
        replication = LegacyDatabaseReplication(self, "LegacyDatabase", props)
        CfnOutput(
            self,
            "ReplicationConfigArn",
            value=replication.replication_config_arn,
            description="aws dms start-replication --replication-config-arn <this> "
            "--start-replication-type start-replication",
        )
        CfnOutput(
            self,
            "LegacyDatabaseSecretName",
            value=secret_name(dms.source_secret_arn),
            description=(
                "Fill in the legacy account DMS uses: "
                f'{{"username", "password", "host": "{dms.source_host}", "port": {dms.source_port}}}'
            ),
        )
        return replication

    # -- DataSync --------------------------------------------------------------------------------

    def _build_documents_sync(self, datasync: DataSyncConfig) -> LegacyDocumentsSync:
        storage = self.storage
        # The documents bucket through the storage stack's one named export of its ARN, with its
        # key: DataSync's roles are granted on both (principal policies here, nothing there).
        bucket = s3.Bucket.from_bucket_attributes(
            self, "DocumentsBucket", bucket_arn=storage.import_bucket_arn(), encryption_key=storage.key
        )
        props = LegacyDocumentsSyncProps(
            agent_arns=[substituted(arn) for arn in datasync.agent_arns],
            documents_bucket=bucket,
            smb_password_secret=substituted(datasync.smb_password_secret),
            smb_user=datasync.smb_user,
            smb_domain=datasync.smb_domain,
            smb_server=datasync.smb_server,
            smb_share=datasync.smb_share,
            smb_subdirectory=datasync.smb_subdirectory,
            destination_prefix=LEGACY_PREFIX,
            storage_class=self.config.storage.legacy_documents.storage_class,
            bytes_per_second=datasync.bytes_per_second,
            schedule_expression=datasync.schedule_expression,
            reports_prefix=REPORTS_PREFIX,
            # The record of each run is its task report in the bucket; the logs go with the stack.
            log_removal_policy=RemovalPolicy.DESTROY,
            task_name=f"{self.config.project}-{self.config.name}-legacy-documents",
        )
        documents_sync = LegacyDocumentsSync(self, "LegacyDocuments", props)
        CfnOutput(
            self,
            "DataSyncTaskArn",
            value=documents_sync.task_arn,
            description="python -m scripts.datasync_run --task-arn <this>",
        )
        account = f"{datasync.smb_domain}\\{datasync.smb_user}" if datasync.smb_domain else datasync.smb_user
        CfnOutput(
            self,
            "LegacyShareSecretName",
            value=secret_name(datasync.smb_password_secret),
            description=f'Holds the SMB password of {account} under "password"; read at deploy time',
        )
        return documents_sync
