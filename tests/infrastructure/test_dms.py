"""The DMS construct on a small test stack of its own: template assertions, cdk-nag, cfn-lint."""

from __future__ import annotations

import json
import os
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from stacks.legacy_migration.dms import (
    CONTROL_SCHEMA,
    LegacyDatabaseReplication,
    LegacyDatabaseReplicationProps,
    TableSelection,
)
from stacks.nag import acknowledge

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ACCOUNT = "123456789012"
REGION = "eu-west-3"


def build_test_stack(*, nag: bool, **overrides: Any) -> tuple[cdk.App, cdk.Stack, LegacyDatabaseReplication]:
    """A VPC (isolated subnets, flow logs), a replication security group, two secrets, a key."""
    app = cdk.App()
    stack = cdk.Stack(app, "DmsTest", env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = kms.Key(stack, "MigrationKey", enable_key_rotation=True)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=[f"{REGION}a", f"{REGION}b"],
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(
                name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
            )
        ],
    )
    vpc.add_flow_log(
        "FlowLogs",
        destination=ec2.FlowLogDestination.to_cloud_watch_logs(
            logs.LogGroup(stack, "FlowLogGroup", retention=logs.RetentionDays.ONE_MONTH, encryption_key=None)
        ),
    )
    group = ec2.SecurityGroup(stack, "ReplicationSg", vpc=vpc, allow_all_outbound=False, description="DMS")
    group.add_egress_rule(ec2.Peer.ipv4("10.0.20.2/32"), ec2.Port.tcp(3306), "legacy MySQL through the VPN")
    group.add_egress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(3306), "Aurora")
    group.add_egress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(443), "Secrets Manager endpoint")
    legacy_secret = secretsmanager.Secret(stack, "LegacySecret", encryption_key=key)
    aurora_secret = secretsmanager.Secret(stack, "AuroraSecret", encryption_key=key)
    for secret, why in (
        (legacy_secret, "the legacy MySQL account is managed on premises and lives for the migration only"),
        (aurora_secret, "stands in for the Aurora cluster secret, whose rotation the database stack owns"),
    ):
        acknowledge(secret, "AwsSolutions-SMG4", f"Test stack: {why}.")
    props: dict[str, Any] = {
        "vpc": vpc,
        "security_group": group,
        "source_secret_arn": legacy_secret.secret_arn,
        "source_database": "patronus",
        "target_endpoint": "patronus.cluster-abc.eu-west-3.rds.amazonaws.com",
        "target_secret_arn": aurora_secret.secret_arn,
        "kms_key": key,
        "secret_keys": [key],
    }
    props.update(overrides)
    replication = LegacyDatabaseReplication(stack, "LegacyDatabase", LegacyDatabaseReplicationProps(**props))
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack, replication


@pytest.fixture(scope="module")
def synthesized() -> tuple[cdk.App, dict[str, Any]]:
    # Given the test stack with cdk-nag AwsSolutions as a validation plugin: synth fails on any
    # finding that is not acknowledged with a reason
    app, stack, _ = build_test_stack(nag=True)
    return app, app.synth().get_stack_by_name(stack.stack_name).template


@pytest.fixture(scope="module")
def template(synthesized: tuple[cdk.App, dict[str, Any]]) -> Template:
    return Template.from_json(synthesized[1])


def test_replication_is_serverless_full_load_and_cdc_inside_the_vpc(template: Template) -> None:
    template.resource_count_is("AWS::DMS::ReplicationConfig", 1)
    template.resource_count_is("AWS::DMS::ReplicationInstance", 0)
    template.has_resource_properties(
        "AWS::DMS::ReplicationConfig",
        {
            "ReplicationType": "full-load-and-cdc",
            "ReplicationConfigIdentifier": Match.string_like_regexp("^patronus-legacy-db-[0-9a-f]{8}$"),
            "SourceEndpointArn": {"Ref": Match.string_like_regexp("SourceEndpoint")},
            "TargetEndpointArn": {"Ref": Match.string_like_regexp("TargetEndpoint")},
            "ComputeConfig": {
                "MinCapacityUnits": 1,
                "MaxCapacityUnits": 16,
                "MultiAZ": False,
                "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("MigrationKey"), "Arn"]},
                "ReplicationSubnetGroupId": {"Ref": Match.string_like_regexp("SubnetGroup")},
                "VpcSecurityGroupIds": [
                    {"Fn::GetAtt": [Match.string_like_regexp("ReplicationSg"), "GroupId"]}
                ],
            },
        },
    )
    template.has_resource_properties(
        "AWS::DMS::ReplicationSubnetGroup",
        {"SubnetIds": Match.array_with([{"Ref": Match.string_like_regexp("isolatedSubnet1")}])},
    )


def test_validation_logging_and_pre_created_tables(template: Template) -> None:
    settings = next(iter(template.find_resources("AWS::DMS::ReplicationConfig").values()))["Properties"][
        "ReplicationSettings"
    ]
    assert settings["ValidationSettings"]["EnableValidation"] is True
    assert settings["Logging"]["EnableLogging"] is True
    assert settings["FullLoadSettings"]["TargetTablePrepMode"] == "DO_NOTHING"
    assert settings["ControlTablesSettings"]["ControlSchema"] == CONTROL_SCHEMA
    assert settings["TargetMetadata"]["FullLobMode"] is True  # LOBs copied whole by default
    assert settings["ErrorBehavior"]["DataTruncationErrorPolicy"] == "STOP_TASK"


def test_table_mappings_select_the_legacy_schema_only(template: Template) -> None:
    mappings = next(iter(template.find_resources("AWS::DMS::ReplicationConfig").values()))["Properties"][
        "TableMappings"
    ]
    assert mappings == {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "include-1",
                "object-locator": {"schema-name": "patronus", "table-name": "%"},
                "rule-action": "include",
            }
        ]
    }


def test_endpoints_take_their_credentials_from_secrets_manager(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DMS::Endpoint",
        {
            "EndpointType": "source",
            "EngineName": "mysql",
            "SslMode": "none",
            "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("MigrationKey"), "Arn"]},
            "MySqlSettings": Match.object_like(
                {
                    "SecretsManagerSecretId": {"Ref": Match.string_like_regexp("LegacySecret")},
                    "SecretsManagerAccessRoleArn": {
                        "Fn::GetAtt": [Match.string_like_regexp("SourceSecretRole"), "Arn"]
                    },
                }
            ),
            "Tags": Match.array_with([{"Key": "patronus:legacy-server", "Value": "10.0.20.2:3306"}]),
        },
    )
    template.has_resource_properties(
        "AWS::DMS::Endpoint",
        {
            "EndpointType": "target",
            "EngineName": "aurora",
            "DatabaseName": "patronus",
            "SslMode": "require",
            "MySqlSettings": Match.object_like(
                {
                    "SecretsManagerSecretId": {"Ref": Match.string_like_regexp("AuroraSecret")},
                    "SecretsManagerAccessRoleArn": {
                        "Fn::GetAtt": [Match.string_like_regexp("TargetSecretRole"), "Arn"]
                    },
                    "TargetDbType": "specific-database",
                    "AfterConnectScript": "SET SESSION foreign_key_checks = 0",
                }
            ),
        },
    )
    for endpoint in template.find_resources("AWS::DMS::Endpoint").values():
        assert "Password" not in endpoint["Properties"] and "Username" not in endpoint["Properties"]


def test_each_endpoint_role_reads_only_its_own_secret(synthesized: tuple[cdk.App, dict[str, Any]]) -> None:
    resources = synthesized[1]["Resources"]
    for role_name, secret_name in (
        ("SourceSecretRole", "LegacySecret"),
        ("TargetSecretRole", "AuroraSecret"),
    ):
        role = next(r for n, r in resources.items() if r["Type"] == "AWS::IAM::Role" and role_name in n)
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
        assert trust["Principal"] == {"Service": f"dms.{REGION}.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
        policy = next(r for n, r in resources.items() if r["Type"] == "AWS::IAM::Policy" and role_name in n)[
            "Properties"
        ]["PolicyDocument"]["Statement"]
        by_sid = {s.get("Sid", "kms"): s for s in policy}
        assert by_sid["ReadTheEndpointSecret"]["Action"] == [
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret",
        ]
        assert by_sid["ReadTheEndpointSecret"]["Resource"]["Ref"].startswith(secret_name)
        assert by_sid["kms"]["Action"] == "kms:Decrypt"
        assert not any("*" in json.dumps(s.get("Action")) for s in policy)


def test_the_account_roles_dms_looks_up_by_name(
    template: Template, synthesized: tuple[cdk.App, dict[str, Any]]
) -> None:
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": "dms-vpc-role",
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Principal": {"Service": "dms.amazonaws.com"}})]}
            ),
            "ManagedPolicyArns": [
                {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            ":iam::aws:policy/service-role/AmazonDMSVPCManagementRole",
                        ],
                    ]
                }
            ],
        },
    )
    template.has_resource_properties("AWS::IAM::Role", {"RoleName": "dms-cloudwatch-logs-role"})
    subnet_group = next(
        r for r in synthesized[1]["Resources"].values() if r["Type"] == "AWS::DMS::ReplicationSubnetGroup"
    )
    assert any("DmsVpcRole" in dependency for dependency in subnet_group["DependsOn"])


def test_cdk_nag_acknowledgments_carry_reasons(synthesized: tuple[cdk.App, dict[str, Any]]) -> None:
    # Given the synthesized stack (synth already passed the AwsSolutions checks)
    acknowledged: list[Any] = []
    for construct in synthesized[0].node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                acknowledged.append(entry.data)
    text = json.dumps(acknowledged)
    # Then the construct acknowledges exactly the two AWS-managed policies DMS requires by name
    assert "AmazonDMSVPCManagementRole" in text and "AmazonDMSCloudWatchLogsRole" in text
    assert "IAM5" not in text


@pytest.mark.slow
def test_cfn_lint_finds_no_error(synthesized: tuple[cdk.App, dict[str, Any]]) -> None:
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(synthesized[1]), config=ManualArgs(regions=[REGION]))
    assert [str(m) for m in matches if m.rule.id.startswith("E")] == []


def test_a_renamed_schema_limited_lobs_and_existing_account_roles() -> None:
    # Given a target schema of another name, an excluded table, limited LOBs, account roles made elsewhere
    app, stack, _ = build_test_stack(
        nag=True,
        target_database="patronus_v2",
        table_selections=[TableSelection("patronus"), TableSelection("patronus", "audit_log", include=False)],
        lob_max_size_kb=32768,
        create_account_roles=False,
        replication_identifier="patronus-prod-legacy",
        source_server_timezone="Europe/Paris",
    )
    template = Template.from_json(app.synth().get_stack_by_name(stack.stack_name).template)
    config = next(iter(template.find_resources("AWS::DMS::ReplicationConfig").values()))["Properties"]
    # Then the mappings exclude the table and rename the schema, LOBs are limited, no named role exists
    rules = config["TableMappings"]["rules"]
    assert [r["rule-action"] for r in rules] == ["include", "exclude", "rename"]
    assert rules[2]["value"] == "patronus_v2"
    assert config["ReplicationSettings"]["TargetMetadata"]["LobMaxSize"] == 32768
    assert config["ReplicationConfigIdentifier"] == "patronus-prod-legacy"
    names = [r["Properties"].get("RoleName") for r in template.find_resources("AWS::IAM::Role").values()]
    assert "dms-vpc-role" not in names
    template.has_resource_properties(
        "AWS::DMS::Endpoint", {"EngineName": "aurora", "DatabaseName": "patronus_v2"}
    )
    template.has_resource_properties(
        "AWS::DMS::Endpoint",
        {"EngineName": "mysql", "MySqlSettings": Match.object_like({"ServerTimezone": "Europe/Paris"})},
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lob_max_size_kb": 0}, "lob_max_size_kb"),
        ({"replication_identifier": "Patronus_Legacy"}, "replication_identifier"),
    ],
)
def test_wrong_construct_options_fail_naming_the_prop(overrides: dict[str, Any], message: str) -> None:
    # The values that come from cdk.json (secrets, schemas, ports, capacities) are checked once, by
    # the configuration model (test_legacy_migration_stack.py); the construct checks only its own options
    with pytest.raises(ValueError, match=message):
        build_test_stack(nag=False, **overrides)
