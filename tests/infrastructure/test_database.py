"""Aurora MySQL 3 Serverless v2, RDS Proxy with IAM and TLS, and who may reach the cluster.

The schema migration custom resource lives in the api stack: tests/infrastructure/test_api.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from stacks.config import load_config
from stacks.database import DatabaseStack
from stacks.network import NetworkStack
from tests.infrastructure.conftest import Synth, cdk_context, with_overrides


def only(resources: Mapping[str, Any]) -> Any:
    assert len(resources) == 1, f"expected one resource, got {sorted(resources)}"
    return next(iter(resources.values()))


def test_cluster_is_aurora_mysql_3_serverless_v2_encrypted_with_iam_auth(synth: Synth) -> None:
    template = synth.template("prod", "database")
    template.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "Engine": "aurora-mysql",
            "EngineVersion": Match.string_like_regexp(r"^8\.0\.mysql_aurora\.3\."),
            "StorageEncrypted": True,
            "KmsKeyId": Match.any_value(),
            "EnableIAMDatabaseAuthentication": True,
            "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 16},
            "EnableCloudwatchLogsExports": ["error", "slowquery", "audit"],
            "Port": 3306,
        },
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


@pytest.mark.parametrize(
    ("env", "retention", "protected", "policy"),
    [("prod", 35, True, "Snapshot"), ("dev", 7, False, "Delete")],
)
def test_backups_and_protection_follow_the_environment(
    synth: Synth, env: str, retention: int, protected: bool, policy: str
) -> None:
    template = synth.template(env, "database")
    template.has_resource(
        "AWS::RDS::DBCluster",
        {
            "Properties": Match.object_like(
                {
                    "BackupRetentionPeriod": retention,
                    "PreferredBackupWindow": "01:00-02:00",
                    "PreferredMaintenanceWindow": "sun:02:30-sun:03:30",
                    "DeletionProtection": protected,
                }
            ),
            "DeletionPolicy": policy,
            "UpdateReplacePolicy": policy,
        },
    )


def test_writer_and_reader_sit_in_two_zones_and_the_reader_is_the_failover_target(synth: Synth) -> None:
    instances = synth.template("prod", "database").find_resources("AWS::RDS::DBInstance")
    assert len(instances) == 2
    properties = [i["Properties"] for i in instances.values()]
    assert {p["AvailabilityZone"] for p in properties} == {"eu-west-3a", "eu-west-3b"}
    assert all(p["DBInstanceClass"] == "db.serverless" for p in properties)
    assert all(p["AutoMinorVersionUpgrade"] is True for p in properties)
    assert all(p["PubliclyAccessible"] is False for p in properties)
    assert sorted(p.get("PromotionTier", 0) for p in properties) == [0, 1]


def test_parameter_group_requires_tls_and_turns_on_audit_logs(synth: Synth) -> None:
    synth.template("prod", "database").has_resource_properties(
        "AWS::RDS::DBClusterParameterGroup",
        {
            "Parameters": Match.object_like(
                {"require_secure_transport": "ON", "server_audit_logging": "1", "slow_query_log": "1"}
            )
        },
    )


def test_admin_secret_rotates_with_the_single_user_scheme(synth: Synth) -> None:
    template = synth.template("prod", "database")
    template.has_resource_properties(
        "AWS::SecretsManager::RotationSchedule",
        {"RotationRules": {"ScheduleExpression": "rate(30 days)"}},
    )
    template.resource_count_is("AWS::Serverless::Application", 1)
    # The rotation application comes from the single-user MySQL rotation in the SAR mapping
    applications = json.dumps(template.to_json()["Mappings"])
    assert "SecretsManagerRDSMySQLRotationSingleUser" in applications
    assert "MultiUser" not in applications


def test_proxy_requires_tls_and_end_to_end_iam_authentication(synth: Synth) -> None:
    template = synth.template("prod", "database")
    proxy = only(template.find_resources("AWS::RDS::DBProxy"))["Properties"]
    assert proxy["EngineFamily"] == "MYSQL"
    assert proxy["RequireTLS"] is True
    assert proxy["DefaultAuthScheme"] == "IAM_AUTH"
    # No password secret registered: clients and the proxy both sign in with IAM tokens
    assert not proxy.get("Auth")
    # The proxy's role may connect to the cluster as the application user only
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "rds-db:connect",
                                "Resource": {
                                    "Fn::Join": ["", Match.array_with([":dbuser:", "/patronus_app"])]
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def _rules(synth: Synth, env: str, kind: str) -> list[dict[str, Any]]:
    template = synth.template(env, "database")
    return [r["Properties"] for r in template.find_resources(f"AWS::EC2::SecurityGroup{kind}").values()]


def _group_id(synth: Synth, env: str, description: str) -> dict[str, Any]:
    template = synth.template(env, "database")
    for logical_id, group in template.find_resources("AWS::EC2::SecurityGroup").items():
        if description in group["Properties"]["GroupDescription"]:
            return {"Fn::GetAtt": [logical_id, "GroupId"]}
    raise AssertionError(f"no security group described {description!r}")


def _is_mysql_port(port: Any, cluster: str) -> bool:
    return port == 3306 or port == {"Fn::GetAtt": [cluster, "Endpoint.Port"]}


def test_only_the_functions_reach_the_proxy_and_only_proxy_and_migrations_reach_the_cluster(
    synth: Synth,
) -> None:
    # prod: database.proxy.enabled
    template = synth.template("prod", "database")
    (cluster_id,) = template.find_resources("AWS::RDS::DBCluster")
    proxy = _group_id(synth, "prod", "RDS Proxy")
    cluster = _group_id(synth, "prod", "Aurora cluster")
    rules = _rules(synth, "prod", "Ingress")
    assert all(r["IpProtocol"] == "tcp" and _is_mysql_port(r["FromPort"], cluster_id) for r in rules)
    assert all("CidrIp" not in r for r in rules), "no address range may reach the database tier"
    to_proxy = [r for r in rules if r["GroupId"] == proxy]
    to_cluster = [r for r in rules if r["GroupId"] == cluster]
    assert len(to_proxy) + len(to_cluster) == len(rules)
    # The proxy: the application functions' group (from the network stack), nothing else
    assert len(to_proxy) == 1
    assert "FunctionsSecurityGroup" in to_proxy[0]["SourceSecurityGroupId"]["Fn::ImportValue"]
    # The cluster: the proxy and the migration/rotation group, nothing else
    sources = [r["SourceSecurityGroupId"] for r in to_cluster]
    assert len(sources) == 2 and proxy in sources
    (other,) = [s for s in sources if s != proxy]
    assert "MigrationSecurityGroup" in other["Fn::ImportValue"]
    # No inline ingress on either group
    for group in template.find_resources("AWS::EC2::SecurityGroup").values():
        assert not group["Properties"].get("SecurityGroupIngress")


def test_without_a_proxy_the_functions_and_migrations_reach_the_cluster_only(synth: Synth) -> None:
    # dev: proxy.enabled false, so no proxy, no proxy group, and the functions reach the writer
    template = synth.template("dev", "database")
    template.resource_count_is("AWS::RDS::DBProxy", 0)
    descriptions = [
        g["Properties"]["GroupDescription"]
        for g in template.find_resources("AWS::EC2::SecurityGroup").values()
    ]
    assert "RDS Proxy" not in descriptions
    (cluster_id,) = template.find_resources("AWS::RDS::DBCluster")
    cluster = _group_id(synth, "dev", "Aurora cluster")
    rules = _rules(synth, "dev", "Ingress")
    assert all(r["GroupId"] == cluster and _is_mysql_port(r["FromPort"], cluster_id) for r in rules)
    sources = sorted(r["SourceSecurityGroupId"]["Fn::ImportValue"] for r in rules)
    assert len(sources) == 2
    assert "FunctionsSecurityGroup" in sources[0] and "MigrationSecurityGroup" in sources[1]


@pytest.mark.parametrize("kind", ["Ingress", "Egress"])
def test_no_security_group_rule_is_declared_twice(synth: Synth, kind: str) -> None:
    # EC2 refuses a duplicate permission, so a second identical rule would fail the deployment
    template = synth.template("prod", "database")
    (cluster_id,) = template.find_resources("AWS::RDS::DBCluster")
    seen = set()
    for rule in _rules(synth, "prod", kind):
        peer = rule.get("SourceSecurityGroupId") or rule.get("DestinationSecurityGroupId")
        port = 3306 if _is_mysql_port(rule["FromPort"], cluster_id) else rule["FromPort"]
        key = json.dumps([rule["GroupId"], peer, rule["IpProtocol"], port], sort_keys=True)
        assert key not in seen, f"duplicate {kind.lower()} rule {key}"
        seen.add(key)


def test_the_api_stack_deploys_after_the_database_stack(synth: Synth) -> None:
    # The api stack runs the schema migration: the cluster and both instances exist by then
    api = synth.stack("prod", "api")
    database = synth.stack("prod", "database")
    assert database in api.dependencies
    assert len(synth.template("prod", "database").find_resources("AWS::RDS::DBInstance")) == 2
    # And the database stack runs no migration of its own
    synth.template("prod", "database").resource_count_is("Custom::PatronusSchemaMigration", 0)
    functions = synth.template("prod", "database").find_resources("AWS::Lambda::Function").values()
    assert not [f for f in functions if "db_migrate" in str(f["Properties"].get("Handler"))]


def test_proxy_and_cluster_endpoints_are_outputs(synth: Synth) -> None:
    template = synth.template("prod", "database")
    outputs = template.find_outputs("*")
    assert {"ProxyEndpoint", "ClusterEndpoint"} <= set(outputs)
    template.has_output("ProxyEndpoint", {"Value": {"Fn::GetAtt": [Match.any_value(), "Endpoint"]}})


def test_migration_period_parameters_are_switched_on_from_cdk_json() -> None:
    # Given dev with the parameters the legacy migration may need (two stacks only: no full synth)
    context = with_overrides(
        cdk_context(), "dev", {"database.local_infile": True, "database.event_scheduler": True}
    )
    (config,) = load_config(context["patronus"], only="dev")
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    network = NetworkStack(app, "Network", config=config)
    database = DatabaseStack(app, "Database", config=config, network=network)
    (group,) = Template.from_stack(database).find_resources("AWS::RDS::DBClusterParameterGroup").values()
    parameters = group["Properties"]["Parameters"]
    # Then those two are on, the third stays at the engine's default, TLS is still required
    assert (parameters["local_infile"], parameters["event_scheduler"]) == ("1", "ON")
    assert "log_bin_trust_function_creators" not in parameters
    assert parameters["require_secure_transport"] == "ON"
