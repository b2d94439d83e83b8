"""Dashboard and alarms to an encrypted SNS topic with an e-mail subscription."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from tests.infrastructure.conftest import Synth


def alarms(synth: Synth, env: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in synth.template(env, "monitoring").find_resources("AWS::CloudWatch::Alarm").values()
    ]


def metric_names(alarm: dict[str, Any]) -> set[str]:
    if "MetricName" in alarm:
        return {alarm["MetricName"]}
    return {
        query["MetricStat"]["Metric"]["MetricName"]
        for query in alarm.get("Metrics", [])
        if "MetricStat" in query
    }


def test_alarms_go_to_an_encrypted_topic_with_an_email_subscription(synth: Synth) -> None:
    template = synth.template("prod", "monitoring")
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "patronus-ops@example.com"}
    )
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [Match.object_like({"Principal": {"Service": "cloudwatch.amazonaws.com"}})]
                )
            },
        },
    )
    for alarm in alarms(synth, "prod"):
        (action,) = alarm["AlarmActions"]
        assert "Ref" in action
        assert alarm["ActionsEnabled"] is True


@pytest.mark.parametrize(
    "metric",
    [
        "5XXError",
        "Latency",
        "Errors",
        "Throttles",
        "ApproximateNumberOfMessagesVisible",
        "CPUUtilization",
        "ServerlessDatabaseCapacity",
        "DatabaseConnections",
        "AuroraReplicaLagMaximum",
        "ClientConnections",
        "Upload_tamper_removed",
    ],
)
def test_every_required_signal_has_an_alarm(synth: Synth, metric: str) -> None:
    assert any(metric in metric_names(alarm) for alarm in alarms(synth, "prod")), metric


def test_lambda_alarms_cover_the_four_functions(synth: Synth) -> None:
    # api, document_events, db_migrate and upload_expiry
    errors = [a for a in alarms(synth, "prod") if "Errors" in metric_names(a)]
    throttles = [a for a in alarms(synth, "prod") if "Throttles" in metric_names(a)]
    assert len(errors) == 4 and len(throttles) == 4


def test_api_alarms_watch_the_named_api_and_latency_is_on_p99(synth: Synth) -> None:
    (latency,) = [a for a in alarms(synth, "prod") if "Latency" in metric_names(a)]
    (query,) = latency["Metrics"]
    assert query["MetricStat"]["Stat"] == "p99"
    assert latency["Threshold"] == 3000
    dimensions = {d["Name"]: d["Value"] for d in query["MetricStat"]["Metric"]["Dimensions"]}
    assert dimensions["ApiName"] == "patronus-prod-api"
    synth.template("prod", "api").has_resource_properties(
        "AWS::ApiGateway::RestApi", {"Name": "patronus-prod-api"}
    )


def test_a_dashboard_is_built(synth: Synth) -> None:
    synth.template("prod", "monitoring").resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_the_budget_and_the_anomaly_alert_come_from_cdk_json(synth: Synth) -> None:
    # Given cdk.json: prod budget 900 USD a month, alerts at 50/80/100 %, anomalies from 100 USD
    template = synth.template("prod", "monitoring")
    (budget,) = template.find_resources("AWS::Budgets::Budget").values()
    data = budget["Properties"]["Budget"]
    # Then the budget covers the environment's tagged cost, monthly, in dollars
    assert data["BudgetLimit"] == {"Amount": 900, "Unit": "USD"}
    assert (data["BudgetType"], data["TimeUnit"]) == ("COST", "MONTHLY")
    assert data["CostFilters"] == {"TagKeyValue": ["user:environment$prod"]}
    # And it e-mails the operators at each threshold of the actual cost and at the forecast
    notified = sorted(
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in budget["Properties"]["NotificationsWithSubscribers"]
    )
    assert notified == [("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)]
    for notification in budget["Properties"]["NotificationsWithSubscribers"]:
        assert notification["Subscribers"] == [
            {"Address": "patronus-ops@example.com", "SubscriptionType": "EMAIL"}
        ]
    # And a custom anomaly monitor over the same tag alerts from 100 USD of impact
    template.has_resource_properties(
        "AWS::CE::AnomalyMonitor",
        {"MonitorType": "CUSTOM", "MonitorSpecification": Match.string_like_regexp('"Values": \\["prod"\\]')},
    )
    (subscription,) = template.find_resources("AWS::CE::AnomalySubscription").values()
    assert '"Values": ["100"]' in subscription["Properties"]["ThresholdExpression"]
    assert subscription["Properties"]["Subscribers"] == [
        {"Address": "patronus-ops@example.com", "Type": "EMAIL"}
    ]
