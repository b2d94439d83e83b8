"""What the cost knobs of cdk.json change in the templates: dev (no reader, no proxy, 0 ACU with
auto-pause, one endpoint zone) against prod (reader, proxy, three zones, migrated documents
written to Intelligent-Tiering), on the session's synthesized templates."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Match, Template

from stacks.config import load_config
from stacks.storage import StorageStack
from tests.infrastructure.conftest import Synth, cdk_context, with_overrides


def _environment(synth: Synth, env: str) -> dict[str, str]:
    """The variables of the application functions (api, document events and upload expiry; the
    schema migration reaches the writer as the admin, whatever the proxy setting)."""
    functions = synth.template(env, "api").find_resources(
        "AWS::Lambda::Function",
        {"Properties": {"Environment": {"Variables": {"PATRONUS_BUCKET": Match.any_value()}}}},
    )
    hosts = {str(f["Properties"]["Environment"]["Variables"]["PATRONUS_DB_HOST"]) for f in functions.values()}
    assert len(functions) == 3 and len(hosts) == 1
    variables: dict[str, str] = next(iter(functions.values()))["Properties"]["Environment"]["Variables"]
    return variables


def test_dev_pauses_at_zero_acu_with_one_instance_and_no_proxy(synth: Synth) -> None:
    database = synth.template("dev", "database")
    database.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "ServerlessV2ScalingConfiguration": {
                "MinCapacity": 0,
                "MaxCapacity": 4,
                "SecondsUntilAutoPause": 300,
            }
        },
    )
    database.resource_count_is("AWS::RDS::DBInstance", 1)
    database.resource_count_is("AWS::RDS::DBProxy", 0)
    # The replica-lag and proxy alarms go with the reader and the proxy
    monitoring = synth.template("dev", "monitoring").to_json()["Resources"]
    names = [
        str(r["Properties"].get("AlarmName", ""))
        for r in monitoring.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    assert names and not [n for n in names if "Replica" in n or "Proxy" in n]


def test_without_a_proxy_functions_reach_the_writer_with_iam_and_tls_and_wait_for_a_resume(
    synth: Synth,
) -> None:
    dev, prod = _environment(synth, "dev"), _environment(synth, "prod")
    # prod: the proxy's endpoint; dev: the cluster's writer endpoint, imported from the database stack
    assert "Proxy" in str(prod["PATRONUS_DB_HOST"]) and "Cluster" in str(dev["PATRONUS_DB_HOST"])
    for variables in (dev, prod):
        assert variables["PATRONUS_DB_IAM_AUTH"] == variables["PATRONUS_DB_TLS"] == "true"
    assert (dev["PATRONUS_DB_CONNECT_TIMEOUT"], dev["PATRONUS_DB_RETRY_AFTER"]) == ("15", "15")
    assert (prod["PATRONUS_DB_CONNECT_TIMEOUT"], prod["PATRONUS_DB_RETRY_AFTER"]) == ("3", "5")
    # rds-db:connect on the cluster's resource id (dev) or the proxy's (prod)
    statements = str(synth.template("dev", "api").find_resources("AWS::IAM::Policy"))
    assert ":dbuser:" in statements and "prx-" not in statements


def test_interface_endpoints_serve_the_configured_number_of_zones(synth: Synth) -> None:
    for env, zones in (("dev", 1), ("prod", 3)):
        endpoints = synth.template(env, "network").find_resources(
            "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
        )
        assert [len(e["Properties"]["SubnetIds"]) for e in endpoints.values()] == [zones]


def test_datasync_writes_the_migrated_documents_in_their_storage_class(synth: Synth) -> None:
    synth.template("prod", "legacy_migration").has_resource_properties(
        "AWS::DataSync::LocationS3", {"S3StorageClass": "INTELLIGENT_TIERING"}
    )


def test_archive_tiers_apply_to_the_migrated_documents_only_when_configured() -> None:
    # Given prod's configuration with the archive tiers of the migrated documents set
    context = with_overrides(
        cdk_context(),
        "prod",
        {
            "storage.legacy_documents": {
                "archive_access_after_days": 180,
                "deep_archive_access_after_days": 365,
            }
        },
    )
    (config,) = load_config(context["patronus"], only="prod")
    # When the storage stack alone is synthesized
    template = Template.from_stack(StorageStack(cdk.App(context=context), "Storage", config=config))
    # Then the documents bucket archives legacy/ objects nobody read for that long
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "IntelligentTieringConfigurations": [
                {
                    "Id": "legacy-archive",
                    "Prefix": "legacy/",
                    "Status": "Enabled",
                    "Tierings": Match.array_with(
                        [
                            {"AccessTier": "ARCHIVE_ACCESS", "Days": 180},
                            {"AccessTier": "DEEP_ARCHIVE_ACCESS", "Days": 365},
                        ]
                    ),
                }
            ]
        },
    )
