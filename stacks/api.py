"""The API: Cognito, the REST API with its WAF, and the api and document_events functions.

Every ``/v1`` route requires a Cognito ID token; ``/health``, ``/openapi.json`` and ``/docs``
are open. All routes proxy to the ``live`` alias of the one ``api`` function, which maps HTTP
to the service layer. ``document_events`` receives the bucket's "Object Created" events from
EventBridge and marks uploads available.

Releases: every change of the api function publishes a new version; CodeDeploy shifts the
``live`` alias to it (canary, linear or all at once, per environment) and shifts it back when an
alarm on the new version (errors, p99 latency) or on the API's 5xx rate fires.

Schema migrations belong to the release: this stack holds the one ``db_migrate`` custom resource
(``stacks/schema_migration.py``), rerun whenever the migration set changes; the functions, the
new version and so the ``live`` alias wait for it (CloudFormation ``DependsOn``).

Smoke test: a dedicated Cognito user (group ``readers``) whose credentials live in a Secrets
Manager secret, and a role that the delivery pipeline assumes to sign in as that user
(``scripts/smoke_test.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import CfnOutput, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks import code
from stacks.common import log_retention, removal_policy
from stacks.config import DEPLOYMENT_STRATEGIES, EnvironmentConfig, FunctionConfig
from stacks.database import DatabaseStack
from stacks.nag import acknowledge, acknowledge_function
from stacks.network import MYSQL_PORT, NetworkStack
from stacks.schema_migration import SchemaMigration, SchemaMigrationProps
from stacks.storage import LEGACY_PREFIX, UPLOAD_PREFIX, StorageStack

API_HANDLER = "patronus_api.handler.handler"
EVENTS_HANDLER = "patronus_document_events.handler.handler"
GROUPS = ("readers", "editors", "admins")
METRICS_NAMESPACE = "Patronus"
LIVE_ALIAS = "live"
SMOKE_TEST_GROUP = "readers"
# What the smoke test may do in the user pool: keep its own user in step with its secret and
# sign in as that user (the admin flows need IAM credentials; no public flow is opened).
SMOKE_TEST_USER_POOL_ACTIONS = (
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminInitiateAuth",
    "cognito-idp:AdminRespondToAuthChallenge",
)

# cdk.json names of CodeDeploy's predefined traffic shifts -> aws-cdk-lib's constants.
DEPLOYMENT_CONFIGS: dict[str, codedeploy.ILambdaDeploymentConfig] = {
    "ALL_AT_ONCE": codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
    "CANARY_10PERCENT_5MINUTES": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
    "CANARY_10PERCENT_10MINUTES": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_10_MINUTES,
    "CANARY_10PERCENT_15MINUTES": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_15_MINUTES,
    "CANARY_10PERCENT_30MINUTES": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_30_MINUTES,
    "LINEAR_10PERCENT_EVERY_1MINUTE": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
    "LINEAR_10PERCENT_EVERY_2MINUTES": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_2_MINUTES,
    "LINEAR_10PERCENT_EVERY_3MINUTES": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_3_MINUTES,
    "LINEAR_10PERCENT_EVERY_10MINUTES": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_10_MINUTES,
}
assert set(DEPLOYMENT_CONFIGS) == set(DEPLOYMENT_STRATEGIES)

# (path, methods) of the routes that require a signed-in user.
PROTECTED_ROUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/v1/dossiers", ("GET", "POST")),
    ("/v1/dossiers/{dossier_id}", ("GET", "PATCH", "DELETE")),
    ("/v1/dossiers/{dossier_id}/documents", ("GET", "POST")),
    ("/v1/dossiers/{dossier_id}/history", ("GET",)),
    ("/v1/documents/{document_id}", ("GET", "DELETE")),
    ("/v1/documents/{document_id}/download", ("GET",)),
    ("/v1/documents/{document_id}/complete", ("POST",)),
)
OPEN_ROUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/health", ("GET",)),
    ("/openapi.json", ("GET",)),
    ("/docs", ("GET",)),
)

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)


def smoke_test_role_name(config: EnvironmentConfig) -> str:
    """The fixed name of the smoke-test role, which a pipeline in another account must know."""
    return f"{config.project}-{config.name}-smoke-test"


@dataclass(frozen=True)
class Functions:
    api: lambda_.Function
    document_events: lambda_.Function


class ApiStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: NetworkStack,
        database: DatabaseStack,
        storage: StorageStack,
        deployer_account: str | None = None,
        **kwargs: object,
    ) -> None:
        """``deployer_account``: the account whose pipeline runs the smoke test (default: this one)."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.config = config
        self.network = network
        self.database = database
        self.storage = storage
        # Exported by name so that the IAM findings on the object prefixes can name it.
        self.bucket_arn = storage.import_bucket_arn()
        self.powertools = code.powertools_layer(self, config.powertools_layer_version)
        self.patronus_layer = code.project_layer(self)
        self.schema_migration = self._build_schema_migration()
        self.migration: CustomResource = self.schema_migration.resource
        self.migrate_function: lambda_.Function = self.schema_migration.function
        self._build_user_pool()
        self.api_function = self._build_api_function()
        self._build_release()
        self.events_function, self.dead_letter_queue = self._build_document_events()
        self.rest_api = self._build_rest_api()
        self._build_waf()
        self._build_smoke_test_access(deployer_account)
        self.api_url_output = CfnOutput(
            self, "ApiUrl", value=self.rest_api.url, description="Base URL of the REST API"
        )
        self.user_pool_id_output = CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.user_pool_client.user_pool_client_id)
        self.smoke_test_client_id_output = CfnOutput(
            self,
            "SmokeTestClientId",
            value=self.smoke_test_client.user_pool_client_id,
            description="App client of the smoke test (admin password sign-in only)",
        )
        self.smoke_test_secret_output = CfnOutput(
            self,
            "SmokeTestSecretArn",
            value=self.smoke_test_secret.secret_arn,
            description="Credentials of the smoke-test user",
        )
        self.smoke_test_role_output = CfnOutput(
            self,
            "SmokeTestRoleArn",
            value=self.smoke_test_role.role_arn,
            description="Role the pipeline's smoke test assumes",
        )

    # -- schema ------------------------------------------------------------------------------

    def _build_schema_migration(self) -> SchemaMigration:
        """``db_migrate`` on the writer, with the admin secret, in the migration security group.

        The database stack lets that group into the cluster and the network stack lets it reach
        the Secrets Manager endpoint: those rules are declared there, once.
        """
        config = self.config
        database = self.database
        return SchemaMigration(
            self,
            "SchemaMigration",
            SchemaMigrationProps(
                cluster=database.cluster,
                admin_secret=database.admin_secret,
                endpoint=database.cluster.cluster_endpoint.hostname,
                port=MYSQL_PORT,
                vpc=self.network.vpc,
                subnets=self.network.app_subnets,
                security_group=self.network.migration_sg,
                layers=[self.powertools, self.patronus_layer],
                database_name=config.database.name,
                app_user=config.database.app_user,
                sizing=config.api.migrate_function,
                environment_name=config.name,
                log_level=config.api.log_level,
                log_retention=log_retention(config.api.function_log_retention_days),
                removal_policy=removal_policy(config),
            ),
        )

    # -- identity ----------------------------------------------------------------------------

    def _build_user_pool(self) -> None:
        api = self.config.api
        threat = api.threat_protection
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
                password_history_size=12 if threat else None,
            ),
            mfa=cognito.Mfa.REQUIRED if api.mfa == "required" else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.PLUS if threat else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if threat else None
            ),
            deletion_protection=self.config.retain,
            removal_policy=removal_policy(self.config),
        )
        for group in GROUPS:
            cognito.CfnUserPoolGroup(
                self,
                f"Group{group.capitalize()}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=group,
                description=f"Patronus {group}",
            )
        self.user_pool_client = self.user_pool.add_client(
            "WebClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(1),
        )
        if api.mfa != "required":
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG2",
                f"MFA is optional in the {self.config.name} environment (test users, no real data); "
                "it is required in prod through the same configuration key.",
            )
        if not threat:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG8",
                f"The Essentials plan is used in {self.config.name}; prod uses Plus (threat "
                "protection) through api.threat_protection.",
            )
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG3",
                f"Threat protection (Cognito Plus plan, billed per user) is off in {self.config.name}; "
                "prod turns it on with api.threat_protection.",
            )

    def _build_smoke_test_access(self, deployer_account: str | None) -> None:
        """A user, its secret and a role for the smoke test that follows every deployment.

        The smoke test (``scripts/smoke_test.py``) assumes the role, reads the secret, creates or
        repairs the user (group ``readers``) when sign-in fails, signs in with the admin password
        flow of its own app client, answers the TOTP challenge where MFA is required, and calls
        one authenticated route.
        """
        name = self.config.name
        self.smoke_test_client = self.user_pool.add_client(
            "SmokeTestClient",
            auth_flows=cognito.AuthFlow(admin_user_password=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.minutes(5),
            access_token_validity=Duration.minutes(5),
            refresh_token_validity=Duration.minutes(60),
        )
        self.smoke_test_secret = secretsmanager.Secret(
            self,
            "SmokeTestCredentials",
            description=f"Patronus {name}: sign-in of the smoke-test user (group {SMOKE_TEST_GROUP})",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": f"smoke-test@{name}.patronus.invalid"}),
                generate_string_key="password",
                password_length=40,
                require_each_included_type=True,
                exclude_characters="\"'\\`",
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.smoke_test_secret,
            "AwsSolutions-SMG4",
            "The smoke test sets the Cognito password from this secret whenever sign-in fails, so "
            "rotating means writing a new value (docs/operations.md); no rotation function needed.",
        )
        # A fixed name: the pipeline may live in another account and grants sts:AssumeRole on
        # this exact ARN (a generated name cannot cross the account boundary).
        self.smoke_test_role = iam.Role(
            self,
            "SmokeTestRole",
            role_name=smoke_test_role_name(self.config),
            assumed_by=iam.AccountPrincipal(deployer_account or self.account),
            description="Assumed by the delivery pipeline's smoke test: the smoke-test user only",
            max_session_duration=Duration.hours(1),
        )
        self.user_pool.grant(self.smoke_test_role, *SMOKE_TEST_USER_POOL_ACTIONS)
        self.smoke_test_secret.grant_read(self.smoke_test_role)
        self.smoke_test_secret.grant_write(self.smoke_test_role)

    # -- functions ---------------------------------------------------------------------------

    def _function(
        self,
        construct_id: str,
        *,
        folder: str,
        handler: str,
        sizing: FunctionConfig,
        service: str,
        description: str,
        environment: dict[str, str],
    ) -> lambda_.Function:
        api = self.config.api
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=log_retention(api.function_log_retention_days),
            removal_policy=removal_policy(self.config),
        )
        function = lambda_.Function(
            self,
            construct_id,
            description=description,
            runtime=code.RUNTIME,
            architecture=code.ARCHITECTURE,
            handler=handler,
            code=code.function_code(folder),
            layers=[self.powertools, self.patronus_layer],
            memory_size=sizing.memory_mb,
            timeout=Duration.seconds(sizing.timeout_seconds),
            vpc=self.network.vpc,
            vpc_subnets=self.network.app_subnets,
            security_groups=[self.network.functions_sg],
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                **self._common_environment(),
                "POWERTOOLS_SERVICE_NAME": service,
                **environment,
            },
        )
        acknowledge_function(function)
        return function

    def _common_environment(self) -> dict[str, str]:
        config = self.config
        return {
            "PATRONUS_ENVIRONMENT": config.name,
            "PATRONUS_DB_HOST": self.database.proxy.endpoint,
            "PATRONUS_DB_PORT": str(MYSQL_PORT),
            "PATRONUS_DB_USER": config.database.app_user,
            "PATRONUS_DB_NAME": config.database.name,
            "PATRONUS_DB_IAM_AUTH": "true",
            "PATRONUS_DB_TLS": "true",
            "PATRONUS_BUCKET": self.storage.bucket.bucket_name,
            "PATRONUS_REGION": self.region,
            "PATRONUS_UPLOAD_URL_TTL": str(config.api.upload_url_ttl_seconds),
            "PATRONUS_DOWNLOAD_URL_TTL": str(config.api.download_url_ttl_seconds),
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": config.api.log_level,
        }

    def _build_api_function(self) -> lambda_.Function:
        function = self._function(
            "ApiFunction",
            folder="api",
            handler=API_HANDLER,
            sizing=self.config.api.api_function,
            service="patronus-api",
            description="Patronus REST API (all routes)",
            environment={},
        )
        # The schema must be migrated before this code serves traffic.
        function.node.add_dependency(self.migration)
        self.database.proxy.grant_connect(function, self.config.database.app_user)
        # Presigned PUT/POST/GET and multipart uploads are signed with this role; HEAD, abort and
        # complete run from the function itself.
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="UploadedDocuments",
                actions=[
                    "s3:PutObject",
                    "s3:GetObject",
                    "s3:GetObjectVersion",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[f"{self.bucket_arn}/{UPLOAD_PREFIX}*"],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="LegacyDocuments",
                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject"],
                resources=[f"{self.bucket_arn}/{LEGACY_PREFIX}*"],
            )
        )
        # SSE-KMS: S3 calls KMS with the signer's permissions on upload (data key) and download.
        self.storage.key.grant(function, "kms:GenerateDataKey", "kms:Decrypt")
        policy = function.role.node.find_child("DefaultPolicy") if function.role else None
        assert policy is not None
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{self._bucket_export}/{UPLOAD_PREFIX}*]",
            "Object actions on the upload prefix only: keys are documents/<dossier>/<document>/<file>, "
            "created at run time.",
        )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{self._bucket_export}/{LEGACY_PREFIX}*]",
            "Read and delete of the files migrated from the share, under the legacy/ prefix only.",
        )
        return function

    @property
    def _bucket_export(self) -> str:
        return self.storage.bucket_arn_export_name

    # -- releases ----------------------------------------------------------------------------

    def _build_release(self) -> None:
        """The ``live`` alias on the current version, its rollback alarms and CodeDeploy group."""
        canary = self.config.canary
        # The version the alias moves to is published only once this release's migrations have
        # completed (CloudFormation DependsOn: alias -> version -> migration). $LATEST waits too.
        self.api_version = self.api_function.current_version
        self.api_version.node.add_dependency(self.migration)
        # Published versions outlive the release that replaced them, so that the live alias can
        # be shifted back to one by hand (docs/operations.md) after a canary has completed.
        self.api_version.apply_removal_policy(RemovalPolicy.RETAIN)
        self.api_alias = lambda_.Alias(
            self,
            "ApiLiveAlias",
            alias_name=LIVE_ALIAS,
            version=self.api_version,
            description="The version API Gateway invokes; CodeDeploy shifts it on each release",
        )
        self.release_alarms = self._build_release_alarms()
        self.deployment_group = codedeploy.LambdaDeploymentGroup(
            self,
            "ApiDeployment",
            alias=self.api_alias,
            deployment_config=DEPLOYMENT_CONFIGS[canary.deployment],
            alarms=self.release_alarms,
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
            ignore_alarm_configuration=canary.ignore_alarms,
        )
        # The alarms measure the new version (their dimensions follow it): they must be updated
        # before CodeDeploy starts to shift, so the alias waits for them. (It waits for the
        # deployment group already: its update policy refers to it.)
        self.api_alias.node.add_dependency(*self.release_alarms)
        role = self.deployment_group.role
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]",
            "AWS-managed policy of CodeDeploy for Lambda: read the alarms, update the alias of the "
            "function it deploys and invoke its hooks; nothing else.",
        )

    @property
    def rest_api_name(self) -> str:
        return f"{self.config.project}-{self.config.name}-api"

    def _build_release_alarms(self) -> list[cloudwatch.Alarm]:
        """Alarms that roll a release back: errors and p99 latency of the new version (the
        ``ExecutedVersion`` dimension of invocations through the alias), and the stage's 5xx rate.
        """
        canary = self.config.canary
        function_name = self.api_function.function_name
        new_version = {
            "FunctionName": function_name,
            "Resource": f"{function_name}:{LIVE_ALIAS}",
            "ExecutedVersion": self.api_version.version,
        }
        minute = Duration.minutes(1)
        above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        quiet = cloudwatch.TreatMissingData.NOT_BREACHING
        errors = cloudwatch.Alarm(
            self,
            "ReleaseErrorsAlarm",
            alarm_description=(
                "Invocation errors (crashes, timeouts) of the version being released; "
                "CodeDeploy shifts the live alias back when this fires."
            ),
            metric=cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="Errors",
                dimensions_map=new_version,
                statistic="Sum",
                period=minute,
            ),
            threshold=canary.max_errors_per_minute,
            comparison_operator=above,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data=quiet,
        )
        latency = cloudwatch.Alarm(
            self,
            "ReleaseLatencyAlarm",
            alarm_description=(
                "p99 duration of the version being released; CodeDeploy shifts the live alias back "
                "when this fires."
            ),
            metric=cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="Duration",
                dimensions_map=new_version,
                statistic="p99",
                period=minute,
            ),
            threshold=canary.max_latency_p99_ms,
            comparison_operator=above,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=quiet,
        )
        server_errors = cloudwatch.Alarm(
            self,
            "Release5xxAlarm",
            alarm_description=(
                "Share of 5xx answers of the API stage. Handled errors are answers, not Lambda "
                "errors, so they are caught here: a failing canary with 10% of the traffic lifts "
                "the rate to about 10%. CodeDeploy shifts the live alias back when this fires."
            ),
            metric=cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name="5XXError",
                dimensions_map={"ApiName": self.rest_api_name, "Stage": self.config.name},
                statistic="Average",
                period=minute,
            ),
            threshold=canary.max_5xx_rate_percent / 100,
            comparison_operator=above,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data=quiet,
        )
        return [errors, latency, server_errors]

    def _build_document_events(self) -> tuple[lambda_.Function, sqs.Queue]:
        api = self.config.api
        dead_letters = sqs.Queue(
            self,
            "DocumentEventsDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            dead_letters,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the document event rule and function; it has "
            "no dead-letter queue of its own.",
        )
        function = self._function(
            "DocumentEventsFunction",
            folder="document_events",
            handler=EVENTS_HANDLER,
            sizing=api.events_function,
            service="patronus-document-events",
            description="Marks uploaded documents available when S3 reports the object",
            environment={},
        )
        function.node.add_dependency(self.migration)
        self.database.proxy.grant_connect(function, self.config.database.app_user)
        # HEAD on the uploaded object (size, checksum) needs s3:GetObject; without kms:Decrypt
        # this role cannot read the content of an SSE-KMS object.
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="UploadedDocumentsMetadata",
                actions=["s3:GetObject"],
                resources=[f"{self.bucket_arn}/{UPLOAD_PREFIX}*"],
            )
        )
        # Failures after Lambda's own retries of the asynchronous invocation land in the queue.
        function.configure_async_invoke(
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(dead_letters),
        )
        rule = events.Rule(
            self,
            "DocumentCreated",
            description="Uploads to the documents bucket (documents/ prefix)",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.storage.bucket.bucket_name]},
                    "object": {"key": [{"prefix": UPLOAD_PREFIX}]},
                },
            ),
        )
        rule.add_target(
            targets.LambdaFunction(
                function,
                dead_letter_queue=dead_letters,
                retry_attempts=api.event_retry_attempts,
                max_event_age=Duration.hours(2),
            )
        )
        policy = function.role.node.find_child("DefaultPolicy") if function.role else None
        assert policy is not None
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{self._bucket_export}/{UPLOAD_PREFIX}*]",
            "HEAD of any uploaded object under documents/ (keys are created at run time); "
            "no KMS permission, so the content stays unreadable to this function.",
        )
        return function, dead_letters

    # -- REST API ----------------------------------------------------------------------------

    def _build_rest_api(self) -> apigw.RestApi:
        api = self.config.api
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(api.access_log_retention_days),
            removal_policy=removal_policy(self.config),
        )
        cors = None
        if self.config.web_origins:
            cors = apigw.CorsOptions(
                allow_origins=list(self.config.web_origins),
                allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "If-Match", "X-Amz-Date"],
                expose_headers=["ETag", "Location"],
                max_age=Duration.hours(1),
            )
        rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=self.rest_api_name,
            description=f"Patronus API ({self.config.name})",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=api.manage_account_cloudwatch_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            default_cors_preflight_options=cors,
            deploy_options=apigw.StageOptions(
                stage_name=self.config.name,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                throttling_rate_limit=api.throttling_rate_limit,
                throttling_burst_limit=api.throttling_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        validator = rest_api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[self.user_pool])
        # API Gateway invokes the alias, never $LATEST: traffic follows the alias during a canary,
        # and the invoke permission is granted on the alias.
        integration = apigw.LambdaIntegration(
            self.api_alias, proxy=True, allow_test_invoke=False, scope_permission_to_method=False
        )
        for path, methods in PROTECTED_ROUTES:
            resource = rest_api.root.resource_for_path(path)
            for method in methods:
                resource.add_method(
                    method,
                    integration,
                    authorizer=authorizer,
                    authorization_type=apigw.AuthorizationType.COGNITO,
                    request_validator=validator,
                    request_parameters=self._path_parameters(path),
                )
        for path, methods in OPEN_ROUTES:
            resource = rest_api.root.resource_for_path(path)
            for method in methods:
                open_method = resource.add_method(
                    method,
                    integration,
                    request_validator=validator,
                    authorization_type=apigw.AuthorizationType.NONE,
                )
                self._acknowledge_open(
                    open_method, f"GET {path} is public by design (health check, API description)"
                )
        for child in rest_api.root.node.find_all():
            if isinstance(child, apigw.Method) and child.http_method == "OPTIONS":
                self._acknowledge_open(child, "CORS preflight requests carry no credentials by definition")
        if api.manage_account_cloudwatch_role:
            role = rest_api.node.find_child("CloudWatchRole")
            acknowledge(
                role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-level role API Gateway needs to write access and execution logs; "
                "AWS maintains this policy for exactly that purpose.",
            )
        return rest_api

    @staticmethod
    def _path_parameters(path: str) -> dict[str, bool] | None:
        names = [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
        return {f"method.request.path.{name}": True for name in names} or None

    @staticmethod
    def _acknowledge_open(method: apigw.Method, why: str) -> None:
        acknowledge(method, "AwsSolutions-APIG4", f"{why}; every /v1 route uses the Cognito authorizer.")
        acknowledge(method, "AwsSolutions-COG4", f"{why}; every /v1 route uses the Cognito authorizer.")

    def _build_waf(self) -> None:
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=index,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group
                    )
                ),
                visibility_config=self._visibility(group),
            )
            for index, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerIp",
                priority=len(rules),
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="IP",
                        limit=self.config.api.waf_rate_limit_per_5_minutes,
                        evaluation_window_sec=300,
                    )
                ),
                visibility_config=self._visibility("RateLimitPerIp"),
            )
        )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=self._visibility("PatronusApi"),
            rules=rules,
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.rest_api.deployment_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )

    def _visibility(self, name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
        return wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True,
            metric_name=f"{self.config.name}-{name}",
            sampled_requests_enabled=True,
        )
