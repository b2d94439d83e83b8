"""What the api stack's Lambda functions share: layers, network placement, environment, logs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from patronus.observability import METRICS_NAMESPACE
from stacks import code
from stacks.config import EnvironmentConfig, FunctionConfig
from stacks.nag import acknowledge_function
from stacks.network import MYSQL_PORT


@dataclass(frozen=True)
class FunctionDefaults:
    """The settings every function of the api stack runs with.

    Attributes:
        layers: Powertools and the project layer.
        vpc / subnets / security_group: where the functions run.
        environment: variables of every function (database, bucket, log level...).
        log_retention / removal_policy: the functions' log groups.
    """

    layers: Sequence[lambda_.ILayerVersion]
    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_group: ec2.ISecurityGroup
    environment: Mapping[str, str]
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy


@dataclass(frozen=True)
class FunctionSpec:
    """One function's code: its folder (``functions/<folder>``), handler and service name, and
    whether its published versions start from a SnapStart snapshot (only what is invoked through
    a published version benefits; a scheduled job run on ``$LATEST`` would pay for nothing)."""

    folder: str
    handler: str
    service: str
    description: str
    snap_start: bool = True


def patronus_function(
    scope: Construct,
    construct_id: str,
    defaults: FunctionDefaults,
    spec: FunctionSpec,
    sizing: FunctionConfig,
) -> lambda_.Function:
    """The function ``construct_id`` and its log group ``<construct_id>Logs`` in ``scope``:
    arm64, traced, in the VPC, with both layers, its reserved concurrency, SnapStart on its
    published versions (unless its spec says no), and the cdk-nag findings every function draws."""
    log_group = logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        retention=defaults.log_retention,
        removal_policy=defaults.removal_policy,
    )
    function = lambda_.Function(
        scope,
        construct_id,
        description=spec.description,
        runtime=code.RUNTIME,
        architecture=code.ARCHITECTURE,
        handler=spec.handler,
        code=code.function_code(spec.folder),
        layers=list(defaults.layers),
        memory_size=sizing.memory_mb,
        timeout=Duration.seconds(sizing.timeout_seconds),
        reserved_concurrent_executions=sizing.reserved_concurrency,
        # Versions start from a snapshot taken after the initialisation (patronus.snapstart).
        snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if spec.snap_start else None,
        vpc=defaults.vpc,
        vpc_subnets=defaults.subnets,
        security_groups=[defaults.security_group],
        log_group=log_group,
        tracing=lambda_.Tracing.ACTIVE,
        environment={**defaults.environment, "POWERTOOLS_SERVICE_NAME": spec.service},
    )
    acknowledge_function(function)
    return function


def function_environment(
    config: EnvironmentConfig, *, database_host: str, bucket_name: str, region: str
) -> dict[str, str]:
    """The variables every function's settings (``patronus.settings``) are read from. No secret:
    the functions sign in to the RDS proxy (or the writer, without a proxy) with IAM tokens they
    sign themselves."""
    return {
        "PATRONUS_ENVIRONMENT": config.name,
        "PATRONUS_DB_HOST": database_host,
        "PATRONUS_DB_PORT": str(MYSQL_PORT),
        "PATRONUS_DB_USER": config.database.app_user,
        "PATRONUS_DB_NAME": config.database.name,
        "PATRONUS_DB_IAM_AUTH": "true",
        "PATRONUS_DB_TLS": "true",
        "PATRONUS_DB_CONNECT_TIMEOUT": str(config.db_connect_timeout_seconds),
        "PATRONUS_DB_RETRY_AFTER": str(config.database.client_retry_after_seconds),
        "PATRONUS_DB_QUERY_TIMEOUT": str(config.api.db_query_timeout_seconds),
        "PATRONUS_BUCKET": bucket_name,
        "PATRONUS_REGION": region,
        "PATRONUS_UPLOAD_URL_TTL": str(config.api.upload_url_ttl_seconds),
        "PATRONUS_DOWNLOAD_URL_TTL": str(config.api.download_url_ttl_seconds),
        "PATRONUS_UNIT_PREFIX": config.api.unit_prefix,
        "PATRONUS_DEFAULT_UNIT": config.api.default_unit,
        "PATRONUS_MALWARE_SCANNING": str(config.storage.malware_scanning.enabled).lower(),
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": config.api.log_level,
    }
