"""One deployment of Patronus: the stacks of one environment, wired together."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from stacks.api import ApiStack
from stacks.backup import BackupCopyStack, BackupStack
from stacks.config import EnvironmentConfig
from stacks.database import DatabaseStack
from stacks.legacy_migration_stack import LegacyMigrationStack
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack
from stacks.storage import StorageStack
from stacks.web.stack import WebStack

UNTAGGABLE = ["AWS::RDS::DBProxyTargetGroup"]


class PatronusStage(Stage):
    """Network, database, storage, API, web and monitoring of one environment (``dev``, ``prod``…).

    Plus the legacy migration stack where ``legacy_migration.enabled``: it builds on network, database
    and storage, nothing builds on it, and it is destroyed after the cutover.
    """

    def __init__(
        self,
        scope: Construct,
        config: EnvironmentConfig,
        *,
        account: str | None = None,
        deployer_account: str | None = None,
    ) -> None:
        """``deployer_account``: the delivery pipeline's account, trusted to run the smoke test."""
        env = Environment(account=config.account or account, region=config.region)
        super().__init__(scope, config.name, env=env)
        self.config = config

        def name(part: str) -> str:
            return f"{config.project}-{config.name}-{part}"

        protect = config.retain
        self.network = NetworkStack(
            self, "Network", config=config, stack_name=name("network"), termination_protection=protect
        )
        self.database = DatabaseStack(
            self,
            "Database",
            config=config,
            network=self.network,
            stack_name=name("database"),
            termination_protection=protect,
        )
        self.storage = StorageStack(
            self, "Storage", config=config, stack_name=name("storage"), termination_protection=protect
        )
        self.api = ApiStack(
            self,
            "Api",
            config=config,
            network=self.network,
            database=self.database,
            storage=self.storage,
            deployer_account=deployer_account,
            stack_name=name("api"),
        )
        self.web = WebStack(
            self,
            "Web",
            config=config,
            api=self.api,
            storage=self.storage,
            stack_name=name("web"),
        )
        self.monitoring = MonitoringStack(
            self,
            "Monitoring",
            config=config,
            database=self.database,
            api=self.api,
            stack_name=name("monitoring"),
        )
        self.backup: BackupStack | None = None
        self.backup_copy: BackupCopyStack | None = None
        if config.backup.enabled:
            self._build_backup(name("backup"))
        self.legacy_migration: LegacyMigrationStack | None = None
        if config.legacy_migration.enabled:
            self.legacy_migration = LegacyMigrationStack(
                self,
                "Migration",
                config=config,
                network=self.network,
                database=self.database,
                storage=self.storage,
                stack_name=name("migration"),
            )
        self._tag()

    def _build_backup(self, stack_name: str) -> None:
        config = self.config
        if config.backup.copy_to_region:
            # The copies' vault, in the second region, exists before the plan that copies to it.
            self.backup_copy = BackupCopyStack(
                self,
                "BackupCopy",
                config=config,
                env=Environment(account=self.account, region=config.backup.copy_to_region),
                stack_name=f"{stack_name}-copy",
                termination_protection=config.retain,
            )
        self.backup = BackupStack(
            self,
            "Backup",
            config=config,
            database=self.database,
            storage=self.storage,
            stack_name=stack_name,
            termination_protection=config.retain,
        )
        if self.backup_copy is not None:
            self.backup.add_stack_dependency(self.backup_copy)

    def _tag(self) -> None:
        config = self.config
        for key, value in (
            ("project", config.project),
            ("environment", config.name),
            ("cost-centre", config.cost_centre),
        ):
            # CloudFormation refuses Tags on a proxy target group, although CDK offers them.
            Tags.of(self).add(key, value, exclude_resource_types=UNTAGGABLE)
