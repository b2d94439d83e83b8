"""Alarms of the migration period, in the migration stack (they go when it goes).

* DMS: ``CDCLatencySource`` and ``CDCLatencyTarget`` (AWS/DMS) above the configured seconds for
  five minutes: the replication falls behind, and the freeze would last longer than planned.
  DMS Serverless publishes them with the dimension ``ReplicationConfigId`` =
  ``<account>:<last part of the replication config ARN>`` (confirm on the first deploy: the
  dashboard's metrics list shows it).
* DataSync: an execution of the task that ends in ``ERROR`` (an EventBridge rule on DataSync's
  "Task Execution State Change" events).

Both notify a topic of this stack, encrypted with a key of its own, subscribed by
``monitoring.alarm_email``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

CDC_METRICS = ("CDCLatencySource", "CDCLatencyTarget")


@dataclass(frozen=True)
class MigrationAlarmsProps:
    email: str
    replication_config_arn: str | None
    datasync_task_arn: str | None
    max_cdc_latency_seconds: int = 300


class MigrationAlarms(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: MigrationAlarmsProps) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._build_topic(props.email)
        self.alarms: list[cloudwatch.Alarm] = []
        if props.replication_config_arn is not None:
            self._build_cdc_alarms(props.replication_config_arn, props.max_cdc_latency_seconds)
        self.datasync_rule = (
            self._build_datasync_rule(props.datasync_task_arn)
            if props.datasync_task_arn is not None
            else None
        )

    def _build_topic(self, email: str) -> sns.Topic:
        key = kms.Key(
            self,
            "AlarmsKey",
            description="Patronus legacy migration: alarm notifications",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        account = Stack.of(self).account
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmsAndEventsPublish",
                principals=[
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                    iam.ServicePrincipal("events.amazonaws.com"),
                ],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
        topic = sns.Topic(
            self, "Alarms", display_name="Patronus legacy migration alarms", master_key=key, enforce_ssl=True
        )
        topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic

    def _build_cdc_alarms(self, arn: str, seconds: int) -> None:
        account = Stack.of(self).account
        config_id = Fn.join(":", [account, Fn.select(6, Fn.split(":", arn))])
        for name in CDC_METRICS:
            alarm = cloudwatch.Alarm(
                self,
                f"{name}Alarm",
                alarm_description=(
                    f"DMS {name} above {seconds} s for 5 minutes: the replication of the legacy database "
                    "falls behind (docs/operations.md, section 7)"
                ),
                metric=cloudwatch.Metric(
                    namespace="AWS/DMS",
                    metric_name=name,
                    dimensions_map={"ReplicationConfigId": config_id},
                    statistic="Maximum",
                    period=Duration.minutes(1),
                ),
                threshold=seconds,
                evaluation_periods=5,
                datapoints_to_alarm=5,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
            alarm.add_ok_action(cloudwatch_actions.SnsAction(self.topic))
            self.alarms.append(alarm)

    def _build_datasync_rule(self, task_arn: str) -> events.Rule:
        return events.Rule(
            self,
            "DataSyncFailed",
            description="A DataSync execution of the legacy share ended in ERROR",
            event_pattern=events.EventPattern(
                source=["aws.datasync"],
                detail_type=["DataSync Task Execution State Change"],
                resources=events.Match.prefix(task_arn),
                detail={"State": ["ERROR"]},
            ),
            targets=[targets.SnsTopic(self.topic)],
        )
