"""Canary releases of the API function: version, live alias, CodeDeploy group, rollback alarms.

Everything is asserted on properties; logical ids are only ever read from the template (to
follow a reference), never written in a test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from patronus.schema import discover, fingerprint
from stacks.config import ConfigError, load_config
from tests.infrastructure.conftest import Synth, cdk_context, with_overrides

API_HANDLER = "patronus_api.handler.handler"


def resources(synth: Synth, env: str, kind: str, stack: str = "api") -> Mapping[str, Mapping[str, Any]]:
    return synth.template(env, stack).find_resources(kind)


def the(found: Mapping[str, Mapping[str, Any]]) -> tuple[str, Mapping[str, Any]]:
    assert len(found) == 1, list(found)
    return next(iter(found.items()))


def api_function_id(synth: Synth, env: str) -> str:
    found = synth.template(env, "api").find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": API_HANDLER}}
    )
    return the(found)[0]


def live_alias(synth: Synth, env: str) -> tuple[str, Mapping[str, Any]]:
    return the(
        synth.template(env, "api").find_resources(
            "AWS::Lambda::Alias", {"Properties": {"FunctionName": {"Ref": api_function_id(synth, env)}}}
        )
    )


def version_of_api(synth: Synth, env: str) -> tuple[str, Mapping[str, Any]]:
    return the(
        synth.template(env, "api").find_resources(
            "AWS::Lambda::Version", {"Properties": {"FunctionName": {"Ref": api_function_id(synth, env)}}}
        )
    )


def alarms_by_metric(synth: Synth, env: str) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """The release alarms by metric name; an alarm on a metric expression by its expression's
    last metric (the share of 5xx: ``ServerErrors``)."""
    found: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for logical_id, alarm in resources(synth, env, "AWS::CloudWatch::Alarm").items():
        properties = alarm["Properties"]
        name = properties.get("MetricName") or next(
            query["MetricStat"]["Metric"]["MetricName"]
            for query in properties["Metrics"]
            if query["Id"] == "errors"
        )
        found[name] = (logical_id, properties)
    return found


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_api_function_is_published_as_a_version_behind_the_live_alias(synth: Synth, env: str) -> None:
    # Given the api stack
    version_id, _ = version_of_api(synth, env)
    _, alias = live_alias(synth, env)
    # Then the alias is named live and points at the published version (never $LATEST)
    assert alias["Properties"]["Name"] == "live"
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
    # And a version stays published after the next release, to shift back to by hand
    _, version = version_of_api(synth, env)
    assert version["DeletionPolicy"] == "Retain" and version["UpdateReplacePolicy"] == "Retain"


def test_api_gateway_may_invoke_the_alias_only(synth: Synth) -> None:
    alias_id, _ = live_alias(synth, "prod")
    permissions = [
        p["Properties"]
        for p in resources(synth, "prod", "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    # Then every API Gateway permission targets the alias, not the unqualified function
    assert permissions
    assert all(p["FunctionName"] == {"Ref": alias_id} for p in permissions)


@pytest.mark.parametrize(
    ("env", "config_name"),
    [
        ("prod", "CodeDeployDefault.LambdaCanary10Percent5Minutes"),
        ("dev", "CodeDeployDefault.LambdaAllAtOnce"),
    ],
)
def test_codedeploy_shifts_the_alias_as_configured_per_environment(
    synth: Synth, env: str, config_name: str
) -> None:
    group_id, group = the(resources(synth, env, "AWS::CodeDeploy::DeploymentGroup"))
    _, alias = live_alias(synth, env)
    # Then the group uses the environment's traffic shift, and the alias is updated through it
    assert group["Properties"]["DeploymentConfigName"] == config_name
    assert group["Properties"]["DeploymentStyle"] == {
        "DeploymentOption": "WITH_TRAFFIC_CONTROL",
        "DeploymentType": "BLUE_GREEN",
    }
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert update["DeploymentGroupName"] == {"Ref": group_id}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_a_failed_stopped_or_alarming_deployment_rolls_back(synth: Synth, env: str) -> None:
    _, group = the(resources(synth, env, "AWS::CodeDeploy::DeploymentGroup"))
    properties = group["Properties"]
    assert properties["AutoRollbackConfiguration"]["Enabled"] is True
    assert set(properties["AutoRollbackConfiguration"]["Events"]) == {
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_REQUEST",
        "DEPLOYMENT_STOP_ON_ALARM",
    }
    # And the group watches the three release alarms, with alarm checks on
    alarm_ids = {logical_id for logical_id, _ in alarms_by_metric(synth, env).values()}
    assert properties["AlarmConfiguration"]["Enabled"] is True
    assert properties["AlarmConfiguration"].get("IgnorePollAlarmFailure") in (None, False)
    assert {a["Name"]["Ref"] for a in properties["AlarmConfiguration"]["Alarms"]} == alarm_ids


def test_errors_and_latency_alarms_measure_the_new_version_through_the_alias(synth: Synth) -> None:
    version_id, _ = version_of_api(synth, "prod")
    function_id = api_function_id(synth, "prod")
    alarms = alarms_by_metric(synth, "prod")
    assert set(alarms) == {"Errors", "Duration", "ServerErrors"}
    for metric in ("Errors", "Duration"):
        _, alarm = alarms[metric]
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        # Then the alarm follows the version being released (ExecutedVersion), invoked via live
        assert dimensions["ExecutedVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
        assert dimensions["FunctionName"] == {"Ref": function_id}
        assert dimensions["Resource"] == {"Fn::Join": ["", [{"Ref": function_id}, ":live"]]}
        assert alarm["Period"] == 60
        assert alarm["TreatMissingData"] == "notBreaching"
    assert alarms["Errors"][1]["Statistic"] == "Sum" and alarms["Errors"][1]["Threshold"] == 0
    assert alarms["Duration"][1]["ExtendedStatistic"] == "p99" and alarms["Duration"][1]["Threshold"] == 3000


def test_the_5xx_alarm_watches_the_share_of_5xx_the_new_version_answered(synth: Synth) -> None:
    version_id, _ = version_of_api(synth, "prod")
    _, alarm = alarms_by_metric(synth, "prod")["ServerErrors"]
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    # Then the alarm divides the 5xx the version answered by its invocations, in percent
    (expression,) = [query for query in alarm["Metrics"] if "Expression" in query]
    assert "100 * errors / invocations" in expression["Expression"] and expression["ReturnData"] is True
    errors = queries["errors"]["MetricStat"]["Metric"]
    assert errors["Namespace"] == "Patronus"
    dimensions = {d["Name"]: d["Value"] for d in errors["Dimensions"]}
    version = {"Fn::GetAtt": [version_id, "Version"]}
    assert dimensions == {"service": "patronus-api", "FunctionVersion": version}
    invocations = queries["invocations"]["MetricStat"]["Metric"]
    assert invocations["MetricName"] == "Invocations"
    assert {d["Name"]: d["Value"] for d in invocations["Dimensions"]}["ExecutedVersion"] == {
        "Fn::GetAtt": [version_id, "Version"]
    }
    # And nothing of API Gateway's stage (whose 5xx include its own errors) is watched
    assert "AWS/ApiGateway" not in str(alarm)
    assert alarm["Threshold"] == 5 and alarm["ComparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_new_version_is_published_only_after_the_schema_migration(synth: Synth, env: str) -> None:
    template = synth.template(env, "api").to_json()["Resources"]
    (migration_id,) = [i for i, r in template.items() if r["Type"] == "Custom::PatronusSchemaMigration"]
    migration = template[migration_id]["Properties"]
    version_id, version = version_of_api(synth, env)
    _, alias = live_alias(synth, env)
    group_id, _ = the(resources(synth, env, "AWS::CodeDeploy::DeploymentGroup"))
    # Then the chain alias -> version -> migration holds in CloudFormation's own ordering
    assert migration_id in version["DependsOn"]
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
    # And the alias also waits for the alarms (moved to the new version) and, through its update
    # policy, for the deployment group
    alarm_ids = {logical_id for logical_id, _ in alarms_by_metric(synth, env).values()}
    assert alarm_ids <= set(alias["DependsOn"])
    assert alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"] == {"Ref": group_id}
    # And the migration is db_migrate itself, served by the provider of this stack (no import),
    # on the current migration set
    framework_id, _ = migration["ServiceToken"]["Fn::GetAtt"]
    assert template[framework_id]["Type"] == "AWS::Lambda::Function"
    migrate_id = the(
        synth.template(env, "api").find_resources(
            "AWS::Lambda::Function", {"Properties": {"Handler": "patronus_db_migrate.handler.handler"}}
        )
    )[0]
    assert {"Fn::GetAtt": [migrate_id, "Arn"]} in template[framework_id]["Properties"]["Environment"][
        "Variables"
    ].values()
    assert migration["MigrationFingerprint"] == fingerprint(discover())
    # And it is the only migration resource of the environment: no stack runs the migrations twice
    for stack in synth.stack_names(env):
        found = synth.template(env, stack).find_resources("Custom::PatronusSchemaMigration")
        assert len(found) == (1 if stack == "api" else 0), stack


def test_rollback_alarms_notify_the_team_through_one_composite_alarm(synth: Synth) -> None:
    monitoring = synth.template("prod", "monitoring")
    (composite,) = monitoring.find_resources("AWS::CloudWatch::CompositeAlarm").values()
    rule = str(composite["Properties"]["AlarmRule"])
    # Then the rule names the three release alarms of the api stack (imported ARNs), any of them
    assert rule.count("Fn::ImportValue") == 3 and " OR " in rule
    (action,) = composite["Properties"]["AlarmActions"]
    topics = monitoring.find_resources("AWS::SNS::Topic")
    assert action == {"Ref": next(iter(topics))}
    # And the dashboard shows their state
    (dashboard,) = monitoring.find_resources("AWS::CloudWatch::Dashboard").values()
    assert "Rollback alarms of the live version" in str(dashboard["Properties"]["DashboardBody"])


def test_an_unknown_traffic_shift_fails_synth_naming_the_key() -> None:
    context = with_overrides(cdk_context(), "prod", {"canary.deployment": "CANARY_50PERCENT_1MINUTE"})
    with pytest.raises(ConfigError, match=r"patronus\.environments\.prod\.canary\.deployment"):
        load_config(context["patronus"])


def test_canary_thresholds_are_validated() -> None:
    context = with_overrides(cdk_context(), "dev", {"canary.max_5xx_rate_percent": 0})
    with pytest.raises(ConfigError, match=r"patronus\.environments\.dev\.canary\.max_5xx_rate_percent"):
        load_config(context["patronus"])
    context = with_overrides(cdk_context(), "dev", {"canary.rollback": True})
    with pytest.raises(ConfigError, match=r"patronus\.environments\.dev\.canary\.rollback"):
        load_config(context["patronus"])
