"""Dashboard and alarms, built with cdk-monitoring-constructs, to an encrypted SNS topic.

Alarms: API 5xx rate and p99 latency; Lambda errors and throttles; dead-letter queue depth;
tamper attempts and, where scanning is on, malware found in an upload;
RDS Proxy client and database connections and the time a request waits to borrow one; Aurora
CPU, capacity (ACU) and replica lag. The
release alarms of the api stack (the ones CodeDeploy watches to roll a canary back) are shown on
the dashboard and notify the topic through one composite alarm.
"""

from __future__ import annotations

import cdk_monitoring_constructs as mc
from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from patronus.observability import METRICS_NAMESPACE
from patronus.services.documents import THREATS_METRIC, UploadOutcome
from stacks.api import ApiStack
from stacks.common import removal_policy
from stacks.config import EnvironmentConfig
from stacks.cost import CostGuard
from stacks.database import DatabaseStack

CRITICAL = "Critical"
ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
# Bytes written to the key of a document whose bytes are fixed: removed by document_events,
# which counts them in this metric (the function's upload outcomes, patronus.services.documents).
TAMPER_METRIC = f"Upload_{UploadOutcome.TAMPER_REMOVED.value}"


class MonitoringStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        database: DatabaseStack,
        api: ApiStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.config = config
        self.topic = self._build_topic()
        facade = mc.MonitoringFacade(
            self,
            "Monitoring",
            alarm_factory_defaults=mc.AlarmFactoryDefaults(
                alarm_name_prefix=f"{config.project}-{config.name}",
                actions_enabled=True,
                action=mc.SnsAlarmActionStrategy(on_alarm_topic=self.topic, on_ok_topic=self.topic),
                datapoints_to_alarm=3,
                evaluation_periods=5,
            ),
            dashboard_factory=mc.DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix=f"{config.project}-{config.name}",
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )
        self._monitor_api(facade, api)
        self._monitor_releases(facade, api)
        self._monitor_functions(facade, api)
        self._monitor_database(facade, database)
        budget = config.monitoring.budget
        if budget is not None:
            CostGuard(
                self, "Cost", environment=config.name, email=config.monitoring.alarm_email, config=budget
            )
        self._monitor_documents(facade)

    def _build_topic(self) -> sns.Topic:
        key = kms.Key(
            self,
            "AlarmsKey",
            description=f"Patronus {self.config.name}: alarm notifications",
            enable_key_rotation=True,
            removal_policy=removal_policy(self.config),
        )
        # CloudWatch publishes to the encrypted topic with its service principal.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        topic = sns.Topic(
            self,
            "Alarms",
            display_name=f"Patronus {self.config.name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        topic.add_subscription(subscriptions.EmailSubscription(self.config.monitoring.alarm_email))
        return topic

    def _monitor_api(self, facade: mc.MonitoringFacade, api: ApiStack) -> None:
        thresholds = self.config.monitoring
        facade.add_large_header(f"Patronus {self.config.name}")
        facade.monitor_api_gateway(
            api=api.gateway.rest_api,
            api_stage=api.gateway.rest_api.deployment_stage.stage_name,
            human_readable_name="REST API",
            alarm_friendly_name="Api",
            add5_xx_fault_rate_alarm={
                CRITICAL: mc.ErrorRateThreshold(max_error_rate=thresholds.api_5xx_rate_percent / 100)
            },
            add_latency_p99_alarm={
                CRITICAL: mc.LatencyThreshold(max_latency=Duration.millis(thresholds.api_p99_latency_ms))
            },
        )

    def _monitor_releases(self, facade: mc.MonitoringFacade, api: ApiStack) -> None:
        # The alarms live in the api stack (the deployment group names them); this stack, which
        # deploys after it, only reads them: one composite alarm tells the team a release is
        # being rolled back, or that the live version went bad after its canary.
        facade.add_medium_header("Releases (version behind the live alias)")
        facade.add_widget(
            cloudwatch.AlarmStatusWidget(
                title="Rollback alarms of the live version",
                alarms=list(api.release.alarms),
                width=24,
                height=3,
            )
        )
        rollback = cloudwatch.CompositeAlarm(
            self,
            "ReleaseRollback",
            alarm_description=(
                "A rollback alarm of the api function's live version fired: during a release "
                "CodeDeploy is shifting the live alias back; otherwise the current version is failing."
            ),
            alarm_rule=cloudwatch.AlarmRule.any_of(*api.release.alarms),
        )
        rollback.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        rollback.add_ok_action(cloudwatch_actions.SnsAction(self.topic))

    def _monitor_functions(self, facade: mc.MonitoringFacade, api: ApiStack) -> None:
        for name, function in (
            ("ApiFunction", api.release.function),
            ("DocumentEventsFunction", api.document_events.function),
            ("MigrateFunction", api.schema_migration.function),
            # A failed expiry run is retried only by the next scheduled run: alarm on the first.
            ("UploadExpiryFunction", api.upload_expiry.function),
        ):
            facade.monitor_lambda_function(
                lambda_function=function,
                alarm_friendly_name=name,
                human_readable_name=name,
                add_fault_count_alarm={CRITICAL: mc.ErrorCountThreshold(max_error_count=0)},
                add_throttles_count_alarm={CRITICAL: mc.ErrorCountThreshold(max_error_count=0)},
            )
        facade.monitor_sqs_queue(
            queue=api.document_events.dead_letter_queue,
            alarm_friendly_name="DocumentEventsDlq",
            human_readable_name="Document events dead letters",
            add_queue_max_size_alarm={
                CRITICAL: mc.MaxMessageCountThreshold(
                    max_message_count=0, datapoints_to_alarm=1, evaluation_periods=1
                )
            },
        )

    def _monitor_database(self, facade: mc.MonitoringFacade, database: DatabaseStack) -> None:
        thresholds = self.config.monitoring
        db = self.config.database
        facade.monitor_aurora_cluster(
            cluster=database.cluster,
            alarm_friendly_name="Aurora",
            human_readable_name="Aurora MySQL",
            add_cpu_usage_alarm={CRITICAL: mc.UsageThreshold(max_usage_percent=thresholds.cpu_percent)},
            add_max_serverless_database_capacity_alarm={
                CRITICAL: mc.UsageCountThreshold(
                    max_usage_count=db.max_acu * thresholds.acu_percent_of_max / 100
                )
            },
            add_max_connection_count_alarm={
                CRITICAL: mc.HighConnectionCountThreshold(
                    max_connection_count=thresholds.database_connections
                )
            },
        )
        groups = [*self._replica_lag_groups(database), *self._proxy_groups(database)]
        if groups:
            facade.monitor_custom(
                alarm_friendly_name="ReplicationAndProxy",
                human_readable_name="Replication and RDS Proxy",
                metric_groups=groups,
            )

    def _replica_lag_groups(self, database: DatabaseStack) -> list[mc.CustomMetricGroup]:
        """The reader's lag, where there is a reader."""
        if not self.config.database.reader:
            return []
        replica_lag = cloudwatch.Metric(
            namespace="AWS/RDS",
            metric_name="AuroraReplicaLagMaximum",
            dimensions_map={"DBClusterIdentifier": database.cluster.cluster_identifier},
            statistic="Maximum",
            period=Duration.minutes(1),
            label="Replica lag (max, ms)",
        )
        return [
            mc.CustomMetricGroup(
                title="Aurora replica lag",
                metrics=[self._above(replica_lag, "ReplicaLag", self.config.monitoring.replica_lag_ms)],
            )
        ]

    def _proxy_groups(self, database: DatabaseStack) -> list[mc.CustomMetricGroup]:
        """Client and database connections of the proxy, where there is a proxy."""
        if database.proxy is None:
            return []
        thresholds = self.config.monitoring
        metrics = []
        for metric_name, statistic, label, alarm, threshold in (
            (
                "ClientConnections",
                "Maximum",
                "Proxy client connections",
                "ProxyClientConnections",
                thresholds.proxy_client_connections,
            ),
            # RDS reports the borrow latency in microseconds.
            (
                "DatabaseConnectionsBorrowLatency",
                "Average",
                "Proxy connection borrow latency (average, µs)",
                "ProxyBorrowLatency",
                thresholds.proxy_borrow_latency_ms * 1000,
            ),
            (
                "DatabaseConnections",
                "Maximum",
                "Proxy database connections",
                "ProxyDatabaseConnections",
                thresholds.database_connections,
            ),
        ):
            metric = cloudwatch.Metric(
                namespace="AWS/RDS",
                metric_name=metric_name,
                dimensions_map={"ProxyName": database.proxy.db_proxy_name},
                statistic=statistic,
                period=Duration.minutes(1),
                label=label,
            )
            metrics.append(self._above(metric, alarm, threshold))
        return [mc.CustomMetricGroup(title="RDS Proxy connections", metrics=metrics)]

    @staticmethod
    def _above(metric: cloudwatch.Metric, name: str, threshold: float) -> mc.CustomMetricWithAlarm:
        return mc.CustomMetricWithAlarm(
            metric=metric,
            alarm_friendly_name=name,
            add_alarm={CRITICAL: mc.CustomThreshold(threshold=threshold, comparison_operator=ABOVE)},
        )

    def _monitor_documents(self, facade: mc.MonitoringFacade) -> None:
        """One tamper attempt, or one upload carrying malware (where scanning is on), is one too
        many: each alarm fires on the first."""
        groups = [self._first_one("Tamper attempts", TAMPER_METRIC, "Writes to fixed documents (removed)")]
        if self.config.storage.malware_scanning.enabled:
            groups.append(
                self._first_one("Malware found", THREATS_METRIC, "Uploads with a threat (quarantined)")
            )
        facade.monitor_custom(
            alarm_friendly_name="Documents",
            human_readable_name="Document integrity",
            metric_groups=groups,
        )

    @staticmethod
    def _first_one(title: str, metric_name: str, label: str) -> mc.CustomMetricGroup:
        metric = cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=metric_name,
            statistic="Sum",
            period=Duration.minutes(5),
            label=label,
        )
        return mc.CustomMetricGroup(
            title=title,
            metrics=[
                mc.CustomMetricWithAlarm(
                    metric=metric,
                    alarm_friendly_name=title.title().replace(" ", ""),
                    add_alarm={
                        CRITICAL: mc.CustomThreshold(
                            threshold=1,
                            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                            datapoints_to_alarm=1,
                            evaluation_periods=1,
                            treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                        )
                    },
                )
            ],
        )
