"""The typed, validated configuration of one Patronus environment.

Environments live in ``cdk.json`` under ``context.patronus.environments``; ``app.py`` parses
them with :func:`load_config`. A missing or wrong value fails synth with a message that names the
key, e.g. ``patronus.environments.prod.database.max_acu: Input should be less than or equal to
256``. Unknown keys are refused (a typo never silently falls back to a default), except in the
``migration`` section, which belongs to the migration constructs and is kept as given.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_MAINTENANCE_WINDOW = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$"
)
_DB_IDENTIFIER = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"


class ConfigError(ValueError):
    """The CDK context does not describe a valid environment; the message names the key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(v) for v in sorted(LOG_RETENTION_DAYS))
        raise ValueError(f"must be one of the CloudWatch Logs retention periods ({allowed})")
    return value


class VpnConfig(_Model):
    """An optional Site-to-Site VPN from the VPC to the legacy datacenter."""

    enabled: bool = False
    customer_gateway_ip: ipaddress.IPv4Address | None = None
    customer_gateway_asn: Annotated[int, Field(ge=1, le=4294967294)] = 65000
    # Routes sent over the tunnel; empty means "the on-premises CIDRs".
    static_routes: list[ipaddress.IPv4Network] = []

    @model_validator(mode="after")
    def _gateway_when_enabled(self) -> VpnConfig:
        if self.enabled and self.customer_gateway_ip is None:
            raise ValueError("customer_gateway_ip is required when the VPN is enabled")
        return self


class NetworkConfig(_Model):
    cidr: ipaddress.IPv4Network
    availability_zones: Annotated[list[str], Field(min_length=2, max_length=3)]
    on_premises_cidrs: Annotated[list[ipaddress.IPv4Network], Field(min_length=1)]
    flow_logs_retention_days: int = 90
    vpn: VpnConfig = VpnConfig()

    _check_retention = field_validator("flow_logs_retention_days")(_retention)

    @field_validator("cidr")
    @classmethod
    def _large_enough(cls, value: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if value.prefixlen > 20:
            raise ValueError("must be a /20 or larger (two /24 subnets per availability zone)")
        if not value.is_private:
            raise ValueError("must be a private (RFC 1918) range")
        return value

    @field_validator("availability_zones")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("availability zones must be distinct")
        return value

    @model_validator(mode="after")
    def _no_overlap(self) -> NetworkConfig:
        for onprem in self.on_premises_cidrs:
            if self.cidr.overlaps(onprem):
                raise ValueError(
                    f"cidr {self.cidr} overlaps the on-premises range {onprem}: "
                    "traffic over the VPN could not be routed"
                )
        for route in self.vpn.static_routes:
            if self.cidr.overlaps(route):
                raise ValueError(f"vpn.static_routes entry {route} overlaps the VPC cidr {self.cidr}")
        return self


class ProxyConfig(_Model):
    idle_client_timeout_seconds: Annotated[int, Field(ge=60, le=28800)] = 1800
    max_connections_percent: Annotated[int, Field(ge=1, le=100)] = 90


class DatabaseConfig(_Model):
    engine_version: Annotated[str, Field(pattern=r"^3\.\d{2}\.\d+$")] = "3.10.0"
    min_acu: Annotated[float, Field(ge=0, le=256)]
    max_acu: Annotated[float, Field(ge=1, le=256)]
    backup_retention_days: Annotated[int, Field(ge=1, le=35)]
    backup_window: Annotated[str, Field(pattern=_WINDOW.pattern)]
    maintenance_window: Annotated[str, Field(pattern=_MAINTENANCE_WINDOW.pattern)]
    deletion_protection: bool
    name: Annotated[str, Field(pattern=_DB_IDENTIFIER)] = "patronus"
    admin_user: Annotated[str, Field(pattern=_DB_IDENTIFIER)] = "patronus_admin"
    app_user: Annotated[str, Field(pattern=_DB_IDENTIFIER)] = "patronus_app"
    secret_rotation_days: Annotated[int, Field(ge=1, le=365)] = 30
    log_retention_days: int = 90
    performance_insights: bool = False
    proxy: ProxyConfig = ProxyConfig()

    _check_retention = field_validator("log_retention_days")(_retention)

    @field_validator("min_acu", "max_acu")
    @classmethod
    def _half_steps(cls, value: float) -> float:
        if (value * 2) != int(value * 2):
            raise ValueError("capacity is set in steps of 0.5 ACU")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> DatabaseConfig:
        if self.min_acu > self.max_acu:
            raise ValueError("min_acu must not exceed max_acu")
        if self.app_user in {self.admin_user, "root", "rdsadmin"}:
            raise ValueError("app_user must be a dedicated user, not the admin")
        return self


class StorageConfig(_Model):
    intelligent_tiering_after_days: Annotated[int, Field(ge=0, le=3650)] = 0
    noncurrent_version_expiration_days: Annotated[int, Field(ge=1, le=3650)]
    abort_incomplete_multipart_days: Annotated[int, Field(ge=1, le=30)] = 7
    access_logs_expiration_days: Annotated[int, Field(ge=1, le=3650)] = 365


class FunctionConfig(_Model):
    memory_mb: Annotated[int, Field(ge=128, le=10240)]
    timeout_seconds: Annotated[int, Field(ge=1, le=900)]


class ApiConfig(_Model):
    throttling_rate_limit: Annotated[float, Field(gt=0)]
    throttling_burst_limit: Annotated[int, Field(gt=0)]
    waf_rate_limit_per_5_minutes: Annotated[int, Field(ge=10, le=2_000_000_000)]
    mfa: Literal["required", "optional"]
    threat_protection: bool
    upload_url_ttl_seconds: Annotated[int, Field(ge=30, le=3600)] = 900
    download_url_ttl_seconds: Annotated[int, Field(ge=30, le=3600)] = 300
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log_retention_days: int = 90
    function_log_retention_days: int = 30
    # API Gateway's CloudWatch role is one setting per account and region: manage it from one
    # environment only when several environments share an account.
    manage_account_cloudwatch_role: bool = True
    api_function: FunctionConfig = FunctionConfig(memory_mb=1024, timeout_seconds=29)
    events_function: FunctionConfig = FunctionConfig(memory_mb=512, timeout_seconds=60)
    migrate_function: FunctionConfig = FunctionConfig(memory_mb=512, timeout_seconds=600)
    event_retry_attempts: Annotated[int, Field(ge=0, le=185)] = 8

    _check_retention = field_validator("access_log_retention_days", "function_log_retention_days")(_retention)


class MonitoringConfig(_Model):
    alarm_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    api_5xx_rate_percent: Annotated[float, Field(gt=0, le=100)] = 1.0
    api_p99_latency_ms: Annotated[int, Field(gt=0)] = 3000
    cpu_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    acu_percent_of_max: Annotated[float, Field(gt=0, le=100)] = 90.0
    replica_lag_ms: Annotated[int, Field(gt=0)] = 2000
    proxy_client_connections: Annotated[int, Field(gt=0)] = 500
    database_connections: Annotated[int, Field(gt=0)] = 400


# CodeDeploy's predefined traffic shifts for Lambda, by the name used in cdk.json.
DeploymentStrategy = Literal[
    "ALL_AT_ONCE",
    "CANARY_10PERCENT_5MINUTES",
    "CANARY_10PERCENT_10MINUTES",
    "CANARY_10PERCENT_15MINUTES",
    "CANARY_10PERCENT_30MINUTES",
    "LINEAR_10PERCENT_EVERY_1MINUTE",
    "LINEAR_10PERCENT_EVERY_2MINUTES",
    "LINEAR_10PERCENT_EVERY_3MINUTES",
    "LINEAR_10PERCENT_EVERY_10MINUTES",
]
DEPLOYMENT_STRATEGIES: tuple[str, ...] = get_args(DeploymentStrategy)


class CanaryConfig(_Model):
    """How a new version of the API function takes traffic, and what rolls it back."""

    deployment: DeploymentStrategy = "CANARY_10PERCENT_5MINUTES"
    # Rollback alarms. Errors and latency are measured on the new version only; the 5xx rate on
    # the API stage (it reaches the new version's share of the traffic when that version fails).
    max_errors_per_minute: Annotated[int, Field(ge=0)] = 0
    max_latency_p99_ms: Annotated[int, Field(gt=0, le=900_000)] = 3000
    max_5xx_rate_percent: Annotated[float, Field(gt=0, le=100)] = 5.0
    # Emergency switch for a hotfix while an alarm is already firing: shift without watching.
    ignore_alarms: bool = False


class EnvironmentConfig(_Model):
    """Everything that differs between two deployments of Patronus."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,15}$")]
    account: Annotated[str | None, Field(pattern=r"^\d{12}$")] = None
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = "eu-west-3"
    project: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,20}$")] = "patronus"
    cost_centre: Annotated[str, Field(min_length=1)]
    removal_policy: Literal["retain", "destroy"]
    web_origins: list[Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.-]+(:\d+)?$")]] = []
    powertools_layer_version: Annotated[int, Field(ge=1)]
    network: NetworkConfig
    database: DatabaseConfig
    storage: StorageConfig
    api: ApiConfig
    monitoring: MonitoringConfig
    canary: CanaryConfig = CanaryConfig()
    # Settings of the one-off migration resources (DMS, DataSync); their constructs validate it.
    migration: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _zones_in_region(self) -> EnvironmentConfig:
        for zone in self.network.availability_zones:
            if not (zone.startswith(self.region) and len(zone) == len(self.region) + 1):
                raise ValueError(f"availability zone {zone} is not a zone of region {self.region}")
        return self

    @property
    def retain(self) -> bool:
        return self.removal_policy == "retain"


def _describe(error: ValidationError, prefix: str) -> str:
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in (prefix, *item["loc"]) if part != "")
        lines.append(f"{location}: {item['msg']}")
    return "; ".join(lines)


def load_environment(name: str, values: Mapping[str, Any], prefix: str = "") -> EnvironmentConfig:
    """Validate one environment's settings; ``ConfigError`` names the offending key."""
    where = prefix or f"patronus.environments.{name}"
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: must be an object")
    try:
        return EnvironmentConfig.model_validate({"name": name, **values})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, where)) from exc


def load_config(context: Mapping[str, Any] | None, only: str | None = None) -> list[EnvironmentConfig]:
    """Parse ``context.patronus`` (shared ``defaults`` merged under each environment).

    ``only`` keeps one environment (``cdk synth -c env=dev``); an unknown name fails.
    """
    if not isinstance(context, Mapping):
        raise ConfigError("patronus: missing from the cdk.json context")
    environments = context.get("environments")
    if not isinstance(environments, Mapping) or not environments:
        raise ConfigError("patronus.environments: missing or empty")
    defaults = context.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise ConfigError("patronus.defaults: must be an object")
    unknown = set(context) - {"environments", "defaults", "pipeline"}
    if unknown:
        raise ConfigError(f"patronus.{sorted(unknown)[0]}: unknown key")
    if only is not None and only not in environments:
        raise ConfigError(f"env: unknown environment {only!r} (known: {', '.join(sorted(environments))})")
    names = [only] if only is not None else list(environments)
    return [load_environment(name, _merge(defaults, environments[name])) for name in names]


def _merge(base: Mapping[str, Any], override: Any) -> Any:
    if not isinstance(override, Mapping):
        return override
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        merged[key] = _merge(current, value) if isinstance(current, Mapping) else value
    return merged


_CONNECTION_ARN = (
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z]{2}(-[a-z]+)+-\d:\d{12}:"
    r"connection/[0-9a-f-]{36}$"
)
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class BuildConfig(_Model):
    """The CodeBuild environment of the pipeline (Ubuntu standard image, x86_64)."""

    python_version: Literal["3.11", "3.12"] = "3.11"
    node_version: Literal["20", "22"] = "20"
    timeout_minutes: Annotated[int, Field(ge=10, le=480)] = 90


class PipelineConfig(_Model):
    """The delivery pipeline: where it lives, what it watches, where it deploys, in which order."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9.@_-]{1,100}$")] = "patronus-delivery"
    account: Annotated[str | None, Field(pattern=r"^\d{12}$")] = None
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = "eu-west-3"
    connection_arn: Annotated[str, Field(pattern=_CONNECTION_ARN)]
    repository: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")]
    branch: Annotated[str, Field(pattern=r"^[A-Za-z0-9._/-]{1,200}$")] = "main"
    # Environments in deployment order; each one waits for the previous one's smoke test.
    environments: Annotated[list[str], Field(min_length=1)]
    # Environments that wait for a manual approval before their deployment starts.
    approval_before: list[str] = []
    notification_email: Annotated[str | None, Field(pattern=_EMAIL)] = None
    # The authenticated request of the smoke test (a reader may make it; answers 200).
    smoke_test_path: Annotated[str, Field(pattern=r"^/v1/[A-Za-z0-9/_.?=&-]*$")] = "/v1/dossiers?limit=1"
    log_retention_days: int = 90
    build: BuildConfig = BuildConfig()

    _check_retention = field_validator("log_retention_days")(_retention)

    @model_validator(mode="after")
    def _consistent(self) -> PipelineConfig:
        if len(set(self.environments)) != len(self.environments):
            raise ValueError("environments: each environment is deployed once")
        for name in self.approval_before:
            if name not in self.environments:
                raise ValueError(f"approval_before: {name!r} is not one of the pipeline's environments")
        return self


def load_pipeline(context: Mapping[str, Any] | None) -> PipelineConfig | None:
    """Parse ``context.patronus.pipeline`` (``None`` when absent); names the offending key."""
    if not isinstance(context, Mapping) or context.get("pipeline") is None:
        return None
    values = context["pipeline"]
    if not isinstance(values, Mapping):
        raise ConfigError("patronus.pipeline: must be an object")
    try:
        pipeline = PipelineConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, "patronus.pipeline")) from exc
    known = context.get("environments")
    known_names = set(known) if isinstance(known, Mapping) else set()
    for index, name in enumerate(pipeline.environments):
        if name not in known_names:
            raise ConfigError(
                f"patronus.pipeline.environments.{index}: unknown environment {name!r} "
                f"(known: {', '.join(sorted(known_names))})"
            )
    return pipeline
