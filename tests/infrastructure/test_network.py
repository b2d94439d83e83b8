"""Network: private isolated subnets over named AZs, no NAT, endpoints, flow logs, VPN."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.assertions import Match, Template

from tests.infrastructure.conftest import Synth, cdk_context, synthesize, with_overrides


@pytest.mark.parametrize(("env", "zones"), [("dev", 2), ("prod", 3)])
def test_subnets_span_the_named_zones_and_are_all_isolated(synth: Synth, env: str, zones: int) -> None:
    template = synth.template(env, "network")
    subnets = template.find_resources("AWS::EC2::Subnet")
    # Two tiers (app, data) per availability zone, none public
    assert len(subnets) == 2 * zones
    assert {s["Properties"]["AvailabilityZone"] for s in subnets.values()} == {
        f"eu-west-3{letter}" for letter in "abc"[:zones]
    }
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_no_nat_and_no_internet_gateway(synth: Synth, env: str) -> None:
    template = synth.template(env, "network")
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.resource_count_is("AWS::EC2::EIP", 0)


def test_vpc_cidr_comes_from_config(synth: Synth) -> None:
    synth.template("dev", "network").has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.40.0.0/20"})
    synth.template("prod", "network").has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.50.0.0/20"})


def test_s3_gateway_and_secrets_manager_interface_endpoints_only(synth: Synth) -> None:
    template = synth.template("prod", "network")
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"VpcEndpointType": "Gateway", "ServiceName": Match.object_like({})},
    )
    interface = template.find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    assert len(interface) == 1
    (endpoint,) = interface.values()
    assert endpoint["Properties"]["ServiceName"] == "com.amazonaws.eu-west-3.secretsmanager"
    assert endpoint["Properties"]["PrivateDnsEnabled"] is True


def test_flow_logs_capture_all_traffic_with_retention(synth: Synth) -> None:
    template = synth.template("prod", "network")
    template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})


def test_function_egress_is_https_only_and_migration_egress_stays_in_the_vpc(synth: Synth) -> None:
    template = synth.template("prod", "network")
    groups = template.find_resources("AWS::EC2::SecurityGroup")
    functions_id, functions = next(
        (i, g) for i, g in groups.items() if "API and document-event" in g["Properties"]["GroupDescription"]
    )
    # No rule to 0.0.0.0/0, which reaches the datacenter over the VPN
    assert all(
        rule.get("CidrIp") != "0.0.0.0/0" for rule in functions["Properties"].get("SecurityGroupEgress", [])
    )
    # One HTTPS rule, to the region's S3 prefix list read at deployment (the 3306 rule to the
    # proxy lives in the database stack)
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [functions_id, "GroupId"]}
    ]
    (egress,) = rules
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    lookup_id = egress["DestinationPrefixListId"]["Fn::GetAtt"][0]
    lookup = template.to_json()["Resources"][lookup_id]["Properties"]
    assert "describePrefixLists" in str(lookup["Update"]) and "com.amazonaws." in str(lookup["Update"])
    migration = next(g for g in groups.values() if "Schema migration" in g["Properties"]["GroupDescription"])
    (egress,) = migration["Properties"]["SecurityGroupEgress"]
    assert egress["FromPort"] == 443 and "CidrIp" in egress


def test_no_vpn_unless_configured(synth: Synth) -> None:
    # dev has no network.vpn (prod enables it for the migration from the datacenter)
    synth.template("dev", "network").resource_count_is("AWS::EC2::VPNConnection", 0)
    synth.template("dev", "network").resource_count_is("AWS::EC2::VPNGateway", 0)
    synth.template("prod", "network").resource_count_is("AWS::EC2::VPNConnection", 1)


@pytest.fixture(scope="module")
def vpn_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    context = with_overrides(
        cdk_context(env="dev"),
        "dev",
        {
            "network.vpn": {
                "enabled": True,
                "customer_gateway_ip": "203.0.113.10",
                "customer_gateway_asn": 65010,
            }
        },
    )
    synth = synthesize(Path(tmp_path_factory.mktemp("vpn")), context=context)
    return synth.template("dev", "network")


def test_vpn_to_the_datacenter_routes_the_on_premises_ranges(vpn_template: Template) -> None:
    # Given network.vpn enabled with a customer gateway
    vpn_template.has_resource_properties(
        "AWS::EC2::CustomerGateway", {"IpAddress": "203.0.113.10", "BgpAsn": 65010, "Type": "ipsec.1"}
    )
    vpn_template.has_resource_properties("AWS::EC2::VPNConnection", {"StaticRoutesOnly": True})
    routes = vpn_template.find_resources("AWS::EC2::VPNConnectionRoute")
    assert sorted(r["Properties"]["DestinationCidrBlock"] for r in routes.values()) == [
        "10.0.10.0/24",
        "10.0.20.0/24",
    ]
    # Routes learnt over the VPN reach both private tiers
    vpn_template.has_resource_properties(
        "AWS::EC2::VPNGatewayRoutePropagation", {"RouteTableIds": Match.any_value()}
    )
