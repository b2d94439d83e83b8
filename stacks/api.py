"""The API: users, the REST API and its firewall, the api, document_events and upload_expiry functions.

The stack wires the constructs of ``stacks/api_constructs/`` and grants permissions where they
meet the database and the documents bucket: ``UserDirectory`` (Cognito, the smoke test's access),
``SmokeTestUser`` (the smoke-test user, created and repaired at deployment),
``ApiRelease`` (the api function, its ``live`` alias, the canary release), ``DocumentEvents``
(S3 events to ``document_events``), ``UploadExpiry`` (the scheduled clean-up of abandoned
uploads), ``ApiGateway`` (one method per route of the application) and
``WebFirewall``. Schema migrations belong to the release: ``SchemaMigration`` runs ``db_migrate``,
and the functions and the api function's new version (so the ``live`` alias) wait for it. The
constructs keep the logical ids their resources had before they existed (``stacks/logical_ids.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from patronus.models import Role
from patronus_api.route_table import routes
from stacks import code
from stacks.api_constructs import document_events, release, upload_expiry
from stacks.api_constructs.document_events import DocumentEvents, DocumentEventsProps
from stacks.api_constructs.firewall import WebFirewall, WebFirewallProps
from stacks.api_constructs.functions import FunctionDefaults, function_environment
from stacks.api_constructs.gateway import ApiGateway, ApiGatewayProps
from stacks.api_constructs.release import ApiRelease, ApiReleaseProps
from stacks.api_constructs.smoke_test_user import SmokeTestUser, SmokeTestUserProps
from stacks.api_constructs.upload_expiry import UploadExpiry, UploadExpiryProps
from stacks.api_constructs.users import (
    UserDirectory,
    UserDirectoryProps,
    smoke_test_role_name,
    smoke_test_runner_role_name,
    smoke_test_username,
)
from stacks.common import log_retention, removal_policy
from stacks.config import EnvironmentConfig
from stacks.database import DatabaseStack
from stacks.logical_ids import FlatScopeStack
from stacks.network import MYSQL_PORT, NetworkStack
from stacks.schema_migration import SchemaMigration, SchemaMigrationProps
from stacks.storage import DocumentAccess, StorageStack


class ApiStack(FlatScopeStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: NetworkStack,
        database: DatabaseStack,
        storage: StorageStack,
        deployer_account: str | None = None,
        **kwargs: object,
    ) -> None:
        """``deployer_account``: the account whose pipeline runs the smoke test (default: this one)."""
        super().__init__(scope, construct_id, **kwargs)
        self.config, self.storage = config, storage
        api, removal = config.api, removal_policy(config)
        retention = log_retention(api.function_log_retention_days)
        layers = [code.powertools_layer(self, config.powertools_layer_version), code.project_layer(self)]
        self.schema_migration = SchemaMigration(
            self,
            "SchemaMigration",
            SchemaMigrationProps(
                cluster=database.cluster,
                admin_secret=database.admin_secret,
                endpoint=database.cluster.cluster_endpoint.hostname,
                port=MYSQL_PORT,
                vpc=network.vpc,
                subnets=network.app_subnets,
                security_group=network.schema_migration_sg,
                layers=layers,
                database_name=config.database.name,
                app_user=config.database.app_user,
                default_unit=api.default_unit,
                sizing=api.schema_migration_function,
                environment_name=config.name,
                log_level=api.log_level,
                log_retention=retention,
                removal_policy=removal,
            ),
        )
        self.users = UserDirectory(
            self,
            "UserDirectory",
            UserDirectoryProps(
                environment_name=config.name,
                groups=[role.value for role in Role],
                unit_groups=api.all_unit_groups,
                mfa_required=api.mfa == "required",
                threat_protection=api.threat_protection,
                removal_policy=removal,
                deletion_protection=config.retain,
                smoke_test_group=Role.READER.value,
                smoke_test_role_name=smoke_test_role_name(config),
                smoke_test_account=deployer_account or self.account,
                smoke_test_runner_role_name=smoke_test_runner_role_name(config),
                web_origins=config.web_origins,
                sign_in_domain_prefix=config.web.sign_in_domain_prefix,
            ),
        )
        self.smoke_test_user = SmokeTestUser(
            self,
            "SmokeTestUser",
            SmokeTestUserProps(
                user_pool=self.users.user_pool,
                client=self.users.smoke_test_client,
                secret=self.users.smoke_test_secret,
                group=Role.READER.value,
                log_retention=retention,
                removal_policy=removal,
            ),
        )
        # The group is named, not referenced: wait for the whole directory (groups included).
        self.smoke_test_user.resource.node.add_dependency(self.users)
        defaults = FunctionDefaults(
            layers=layers,
            vpc=network.vpc,
            subnets=network.app_subnets,
            security_group=network.functions_sg,
            log_retention=retention,
            removal_policy=removal,
            environment=function_environment(
                config,
                database_host=database.endpoint,
                bucket_name=storage.bucket.bucket_name,
                region=self.region,
            ),
        )
        rest_api_name = f"{config.project}-{config.name}-api"
        migrated = [self.schema_migration.resource]
        self.document_events = DocumentEvents(
            self,
            "DocumentEvents",
            DocumentEventsProps(
                defaults=defaults,
                sizing=api.events_function,
                bucket_name=storage.bucket.bucket_name,
                retry_attempts=api.event_retry_attempts,
                runs_after=migrated,
                scan_results=config.storage.malware_scanning.enabled,
            ),
        )
        self._grant(self.document_events.function, database, document_events.DOCUMENT_ACCESS)
        self.upload_expiry = UploadExpiry(
            self,
            "UploadExpiry",
            UploadExpiryProps(
                defaults=defaults,
                sizing=api.upload_expiry_function,
                bucket_arn=storage.import_bucket_arn(),
                schedule_minutes=api.upload_expiry_schedule_minutes,
                max_age_hours=api.pending_upload_max_age_hours,
                runs_after=migrated,
            ),
        )
        self._grant(self.upload_expiry.function, database, upload_expiry.DOCUMENT_ACCESS)
        self.release = ApiRelease(
            self,
            "ApiRelease",
            ApiReleaseProps(
                defaults=defaults,
                sizing=api.api_function,
                canary=config.canary,
                runs_after=migrated,
                rest_api_name=rest_api_name,
                stage_name=config.name,
                smoke_test_path=release.PRE_TRAFFIC_READ,
                smoke_test_username=smoke_test_username(config.name),
                smoke_test_group=Role.READER.value,
                prune_functions=[self.document_events.function],
            ),
        )
        self._grant(self.release.function, database, release.DOCUMENT_ACCESS, release.KEY_ACTIONS)
        self.gateway = ApiGateway(
            self,
            "ApiGateway",
            ApiGatewayProps(
                rest_api_name=rest_api_name,
                stage_name=config.name,
                description=f"Patronus API ({config.name})",
                routes=routes(),
                handler=self.release.alias,
                user_pool=self.users.user_pool,
                throttling_rate_limit=api.throttling_rate_limit,
                throttling_burst_limit=api.throttling_burst_limit,
                web_origins=config.web_origins,
                access_log_retention=log_retention(api.access_log_retention_days),
                removal_policy=removal,
                manage_account_cloudwatch_role=api.manage_account_cloudwatch_role,
                detailed_metrics=api.detailed_metrics,
            ),
        )
        self.firewall = WebFirewall(
            self,
            "WebFirewall",
            WebFirewallProps(
                stage_arn=self.gateway.rest_api.deployment_stage.stage_arn,
                rate_limit_per_5_minutes=api.waf_rate_limit_per_5_minutes,
                metrics_prefix=config.name,
                log_group_name=f"aws-waf-logs-{config.project}-{config.name}-api",
                log_retention=log_retention(api.waf_log_retention_days),
                removal_policy=removal,
            ),
        )
        self.outputs = {
            **self.gateway.outputs,
            **self.users.outputs,
            "SmokeTestUserFunctionName": CfnOutput(
                self,
                "SmokeTestUserFunctionName",
                value=self.smoke_test_user.function.function_name,
                description="Repairs the smoke-test user from its secret when invoked (docs/operations.md)",
            ),
        }

    def _grant(
        self,
        function: lambda_.Function,
        database: DatabaseStack,
        documents: Sequence[DocumentAccess],
        key_actions: Sequence[str] = (),
    ) -> None:
        """The database as the application user, the documents, the documents key."""
        database.grant_connect(function, self.config.database.app_user)
        for access in documents:
            self.storage.grant_documents(function, access)
        if key_actions:
            self.storage.key.grant(function, *key_actions)
