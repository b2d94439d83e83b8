"""The typed, validated configuration of one Patronus environment.

Environments live in ``cdk.json`` under ``context.patronus.environments``; ``app.py`` parses
them with :func:`load_config`. A missing or wrong value fails synth with a message that names the
key, e.g. ``patronus.environments.prod.database.max_acu: Input should be less than or equal to
256``. Unknown keys are refused everywhere (a typo never silently falls back to a default).

Two things are called migrations here, and their keys say which: *schema migrations* change the
application database with each release (``api.schema_migration_function``), while the *legacy
migration* is the one-off move of the datacenter's data into AWS (``legacy_migration``: DMS,
DataSync, until the cutover). ARNs of the legacy migration may leave the account, region and
partition to the stage: ``${AWS::AccountId}``, ``${AWS::Region}`` and ``${AWS::Partition}`` are
substituted by CloudFormation (``Fn::Sub``); nothing else may be substituted.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, get_args

from aws_cdk import aws_logs as logs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from patronus.units import DEFAULT_PREFIX, DEFAULT_UNIT, check_prefix, check_unit_name

# The retention periods CloudWatch Logs accepts (days), with aws-cdk-lib's name for each.
LOG_RETENTION: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}
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
    if value not in LOG_RETENTION:
        allowed = ", ".join(str(v) for v in LOG_RETENTION)
        raise ValueError(f"must be one of the CloudWatch Logs retention periods ({allowed})")
    return value


# A number of days for which CloudWatch Logs keeps a log group's events.
RetentionDays = Annotated[int, AfterValidator(_retention)]


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
    # Zones served by each interface endpoint (billed per zone-hour): the first N of
    # availability_zones; None serves them all. A function in another zone crosses zones to it.
    interface_endpoint_zones: Annotated[int | None, Field(ge=1, le=3)] = None
    on_premises_cidrs: Annotated[list[ipaddress.IPv4Network], Field(min_length=1)]
    flow_logs_retention_days: RetentionDays = 90
    vpn: VpnConfig = VpnConfig()

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
        if (self.interface_endpoint_zones or 0) > len(self.availability_zones):
            raise ValueError(
                f"interface_endpoint_zones {self.interface_endpoint_zones} exceeds the "
                f"{len(self.availability_zones)} availability zones of the VPC"
            )
        return self

    @property
    def endpoint_zones(self) -> list[str]:
        return self.availability_zones[: self.interface_endpoint_zones or len(self.availability_zones)]


class ProxyConfig(_Model):
    """RDS Proxy in front of the cluster. Off: the functions reach the writer endpoint directly,
    with the same IAM authentication and TLS (one connection per execution environment)."""

    enabled: bool = True
    idle_client_timeout_seconds: Annotated[int, Field(ge=60, le=28800)] = 1800
    max_connections_percent: Annotated[int, Field(ge=1, le=100)] = 90
    # How long a request waits for a database connection of the proxy's pool before it fails
    # (RDS's default, 120 s, would outlast the API's own timeout many times over).
    connection_borrow_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 5


# The first Aurora MySQL version whose Serverless v2 instances scale to 0 ACU and pause.
AUTO_PAUSE_MIN_ENGINE = (3, 8, 0)
# What Aurora accepts for SecondsUntilAutoPause (5 minutes to one day).
AUTO_PAUSE_RANGE_SECONDS = (300, 86_400)


def engine_version_tuple(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


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
    log_retention_days: RetentionDays = 90
    performance_insights: bool = False
    proxy: ProxyConfig = ProxyConfig()
    # A second Serverless v2 instance in another zone, promotion tier 1: the failover target.
    reader: bool = True
    # With min_acu 0: the idle time after which an instance pauses (Aurora's default is 300 s).
    auto_pause_after_seconds: (
        Annotated[int, Field(ge=AUTO_PAUSE_RANGE_SECONDS[0], le=AUTO_PAUSE_RANGE_SECONDS[1])] | None
    ) = None
    # Cluster parameters the legacy migration may need for a while (docs/migration.md): set here,
    # never in the console, since the parameter group is the database stack's.
    local_infile: bool = False
    event_scheduler: bool = False
    log_bin_trust_function_creators: bool = False

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

    @model_validator(mode="after")
    def _auto_pause(self) -> DatabaseConfig:
        if self.min_acu > 0:
            if self.auto_pause_after_seconds is not None:
                raise ValueError(
                    "auto_pause_after_seconds needs min_acu 0 (an instance pauses only at 0 ACU)"
                )
            return self
        if engine_version_tuple(self.engine_version) < AUTO_PAUSE_MIN_ENGINE:
            raise ValueError(
                f"min_acu 0 (auto-pause) needs Aurora MySQL 3.08.0 or later, not {self.engine_version}"
            )
        if self.proxy.enabled:
            raise ValueError(
                "min_acu 0 (auto-pause) cannot work behind RDS Proxy: the proxy keeps connections open, "
                "so the cluster never pauses; set proxy.enabled false or min_acu 0.5 or more"
            )
        return self

    @property
    def auto_pauses(self) -> bool:
        return self.min_acu == 0

    @property
    def resume_wait_seconds(self) -> int | None:
        """Where the cluster pauses, how long a function waits for a connection: through a
        typical resume (about 15 s); None elsewhere (``api.db_connect_timeout_seconds``)."""
        return RESUME_WAIT_SECONDS if self.auto_pauses else None

    @property
    def client_retry_after_seconds(self) -> int:
        """The Retry-After of a 503 when the database cannot be reached (a resume after a day
        paused takes about 30 s: 15 s waited + 15 s)."""
        return 15 if self.auto_pauses else 5

    @property
    def pause_delay_seconds(self) -> int:
        """The idle time before a pause: the configured one, or Aurora's default of 5 minutes."""
        return self.auto_pause_after_seconds or AUTO_PAUSE_RANGE_SECONDS[0]


MigratedStorageClass = Literal["STANDARD", "INTELLIGENT_TIERING", "STANDARD_IA"]


class LegacyDocumentsStorageConfig(_Model):
    """Where the documents moved from the legacy share (``legacy/``) are stored.

    DataSync writes ``storage_class`` directly (no transition request per object). With
    Intelligent-Tiering, the optional archive tiers move objects nobody read for that many days
    to asynchronous tiers: a download then needs a restore first (hours), so they are off unless
    set.
    """

    storage_class: MigratedStorageClass = "INTELLIGENT_TIERING"
    archive_access_after_days: Annotated[int | None, Field(ge=90, le=730)] = None
    deep_archive_access_after_days: Annotated[int | None, Field(ge=180, le=730)] = None

    @model_validator(mode="after")
    def _archive_tiers(self) -> LegacyDocumentsStorageConfig:
        archive, deep = self.archive_access_after_days, self.deep_archive_access_after_days
        if (archive or deep) and self.storage_class != "INTELLIGENT_TIERING":
            raise ValueError("the archive tiers belong to storage_class INTELLIGENT_TIERING")
        if archive is not None and deep is not None and deep <= archive:
            raise ValueError("deep_archive_access_after_days must exceed archive_access_after_days")
        return self


class MalwareScanningConfig(_Model):
    """GuardDuty Malware Protection for S3 on the uploads (``documents/``) of the documents bucket.

    On: each upload waits in ``scanning`` until the scan result of its object version says no
    threat; a threat quarantines it. ``tag_objects`` lets GuardDuty also tag each scanned object
    with ``GuardDutyMalwareScanStatus`` (billed per tag; the application reads the events, not the
    tags). Migrated ``legacy/`` files are not scanned (billed per GB scanned: 1 TB once).
    """

    enabled: bool = False
    tag_objects: bool = False

    @model_validator(mode="after")
    def _tags_need_scans(self) -> MalwareScanningConfig:
        if self.tag_objects and not self.enabled:
            raise ValueError("tag_objects needs enabled: only scanned objects are tagged")
        return self


class StorageConfig(_Model):
    intelligent_tiering_after_days: Annotated[int, Field(ge=0, le=3650)] = 0
    legacy_documents: LegacyDocumentsStorageConfig = LegacyDocumentsStorageConfig()
    malware_scanning: MalwareScanningConfig = MalwareScanningConfig()
    noncurrent_version_expiration_days: Annotated[int, Field(ge=1, le=3650)]
    abort_incomplete_multipart_days: Annotated[int, Field(ge=1, le=30)] = 7
    access_logs_expiration_days: Annotated[int, Field(ge=1, le=3650)] = 365


class FunctionConfig(_Model):
    memory_mb: Annotated[int, Field(ge=128, le=10240)]
    timeout_seconds: Annotated[int, Field(ge=1, le=900)]
    # Execution environments the function may run at once (each holds one database connection);
    # none: it shares the account's unreserved concurrency.
    reserved_concurrency: Annotated[int | None, Field(ge=1, le=10000)] = None


class ApiConfig(_Model):
    throttling_rate_limit: Annotated[float, Field(gt=0)]
    throttling_burst_limit: Annotated[int, Field(gt=0)]
    waf_rate_limit_per_5_minutes: Annotated[int, Field(ge=10, le=2_000_000_000)]
    mfa: Literal["required", "optional"]
    threat_protection: bool
    upload_url_ttl_seconds: Annotated[int, Field(ge=30, le=3600)] = 900
    download_url_ttl_seconds: Annotated[int, Field(ge=30, le=3600)] = 300
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log_retention_days: RetentionDays = 90
    function_log_retention_days: RetentionDays = 30
    # API Gateway's CloudWatch role is one setting per account and region: manage it from one
    # environment only when several environments share an account.
    manage_account_cloudwatch_role: bool = True
    # Under API Gateway's 29 s integration timeout with headroom: the function gives up (and
    # says so in its logs) before the client is answered 504 by the gateway.
    api_function: FunctionConfig = FunctionConfig(memory_mb=1024, timeout_seconds=20, reserved_concurrency=50)
    events_function: FunctionConfig = FunctionConfig(
        memory_mb=512, timeout_seconds=60, reserved_concurrency=10
    )
    # upload_expiry, run every ``upload_expiry_schedule_minutes``: pending uploads whose last
    # start is older than ``pending_upload_max_age_hours`` are expired and their parts removed.
    upload_expiry_function: FunctionConfig = FunctionConfig(
        memory_mb=512, timeout_seconds=300, reserved_concurrency=1
    )
    upload_expiry_schedule_minutes: Annotated[int, Field(ge=5, le=1440)] = 60
    pending_upload_max_age_hours: Annotated[int, Field(ge=1, le=720)] = 24
    # Deadlines of the database calls (PATRONUS_DB_CONNECT_TIMEOUT, PATRONUS_DB_QUERY_TIMEOUT).
    db_connect_timeout_seconds: Annotated[int, Field(ge=1, le=60)] = 3
    db_query_timeout_seconds: Annotated[int, Field(ge=1, le=300)] = 10
    # db_migrate, which applies the schema migrations of each release.
    schema_migration_function: FunctionConfig = FunctionConfig(memory_mb=512, timeout_seconds=600)
    event_retry_attempts: Annotated[int, Field(ge=0, le=185)] = 8
    # API Gateway's per-method CloudWatch metrics (billed as custom metrics); the stage's own
    # metrics are always on.
    detailed_metrics: bool = False
    waf_log_retention_days: RetentionDays = 90
    # Units (patronus.units): which Cognito groups are units, the unit of dossiers that predate
    # units, and the unit groups the user pool holds (others can be added by an operator: see
    # docs/operations.md). Every name follows the naming rule, checked at synth.
    unit_prefix: str = DEFAULT_PREFIX
    default_unit: str = DEFAULT_UNIT
    unit_groups: list[str] = []

    @model_validator(mode="after")
    def _uploads_expire_after_their_urls(self) -> ApiConfig:
        if self.pending_upload_max_age_hours * 3600 <= self.upload_url_ttl_seconds:
            raise ValueError(
                f"api.pending_upload_max_age_hours ({self.pending_upload_max_age_hours}) must be longer "
                f"than api.upload_url_ttl_seconds ({self.upload_url_ttl_seconds} s): an upload would "
                "expire while its URLs still work"
            )
        return self

    @model_validator(mode="after")
    def _units_follow_the_naming_rule(self) -> ApiConfig:
        check_prefix(self.unit_prefix)
        for unit in [self.default_unit, *self.unit_groups]:
            check_unit_name(unit, self.unit_prefix)
        if len(set(self.unit_groups)) != len(self.unit_groups):
            raise ValueError("unit_groups lists a unit twice")
        return self

    @property
    def all_unit_groups(self) -> list[str]:
        """The default unit first, then the configured ones."""
        return [self.default_unit, *(u for u in self.unit_groups if u != self.default_unit)]


class BudgetConfig(_Model):
    """An AWS Budget on the environment's tagged cost, and an anomaly alert (``stacks/cost.py``)."""

    monthly_limit_usd: Annotated[float, Field(gt=0)]
    # E-mails at these percentages of the actual cost (and at 100 % of the forecast).
    alert_percent: Annotated[list[Annotated[int, Field(gt=0, le=1000)]], Field(min_length=1)] = [80, 100]
    # A daily e-mail when a cost anomaly's total impact reaches this many dollars; null: no alert.
    anomaly_alert_usd: Annotated[float | None, Field(gt=0)] = None


class MonitoringConfig(_Model):
    alarm_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    budget: BudgetConfig | None = None
    api_5xx_rate_percent: Annotated[float, Field(gt=0, le=100)] = 1.0
    api_p99_latency_ms: Annotated[int, Field(gt=0)] = 3000
    cpu_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    acu_percent_of_max: Annotated[float, Field(gt=0, le=100)] = 90.0
    replica_lag_ms: Annotated[int, Field(gt=0)] = 2000
    proxy_client_connections: Annotated[int, Field(gt=0)] = 500
    database_connections: Annotated[int, Field(gt=0)] = 400
    # Average time a request waits for one of the proxy's database connections.
    proxy_borrow_latency_ms: Annotated[int, Field(gt=0)] = 100


class BackupConfig(_Model):
    """AWS Backup of the Aurora cluster and the documents bucket, optionally copied to a second
    region, in a vault that may be locked (compliance mode: no one can delete a recovery point
    before its retention ends, not even the account's root)."""

    enabled: bool = False
    schedule: Annotated[str, Field(pattern=r"^cron\(.+\)$")] = "cron(0 3 * * ? *)"
    retention_days: Annotated[int, Field(ge=1, le=36500)] = 35
    copy_to_region: Annotated[str | None, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = None
    copy_retention_days: Annotated[int, Field(ge=1, le=36500)] = 35
    vault_lock: bool = False
    # Days after which the vault lock can no longer be removed (AWS: 3 or more).
    vault_lock_grace_days: Annotated[int, Field(ge=3, le=36500)] = 3


_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")
_DOMAIN_NAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
# Cognito's prefix domains: <prefix>.auth.<region>.amazoncognito.com, unique in the region.
_SIGN_IN_PREFIX = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
_RESERVED_IN_PREFIX = ("aws", "amazon", "cognito")


class WebConfig(_Model):
    """The web application in AWS: CloudFront, its optional custom domain, and its sign-in."""

    # Cognito's managed login domain: https://<prefix>.auth.<region>.amazoncognito.com.
    sign_in_domain_prefix: Annotated[str, Field(pattern=_SIGN_IN_PREFIX)]
    # The application's own name (e.g. patronus.example.com); none: the distribution's
    # *.cloudfront.net name. A DNS record pointing at the distribution is the operator's.
    domain_name: Annotated[str | None, Field(pattern=_DOMAIN_NAME, max_length=253)] = None
    # The ACM certificate of domain_name: CloudFront takes certificates from us-east-1 only.
    certificate_arn: str | None = None
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"
    id_token_minutes: Annotated[int, Field(ge=5, le=1440)] = 60
    access_token_minutes: Annotated[int, Field(ge=5, le=1440)] = 60
    refresh_token_hours: Annotated[int, Field(ge=1, le=87600)] = 12
    default_locale: Literal["fr", "en"] = "fr"
    access_logs_expiration_days: Annotated[int, Field(ge=1, le=3650)] = 365

    @field_validator("sign_in_domain_prefix")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        for word in _RESERVED_IN_PREFIX:
            if word in value:
                raise ValueError(f"Cognito refuses a domain prefix containing {word!r}")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _us_east_1_certificate(cls, value: str | None) -> str | None:
        if value is not None and not _CERTIFICATE_ARN.match(sample_arn(value)):
            raise ValueError(
                "must be the ARN of an ACM certificate in us-east-1 (CloudFront uses no other region): "
                "arn:aws:acm:us-east-1:<account>:certificate/<id>"
            )
        return value

    @model_validator(mode="after")
    def _domain_and_certificate_together(self) -> WebConfig:
        if (self.domain_name is None) != (self.certificate_arn is None):
            raise ValueError("domain_name and certificate_arn go together: give both or neither")
        if max(self.id_token_minutes, self.access_token_minutes) >= self.refresh_token_hours * 60:
            raise ValueError(
                "refresh_token_hours must outlast id_token_minutes and access_token_minutes "
                "(Cognito refuses a refresh token that expires first)"
            )
        return self


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


# -- the legacy migration: the one-off move of the datacenter's data (DMS, DataSync) -------------

# What CloudFormation substitutes in an ARN of cdk.json (Fn::Sub), and a sample value of each
# with which the ARN is validated at synth.
ARN_PLACEHOLDERS = {
    "${AWS::Partition}": "aws",
    "${AWS::Region}": "eu-west-3",
    "${AWS::AccountId}": "123456789012",
}
_AGENT_ARN = re.compile(r"^arn:aws[a-z-]*:datasync:[a-z0-9-]+:\d{12}:agent/agent-[0-9a-z]{17}$")
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(?P<name>[A-Za-z0-9/_+=.@-]+)-[A-Za-z0-9]{6}$"
)
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
_SCHEDULE = re.compile(r"^(cron|rate)\(.+\)$")
_TIMEZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$")
DcuSize = Literal[1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384]


def sample_arn(value: str) -> str:
    """``value`` with its ``${AWS::...}`` placeholders replaced by sample values."""
    for placeholder, sample in ARN_PLACEHOLDERS.items():
        value = value.replace(placeholder, sample)
    if "${" in value:
        allowed = ", ".join(ARN_PLACEHOLDERS)
        raise ValueError(f"only {allowed} may be substituted")
    return value


def _arn_of(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.match(sample_arn(value)):
            raise ValueError(f"must be {what}")
        return value

    return check


def secret_name(reference: str) -> str:
    """The name of a secret given by name or by complete ARN (without the 6-character suffix)."""
    match = _SECRET_ARN.match(sample_arn(reference))
    return match.group("name") if match else reference


def _secret_name_or_arn(value: str) -> str:
    if value.startswith("arn:"):
        return _arn_of(_SECRET_ARN, "the complete ARN of a Secrets Manager secret")(value)
    if not _SECRET_NAME.match(value):
        raise ValueError("must be the name or the complete ARN of a Secrets Manager secret")
    return value


AgentArn = Annotated[
    str,
    AfterValidator(
        _arn_of(
            _AGENT_ARN,
            "the ARN of an activated DataSync agent (...:datasync:<region>:<account>:agent/agent-<17 chars>)",
        )
    ),
]
SecretArn = Annotated[
    str,
    AfterValidator(
        _arn_of(
            _SECRET_ARN, "the complete ARN of a Secrets Manager secret (...:secret:<name>-<6 characters>)"
        )
    ),
]
KeyArn = Annotated[
    str, AfterValidator(_arn_of(_KEY_ARN, "the ARN of a KMS key (...:kms:<region>:<account>:key/<id>)"))
]
SecretNameOrArn = Annotated[str, AfterValidator(_secret_name_or_arn)]
Port = Annotated[int, Field(ge=1, le=65535)]


class TableSelectionConfig(_Model):
    """One DMS selection rule: the tables matching ``table_name`` (``%`` is the wildcard)."""

    schema_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_$]{1,64}$")]
    table_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_$%]{1,64}$")] = "%"
    include: bool = True


class DmsConfig(_Model):
    """DMS Serverless full load + CDC from the legacy MySQL into the Aurora schema ``database.name``."""

    source_host: ipaddress.IPv4Address = ipaddress.IPv4Address("10.0.20.2")
    source_port: Port = 3306
    source_database: Annotated[str, Field(pattern=r"^[A-Za-z0-9_$]{1,64}$")] = "patronus"
    # {"username", "password", "host", "port"} of the legacy account DMS uses; created by hand.
    source_secret_arn: SecretArn
    # The customer-managed key of that secret, if it has one (DMS then needs kms:Decrypt on it).
    source_secret_key_arn: KeyArn | None = None
    # Empty: every table of source_database.
    table_selections: list[TableSelectionConfig] = []
    min_capacity_units: DcuSize = 1
    max_capacity_units: DcuSize = 16
    # The legacy server's time zone when it is not UTC (SELECT @@system_time_zone), e.g. Europe/Paris.
    source_server_timezone: Annotated[str | None, Field(pattern=_TIMEZONE.pattern)] = None
    # dms-vpc-role and dms-cloudwatch-logs-role exist once per account: false where they exist.
    create_account_roles: bool = True

    @field_validator("source_server_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        # Checked against the time zone database when this machine has one.
        zones = zoneinfo.available_timezones()
        if value is not None and zones and value not in zones:
            raise ValueError(f"{value!r} is not a time zone name of the IANA database (e.g. Europe/Paris)")
        return value

    @model_validator(mode="after")
    def _capacity(self) -> DmsConfig:
        if self.min_capacity_units > self.max_capacity_units:
            raise ValueError("min_capacity_units must not exceed max_capacity_units")
        return self


class DataSyncConfig(_Model):
    """DataSync from the legacy SMB share to ``legacy/`` of the documents bucket."""

    agent_arns: Annotated[list[AgentArn], Field(min_length=1)]
    smb_server: Annotated[str, Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$")] = (
        "10.0.20.1"
    )
    smb_share: Annotated[str, Field(pattern=r"^[^/\\]{1,80}$")] = "share"
    smb_subdirectory: Annotated[str, Field(max_length=1024)] = ""
    smb_domain: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")] = None
    smb_user: Annotated[str, Field(min_length=1, max_length=104)]
    # Secret holding {"password": ...}: read by CloudFormation at deploy time, so create it first.
    smb_password_secret: SecretNameOrArn
    # Bandwidth cap of the agent, bytes per second; -1 for none.
    bytes_per_second: Annotated[int, Field(ge=-1)] = -1
    schedule_expression: Annotated[str | None, Field(pattern=_SCHEDULE.pattern)] = None

    @field_validator("bytes_per_second")
    @classmethod
    def _bandwidth(cls, value: int) -> int:
        if value == 0:
            raise ValueError("a positive number of bytes per second, or -1 for no limit")
        return value


class LegacyMigrationConfig(_Model):
    """The legacy migration stack (``stacks/legacy_migration_stack.py``), removed after the cutover.

    The legacy data lands in a schema of its own, ``legacy_database`` (never the application's
    ``database.name``); a rehearsal lands in ``rehearsal_database`` (``rehearsal: true`` points DMS
    there). ``operator_cidrs`` are the datacenter hosts admitted to the cluster on 3306 (TLS) through
    the site-to-site VPN while the stack exists: the operator machine and the legacy application.
    """

    enabled: bool = False
    legacy_database: Annotated[str, Field(pattern=_DB_IDENTIFIER)] = "legacy"
    rehearsal_database: Annotated[str, Field(pattern=_DB_IDENTIFIER)] = "legacy_rehearsal"
    rehearsal: bool = False
    operator_cidrs: list[ipaddress.IPv4Network] = []
    # DMS CDC latency (seconds, for 5 minutes) above which the migration alarm fires.
    alarm_cdc_latency_seconds: Annotated[int, Field(ge=10, le=86400)] = 300
    dms: DmsConfig | None = None
    datasync: DataSyncConfig | None = None

    @model_validator(mode="after")
    def _something_to_migrate(self) -> LegacyMigrationConfig:
        if self.enabled and self.dms is None and self.datasync is None:
            raise ValueError("enabled: give the dms section, the datasync section or both")
        if self.legacy_database == self.rehearsal_database:
            raise ValueError(
                "rehearsal_database must differ from legacy_database (a rehearsal never writes there)"
            )
        return self

    @property
    def dms_target_database(self) -> str:
        """The Aurora schema DMS writes into: the rehearsal schema while ``rehearsal`` is on."""
        return self.rehearsal_database if self.rehearsal else self.legacy_database


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
    backup: BackupConfig = BackupConfig()
    # The one-off move of the legacy data (DMS, DataSync), in a stack of its own.
    legacy_migration: LegacyMigrationConfig = LegacyMigrationConfig()
    # The web application's distribution and sign-in.
    web: WebConfig

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, values: Any) -> Any:
        if isinstance(values, Mapping) and "migration" in values:
            raise ValueError(
                "the migration key is now legacy_migration (the one-off move of the legacy data; "
                "schema migrations are set under api.schema_migration_function)"
            )
        return values

    @model_validator(mode="after")
    def _zones_in_region(self) -> EnvironmentConfig:
        for zone in self.network.availability_zones:
            if not (zone.startswith(self.region) and len(zone) == len(self.region) + 1):
                raise ValueError(f"availability zone {zone} is not a zone of region {self.region}")
        return self

    @model_validator(mode="after")
    def _legacy_migration_over_the_vpn(self) -> EnvironmentConfig:
        migration = self.legacy_migration
        if not migration.enabled:
            return self
        if not self.network.vpn.enabled:
            raise ValueError(
                "legacy_migration.enabled needs network.vpn.enabled: DMS reaches the legacy MySQL "
                "through the site-to-site VPN to the datacenter (and the runbooks' tunnels use it too)"
            )
        application = self.database.name
        for key in ("legacy_database", "rehearsal_database"):
            if getattr(migration, key) == application:
                raise ValueError(
                    f"legacy_migration.{key} is the application's schema (database.name {application!r}): "
                    "the legacy data lives in a schema of its own"
                )
        routed = self.network.vpn.static_routes or self.network.on_premises_cidrs
        for cidr in migration.operator_cidrs:
            if not any(cidr.subnet_of(network) for network in routed):
                raise ValueError(
                    f"legacy_migration.operator_cidrs entry {cidr} is not routed through the VPN "
                    f"({', '.join(str(network) for network in routed)})"
                )
        if migration.dms is not None and not any(migration.dms.source_host in network for network in routed):
            ranges = ", ".join(str(network) for network in routed)
            raise ValueError(
                f"legacy_migration.dms.source_host {migration.dms.source_host} is not routed "
                f"through the VPN ({ranges})"
            )
        return self

    @model_validator(mode="after")
    def _backup_copy_elsewhere(self) -> EnvironmentConfig:
        if self.backup.copy_to_region == self.region:
            raise ValueError(f"backup.copy_to_region must be another region than {self.region}")
        return self

    @model_validator(mode="after")
    def _api_deadlines(self) -> EnvironmentConfig:
        api = self.api
        timeout = api.api_function.timeout_seconds
        if timeout > API_GATEWAY_TIMEOUT_SECONDS - 1:
            raise ValueError(
                f"api.api_function.timeout_seconds ({timeout}) must leave headroom under API "
                f"Gateway's {API_GATEWAY_TIMEOUT_SECONDS} s integration timeout: at most "
                f"{API_GATEWAY_TIMEOUT_SECONDS - 1}"
            )
        deadline = database_deadline_seconds(self)
        if deadline > timeout:
            connect = (
                f"the {self.db_connect_timeout_seconds} s wait through a resume (database.min_acu 0)"
                if self.database.resume_wait_seconds
                else f"api.db_connect_timeout_seconds {api.db_connect_timeout_seconds}"
            )
            borrow = (
                f" + database.proxy.connection_borrow_timeout_seconds "
                f"{self.database.proxy.connection_borrow_timeout_seconds}"
                if self.database.proxy.enabled
                else ""
            )
            raise ValueError(
                f"the database calls of one request may take {deadline} s ({connect}{borrow} + "
                f"api.db_query_timeout_seconds {api.db_query_timeout_seconds}), more than "
                f"api.api_function.timeout_seconds ({timeout})"
            )
        return self

    @model_validator(mode="after")
    def _connections_within_budget(self) -> EnvironmentConfig:
        functions = {key: getattr(self.api, key) for key in DATABASE_FUNCTIONS}
        unbounded = [key for key, function in functions.items() if function.reserved_concurrency is None]
        if unbounded:
            raise ValueError(
                f"api.{unbounded[0]}.reserved_concurrency must be set: each execution environment "
                "holds a database connection, so the function's concurrency must be bounded"
            )
        wanted = sum(function.reserved_concurrency or 0 for function in functions.values())
        budget = connection_budget(self.database)
        if wanted > budget:
            keys = " + ".join(
                f"api.{key}.reserved_concurrency ({function.reserved_concurrency})"
                for key, function in functions.items()
            )
            raise ValueError(
                f"{keys} = {wanted} database connections, more than the {budget} the database allows "
                f"them ({budget_explanation(self.database)}): lower the reserved concurrency, or raise "
                "database.max_acu"
                + (" or database.proxy.max_connections_percent" if self.database.proxy.enabled else "")
            )
        return self

    @property
    def retain(self) -> bool:
        return self.removal_policy == "retain"

    @property
    def db_connect_timeout_seconds(self) -> int:
        """The functions' connect deadline: the wait through a resume where the cluster pauses,
        ``api.db_connect_timeout_seconds`` elsewhere."""
        return self.database.resume_wait_seconds or self.api.db_connect_timeout_seconds


# The functions that hold a database connection per execution environment (through the proxy).
DATABASE_FUNCTIONS = ("api_function", "events_function", "upload_expiry_function")
API_GATEWAY_TIMEOUT_SECONDS = 29
# Where the cluster pauses, how long a function waits for a connection: Aurora resumes in about
# 15 s; a longer resume (about 30 s after a day paused) gets a 503 with Retry-After.
RESUME_WAIT_SECONDS = 15
# Aurora MySQL's default max_connections by the memory of the instance class; Serverless v2
# derives it from the maximum capacity (2 GiB per ACU). The value of the largest capacity not
# above the configured one is taken, so the budget is never overestimated.
MAX_CONNECTIONS_BY_ACU: dict[float, int] = {
    1: 90,
    4: 135,
    8: 1000,
    16: 2000,
    32: 3000,
    64: 4000,
    128: 5000,
    256: 6000,
}


def max_connections(max_acu: float) -> int:
    """Aurora MySQL's default ``max_connections`` for a Serverless v2 maximum of ``max_acu``."""
    return max(count for acu, count in MAX_CONNECTIONS_BY_ACU.items() if acu <= max(max_acu, 1))


def connection_budget(database: DatabaseConfig) -> int:
    """Database connections the functions may hold together: ``max_connections`` at the maximum
    capacity, times the proxy's ``max_connections_percent`` where a proxy stands in between
    (without one, each function environment holds its own connection to the writer)."""
    percent = database.proxy.max_connections_percent if database.proxy.enabled else 100
    return max_connections(database.max_acu) * percent // 100


def budget_explanation(database: DatabaseConfig) -> str:
    """How :func:`connection_budget` was reached, with the keys that set it."""
    explanation = (
        f"max_connections {max_connections(database.max_acu)} at database.max_acu {database.max_acu:g}"
    )
    if database.proxy.enabled:
        explanation += f" x database.proxy.max_connections_percent {database.proxy.max_connections_percent}%"
    return explanation


def database_deadline_seconds(config: EnvironmentConfig) -> int:
    """The longest the database calls of one request may take: connect, borrow a connection of
    the proxy's pool, run the transaction's statements."""
    borrow = config.database.proxy.connection_borrow_timeout_seconds if config.database.proxy.enabled else 0
    return config.db_connect_timeout_seconds + borrow + config.api.db_query_timeout_seconds


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
    log_retention_days: RetentionDays = 90
    build: BuildConfig = BuildConfig()

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
