"""The legacy migration stack (DMS + DataSync): where it exists, its wiring, its config, its removal.

cdk.json enables it in prod (with example ARNs) and not in dev, so the shared synth covers both;
cdk-nag (test_nag.py) and cfn-lint (test_cfn_lint.py) run over it there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import build_app
from stacks.config import ConfigError, load_config, secret_name
from stacks.legacy_migration_stack import substituted
from tests.infrastructure.conftest import STACKS, Synth, cdk_context, synthesize, with_overrides

ENV = "prod"
# A secret's ARN without the 6 characters Secrets Manager appends to the name: not complete.
PARTIAL_SECRET_ARN = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:legacy"


def resources(synth: Synth, kind: str, stack: str = "legacy_migration") -> dict[str, Mapping[str, Any]]:
    return dict(synth.template(ENV, stack).find_resources(kind))


def the(found: Mapping[str, Mapping[str, Any]]) -> tuple[str, Mapping[str, Any]]:
    assert len(found) == 1, sorted(found)
    return next(iter(found.items()))


def group_id(synth: Synth, description: str) -> dict[str, Any]:
    logical_id, _ = the(
        {
            i: g
            for i, g in resources(synth, "AWS::EC2::SecurityGroup").items()
            if g["Properties"]["GroupDescription"] == description
        }
    )
    return {"Fn::GetAtt": [logical_id, "GroupId"]}


def replication_group(synth: Synth) -> dict[str, Any]:
    return group_id(synth, "DMS replication of the legacy MySQL")


def rules(synth: Synth, kind: str) -> list[Mapping[str, Any]]:
    return [r["Properties"] for r in resources(synth, f"AWS::EC2::SecurityGroup{kind}").values()]


def statements_of(synth: Synth, role_fragment: str) -> list[Mapping[str, Any]]:
    found = []
    for logical_id, policy in resources(synth, "AWS::IAM::Policy").items():
        if role_fragment in logical_id:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    assert found, role_fragment
    return found


# -- where it exists -----------------------------------------------------------------------------


def test_the_legacy_migration_stack_exists_only_where_enabled(synth: Synth) -> None:
    # Given cdk.json: legacy migration enabled in prod, not in dev
    assert synth.stages["dev"].legacy_migration is None
    dev_stacks = [
        child.node.id for child in synth.stages["dev"].node.children if isinstance(child, cdk.Stack)
    ]
    assert sorted(dev_stacks) == ["Api", "Database", "Monitoring", "Network", "Storage", "Web"]
    migration = synth.stack(ENV, "legacy_migration")
    # Then prod has it, named like its siblings, removable (no termination protection)
    assert migration.stack_name == "patronus-prod-migration"
    assert migration.termination_protection is False
    # And it builds on network, database and storage, and nothing builds on it
    assert {synth.stack(ENV, name) for name in ("network", "database", "storage")} <= set(
        migration.dependencies
    )
    assert all(migration not in synth.stack(ENV, name).dependencies for name in STACKS)


def test_it_holds_nothing_that_must_outlive_the_cutover(synth: Synth) -> None:
    template = synth.template(ENV, "legacy_migration").to_json()
    # No data resource is kept when the stack goes: its key and logs are deleted with it
    retained = [
        i for i, r in template["Resources"].items() if r.get("DeletionPolicy") in ("Retain", "Snapshot")
    ]
    assert retained == []
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert not kinds & {"AWS::S3::Bucket", "AWS::RDS::DBCluster", "AWS::SecretsManager::Secret"}
    # And it exports nothing: `cdk destroy prod/Migration` is never blocked by an importer
    assert all("Export" not in output for output in template.get("Outputs", {}).values())


# -- DMS -----------------------------------------------------------------------------------------


def test_dms_runs_in_the_private_app_subnets_with_its_own_security_group(synth: Synth) -> None:
    _, subnet_group = the(resources(synth, "AWS::DMS::ReplicationSubnetGroup"))
    subnets = subnet_group["Properties"]["SubnetIds"]
    # Then the replication uses the app subnets of the network stack, one per zone (3 in prod)
    assert len(subnets) == 3
    assert all(
        "VpcappSubnet" in s["Fn::ImportValue"] and "patronus-prod-network" in s["Fn::ImportValue"]
        for s in subnets
    )
    _, config = the(resources(synth, "AWS::DMS::ReplicationConfig"))
    compute = config["Properties"]["ComputeConfig"]
    assert compute["VpcSecurityGroupIds"] == [replication_group(synth)]
    assert (compute["MinCapacityUnits"], compute["MaxCapacityUnits"]) == (1, 16)
    assert config["Properties"]["ReplicationConfigIdentifier"] == "patronus-prod-legacy-db"
    # And its group goes out to the legacy MySQL only through the VPN route (one /32 on 3306)
    _, group = the(
        {
            i: g
            for i, g in resources(synth, "AWS::EC2::SecurityGroup").items()
            if "DMS" in g["Properties"]["GroupDescription"]
        }
    )
    (legacy,) = group["Properties"]["SecurityGroupEgress"]
    assert (legacy["CidrIp"], legacy["FromPort"], legacy["ToPort"]) == ("10.0.20.2/32", 3306, 3306)


def test_the_dms_group_is_let_into_the_cluster_on_3306_by_rules_declared_once_here(synth: Synth) -> None:
    dms = replication_group(synth)
    ingress = [
        r
        for r in rules(synth, "Ingress")
        if "DatabaseSecurityGroup" in json.dumps(r["GroupId"]) and "SourceSecurityGroupId" in r
    ]
    egress = [
        r
        for r in rules(synth, "Egress")
        if "DatabaseSecurityGroup" in json.dumps(r["DestinationSecurityGroupId"])
    ]
    # Then one ingress rule on the cluster's group (an import of the database stack's), from DMS
    (into_cluster,) = ingress
    assert "patronus-prod-database" in into_cluster["GroupId"]["Fn::ImportValue"]
    assert into_cluster["SourceSecurityGroupId"] == dms
    assert (into_cluster["IpProtocol"], into_cluster["FromPort"], into_cluster["ToPort"]) == (
        "tcp",
        3306,
        3306,
    )
    # And the matching egress of the DMS group
    (to_cluster,) = egress
    assert to_cluster["GroupId"] == dms and (to_cluster["FromPort"], to_cluster["ToPort"]) == (3306, 3306)
    # And the database stack holds no rule for it (it never refers to the migration stack)
    assert "ReplicationSecurityGroup" not in json.dumps(synth.template(ENV, "database").to_json())


@pytest.mark.parametrize("kind", ["Ingress", "Egress"])
def test_no_security_group_rule_is_declared_twice(synth: Synth, kind: str) -> None:
    seen = set()
    for rule in rules(synth, kind):
        peer = (
            rule.get("SourceSecurityGroupId") or rule.get("DestinationSecurityGroupId") or rule.get("CidrIp")
        )
        key = json.dumps([rule["GroupId"], peer, rule["IpProtocol"], rule["FromPort"]], sort_keys=True)
        assert key not in seen, f"duplicate {kind.lower()} rule {key}"
        seen.add(key)


def test_dms_reads_its_secrets_through_the_secrets_manager_endpoint(synth: Synth) -> None:
    dms = replication_group(synth)
    (into_endpoints,) = [
        r for r in rules(synth, "Ingress") if "EndpointsSecurityGroup" in json.dumps(r["GroupId"])
    ]
    assert into_endpoints["SourceSecurityGroupId"] == dms
    assert (into_endpoints["FromPort"], into_endpoints["ToPort"]) == (443, 443)
    (to_endpoints,) = [
        r
        for r in rules(synth, "Egress")
        if "EndpointsSecurityGroup" in json.dumps(r["DestinationSecurityGroupId"])
    ]
    assert to_endpoints["GroupId"] == dms


def test_dms_writes_the_aurora_schema_with_the_cluster_admin_secret(synth: Synth) -> None:
    endpoints = {
        e["Properties"]["EndpointType"]: e["Properties"]
        for e in resources(synth, "AWS::DMS::Endpoint").values()
    }
    target, source = endpoints["target"], endpoints["source"]
    # Then the target is the legacy schema (legacy_migration.legacy_database), never the application's
    assert target["DatabaseName"] == "legacy"
    assert "ClusterSecretAttachment" in target["MySqlSettings"]["SecretsManagerSecretId"]["Fn::ImportValue"]
    # And the source secret's ARN takes the stage's account and region from CloudFormation
    arn = source["MySqlSettings"]["SecretsManagerSecretId"]["Fn::Sub"]
    assert arn.startswith("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:")
    # And the roles DMS assumes read those two secrets and nothing else
    source_read, source_key = statements_of(synth, "SourceSecretRole")
    assert source_read["Sid"] == "ReadTheEndpointSecret" and source_read["Resource"] == {"Fn::Sub": arn}
    # (the legacy secret has a key of its own in cdk.json: DMS may decrypt with it, nothing more)
    assert source_key["Action"] == "kms:Decrypt"
    assert source_key["Resource"]["Fn::Sub"].startswith("arn:${AWS::Partition}:kms:${AWS::Region}:")
    (target_read,) = [
        s for s in statements_of(synth, "TargetSecretRole") if "secretsmanager" in str(s["Action"])
    ]
    assert target_read["Resource"] == target["MySqlSettings"]["SecretsManagerSecretId"]


# -- DataSync ------------------------------------------------------------------------------------


def test_datasync_writes_under_legacy_of_the_documents_bucket(synth: Synth) -> None:
    _, location = the(resources(synth, "AWS::DataSync::LocationS3"))
    bucket = {"Fn::ImportValue": "patronus-prod-storage-documents-bucket-arn"}
    assert location["Properties"]["S3BucketArn"] == bucket
    assert location["Properties"]["Subdirectory"] == "/legacy/"
    _, smb = the(resources(synth, "AWS::DataSync::LocationSMB"))
    assert smb["Properties"]["ServerHostname"] == "10.0.20.1"
    assert smb["Properties"]["Password"].startswith("{{resolve:secretsmanager:patronus/datasync-smb:")
    assert smb["Properties"]["AgentArns"][0]["Fn::Sub"].startswith("arn:${AWS::Partition}:datasync:")
    objects = next(s for s in statements_of(synth, "LocationRole") if s.get("Sid") == "ObjectsUnderThePrefix")
    assert objects["Resource"] == {"Fn::Join": ["", [bucket, "/legacy/*"]]}


def test_the_datasync_roles_may_use_the_storage_key(synth: Synth) -> None:
    storage_key = "patronus-prod-storage:ExportsOutputFnGetAttDocumentsKey"
    # Then the location role may encrypt and decrypt with the documents key (SSE-KMS bucket)
    (location_kms,) = [s for s in statements_of(synth, "LocationRole") if "kms" in json.dumps(s["Action"])]
    assert set(location_kms["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert location_kms["Resource"]["Fn::ImportValue"].startswith(storage_key)
    # And the report role may encrypt the reports it writes under datasync-reports/
    (report_kms,) = [s for s in statements_of(synth, "ReportRole") if "kms" in json.dumps(s["Action"])]
    assert report_kms["Action"] == "kms:GenerateDataKey"
    assert report_kms["Resource"]["Fn::ImportValue"].startswith(storage_key)
    _, task = the(resources(synth, "AWS::DataSync::Task"))
    destination = task["Properties"]["TaskReportConfig"]["Destination"]["S3"]
    assert destination["Subdirectory"] == "datasync-reports/"
    assert destination["S3BucketArn"] == {"Fn::ImportValue": "patronus-prod-storage-documents-bucket-arn"}
    # And the grants are principal policies of this stack: the key's policy stays as it is
    assert "LegacyDocuments" not in json.dumps(synth.template(ENV, "storage").to_json())


def test_the_task_follows_the_configured_bandwidth_and_schedule(synth: Synth) -> None:
    _, task = the(resources(synth, "AWS::DataSync::Task"))
    properties = task["Properties"]
    assert properties["Name"] == "patronus-prod-legacy-documents"
    assert properties["Options"]["BytesPerSecond"] == 50 * 1024 * 1024
    assert properties["Schedule"] == {"ScheduleExpression": "cron(0 20 ? * MON-FRI *)", "Status": "ENABLED"}


# -- outputs -------------------------------------------------------------------------------------


def test_outputs_give_what_the_runbooks_need(synth: Synth) -> None:
    outputs = synth.template(ENV, "legacy_migration").to_json()["Outputs"]
    # Then the runbooks' ARNs, under these exact names (docs/migration.md, Parts 1 and 2)
    replication_id, _ = the(resources(synth, "AWS::DMS::ReplicationConfig"))
    task_id, _ = the(resources(synth, "AWS::DataSync::Task"))
    assert outputs["ReplicationConfigArn"]["Value"] == {
        "Fn::GetAtt": [replication_id, "ReplicationConfigArn"]
    }
    assert outputs["DataSyncTaskArn"]["Value"] == {"Fn::GetAtt": [task_id, "TaskArn"]}
    # And the names of the secrets the operator fills in, with what goes in them
    assert outputs["LegacyDatabaseSecretName"]["Value"] == "patronus/migration/legacy-dms"
    assert '"host": "10.0.20.2", "port": 3306' in outputs["LegacyDatabaseSecretName"]["Description"]
    assert outputs["LegacyShareSecretName"]["Value"] == "patronus/datasync-smb"
    assert "PATRONUS\\svc-datasync" in outputs["LegacyShareSecretName"]["Description"]
    assert set(outputs) == {
        "ReplicationConfigArn",
        "DataSyncTaskArn",
        "LegacyDatabaseSecretName",
        "LegacyShareSecretName",
    }


# -- removal -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def without_migration(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    # Given prod as in cdk.json, but with the migration disabled (as after the cutover)
    context = with_overrides(cdk_context(env=ENV), ENV, {"legacy_migration.enabled": False})
    return synthesize(Path(tmp_path_factory.mktemp("no-migration")), context=context)


def _comparable(resources: Mapping[str, Any]) -> str:
    # The versions' logical ids (api, document_events) hash the function as resolved during
    # synthesis, where token numbers show through: a second app in the same process gets another
    # id. Separate `cdk synth` runs of both variants give the same id.
    return re.sub(
        r"((?:ApiFunction|DocumentEventsFunction)CurrentVersion[0-9A-F]{8})[0-9a-f]{32}",
        r"\1<hash>",
        json.dumps(resources),
    )


def test_destroying_the_stack_changes_no_resource_of_the_others(
    synth: Synth, without_migration: Synth
) -> None:
    assert without_migration.stages[ENV].legacy_migration is None
    for name in STACKS:
        # Then every resource of the other stacks is the same with or without the migration stack
        # (it only adds exports for its imports, which remain harmless until the next deployment)
        with_it = synth.template(ENV, name).to_json()
        without_it = without_migration.template(ENV, name).to_json()
        assert _comparable(with_it["Resources"]) == _comparable(without_it["Resources"]), name
        # And none of them refers to it
        assert "patronus-prod-migration" not in json.dumps(with_it), name


# -- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"legacy_migration.dms.source_secret_arn": "my-password"}, "legacy_migration.dms.source_secret_arn"),
        (
            {"legacy_migration.dms.source_secret_arn": PARTIAL_SECRET_ARN},
            "legacy_migration.dms.source_secret_arn",
        ),
        ({"legacy_migration.dms.max_capacity_units": 3}, "legacy_migration.dms.max_capacity_units"),
        (
            {"legacy_migration.dms.min_capacity_units": 32},
            "min_capacity_units must not exceed max_capacity_units",
        ),
        ({"legacy_migration.dms.source_port": 0}, "legacy_migration.dms.source_port"),
        ({"legacy_migration.dms.source_database": "%"}, "legacy_migration.dms.source_database"),
        (
            {"legacy_migration.dms.source_server_timezone": "Paris"},
            "legacy_migration.dms.source_server_timezone",
        ),
        (
            {"legacy_migration.dms.table_selections": [{"schema_name": "%"}]},
            "legacy_migration.dms.table_selections.0.schema_name",
        ),
        (
            {"legacy_migration.dms.source_prot": 3306},
            "legacy_migration.dms.source_prot: Extra inputs are not permitted",
        ),
        (
            {"legacy_migration.dms.source_host": "192.168.1.5"},
            "legacy_migration.dms.source_host 192.168.1.5 is not routed",
        ),
        ({"legacy_migration.datasync.agent_arns": ["agent-1"]}, "legacy_migration.datasync.agent_arns.0"),
        ({"legacy_migration.datasync.agent_arns": []}, "legacy_migration.datasync.agent_arns"),
        (
            {
                "legacy_migration.datasync.agent_arns": [
                    "arn:aws:datasync:${Region}:123456789012:agent/agent-0123456789abcdefg"
                ]
            },
            "only ${AWS::Partition}, ${AWS::Region}, ${AWS::AccountId} may be substituted",
        ),
        (
            {"legacy_migration.datasync.smb_password_secret": PARTIAL_SECRET_ARN},
            "legacy_migration.datasync.smb_password_secret",
        ),
        (
            {"legacy_migration.datasync.smb_password_secret": "Sup3r secret p@ss!"},
            "legacy_migration.datasync.smb_password_secret",
        ),
        ({"legacy_migration.datasync.smb_share": "share/docs"}, "legacy_migration.datasync.smb_share"),
        ({"legacy_migration.datasync.bytes_per_second": 0}, "legacy_migration.datasync.bytes_per_second"),
        (
            {"legacy_migration.datasync.schedule_expression": "every night"},
            "legacy_migration.datasync.schedule_expression",
        ),
        (
            {"legacy_migration.dms": None, "legacy_migration.datasync": None},
            "prod.legacy_migration: Value error, enabled: give the dms section",
        ),
        ({"network.vpn.enabled": False}, "legacy_migration.enabled needs network.vpn.enabled"),
    ],
)
def test_a_wrong_legacy_migration_value_names_its_key(overrides: dict[str, Any], key: str) -> None:
    # Given prod's legacy migration section with one wrong value, When cdk.json is parsed
    context = with_overrides(cdk_context(), ENV, overrides)
    with pytest.raises(ConfigError) as raised:
        load_config(context["patronus"])
    # Then the error names the key (and the environment)
    assert key in str(raised.value)
    assert "patronus.environments.prod" in str(raised.value)


def test_a_missing_legacy_migration_key_fails_synth_naming_it() -> None:
    # Given an app whose prod DataSync section lacks its user
    context = cdk_context(env=ENV)
    del context["patronus"]["environments"][ENV]["legacy_migration"]["datasync"]["smb_user"]
    app = cdk.App(context=context)
    # When the app is built, Then it fails naming the key, before any stage exists
    with pytest.raises(ConfigError, match=r"prod\.legacy_migration\.datasync\.smb_user: Field required"):
        build_app(app, nag=False)
    assert not app.node.children


def test_one_part_of_the_legacy_migration_is_enough_and_disabled_sections_are_kept() -> None:
    # DataSync only (the database goes through the dump importer, path B)
    context = with_overrides(cdk_context(), ENV, {"legacy_migration.dms": None})
    (prod,) = load_config(context["patronus"], only=ENV)
    assert prod.legacy_migration.dms is None and prod.legacy_migration.datasync is not None
    # Disabled, the settings stay validated for later, and no VPN is needed
    context = with_overrides(
        cdk_context(), ENV, {"legacy_migration.enabled": False, "network.vpn.enabled": False}
    )
    (prod,) = load_config(context["patronus"], only=ENV)
    assert not prod.legacy_migration.enabled and prod.legacy_migration.dms is not None


def test_arns_with_placeholders_are_left_to_cloudformation() -> None:
    plain = "arn:aws:datasync:eu-west-3:123456789012:agent/agent-0123456789abcdefg"
    assert substituted(plain) == plain
    templated = substituted("arn:${AWS::Partition}:datasync:${AWS::Region}:${AWS::AccountId}:agent/agent-x")
    assert cdk.Token.is_unresolved(templated)
    assert (
        secret_name("arn:aws:secretsmanager:eu-west-3:123456789012:secret:patronus/a-b-Ab12Cd")
        == "patronus/a-b"
    )
    assert secret_name("patronus/datasync-smb") == "patronus/datasync-smb"


def test_the_former_migration_key_is_refused_with_its_new_name() -> None:
    # Given a cdk.json written before the key named what it migrates
    context = cdk_context()
    environment = context["patronus"]["environments"][ENV]
    environment["migration"] = environment.pop("legacy_migration")
    # Then parsing it says where the section went
    with pytest.raises(ConfigError, match=r"prod: Value error, the migration key is now legacy_migration"):
        load_config(context["patronus"])


# -- the legacy schema apart, operator access ----------------------------------------------------


def test_dms_renames_the_legacy_schema_into_the_legacy_database(synth: Synth) -> None:
    (_, config) = the(resources(synth, "AWS::DMS::ReplicationConfig"))
    mappings = config["Properties"]["TableMappings"]["rules"]
    # Then the legacy server's schema (patronus) lands in Aurora's schema "legacy", not in the
    # application's schema of the same name
    (rename,) = [r for r in mappings if r["rule-type"] == "transformation"]
    assert rename["object-locator"] == {"schema-name": "patronus"}
    assert (rename["rule-action"], rename["value"]) == ("rename", "legacy")


def test_a_rehearsal_points_dms_at_the_rehearsal_schema() -> None:
    # (the stack passes dms_target_database to the construct; test_dms.py checks the rename it makes)
    context = with_overrides(cdk_context(), ENV, {"legacy_migration.rehearsal": True})
    (prod,) = load_config(context["patronus"], only=ENV)
    assert prod.legacy_migration.dms_target_database == "legacy_rehearsal"
    (shipped,) = load_config(cdk_context()["patronus"], only=ENV)
    assert shipped.legacy_migration.dms_target_database == "legacy"


@pytest.mark.parametrize("key", ["legacy_database", "rehearsal_database"])
def test_the_application_schema_is_refused_as_a_migration_target(key: str) -> None:
    context = with_overrides(cdk_context(), ENV, {f"legacy_migration.{key}": "patronus"})
    with pytest.raises(ConfigError, match=rf"legacy_migration\.{key} is the application's schema"):
        load_config(context["patronus"], only=ENV)


def test_datacenter_operators_reach_the_cluster_on_3306_from_the_configured_cidrs(synth: Synth) -> None:
    # Given operator_cidrs in cdk.json (the operator machine and the legacy application server)
    admitted = [
        r
        for r in rules(synth, "Ingress")
        if "DatabaseSecurityGroup" in json.dumps(r["GroupId"]) and "CidrIp" in r
    ]
    # Then each is one ingress rule on the cluster's group, declared in the migration stack only
    assert sorted(r["CidrIp"] for r in admitted) == ["10.0.20.3/32", "10.0.20.5/32"]
    for rule in admitted:
        assert "patronus-prod-database" in rule["GroupId"]["Fn::ImportValue"]
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 3306, 3306)
    # And the database stack admits no address range of its own (the rules go with the migration)
    database = synth.template(ENV, "database").to_json()
    assert "10.0.20." not in json.dumps(database)


def test_an_operator_cidr_outside_the_vpn_routes_is_refused() -> None:
    context = with_overrides(cdk_context(), ENV, {"legacy_migration.operator_cidrs": ["192.168.1.0/24"]})
    with pytest.raises(ConfigError, match=r"operator_cidrs entry 192\.168\.1\.0/24 is not routed"):
        load_config(context["patronus"], only=ENV)


def test_cdk_json_ships_with_the_migration_stack_off_for_the_first_deploy() -> None:
    # Given cdk.json as it is (a first prod deploy, before the migration's secrets and agent exist)
    shipped = json.loads(Path("cdk.json").read_text())["context"]["patronus"]
    (prod,) = load_config(shipped, only=ENV)
    # Then prod deploys without the migration stack; the runbook switches it on later
    assert prod.legacy_migration.enabled is False
    assert prod.legacy_migration.dms is not None, "the example stays, ready to be switched on"


def test_migration_alarms_watch_dms_latency_and_datasync_failures(synth: Synth) -> None:
    alarms = [a["Properties"] for a in resources(synth, "AWS::CloudWatch::Alarm").values()]
    # Then both CDC latencies of the replication alarm after 5 minutes above 300 s
    assert sorted(a["MetricName"] for a in alarms) == ["CDCLatencySource", "CDCLatencyTarget"]
    for alarm in alarms:
        assert (alarm["Namespace"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("AWS/DMS", 300, 5)
        (dimension,) = alarm["Dimensions"]
        assert dimension["Name"] == "ReplicationConfigId"
        assert "ReplicationConfigArn" in json.dumps(dimension["Value"])
        assert alarm["AlarmActions"] and alarm["OKActions"]
    # And a failed DataSync execution of the task is sent to the same topic
    (_, rule) = the(resources(synth, "AWS::Events::Rule"))
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.datasync"] and pattern["detail"] == {"State": ["ERROR"]}
    assert "prefix" in pattern["resources"][0]
    (_, topic) = the(resources(synth, "AWS::SNS::Topic"))
    assert "KmsMasterKeyId" in topic["Properties"]
    (_, subscription) = the(resources(synth, "AWS::SNS::Subscription"))
    assert subscription["Properties"]["Endpoint"] == "patronus-ops@example.com"
