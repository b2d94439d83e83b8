"""Aurora MySQL 3 Serverless v2, behind RDS Proxy where ``database.proxy.enabled``.

* A writer, and where ``database.reader`` a reader (promotion tier 1) in another availability
  zone: the failover target. Without it a failure recreates the writer (minutes, not seconds).
* ``database.min_acu`` 0 lets an idle instance pause after ``auto_pause_after_seconds``
  (Aurora MySQL 3.08+; refused by the config with a proxy, which would keep it awake).
* Storage encrypted with a customer-managed key (rotation on); TLS required by the cluster
  parameter group; IAM database authentication on; error, slow query and audit logs exported.
* The admin secret rotates with the single-user scheme (the application never uses it).
* RDS Proxy uses end-to-end IAM authentication (``DefaultAuthScheme=IAM_AUTH``): clients
  present an IAM token, the proxy presents its own IAM token to the database, and no per-user
  secret exists. TLS is required from clients. Without the proxy the functions connect to the
  writer endpoint with the same IAM token and TLS: :attr:`DatabaseStack.endpoint` and
  :meth:`DatabaseStack.grant_connect` hide which one it is.
* The schema migration (``db_migrate``) belongs to the release of the code: it runs from the
  api stack (``stacks/schema_migration.py``), with the cluster, its admin secret and writer
  endpoint passed from here, in the migration security group this stack lets in.
* Who reaches the cluster is decided here, by :meth:`DatabaseStack.allow_database_access`.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.common import log_retention, removal_policy
from stacks.config import EnvironmentConfig
from stacks.nag import acknowledge, acknowledge_log_retention
from stacks.network import MYSQL_PORT, NAMED_ZONES, NetworkStack

# Cluster parameters switched on by a database.* key while the legacy migration needs them.
_MIGRATION_PARAMETERS = {"local_infile": "1", "event_scheduler": "ON", "log_bin_trust_function_creators": "1"}


class DatabaseStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: NetworkStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.config = config
        self.network = network
        self._build_security_groups()
        self.key = kms.Key(
            self,
            "DatabaseKey",
            description=f"Patronus {config.name}: Aurora storage and Performance Insights",
            enable_key_rotation=True,
            removal_policy=removal_policy(config),
        )
        self.cluster = self._build_cluster()
        # Schema migrations and secret rotation use the admin user on the writer directly.
        self.allow_database_access(network.schema_migration_sg, "Schema migrations and secret rotation")
        self._build_rotation()
        self.proxy: rds.DatabaseProxy | None = None
        if config.database.proxy.enabled:
            self.proxy = self._build_proxy()
            CfnOutput(self, "ProxyEndpoint", value=self.proxy.endpoint, description="RDS Proxy endpoint")
        else:
            # The functions connect to the writer directly.
            self.allow_database_access(network.functions_sg, "Application functions")
        acknowledge_log_retention(self)
        CfnOutput(
            self, "ClusterEndpoint", value=self.cluster.cluster_endpoint.hostname, description="Aurora writer"
        )

    def _build_security_groups(self) -> None:
        network = self.network
        self.database_sg = ec2.SecurityGroup(
            self,
            "DatabaseSecurityGroup",
            vpc=network.vpc,
            description="Aurora cluster",
            allow_all_outbound=False,
        )
        self.proxy_sg: ec2.SecurityGroup | None = None
        if not self.config.database.proxy.enabled:
            return
        self.proxy_sg = ec2.SecurityGroup(
            self, "ProxySecurityGroup", vpc=network.vpc, description="RDS Proxy", allow_all_outbound=False
        )
        mysql = ec2.Port.tcp(MYSQL_PORT)
        # Application traffic: functions -> proxy. The egress rule of the functions' group is
        # placed here (a remote rule) so that no rule points back at this stack. The proxy ->
        # cluster rules come with the proxy target; rules are never declared twice (EC2 refuses
        # duplicate permissions).
        self.proxy_sg.add_ingress_rule(network.functions_sg, mysql, "Application functions")
        network.functions_sg.add_egress_rule(self.proxy_sg, mysql, "To the RDS Proxy", True)

    def allow_database_access(self, peer: ec2.ISecurityGroup, description: str) -> None:
        """Let another tier (schema migrations, secret rotation, DMS replication) reach the cluster.

        The pair of rules (the cluster group's ingress, the caller's egress) is declared once, in
        the later of the two stacks: here for the callers' groups of the network stack, in the
        caller's own stack for a stack built on this one (the legacy migration stack). So no rule ever
        points from an earlier stack to a later one, and removing the later stack removes its
        rules without touching this one.
        """
        caller = Stack.of(peer)
        if caller is self or caller is self.network:
            self.cluster.connections.allow_default_port_from(peer, description)
            return
        mysql = ec2.Port.tcp(MYSQL_PORT)
        # remote_rule: the ingress rule of the cluster's group is created in the caller's stack.
        self.database_sg.add_ingress_rule(peer, mysql, description, True)
        peer.add_egress_rule(self.database_sg, mysql, description)

    def allow_network_access(self, scope: Construct, cidr: str, description: str) -> None:
        """Admit an address range of the datacenter (through the site-to-site VPN) to the cluster.

        The rule is created in ``scope``'s stack (the legacy migration stack), so it goes when that
        stack is destroyed; the cluster still requires TLS and a database password.
        """
        ec2.CfnSecurityGroupIngress(
            scope,
            f"DatabaseAccess{cidr.replace('.', '-').replace('/', '-')}",
            group_id=self.database_sg.security_group_id,
            ip_protocol="tcp",
            from_port=MYSQL_PORT,
            to_port=MYSQL_PORT,
            cidr_ip=cidr,
            description=description,
        )

    @property
    def endpoint(self) -> str:
        """Where the application connects: the proxy, or the writer endpoint without one."""
        return self.proxy.endpoint if self.proxy is not None else self.cluster.cluster_endpoint.hostname

    def grant_connect(self, grantee: iam.IGrantable, user: str) -> None:
        """``rds-db:connect`` as ``user`` on the proxy, or on the cluster without one."""
        if self.proxy is not None:
            self.proxy.grant_connect(grantee, user)
        else:
            self.cluster.grant_connect(grantee, user)

    @property
    def admin_secret(self) -> secretsmanager.ISecret:
        """The cluster's generated admin secret (username, password, host, port); it rotates."""
        secret = self.cluster.secret
        assert secret is not None
        return secret

    @property
    def engine(self) -> rds.IClusterEngine:
        version = self.config.database.engine_version
        return rds.DatabaseClusterEngine.aurora_mysql(
            version=rds.AuroraMysqlEngineVersion.of(f"8.0.mysql_aurora.{version}", "8.0")
        )

    def _build_cluster(self) -> rds.DatabaseCluster:
        db = self.config.database
        zones = self.config.network.availability_zones
        parameters = rds.ParameterGroup(
            self,
            "ClusterParameters",
            engine=self.engine,
            description="Patronus: TLS required, audit and slow query logs",
            parameters={
                "require_secure_transport": "ON",
                "tls_version": "TLSv1.2,TLSv1.3",
                "server_audit_logging": "1",
                "server_audit_events": "CONNECT,QUERY_DCL,QUERY_DDL",
                "slow_query_log": "1",
                "long_query_time": "2",
                "log_output": "FILE",
                "character_set_server": "utf8mb4",
                "collation_server": "utf8mb4_unicode_ci",
                **{name: value for name, value in _MIGRATION_PARAMETERS.items() if getattr(db, name)},
            },
        )
        cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=self.engine,
            credentials=rds.Credentials.from_generated_secret(db.admin_user),
            writer=self._instance("Writer", zones[0]),
            readers=(
                # Scales with the writer and sits in promotion tier 1: the failover target.
                [self._instance("Reader", zones[1], scale_with_writer=True)] if db.reader else []
            ),
            serverless_v2_min_capacity=db.min_acu,
            serverless_v2_max_capacity=db.max_acu,
            serverless_v2_auto_pause_duration=(
                Duration.seconds(db.pause_delay_seconds) if db.auto_pauses else None
            ),
            vpc=self.network.vpc,
            vpc_subnets=self.network.data_subnets,
            security_groups=[self.database_sg],
            port=MYSQL_PORT,
            parameter_group=parameters,
            storage_encrypted=True,
            storage_encryption_key=self.key,
            iam_authentication=True,
            backup=rds.BackupProps(
                retention=Duration.days(db.backup_retention_days), preferred_window=db.backup_window
            ),
            preferred_maintenance_window=db.maintenance_window,
            cloudwatch_logs_exports=["error", "slowquery", "audit"],
            cloudwatch_logs_retention=log_retention(db.log_retention_days),
            deletion_protection=db.deletion_protection,
            removal_policy=RemovalPolicy.SNAPSHOT if self.config.retain else RemovalPolicy.DESTROY,
            copy_tags_to_snapshot=True,
            monitoring_interval=Duration.seconds(60),
        )
        self._acknowledge_cluster(cluster)
        return cluster

    def _instance(self, name: str, zone: str, *, scale_with_writer: bool = False) -> rds.IClusterInstance:
        db = self.config.database
        return rds.ClusterInstance.serverless_v2(
            name,
            availability_zone=zone,
            scale_with_writer=scale_with_writer,
            auto_minor_version_upgrade=True,
            preferred_maintenance_window=db.maintenance_window,
            enable_performance_insights=db.performance_insights,
            performance_insight_encryption_key=self.key if db.performance_insights else None,
        )

    def _build_rotation(self) -> None:
        # Single-user rotation: RDS Proxy holds long-lived connections and multi-user rotation
        # would alternate users behind its back. The admin user is only used by schema migrations.
        self.rotation = self.cluster.add_rotation_single_user(
            automatically_after=Duration.days(self.config.database.secret_rotation_days),
            security_group=self.network.schema_migration_sg,
            vpc_subnets=self.network.app_subnets,
        )

    def _build_proxy(self) -> rds.DatabaseProxy:
        db = self.config.database
        assert self.proxy_sg is not None
        role = iam.Role(
            self,
            "ProxyRole",
            assumed_by=iam.ServicePrincipal("rds.amazonaws.com"),
            description="RDS Proxy: end-to-end IAM authentication to the cluster",
        )
        # The proxy signs in to the database as the application user with its own IAM token.
        self.cluster.grant_connect(role, db.app_user)
        return rds.DatabaseProxy(
            self,
            "Proxy",
            proxy_target=rds.ProxyTarget.from_cluster(self.cluster),
            vpc=self.network.vpc,
            vpc_subnets=self.network.data_subnets,
            security_groups=[self.proxy_sg],
            default_auth_scheme=rds.DefaultAuthScheme.IAM_AUTH,
            iam_auth=True,
            require_tls=True,
            role=role,
            idle_client_timeout=Duration.seconds(db.proxy.idle_client_timeout_seconds),
            # A request that cannot get a database connection fails within the API's timeout.
            borrow_timeout=Duration.seconds(db.proxy.connection_borrow_timeout_seconds),
            max_connections_percent=db.proxy.max_connections_percent,
            debug_logging=False,
        )

    def _acknowledge_cluster(self, cluster: rds.DatabaseCluster) -> None:
        for instance in ("Writer", "Reader") if self.config.database.reader else ("Writer",):
            acknowledge(cluster.node.find_child(instance), "CloudFormation-Validate::W3010", NAMED_ZONES)
        acknowledge(
            cluster,
            "AwsSolutions-RDS11",
            "The MySQL default port 3306 is kept: only the proxy, the schema migration group and, during the "
            "legacy migration, the DMS group can reach it, and every client and tool (DMS, the dump "
            "importer) expects it.",
        )
        acknowledge(
            cluster,
            "AwsSolutions-RDS14",
            "Backtrack is off: recovery uses point-in-time restore from continuous backups "
            "(35 days in prod) into a new cluster, which does not rewind the live database.",
        )
        acknowledge(
            cluster.node.find_child("MonitoringRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
            "AWS-managed policy of the Enhanced Monitoring role: it only lets RDS publish OS metrics "
            "to CloudWatch Logs.",
        )
        if not self.config.database.deletion_protection:
            acknowledge(
                cluster,
                "AwsSolutions-RDS10",
                f"Deletion protection is off in {self.config.name} so the environment can be torn "
                "down; prod turns it on with database.deletion_protection.",
            )
