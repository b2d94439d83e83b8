"""SnapStart, bounded concurrency, least privilege, release hooks, WAF logs and AWS Backup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from tests.infrastructure.conftest import Synth, cdk_context, synthesize, with_overrides

API_HANDLER = "patronus_api.handler.handler"
EVENTS_HANDLER = "patronus_document_events.handler.handler"


def resources(synth: Synth, env: str, stack: str, kind: str) -> dict[str, Any]:
    return {k: r for k, r in synth.template(env, stack).to_json()["Resources"].items() if r["Type"] == kind}


def function(synth: Synth, env: str, handler: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, r["Properties"])
        for k, r in resources(synth, env, "api", "AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == handler
    ]
    return found


# -- SnapStart and bounded concurrency -------------------------------------------------------


@pytest.mark.parametrize(("env", "api", "events"), [("dev", 50, 10), ("prod", 300, 50)])
def test_both_application_functions_use_snapstart_and_a_reserved_concurrency(
    synth: Synth, env: str, api: int, events: int
) -> None:
    for handler, reserved in ((API_HANDLER, api), (EVENTS_HANDLER, events)):
        _, properties = function(synth, env, handler)
        assert properties["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        assert properties["ReservedConcurrentExecutions"] == reserved


def test_the_api_function_gives_up_before_api_gateway_and_its_deadlines_fit(synth: Synth) -> None:
    _, properties = function(synth, "prod", API_HANDLER)
    variables = properties["Environment"]["Variables"]
    assert properties["Timeout"] == 20 < 29
    # connect 3 s + borrow 5 s + query 10 s = 18 s, inside the 20 s
    assert (variables["PATRONUS_DB_CONNECT_TIMEOUT"], variables["PATRONUS_DB_QUERY_TIMEOUT"]) == ("3", "10")
    synth.template("prod", "database").has_resource_properties(
        "AWS::RDS::DBProxyTargetGroup",
        {"ConnectionPoolConfigurationInfo": Match.object_like({"ConnectionBorrowTimeout": 5})},
    )


def test_document_events_are_delivered_to_a_published_version_through_its_alias(synth: Synth) -> None:
    function_id, _ = function(synth, "prod", EVENTS_HANDLER)
    (alias_id, alias), *_ = [
        (k, r["Properties"])
        for k, r in resources(synth, "prod", "api", "AWS::Lambda::Alias").items()
        if r["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    assert alias["Name"] == "live" and "Fn::GetAtt" in alias["FunctionVersion"]
    # Both rules (uploads, and malware scan results where scanning is on) invoke the alias
    rules = [
        rule
        for rule in resources(synth, "prod", "api", "AWS::Events::Rule").values()
        if "EventPattern" in rule["Properties"]  # not the upload expiry's schedule
    ]
    assert len(rules) == 2
    for rule in rules:
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Ref": alias_id}
    (config,) = resources(synth, "prod", "api", "AWS::Lambda::EventInvokeConfig").values()
    assert alias_id in str(config["Properties"]["Qualifier"])


# -- Least privilege --------------------------------------------------------------------------


def test_the_smoke_test_role_trusts_the_pipeline_step_role_only(synth: Synth) -> None:
    (role,) = [
        r["Properties"]
        for r in resources(synth, "prod", "api", "AWS::IAM::Role").values()
        if r["Properties"].get("RoleName") == "patronus-prod-smoke-test"
    ]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    runner = statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert "role/patronus-prod-smoke-test-runner" in str(runner)


def test_app_clients_have_no_implicit_flow_and_no_placeholder_callback(synth: Synth) -> None:
    clients = {
        f"{stack}/{k}": r["Properties"]
        for stack in ("api", "web")
        for k, r in resources(synth, "prod", stack, "AWS::Cognito::UserPoolClient").items()
    }
    # The web application signs in through the web stack's client (its callbacks need the
    # distribution's domain); the api stack's client, with no origin configured, has no OAuth
    (web,) = [c for k, c in clients.items() if k.startswith("web/")]
    api_web = next(c for k, c in clients.items() if k.startswith("api/UsersWebClient"))
    smoke = next(c for k, c in clients.items() if k.startswith("api/UsersSmokeTestClient"))
    assert web["AllowedOAuthFlows"] == ["code"]
    assert [url for url in web["CallbackURLs"] if "example.com" in str(url)] == web["CallbackURLs"]
    assert api_web.get("AllowedOAuthFlows") is None and api_web["AllowedOAuthFlowsUserPoolClient"] is False
    assert smoke.get("AllowedOAuthFlows") is None and smoke["AllowedOAuthFlowsUserPoolClient"] is False
    for client in clients.values():
        assert "implicit" not in client.get("AllowedOAuthFlows", [])
        assert "https://example.com" not in client.get("CallbackURLs", [])


# -- Safer releases ---------------------------------------------------------------------------


def test_codedeploy_runs_a_pre_traffic_check_and_a_post_traffic_pruning(synth: Synth) -> None:
    (alias,) = [
        r for r in resources(synth, "prod", "api", "AWS::Lambda::Alias").values() if "UpdatePolicy" in r
    ]
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    hooks = {
        r["Properties"]["Handler"]: (k, r["Properties"])
        for k, r in resources(synth, "prod", "api", "AWS::Lambda::Function").items()
    }
    pre_id, pre = hooks["patronus_release_hooks.handler.pre_traffic"]
    post_id, _ = hooks["patronus_release_hooks.handler.post_traffic"]
    assert update["BeforeAllowTrafficHook"] == {"Ref": pre_id}
    assert update["AfterAllowTrafficHook"] == {"Ref": post_id}
    # The pre-traffic hook invokes the version being released (not the alias), as the smoke user
    variables = pre["Environment"]["Variables"]
    assert "CurrentVersion" in variables["TARGET_VERSION_ARN"]["Ref"]
    assert variables["SMOKE_TEST_USERNAME"] == "smoke-test@prod.patronus.invalid"
    assert variables["SMOKE_TEST_GROUP"] == "readers"
    # Outside the VPC, which has no route to the Lambda and CodeDeploy APIs
    assert "VpcConfig" not in pre
    statements = [
        s
        for p in resources(synth, "prod", "api", "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if {"Ref": pre["Role"]["Fn::GetAtt"][0]} in p["Properties"]["Roles"]
    ]
    invoke = next(s for s in statements if s["Action"] == "lambda:InvokeFunction")
    assert invoke["Resource"] == {"Ref": variables["TARGET_VERSION_ARN"]["Ref"]}


# -- WAF, logs, alarms ------------------------------------------------------------------------


def test_waf_logs_without_credentials_and_blocks_bad_reputation_addresses(synth: Synth) -> None:
    (acl,) = resources(synth, "prod", "api", "AWS::WAFv2::WebACL").values()
    names = [rule["Name"] for rule in sorted(acl["Properties"]["Rules"], key=lambda r: r["Priority"])]
    assert names[0] == "AWSManagedRulesAmazonIpReputationList"
    (logging,) = resources(synth, "prod", "api", "AWS::WAFv2::LoggingConfiguration").values()
    redacted = [field["SingleHeader"]["Name"] for field in logging["Properties"]["RedactedFields"]]
    assert redacted == ["authorization", "cookie"]
    log_group = logging["Properties"]["LogDestinationConfigs"][0]["Fn::GetAtt"][0]
    group = synth.template("prod", "api").to_json()["Resources"][log_group]["Properties"]
    assert group["LogGroupName"].startswith("aws-waf-logs-") and group["RetentionInDays"] == 90


def test_an_alarm_watches_the_proxy_connection_borrow_latency(synth: Synth) -> None:
    (alarm,) = [
        r["Properties"]
        for r in synth.template("prod", "monitoring").find_resources("AWS::CloudWatch::Alarm").values()
        if "ProxyBorrowLatency" in r["Properties"]["AlarmName"]
    ]
    assert "DatabaseConnectionsBorrowLatency" in json.dumps(alarm["Metrics"])
    assert alarm["Threshold"] == 100_000  # 100 ms, in microseconds


# -- AWS Backup -------------------------------------------------------------------------------


def test_prod_backs_up_the_cluster_and_the_bucket_into_a_locked_vault(synth: Synth) -> None:
    (plan,) = resources(synth, "prod", "backup", "AWS::Backup::BackupPlan").values()
    (rule,) = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert rule["Lifecycle"] == {"DeleteAfterDays": 35}
    (selection,) = resources(synth, "prod", "backup", "AWS::Backup::BackupSelection").values()
    chosen = str(selection["Properties"]["BackupSelection"]["Resources"])
    assert ":cluster:" in chosen and "Documents" in chosen
    (vault,) = resources(synth, "prod", "backup", "AWS::Backup::BackupVault").values()
    assert vault["Properties"]["LockConfiguration"] == {"ChangeableForDays": 3, "MinRetentionDays": 35}


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """dev with the switches dev leaves off: detailed metrics, backups copied to a second region."""
    overrides = {
        "api.detailed_metrics": True,
        "backup.enabled": True,
        "backup.copy_to_region": "eu-central-1",
    }
    context = with_overrides(cdk_context(env="dev"), "dev", overrides)
    return synthesize(Path(tmp_path_factory.mktemp("variant")), context=context)


def test_switches_turn_on_detailed_metrics_and_backups(synth: Synth, variant: Synth) -> None:
    settings = lambda s: s.template("dev", "api").find_resources("AWS::ApiGateway::Stage")  # noqa: E731
    (default,) = settings(synth).values()
    (switched,) = settings(variant).values()
    assert default["Properties"]["MethodSettings"][0]["MetricsEnabled"] is False
    assert switched["Properties"]["MethodSettings"][0]["MetricsEnabled"] is True
    # dev has no backup stack; turned on with a copy region, its copies go to a vault there
    assert synth.stages["dev"].backup is None
    (plan,) = variant.template("dev", "backup").find_resources("AWS::Backup::BackupPlan").values()
    (copy,) = plan["Properties"]["BackupPlan"]["BackupPlanRule"][0]["CopyActions"]
    assert ":backup:eu-central-1:" in str(copy["DestinationBackupVaultArn"])
    assert "backup-vault:patronus-dev-backup-copy" in str(copy["DestinationBackupVaultArn"])
    (copy_vault,) = variant.template("dev", "backup_copy").find_resources("AWS::Backup::BackupVault").values()
    assert copy_vault["Properties"]["BackupVaultName"] == "patronus-dev-backup-copy"
    assert variant.stack("dev", "backup_copy").region == "eu-central-1"
    (vault,) = variant.template("dev", "backup").find_resources("AWS::Backup::BackupVault").values()
    assert "LockConfiguration" not in vault["Properties"]
