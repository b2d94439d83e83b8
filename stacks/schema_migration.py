"""The deploy-time schema migration: ``db_migrate`` behind a custom resource.

One ``Custom::PatronusSchemaMigration`` per environment, in the stack of the code that needs the
schema (the api stack): it runs on create and whenever ``MigrationFingerprint`` (one hash of every
migration file) changes, so a release that adds a migration applies it before the api function's
new version is published. Delete does nothing: removing the stack never drops data.

``db_migrate`` signs in to the writer with the admin secret (read by ARN at each run, never held
in the environment), creates the database and the IAM-authenticated application user
idempotently, then calls ``patronus.schema.migrate``. It runs in the given subnets with the
given security group; the rules that let that group reach the cluster and the Secrets Manager
endpoint belong to the stacks that own the cluster and the endpoint (declared once, there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks import code
from stacks.config import FunctionConfig
from stacks.nag import acknowledge_function, acknowledge_provider_framework

MIGRATE_HANDLER = "patronus_db_migrate.handler.handler"
RESOURCE_TYPE = "Custom::PatronusSchemaMigration"


@dataclass(frozen=True)
class SchemaMigrationProps:
    """Inputs of :class:`SchemaMigration`, all passed in (nothing looked up by name).

    Attributes:
        cluster: the Aurora cluster; the migration runs once it exists (both instances up).
        admin_secret: the cluster's admin secret (username, password); read at each run.
        endpoint: host name of the writer (``cluster.cluster_endpoint.hostname``).
        port: the cluster's port.
        vpc / subnets / security_group: where the function runs; the group must already be
            allowed into the cluster and to the Secrets Manager endpoint.
        layers: Powertools and the project layer (``patronus.schema``).
        database_name / app_user: the schema to create and migrate, the IAM application user.
        sizing: memory and timeout of the function (the timeout bounds one migration run).
        environment_name / log_level: recorded in the function's environment.
        log_retention / removal_policy: the function's log group.
    """

    cluster: rds.IDatabaseCluster
    admin_secret: secretsmanager.ISecret
    endpoint: str
    port: int
    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_group: ec2.ISecurityGroup
    layers: Sequence[lambda_.ILayerVersion]
    database_name: str
    app_user: str
    default_unit: str
    sizing: FunctionConfig
    environment_name: str
    log_level: str
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy


class SchemaMigration(Construct):
    """``db_migrate``, its provider and the custom resource; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, props: SchemaMigrationProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.function = self._build_function()
        self.provider = self._build_provider()
        self.resource = self._build_resource()
        self._acknowledge()

    def _build_function(self) -> lambda_.Function:
        props = self.props
        function = lambda_.Function(
            self,
            "Function",
            description="Creates the database and application user, then applies schema migrations",
            runtime=code.RUNTIME,
            architecture=code.ARCHITECTURE,
            handler=MIGRATE_HANDLER,
            code=code.function_code("db_migrate"),
            layers=list(props.layers),
            memory_size=props.sizing.memory_mb,
            timeout=Duration.seconds(props.sizing.timeout_seconds),
            vpc=props.vpc,
            vpc_subnets=props.subnets,
            security_groups=[props.security_group],
            log_group=logs.LogGroup(
                self, "Logs", retention=props.log_retention, removal_policy=props.removal_policy
            ),
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "PATRONUS_ENVIRONMENT": props.environment_name,
                "PATRONUS_DB_SECRET_ARN": props.admin_secret.secret_arn,
                "PATRONUS_DB_HOST": props.endpoint,
                "PATRONUS_DB_PORT": str(props.port),
                "PATRONUS_DB_NAME": props.database_name,
                "PATRONUS_DB_APP_USER": props.app_user,
                "PATRONUS_DEFAULT_UNIT": props.default_unit,
                "PATRONUS_DB_TLS": "true",
                "PATRONUS_DB_IAM_USER": "true",
                "POWERTOOLS_SERVICE_NAME": "patronus-db-migrate",
                "POWERTOOLS_LOG_LEVEL": props.log_level,
            },
        )
        props.admin_secret.grant_read(function)
        if code.RDS_CA_BUNDLE.is_file():
            # Verify the writer's certificate against the RDS certificate authorities.
            function.add_environment(
                "PATRONUS_DB_TLS_CA_FILE",
                f"/var/task/{code.RDS_CA_BUNDLE.relative_to(code.FUNCTIONS_DIR / 'db_migrate')}",
            )
        return function

    def _build_provider(self) -> cr.Provider:
        return cr.Provider(
            self,
            "Provider",
            on_event_handler=self.function,
            log_group=logs.LogGroup(
                self,
                "ProviderLogs",
                retention=self.props.log_retention,
                removal_policy=RemovalPolicy.DESTROY,
            ),
        )

    def _build_resource(self) -> CustomResource:
        props = self.props
        resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties={
                "MigrationFingerprint": code.migration_fingerprint(),
                "DatabaseName": props.database_name,
                "ApplicationUser": props.app_user,
            },
        )
        # Run only once both instances are up and the rotation is in place (across stacks, this
        # becomes a dependency of the whole stack on the cluster's stack).
        resource.node.add_dependency(props.cluster)
        return resource

    def _acknowledge(self) -> None:
        acknowledge_function(self.function)
        acknowledge_provider_framework(self.provider, self.function, "migration function")
