"""How each billable resource type is priced, and which types are free (with the reason).

One rule per type: it reads the resource's properties (what will be deployed) and the usage
assumptions, and adds lines to the resource. Rules never guess a price: each names a key of the
price file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scripts.operator_tools.cost.model import (
    BACKUP_COPY,
    BACKUPS,
    DETAILED_METRICS,
    HOURS_A_MONTH,
    MALWARE_SCAN,
    MIGRATION,
    MIGRATION_VPN,
    RUN,
    SECONDS_A_MONTH,
    Resource,
)

Rule = Callable[[Resource], None]

# Types with no charge of their own, and why (a charge they cause is priced on its producer).
FREE_TYPES: dict[str, str] = {
    "AWS::CloudFront::Function": (
        "the deep-link rewrite runs on page requests of the application (not on /v1 calls): within "
        "CloudFront Functions' 2 million free invocations a month, $0.10 per million beyond"
    ),
    "AWS::CloudFront::OriginAccessControl": "configuration",
    "AWS::CloudFront::ResponseHeadersPolicy": "configuration",
    "AWS::Cognito::ManagedLoginBranding": "styling of the managed login pages (in the user pool plan)",
    "AWS::Budgets::Budget": (
        "a budget without actions: $0.00 per budget-day in the AWS Budgets price list "
        "(AWSBudgets offer, BudgetsUsage, consulted 2026-12-03)"
    ),
    "AWS::CE::AnomalyMonitor": "Cost Anomaly Detection has no charge (AWS Cost Management pricing)",
    "AWS::CE::AnomalySubscription": "Cost Anomaly Detection alerts have no charge (Cost Management pricing)",
    "AWS::ApiGateway::Account": "account setting",
    "AWS::ApiGateway::Authorizer": "Cognito authorizers are not billed",
    "AWS::ApiGateway::Deployment": "configuration",
    "AWS::ApiGateway::Method": "configuration (calls priced on the REST API)",
    "AWS::ApiGateway::RequestValidator": "configuration",
    "AWS::ApiGateway::Resource": "configuration",
    "AWS::ApiGateway::GatewayResponse": "configuration",
    "AWS::ApiGateway::Model": "configuration",
    "AWS::Backup::BackupSelection": "priced on the backup plan",
    "AWS::Backup::BackupVault": "storage priced on the backup plan",
    "AWS::CDK::Metadata": "not deployed as a billable resource",
    "AWS::CodeDeploy::Application": "CodeDeploy to Lambda has no charge",
    "AWS::CodeDeploy::DeploymentGroup": "CodeDeploy to Lambda has no charge",
    "AWS::Cognito::UserPoolClient": "priced per user on the user pool",
    "AWS::Cognito::UserPoolDomain": "priced per user on the user pool",
    "AWS::Cognito::UserPoolGroup": "priced per user on the user pool",
    "AWS::DataSync::LocationS3": "priced per GB on the task",
    "AWS::DataSync::LocationSMB": "priced per GB on the task",
    "AWS::DMS::Endpoint": "priced per capacity hour on the replication",
    "AWS::DMS::ReplicationSubnetGroup": "priced per capacity hour on the replication",
    "AWS::EC2::CustomerGateway": "no charge (the VPN connection is billed)",
    "AWS::EC2::FlowLog": "log ingestion priced on the VPC",
    "AWS::EC2::RouteTable": "no charge",
    "AWS::EC2::SecurityGroup": "no charge",
    "AWS::EC2::SecurityGroupEgress": "no charge",
    "AWS::EC2::SecurityGroupIngress": "no charge",
    "AWS::EC2::Subnet": "no charge",
    "AWS::EC2::SubnetRouteTableAssociation": "no charge",
    "AWS::EC2::VPCGatewayAttachment": "no charge",
    "AWS::EC2::VPNConnectionRoute": "no charge (the VPN connection is billed)",
    "AWS::EC2::VPNGateway": "no charge (the VPN connection is billed)",
    "AWS::EC2::VPNGatewayRoutePropagation": "no charge",
    "AWS::Events::Rule": "AWS service events on the default bus are not billed",
    "AWS::IAM::Policy": "no charge",
    "AWS::IAM::Role": "no charge",
    "AWS::KMS::Alias": "no charge",
    "AWS::Lambda::Alias": "no charge",
    "AWS::Lambda::EventInvokeConfig": "no charge",
    "AWS::Lambda::LayerVersion": "code storage within Lambda's free 75 GB",
    "AWS::Lambda::Permission": "no charge",
    "AWS::Lambda::Version": "no charge (SnapStart caching is priced on the function)",
    "AWS::Logs::LogGroup": "ingestion priced on the resource that writes the logs",
    "AWS::Logs::ResourcePolicy": "no charge",
    "AWS::RDS::DBClusterParameterGroup": "no charge",
    "AWS::RDS::DBProxyTargetGroup": "priced on the proxy",
    "AWS::RDS::DBSubnetGroup": "no charge",
    "AWS::S3::BucketPolicy": "no charge",
    "AWS::SecretsManager::ResourcePolicy": "no charge",
    "AWS::SecretsManager::RotationSchedule": "a rotation a month: a few API calls",
    "AWS::SecretsManager::SecretTargetAttachment": "no charge",
    "AWS::Serverless::Application": "the rotation function: one run a month",
    "AWS::SNS::Subscription": "alarm e-mails: within SNS's free 1,000 e-mails",
    "AWS::SNS::Topic": "alarm notifications: within SNS's free million requests",
    "AWS::SNS::TopicPolicy": "no charge",
    "AWS::SQS::Queue": "dead letters only: within SQS's free million requests",
    "AWS::SQS::QueuePolicy": "no charge",
    "AWS::WAFv2::WebACLAssociation": "priced on the web ACL",
}
# API Gateway publishes this many detailed metrics per resource and method.
DETAILED_METRICS_PER_METHOD = 7
# The proxy bills a Serverless v2 target at no less than this many ACU.
PROXY_MINIMUM_ACU = 8.0
# A paused-capable instance that is awake runs at no less than this capacity.
AWAKE_MINIMUM_ACU = 0.5
COGNITO_FREE_MAU = 10_000
CLOUDFRONT_FREE_GB = 1024.0
CLOUDFRONT_FREE_REQUESTS = 10_000_000
DMS_BILLED_AFTER_STOP_HOURS = 48.0
GB = 1024 * 1024  # KB in a GB


# -- database ------------------------------------------------------------------------------------


def _cluster_of(resource: Resource) -> Mapping[str, Any]:
    cluster = resource.referenced(resource.properties.get("DBClusterIdentifier"))
    return cluster.get("Properties", {}) if cluster else {}


def _instance_acu_hours(resource: Resource, cluster: Mapping[str, Any], *, with_load: bool) -> float:
    """ACU-hours of one Serverless v2 instance: its floor while awake, plus what requests add."""
    scaling = cluster.get("ServerlessV2ScalingConfiguration", {})
    minimum = float(scaling.get("MinCapacity", AWAKE_MINIMUM_ACU))
    usage = resource.usage
    # Awake, a paused-capable instance runs at 0.5 ACU or more; otherwise at its floor all month.
    floor = AWAKE_MINIMUM_ACU * usage.awake_hours if minimum == 0 else minimum * HOURS_A_MONTH
    load = usage.requests * usage.acu_seconds_per_request / 3600 if with_load else 0.0
    return floor + load


def db_instance(resource: Resource) -> None:
    properties = resource.properties
    instance_class = properties.get("DBInstanceClass")
    if instance_class != "db.serverless":
        resource.add(f"{instance_class} instance (no price in the file)", HOURS_A_MONTH, None, unit="hours")
        return
    cluster = _cluster_of(resource)
    # A reader in promotion tier 0 or 1 scales with the writer, so it carries the same load.
    with_load = int(properties.get("PromotionTier", 0)) <= 1
    pauses = cluster.get("ServerlessV2ScalingConfiguration", {}).get("MinCapacity") == 0
    item = "Serverless v2 capacity" + (
        f" (pauses; awake {resource.usage.awake_hours:g} h)" if pauses else " (floor all month + load)"
    )
    resource.add(
        item, _instance_acu_hours(resource, cluster, with_load=with_load), "aurora.serverless_v2.acu_hour"
    )


def db_cluster(resource: Resource) -> None:
    usage = resource.usage
    resource.add("storage", usage.database_gb, "aurora.storage.gb_month", unit="GB-month")
    resource.add("I/O", usage.requests * usage.io_per_request / 1e6, "aurora.io.million_requests")
    retention = int(resource.properties.get("BackupRetentionPeriod", 1))
    # Continuous backup up to the cluster's size is free; changes over the retention are not.
    billed = usage.database_gb * usage.backup_daily_change_percent / 100 * max(retention - 1, 0)
    resource.add(f"backups ({retention} days)", billed, "aurora.backup.gb_month", unit="GB-month")
    exports = resource.properties.get("EnableCloudwatchLogsExports") or []
    if exports:
        # Error, slow query and audit logs (audit of connections and DDL only): about 1 KB a request.
        resource.add(f"log exports ({', '.join(exports)})", usage.requests / GB, "cloudwatch.logs.ingest_gb")


def db_proxy(resource: Resource) -> None:
    """The proxy bills the ACUs of the instances behind it, at least 8."""
    acu_hours = 0.0
    proxy_id = resource.logical_id
    for target in resource.resources("AWS::RDS::DBProxyTargetGroup").values():
        target_props = target.get("Properties", {})
        if target_props.get("DBProxyName", {}).get("Ref") != proxy_id:
            continue
        clusters = {
            c.get("Ref") for c in target_props.get("DBClusterIdentifiers", []) if isinstance(c, Mapping)
        }
        for instance in resource.resources("AWS::RDS::DBInstance").values():
            props = instance.get("Properties", {})
            if props.get("DBClusterIdentifier", {}).get("Ref") in clusters:
                cluster = _cluster_of_id(resource, props["DBClusterIdentifier"]["Ref"])
                acu_hours += _instance_acu_hours(resource, cluster, with_load=True)
    billed = max(acu_hours, PROXY_MINIMUM_ACU * HOURS_A_MONTH)
    resource.add(
        "capacity of the instances behind it (8-ACU minimum)", billed, "rds_proxy.serverless_acu_hour"
    )


def _cluster_of_id(resource: Resource, logical_id: str) -> Mapping[str, Any]:
    cluster = resource.template["Resources"].get(logical_id, {})
    properties: Mapping[str, Any] = cluster.get("Properties", {})
    return properties


# -- compute and API -----------------------------------------------------------------------------


def _invocations(resource: Resource) -> tuple[float, str]:
    """How often a function runs: the API's requests, the uploads, or on deploys only."""
    me = resource.logical_id
    for alias in resource.resources("AWS::Lambda::Alias").values():
        if alias.get("Properties", {}).get("FunctionName", {}).get("Ref") == me:
            return float(resource.usage.requests), "API requests"
    for rule in resource.resources("AWS::Events::Rule").values():
        for target in rule.get("Properties", {}).get("Targets", []):
            arn = target.get("Arn", {})
            if isinstance(arn, Mapping) and arn.get("Fn::GetAtt", [None])[0] == me:
                return resource.usage.uploads, "document events"
    return 0.0, "deploys and rotations only"


def lambda_function(resource: Resource) -> None:
    properties = resource.properties
    usage = resource.usage
    invocations, why = _invocations(resource)
    memory_gb = float(properties.get("MemorySize", 128)) / 1024
    architecture = (properties.get("Architectures") or ["x86_64"])[0]
    resource.add(f"requests ({why})", invocations / 1e6, "lambda.requests.million", unit="1M requests")
    seconds = invocations * usage.function_ms_per_request / 1000
    resource.add(
        f"compute, {memory_gb * 1024:g} MB {architecture}",
        seconds * memory_gb,
        f"lambda.{architecture}.gb_second",
    )
    resource.add("logs", invocations * usage.log_kb_per_request / GB, "cloudwatch.logs.ingest_gb")
    if properties.get("SnapStart", {}).get("ApplyOn") == "PublishedVersions":
        resource.add(
            "SnapStart cache (live version)", memory_gb * SECONDS_A_MONTH, "lambda.snapstart.cache_gb_second"
        )
        restores = invocations * usage.cold_start_percent / 100
        resource.add(
            "SnapStart restores", restores * memory_gb, "lambda.snapstart.restore_gb", unit="GB restored"
        )


def rest_api(resource: Resource) -> None:
    resource.add("REST API calls", resource.usage.requests / 1e6, "apigateway.rest.million_requests")


def api_stage(resource: Resource) -> None:
    properties = resource.properties
    if properties.get("AccessLogSetting"):
        resource.add("access logs", resource.usage.requests * 0.5 / GB, "cloudwatch.logs.ingest_gb")
    detailed = any(setting.get("MetricsEnabled") for setting in properties.get("MethodSettings", []))
    if detailed:
        methods = [
            m
            for m in resource.resources("AWS::ApiGateway::Method").values()
            if m.get("Properties", {}).get("HttpMethod") != "OPTIONS"
        ]
        metrics = len(methods) * DETAILED_METRICS_PER_METHOD
        resource.add(
            f"detailed metrics ({len(methods)} methods x {DETAILED_METRICS_PER_METHOD})",
            metrics,
            "cloudwatch.metric_month",
            category=DETAILED_METRICS,
        )


def web_acl(resource: Resource) -> None:
    rules = resource.properties.get("Rules", [])
    resource.add("web ACL", 1, "waf.web_acl_month")
    resource.add(f"{len(rules)} rules", len(rules), "waf.rule_month")
    resource.add("requests inspected", resource.usage.requests / 1e6, "waf.million_requests")


def waf_logging(resource: Resource) -> None:
    usage = resource.usage
    resource.add("WAF logs", usage.requests * usage.waf_log_kb_per_request / GB, "cloudwatch.logs.ingest_gb")


def user_pool(resource: Resource) -> None:
    mau = resource.usage.monthly_active_users
    if resource.properties.get("UserPoolTier") == "PLUS":
        resource.add(f"{mau} monthly active users, Plus (threat protection)", mau, "cognito.plus_mau")
    else:
        billed = max(0, mau - COGNITO_FREE_MAU)
        resource.add(
            f"{mau} monthly active users, Essentials (10,000 free)", billed, "cognito.essentials_mau"
        )


def distribution(resource: Resource) -> None:
    usage = resource.usage
    resource.add(
        "data to browsers (1 TB free)",
        max(0.0, usage.cloudfront_gb - CLOUDFRONT_FREE_GB),
        "cloudfront.data_out_gb",
    )
    billed = max(0.0, usage.requests - CLOUDFRONT_FREE_REQUESTS)
    resource.add("HTTPS requests (10M free)", billed / 10_000, "cloudfront.https_10k", unit="10k requests")


# -- network -------------------------------------------------------------------------------------


def vpc(resource: Resource) -> None:
    flows = resource.resources("AWS::EC2::FlowLog")
    if flows:
        resource.add("flow logs", resource.usage.flow_logs_gb, "cloudwatch.logs.ingest_gb")


def vpc_endpoint(resource: Resource) -> None:
    if resource.properties.get("VpcEndpointType") != "Interface":
        resource.add("gateway endpoint (no charge)", 0, None)
        return
    zones = len(resource.properties.get("SubnetIds", []))
    resource.add(
        f"interface endpoint in {zones} zones", zones * HOURS_A_MONTH, "vpc.interface_endpoint.zone_hour"
    )


def vpn_connection(resource: Resource) -> None:
    resource.add("Site-to-Site VPN", resource.usage.vpn_hours, "vpn.connection_hour", category=MIGRATION_VPN)


# -- storage and keys ----------------------------------------------------------------------------


def _transitions_to_intelligent_tiering(properties: Mapping[str, Any]) -> bool:
    for rule in properties.get("LifecycleConfiguration", {}).get("Rules", []):
        for transition in rule.get("Transitions", []):
            if transition.get("StorageClass") == "INTELLIGENT_TIERING":
                return True
    return False


def bucket(resource: Resource) -> None:
    if not _transitions_to_intelligent_tiering(resource.properties):
        resource.add("logs and small files (about 1 GB)", 1, "s3.standard.gb_month", unit="GB-month")
        return
    usage = resource.usage
    gb = usage.documents_gb
    archived = 100 - usage.frequent_percent - usage.infrequent_percent
    archive_key = "s3.intelligent_tiering.archive_instant_gb_month"
    if resource.properties.get("IntelligentTieringConfigurations"):
        archive_key = "s3.intelligent_tiering.archive_gb_month"
    resource.add(
        f"documents, frequent tier ({usage.frequent_percent:g}%)",
        gb * usage.frequent_percent / 100,
        "s3.intelligent_tiering.frequent_gb_month",
        unit="GB-month",
    )
    resource.add(
        f"documents, infrequent tier ({usage.infrequent_percent:g}%)",
        gb * usage.infrequent_percent / 100,
        "s3.intelligent_tiering.infrequent_gb_month",
        unit="GB-month",
    )
    resource.add(
        f"documents, archive tier ({archived:g}%)", gb * archived / 100, archive_key, unit="GB-month"
    )
    resource.add(
        "Intelligent-Tiering monitoring",
        usage.objects / 1000,
        "s3.intelligent_tiering.monitoring_1k_objects",
        unit="1k objects",
    )
    resource.add("uploads (PUT)", usage.uploads / 1000, "s3.put_1k", unit="1k requests")
    resource.add(
        "downloads (GET)",
        usage.requests * usage.downloads_per_request / 1000,
        "s3.get_1k",
        unit="1k requests",
    )


def kms_key(resource: Resource) -> None:
    resource.add("customer-managed key", 1, "kms.key_month", category=_key_category(resource))


def _key_category(resource: Resource) -> str:
    """The copies' vault key (a vault's key in a template with no backup plan: the stack in the
    second region) belongs to the copy; every other key to what runs."""
    if resource.resources("AWS::Backup::BackupPlan"):
        return RUN
    for vault in resource.resources("AWS::Backup::BackupVault").values():
        key = vault.get("Properties", {}).get("EncryptionKeyArn")
        if isinstance(key, Mapping) and key.get("Fn::GetAtt", [None])[0] == resource.logical_id:
            return BACKUP_COPY
    return RUN


def secret(resource: Resource) -> None:
    resource.add("secret", 1, "secretsmanager.secret_month")


# -- monitoring ----------------------------------------------------------------------------------


def alarm(resource: Resource) -> None:
    resource.add("metric alarm", 1, "cloudwatch.alarm_month")


def composite_alarm(resource: Resource) -> None:
    resource.add("composite alarm", 1, "cloudwatch.composite_alarm_month")


def dashboard(resource: Resource) -> None:
    resource.add("dashboard (beyond the account's 3 free)", 1, "cloudwatch.dashboard_month")


# -- backup and scanning -------------------------------------------------------------------------


def backup_plan(resource: Resource) -> None:
    usage = resource.usage
    rules = resource.properties.get("BackupPlan", {}).get("BackupPlanRule", [])
    # A requirement of its own (recovery beyond the database's retention and the bucket's
    # versions), shown apart: docs/cost.md states the trade-off.
    resource.add(
        "documents backup", usage.documents_gb, "backup.s3.gb_month", category=BACKUPS, unit="GB-month"
    )
    resource.add(
        "database snapshots", usage.database_gb, "backup.aurora.gb_month", category=BACKUPS, unit="GB-month"
    )
    if any(rule.get("CopyActions") for rule in rules):
        resource.add(
            "copy: documents in the second region",
            usage.documents_gb,
            "backup.s3.gb_month",
            category=BACKUP_COPY,
            unit="GB-month",
        )
        changed = usage.uploaded_gb + usage.database_gb * usage.backup_daily_change_percent / 100 * 30
        resource.add(
            "copy: data sent to the second region",
            changed,
            "backup.cross_region_gb",
            category=BACKUP_COPY,
            unit="GB",
        )


def malware_plan(resource: Resource) -> None:
    usage = resource.usage
    resource.add(
        "uploads scanned", usage.uploaded_gb, "guardduty.malware_s3.gb_scanned", category=MALWARE_SCAN
    )
    resource.add(
        "objects evaluated", usage.uploads / 1000, "guardduty.malware_s3.1k_objects", category=MALWARE_SCAN
    )


# -- the legacy migration (one-off) ----------------------------------------------------------------


def datasync_task(resource: Resource) -> None:
    resource.add(
        "copy of the share", resource.usage.documents_gb, "datasync.gb", category=MIGRATION, unit="GB"
    )


def dms_replication(resource: Resource) -> None:
    compute = resource.properties.get("ComputeConfig", {})
    dcu = float(compute.get("MinCapacityUnits") or compute.get("MaxCapacityUnits") or 1)
    hours = resource.usage.dms_hours + DMS_BILLED_AFTER_STOP_HOURS
    resource.add(
        f"{dcu:g} DCU for {hours:g} h (48 h after the stop)",
        dcu * hours,
        "dms.serverless_dcu_hour",
        category=MIGRATION,
    )


RULES: dict[str, Rule] = {
    "AWS::ApiGateway::RestApi": rest_api,
    "AWS::ApiGateway::Stage": api_stage,
    "AWS::Backup::BackupPlan": backup_plan,
    "AWS::CloudFront::Distribution": distribution,
    "AWS::CloudWatch::Alarm": alarm,
    "AWS::CloudWatch::CompositeAlarm": composite_alarm,
    "AWS::CloudWatch::Dashboard": dashboard,
    "AWS::Cognito::UserPool": user_pool,
    "AWS::DataSync::Task": datasync_task,
    "AWS::DMS::ReplicationConfig": dms_replication,
    "AWS::EC2::VPC": vpc,
    "AWS::EC2::VPCEndpoint": vpc_endpoint,
    "AWS::EC2::VPNConnection": vpn_connection,
    "AWS::GuardDuty::MalwareProtectionPlan": malware_plan,
    "AWS::KMS::Key": kms_key,
    "AWS::Lambda::Function": lambda_function,
    "AWS::RDS::DBCluster": db_cluster,
    "AWS::RDS::DBInstance": db_instance,
    "AWS::RDS::DBProxy": db_proxy,
    "AWS::S3::Bucket": bucket,
    "AWS::SecretsManager::Secret": secret,
    "AWS::WAFv2::LoggingConfiguration": waf_logging,
    "AWS::WAFv2::WebACL": web_acl,
}
