"""The network: a VPC with private isolated subnets only, and every reachability rule.

No NAT gateway and no internet gateway: Lambda reaches S3 through the gateway endpoint, signs
presigned URLs and RDS IAM tokens locally, and calls Secrets Manager through an interface
endpoint. The security groups of the callers (functions, schema migrations, endpoints) live here; the
proxy and cluster groups, and the rules that say who reaches them, live in the database stack.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.common import log_retention, removal_policy
from stacks.config import EnvironmentConfig
from stacks.nag import acknowledge

MYSQL_PORT = 3306
NAMED_ZONES = (
    "Availability zones are named in cdk.json on purpose: synth needs no account lookup and "
    "the reader is pinned to a different zone from the writer."
)
APP_SUBNETS = "app"
DATA_SUBNETS = "data"


class NetworkStack(Stack):
    """VPC, endpoints, flow logs, optional VPN and the callers' security groups."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.config = config
        self.vpc = self._build_vpc()
        for subnet in self.vpc.isolated_subnets:
            acknowledge(subnet, "CloudFormation-Validate::W3010", NAMED_ZONES)
        self._build_flow_logs()
        self._build_security_groups()
        self._build_endpoints()
        if config.network.vpn.enabled:
            self._build_vpn()

    @property
    def app_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_group_name=APP_SUBNETS)

    @property
    def data_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_group_name=DATA_SUBNETS)

    def _build_vpc(self) -> ec2.Vpc:
        network = self.config.network
        return ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(str(network.cidr)),
            availability_zones=list(network.availability_zones),
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=APP_SUBNETS, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name=DATA_SUBNETS, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
            enable_dns_hostnames=True,
            enable_dns_support=True,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            },
        )

    def _build_flow_logs(self) -> None:
        log_group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=log_retention(self.config.network.flow_logs_retention_days),
            removal_policy=removal_policy(self.config),
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
            max_aggregation_interval=ec2.FlowLogMaxAggregationInterval.ONE_MINUTE,
        )

    def security_group(self, construct_id: str, description: str) -> ec2.SecurityGroup:
        return ec2.SecurityGroup(
            self, construct_id, vpc=self.vpc, description=description, allow_all_outbound=False
        )

    def _build_security_groups(self) -> None:
        # The proxy and cluster groups belong to the database stack (their rules reference the
        # cluster); the groups of the callers live here.
        self.functions_sg = self.security_group(
            "FunctionsSecurityGroup", "Patronus API and document-event functions"
        )
        self.schema_migration_sg = self.security_group(
            "MigrationSecurityGroup", "Schema migration and secret rotation functions"
        )
        self.endpoints_sg = self.security_group("EndpointsSecurityGroup", "Interface VPC endpoints")
        https = ec2.Port.tcp(443)
        # HTTPS leaves the functions only towards S3's addresses (the AWS-managed prefix list the
        # gateway endpoint routes): 0.0.0.0/0:443 would also reach the datacenter over the VPN.
        self.functions_sg.add_egress_rule(
            ec2.Peer.prefix_list(self._s3_prefix_list_id()), https, "S3 through the gateway endpoint"
        )
        self.schema_migration_sg.add_egress_rule(
            ec2.Peer.ipv4(self.vpc.vpc_cidr_block), https, "Secrets Manager interface endpoint"
        )
        self.endpoints_sg.add_ingress_rule(
            self.schema_migration_sg, https, "Migration and rotation functions"
        )

    def _s3_prefix_list_id(self) -> str:
        """The id of the region's AWS-managed S3 prefix list, read at deployment (EC2's
        DescribePrefixLists; no account lookup at synth)."""
        name = f"com.amazonaws.{self.region}.s3"
        lookup = cr.AwsCustomResource(
            self,
            "S3PrefixList",
            on_update=cr.AwsSdkCall(
                service="EC2",
                action="describePrefixLists",
                parameters={"Filters": [{"Name": "prefix-list-name", "Values": [name]}]},
                physical_resource_id=cr.PhysicalResourceId.of(name),
                output_paths=["PrefixLists.0.PrefixListId"],
            ),
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(
                resources=cr.AwsCustomResourcePolicy.ANY_RESOURCE
            ),
            install_latest_aws_sdk=False,
        )
        provider = self.node.find_child(f"AWS{cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace('-', '')}")
        acknowledge(
            provider,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "aws-cdk-lib's function behind AwsCustomResource: the AWS-managed basic execution "
            "policy only lets it write its own logs.",
        )
        acknowledge(
            lookup,
            "AwsSolutions-IAM5[Resource::*]",
            "ec2:DescribePrefixLists has no resource-level permission; the function only reads the "
            "id of the region's S3 prefix list.",
        )
        return lookup.get_response_field("PrefixLists.0.PrefixListId")

    def allow_endpoint_access(self, peer: ec2.ISecurityGroup, description: str) -> None:
        """Let ``peer`` reach the interface endpoints (Secrets Manager) on 443.

        Both rules (the endpoints group's ingress, the caller's egress) are declared in the
        caller's stack: this stack never refers to a stack built on it, and removing that stack
        (the legacy migration stack) removes its rules.
        """
        https = ec2.Port.tcp(443)
        # remote_rule: the ingress rule of the endpoints' group is created in the caller's stack.
        self.endpoints_sg.add_ingress_rule(peer, https, description, True)
        peer.add_egress_rule(self.endpoints_sg, https, description)

    def _build_endpoints(self) -> None:
        self.secrets_manager_endpoint = self.vpc.add_interface_endpoint(
            "SecretsManagerEndpoint",
            service=ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
            # Billed per zone-hour: network.interface_endpoint_zones may serve fewer zones.
            subnets=ec2.SubnetSelection(
                subnet_group_name=APP_SUBNETS, availability_zones=self.config.network.endpoint_zones
            ),
            security_groups=[self.endpoints_sg],
            private_dns_enabled=True,
            open=False,
        )

    def _build_vpn(self) -> None:
        vpn = self.config.network.vpn
        routes = [str(r) for r in (vpn.static_routes or self.config.network.on_premises_cidrs)]
        self.vpc.enable_vpn_gateway(
            type="ipsec.1",
            vpn_route_propagation=[self.app_subnets, self.data_subnets],
        )
        self.vpn_connection = self.vpc.add_vpn_connection(
            "OnPremises",
            ip=str(vpn.customer_gateway_ip),
            asn=vpn.customer_gateway_asn,
            static_routes=routes,
        )
