"""The api function and how its versions are released.

Every change of the function publishes a new version; the ``live`` alias points at the version
API Gateway invokes, and a CodeDeploy deployment group shifts it to the new version (canary,
linear or all at once, per environment) and back when a rollback alarm fires: errors and p99
latency of the new version (the ``ExecutedVersion`` dimension of invocations through the alias),
and the share of its invocations that the new version answered 5xx (its own ``ServerErrors``
metric by version). Client mistakes are answered 4xx and API Gateway's own errors are not the
version's, so neither can roll a release back.

The function, its new version and so the alias wait for the schema migrations of the release
(CloudFormation ``DependsOn``): the version CodeDeploy shifts to is published only once they
have completed. Before any traffic shifts, a pre-traffic hook invokes the new version (``GET
/health`` and a read as the smoke-test user) and stops the release if either does not answer
200; after the shift, a post-traffic hook deletes old published versions (SnapStart bills a cached
snapshot per version), keeping the newest few for a manual rollback
(``functions/release_hooks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IDependable

from patronus.observability import METRICS_NAMESPACE, SERVER_ERRORS_METRIC, VERSION_DIMENSION
from stacks import code
from stacks.api_constructs.functions import FunctionDefaults, FunctionSpec, patronus_function
from stacks.config import DEPLOYMENT_STRATEGIES, CanaryConfig, FunctionConfig
from stacks.logical_ids import FlatScope
from stacks.nag import acknowledge, acknowledge_function, qualified_arn_finding
from stacks.storage import LEGACY_PREFIX, UPLOAD_PREFIX, DocumentAccess

LIVE_ALIAS = "live"
API_FUNCTION = FunctionSpec(
    folder="api",
    handler="patronus_api.handler.handler",
    service="patronus-api",
    description="Patronus REST API (all routes)",
)
MINUTE = Duration.minutes(1)
# Published versions the post-traffic hook keeps (besides any an alias names): the live alias can
# be shifted back by hand to one of them.
KEEP_VERSIONS = 3
# The read the pre-traffic hook makes as the smoke-test user (a reader may make it).
PRE_TRAFFIC_READ = "/v1/dossiers?limit=1"

# What the function does with the documents. Presigned PUT/POST/GET and multipart uploads are
# signed with its role; HEAD, abort and complete run from the function itself. S3 calls KMS with
# the signer's permissions for SSE-KMS objects: data keys on upload, decryption on download.
DOCUMENT_ACCESS = (
    DocumentAccess(
        "UploadedDocuments",
        (
            "s3:PutObject",
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
        ),
        UPLOAD_PREFIX,
        "Object actions on the upload prefix only: keys are documents/<dossier>/<document>/<file>, "
        "created at run time.",
    ),
    DocumentAccess(
        "LegacyDocuments",
        ("s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject"),
        LEGACY_PREFIX,
        "Read and delete of the files migrated from the share, under the legacy/ prefix only.",
    ),
)
KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")

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


@dataclass(frozen=True)
class ApiReleaseProps:
    """Inputs of :class:`ApiRelease`.

    Attributes:
        defaults / sizing: the function's shared settings, its memory and timeout.
        canary: how a new version takes traffic, and the rollback thresholds.
        runs_after: what must complete before the code serves (the schema migration).
        rest_api_name / stage_name: the API stage.
        smoke_test_path / smoke_test_username / smoke_test_group: the read the pre-traffic hook
            makes as the smoke-test user.
        prune_functions: other functions whose old versions the post-traffic hook deletes.
    """

    defaults: FunctionDefaults
    sizing: FunctionConfig
    canary: CanaryConfig
    runs_after: Sequence[IDependable]
    rest_api_name: str
    stage_name: str
    smoke_test_path: str
    smoke_test_username: str
    smoke_test_group: str
    prune_functions: Sequence[lambda_.IFunction] = ()


class ApiRelease(FlatScope):
    """The api function, its ``live`` alias, the rollback alarms and the CodeDeploy group."""

    def __init__(self, scope: Construct, construct_id: str, props: ApiReleaseProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.function = patronus_function(self, "ApiFunction", props.defaults, API_FUNCTION, props.sizing)
        # The schema must be migrated before this code serves traffic.
        self.function.node.add_dependency(*props.runs_after)
        self.version = self._build_version()
        self.alias = lambda_.Alias(
            self,
            "ApiLiveAlias",
            alias_name=LIVE_ALIAS,
            version=self.version,
            description="The version API Gateway invokes; CodeDeploy shifts it on each release",
        )
        self.alarms = self._build_alarms()
        self.pre_traffic_hook, self.post_traffic_hook = self._build_hooks()
        self.deployment_group = self._build_deployment_group()

    def _build_version(self) -> lambda_.Version:
        # The version the alias moves to is published only once this release's migrations have
        # completed (CloudFormation DependsOn: alias -> version -> migration). $LATEST waits too.
        version = self.function.current_version
        version.node.add_dependency(*self.props.runs_after)
        # Published versions outlive the release that replaced them, so that the live alias can
        # be shifted back to one by hand (docs/operations.md) after a canary has completed.
        version.apply_removal_policy(RemovalPolicy.RETAIN)
        return version

    def _build_deployment_group(self) -> codedeploy.LambdaDeploymentGroup:
        canary = self.props.canary
        group = codedeploy.LambdaDeploymentGroup(
            self,
            "ApiDeployment",
            alias=self.alias,
            deployment_config=DEPLOYMENT_CONFIGS[canary.deployment],
            alarms=self.alarms,
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
            ignore_alarm_configuration=canary.ignore_alarms,
            pre_hook=self.pre_traffic_hook,
            post_hook=self.post_traffic_hook,
        )
        for hook in (self.pre_traffic_hook, self.post_traffic_hook):
            acknowledge(
                group.role.node.find_child("DefaultPolicy"),
                qualified_arn_finding(hook),
                "CodeDeploy invokes its lifecycle hook functions through any qualifier: aws-cdk-lib "
                "grants it on the hook's own ARN pattern, these two functions only.",
            )
        # The alarms measure the new version (their dimensions follow it): they must be updated
        # before CodeDeploy starts to shift, so the alias waits for them. (It waits for the
        # deployment group already: its update policy refers to it.)
        self.alias.node.add_dependency(*self.alarms)
        acknowledge(
            group.role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]",
            "AWS-managed policy of CodeDeploy for Lambda: read the alarms, update the alias of the "
            "function it deploys and invoke its hooks; nothing else.",
        )
        return group

    def _build_hooks(self) -> tuple[lambda_.Function, lambda_.Function]:
        """The CodeDeploy hooks: outside the VPC (they call the Lambda and CodeDeploy APIs, which
        the VPC has no route to), with the version being released in their environment."""
        props = self.props
        pruned = [self.function, *props.prune_functions]
        environment = {
            "TARGET_VERSION_ARN": self.version.function_arn,
            "SMOKE_TEST_PATH": props.smoke_test_path,
            "SMOKE_TEST_USERNAME": props.smoke_test_username,
            "SMOKE_TEST_GROUP": props.smoke_test_group,
            "PRUNE_FUNCTIONS": ",".join(function.function_name for function in pruned),
            "KEEP_VERSIONS": str(KEEP_VERSIONS),
        }
        hooks = []
        for construct_id, handler, description in (
            ("PreTrafficHook", "pre_traffic", "Checks a new api version before CodeDeploy shifts traffic"),
            ("PostTrafficHook", "post_traffic", "Deletes old api versions after a release"),
        ):
            log_group = logs.LogGroup(
                self,
                f"{construct_id}Logs",
                retention=props.defaults.log_retention,
                removal_policy=props.defaults.removal_policy,
            )
            hook = lambda_.Function(
                self,
                construct_id,
                description=description,
                runtime=code.RUNTIME,
                architecture=code.ARCHITECTURE,
                handler=f"patronus_release_hooks.handler.{handler}",
                code=code.function_code("release_hooks"),
                memory_size=256,
                timeout=Duration.minutes(2),
                log_group=log_group,
                environment=environment,
            )
            acknowledge_function(hook, in_vpc=False, traced=False)
            acknowledge(
                hook,
                "AwsSolutions-L1",
                "The hooks run on the same runtime as the api function they check, on purpose.",
            )
            hooks.append(hook)
        pre, post = hooks
        self.version.grant_invoke(pre)
        for function in pruned:
            post.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["lambda:ListVersionsByFunction", "lambda:ListAliases", "lambda:DeleteFunction"],
                    resources=[function.function_arn, f"{function.function_arn}:*"],
                )
            )
        post_policy = post.role.node.find_child("DefaultPolicy")  # type: ignore[union-attr]
        for function in pruned:
            acknowledge(
                post_policy,
                qualified_arn_finding(function),
                "Versions are published at each release: listing and deleting the old ones needs "
                "the function's qualified ARN pattern (its versions), on this function only.",
            )
        return pre, post

    def _build_alarms(self) -> list[cloudwatch.Alarm]:
        """Errors and p99 latency of the new version, and the stage's 5xx share."""
        canary = self.props.canary
        function_name = self.function.function_name
        new_version = {
            "FunctionName": function_name,
            "Resource": f"{function_name}:{LIVE_ALIAS}",
            "ExecutedVersion": self.version.version,
        }
        errors = self._alarm(
            "ReleaseErrorsAlarm",
            "Invocation errors (crashes, timeouts) of the version being released; "
            "CodeDeploy shifts the live alias back when this fires.",
            cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="Errors",
                dimensions_map=new_version,
                statistic="Sum",
                period=MINUTE,
            ),
            threshold=canary.max_errors_per_minute,
            periods=(1, 1),
        )
        latency = self._alarm(
            "ReleaseLatencyAlarm",
            "p99 duration of the version being released; CodeDeploy shifts the live alias back "
            "when this fires.",
            cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="Duration",
                dimensions_map=new_version,
                statistic="p99",
                period=MINUTE,
            ),
            threshold=canary.max_latency_p99_ms,
            periods=(3, 2),
        )
        invocations = cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name="Invocations",
            dimensions_map=new_version,
            statistic="Sum",
            period=MINUTE,
        )
        answered_5xx = cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=SERVER_ERRORS_METRIC,
            dimensions_map={"service": API_FUNCTION.service, VERSION_DIMENSION: self.version.version},
            statistic="Sum",
            period=MINUTE,
        )
        server_errors = self._alarm(
            "Release5xxAlarm",
            "Share (percent) of the invocations of the version being released that it answered "
            "5xx itself; client mistakes (4xx) and API Gateway's own errors are not counted. "
            "CodeDeploy shifts the live alias back when this fires.",
            cloudwatch.MathExpression(
                expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                using_metrics={"invocations": invocations, "errors": answered_5xx},
                label="5xx answered by the new version (%)",
                period=MINUTE,
            ),
            threshold=canary.max_5xx_rate_percent,
            periods=(2, 2),
        )
        return [errors, latency, server_errors]

    def _alarm(
        self,
        construct_id: str,
        description: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        periods: tuple[int, int],
    ) -> cloudwatch.Alarm:
        """An alarm over one-minute periods: ``periods`` is (evaluated, breaching to alarm).
        Missing data is not breaching: no traffic is no reason to roll back."""
        evaluation_periods, datapoints_to_alarm = periods
        return cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
