"""What every stack of a stage shares: names, tags, termination protection, dependencies."""

from __future__ import annotations

import pytest

from tests.infrastructure.conftest import Synth

# The legacy migration stack kept the CloudFormation name it was deployed with.
STACK_NAMES = {"legacy_migration": "migration", "backup_copy": "backup-copy"}
# The vault that receives the backup copies lives in backup.copy_to_region (prod: eu-central-1).
REGIONS = {"backup_copy": "eu-central-1"}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_stacks_are_named_per_environment_in_the_default_region(synth: Synth, env: str) -> None:
    for name in synth.stack_names(env):
        stack = synth.stack(env, name)
        assert stack.stack_name == f"patronus-{env}-{STACK_NAMES.get(name, name)}"
        assert stack.region == REGIONS.get(name, "eu-west-3")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_taggable_resource_carries_project_environment_and_cost_centre(synth: Synth, env: str) -> None:
    expected = {"project": "patronus", "environment": env, "cost-centre": "patronus-it"}
    checked = 0
    for name in synth.stack_names(env):
        for logical_id, resource in synth.template(env, name).to_json()["Resources"].items():
            tags = resource.get("Properties", {}).get("Tags")
            if isinstance(tags, list):
                found = {t["Key"]: t["Value"] for t in tags if isinstance(t, dict) and "Key" in t}
                assert expected.items() <= found.items(), logical_id
                checked += 1
    assert checked > 20
    # CloudFormation refuses Tags on a proxy target group
    for group in synth.template(env, "database").find_resources("AWS::RDS::DBProxyTargetGroup").values():
        assert "Tags" not in group["Properties"]


def test_stateful_stacks_are_protected_in_prod_only(synth: Synth) -> None:
    for name in ("network", "database", "storage"):
        assert synth.stack("prod", name).termination_protection is True
        assert synth.stack("dev", name).termination_protection is False


def test_rotation_and_migration_run_in_the_private_subnets_behind_the_endpoint(synth: Synth) -> None:
    network = synth.template("prod", "network")
    # The Secrets Manager endpoint accepts HTTPS from the migration/rotation group only
    groups = network.find_resources("AWS::EC2::SecurityGroup")
    (endpoint_group,) = [
        logical_id
        for logical_id, g in groups.items()
        if g["Properties"]["GroupDescription"] == "Interface VPC endpoints"
    ]
    assert not groups[endpoint_group]["Properties"].get("SecurityGroupIngress")
    rules = [
        r["Properties"]
        for r in network.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [endpoint_group, "GroupId"]}
    ]
    (ingress,) = rules
    assert (ingress["FromPort"], ingress["ToPort"]) == (443, 443)
    assert "MigrationSecurityGroup" in ingress["SourceSecurityGroupId"]["Fn::GetAtt"][0]
    # The rotation application is given the migration group and the app subnets
    (application,) = (
        synth.template("prod", "database").find_resources("AWS::Serverless::Application").values()
    )
    parameters = application["Properties"]["Parameters"]
    assert "MigrationSecurityGroup" in str(parameters["vpcSecurityGroupIds"])
    assert "appSubnet" in str(parameters["vpcSubnetIds"])
