"""The delivery pipeline: every change on the main branch is tested, deployed to dev, then to prod.

CDK Pipelines (self-mutating), one CodePipeline (V2) in the account and region of
``patronus.pipeline``::

    Source        the repository and branch, through a CodeConnections connection
    Build         ``bash .ci/run`` (linters and every test suite, the web application's
                  included, as CI runs them), the web application's build, then
                  ``npx cdk synth -c pipeline=true`` (which stages ``web/dist``)
    UpdatePipeline  the pipeline updates itself from the new cloud assembly (self-mutation)
    Assets        Lambda code and layer published to the bootstrap buckets
    dev           the dev stacks in dependency order, then the smoke test (the API, and the web
                  application through CloudFront)
    Approve…      a manual approval, before each environment listed in ``approval_before``
    prod          the prod stacks, then the smoke test

Inside each environment CloudFormation deploys network, database, storage, api, web and
monitoring in that order (and the one-off migration stack where ``migration.enabled``); the api stack runs
the schema migrations first, publishes the new version of the API function after them, and
CodeDeploy shifts the ``live`` alias by canary, rolling back on alarms. A failure anywhere stops
the pipeline: nothing reaches prod that did not pass dev's deployment and smoke test.

The artifact bucket is encrypted with SSE-KMS: a customer-managed key with rotation (which the
other accounts' deployment roles are granted) when an environment lives in another account than
the pipeline, the AWS-managed ``aws/s3`` key otherwise. It blocks public access and writes S3
server access logs; every CodeBuild project logs to one log group with a retention.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.api_constructs.users import smoke_test_role_name, smoke_test_runner_role_name
from stacks.common import log_retention
from stacks.config import PipelineConfig
from stacks.nag import acknowledge
from stacks.stage import PatronusStage

REPO_ROOT = Path(__file__).resolve().parent.parent
# The test command of CI (.ci/run installs what is missing, then runs `make test`).
TEST_COMMAND = "bash .ci/run"
# The web stack deploys web/dist: built from this revision after the clean npm install.
WEB_BUILD_COMMAND = "npm run build --workspace web --silent"
SYNTH_COMMAND = 'PATH="$PWD/.venv/bin:$PATH" npx cdk synth --quiet --no-notices -c pipeline=true'
SMOKE_TEST_SCRIPT = "scripts/smoke_test.py"
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
# What CDK Pipelines gives CodeBuild projects when the artifact bucket has no customer key.
AWS_MANAGED_S3_KEY = "alias/aws/s3"


def cdk_cli_version() -> str:
    """The CDK CLI pinned in package.json, so self-mutation runs the CLI the tests ran."""
    package = json.loads((REPO_ROOT / "package.json").read_text(encoding="utf-8"))
    return str(package["devDependencies"]["aws-cdk"])


def needs_cross_account_keys(pipeline_account: str | None, stage_accounts: list[str | None]) -> bool:
    """True when an environment may live in another account than the pipeline.

    ``None`` for an environment means "the pipeline's account"; an explicit account that cannot be
    compared (the pipeline's account is not known at synth time) counts as another account.
    """
    return any(account is not None and account != pipeline_account for account in stage_accounts)


class PipelineStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        stages: list[PatronusStage],
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.config = config
        self.stages = stages
        accounts = [stage.account if isinstance(stage.account, str) else None for stage in stages]
        self.cross_account = needs_cross_account_keys(config.account, accounts)
        self.build_logs = logs.LogGroup(
            self,
            "BuildLogs",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.source = pipelines.CodePipelineSource.connection(
            config.repository,
            config.branch,
            connection_arn=config.connection_arn,
            trigger_on_push=True,
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=config.name,
            pipeline_type=codepipeline.PipelineType.V2,
            # A newer revision replaces one still waiting (at the approval, say): the approver
            # always promotes the latest tested revision.
            execution_mode=codepipeline.ExecutionMode.SUPERSEDED,
            synth=self._synth_step(),
            self_mutation=True,
            cross_account_keys=self.cross_account,
            enable_key_rotation=self.cross_account,
            docker_enabled_for_synth=False,
            docker_enabled_for_self_mutation=False,
            cli_version=cdk_cli_version(),
            publish_assets_in_parallel=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
                partial_build_spec=self._runtime_versions(),
                logging=codebuild.LoggingOptions(
                    cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.build_logs)
                ),
            ),
        )
        for stage in stages:
            name = stage.config.name
            if name in config.approval_before:
                wave = self.pipeline.add_wave(f"Approve-{name}")
                wave.add_pre(
                    pipelines.ManualApprovalStep(
                        f"Promote-to-{name}",
                        comment=(
                            f"Deploy this revision to {name}? It passed the tests, the previous "
                            "environments' deployments and their smoke tests."
                        ),
                    )
                )
            self.pipeline.add_stage(stage, post=[self._smoke_test(stage)])
        self.pipeline.build_pipeline()
        self._write_role_arns_as_sub()
        self._log_artifact_access()
        self._log_replication_access()
        self._build_notifications()
        self._acknowledge_pipeline_findings()

    # -- steps -------------------------------------------------------------------------------

    def _runtime_versions(self) -> codebuild.BuildSpec:
        build = self.config.build
        versions = {"python": build.python_version, "nodejs": build.node_version}
        return codebuild.BuildSpec.from_object({"phases": {"install": {"runtime-versions": versions}}})

    def _synth_step(self) -> pipelines.CodeBuildStep:
        return pipelines.CodeBuildStep(
            "Synth",
            input=self.source,
            commands=[
                TEST_COMMAND,
                "npm ci --no-audit --no-fund --loglevel=error",
                WEB_BUILD_COMMAND,
                SYNTH_COMMAND,
            ],
            env={"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": self.config.build.node_version},
            build_environment=codebuild.BuildEnvironment(
                build_image=BUILD_IMAGE,
                # The test suite starts MariaDB and SeaweedFS and synthesizes the app: 4 vCPUs.
                compute_type=codebuild.ComputeType.MEDIUM,
            ),
            timeout=Duration.minutes(self.config.build.timeout_minutes),
            primary_output_directory="cdk.out",
        )

    def _smoke_test(self, stage: PatronusStage) -> pipelines.CodeBuildStep:
        """After an environment's deployment: /health, the web origin, one authenticated route.

        The step reads the api and web stacks' outputs, assumes the environment's smoke-test role
        and runs scripts/smoke_test.py from the same source revision.
        """
        api = stage.api
        name = stage.config.name
        account = stage.account if isinstance(stage.account, str) else self.account
        role_arn = self.format_arn(
            service="iam",
            region="",
            account=account,
            resource="role",
            resource_name=smoke_test_role_name(stage.config),
        )
        command = " ".join(
            [
                "python",
                SMOKE_TEST_SCRIPT,
                '--api-url "$API_URL"',
                '--user-pool-id "$USER_POOL_ID"',
                '--client-id "$SMOKE_TEST_CLIENT_ID"',
                '--secret-id "$SMOKE_TEST_SECRET_ARN"',
                '--role-arn "$SMOKE_TEST_ROLE_ARN"',
                f"--region {shlex.quote(stage.config.region)}",
                f"--path {shlex.quote(self.config.smoke_test_path)}",
                '--web-url "$WEB_URL"',
                "--report smoke-test.json",
            ]
        )
        return pipelines.CodeBuildStep(
            f"SmokeTest-{name}",
            input=self.source,
            env_from_cfn_outputs={
                "API_URL": api.outputs["ApiUrl"],
                "USER_POOL_ID": api.outputs["UserPoolId"],
                "SMOKE_TEST_CLIENT_ID": api.outputs["SmokeTestClientId"],
                "SMOKE_TEST_SECRET_ARN": api.outputs["SmokeTestSecretArn"],
                "SMOKE_TEST_ROLE_ARN": api.outputs["SmokeTestRoleArn"],
                "WEB_URL": stage.web.outputs["AppUrl"],
            },
            install_commands=[
                # The boto3 the project pins, nothing else: the script uses the standard library.
                "python -m pip install --quiet \"$(grep -i '^boto3==' requirements.txt)\"",
            ],
            commands=[command],
            # A role of its own, with the fixed name the smoke-test role trusts (no other
            # principal of the pipeline's account may assume it).
            role=iam.Role(
                self,
                f"SmokeTestRunner-{name}",
                role_name=smoke_test_runner_role_name(stage.config),
                assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
                description=f"Runs the smoke test of {name} after its deployment",
            ),
            role_policy_statements=[
                iam.PolicyStatement(
                    sid="AssumeTheSmokeTestRole", actions=["sts:AssumeRole"], resources=[role_arn]
                )
            ],
            timeout=Duration.minutes(10),
        )

    def _write_role_arns_as_sub(self) -> None:
        """Write the deployment actions' role ARNs as ``Fn::Sub`` rather than ``Fn::Join``.

        The same value; cfn-lint validates the ARN format of a CloudFormation action's
        ``RoleArn`` and reports the ``Fn::Join`` form that CDK Pipelines writes (E3703).
        """
        cfn_pipeline = self.pipeline.pipeline.node.default_child
        assert isinstance(cfn_pipeline, codepipeline.CfnPipeline)
        stages = self.resolve(cfn_pipeline.stages)
        for stage_index, stage in enumerate(stages):
            for action_index, action in enumerate(stage.get("actions", [])):
                role_arn = (action.get("configuration") or {}).get("RoleArn")
                joined = role_arn.get("Fn::Join") if isinstance(role_arn, dict) else None
                if joined is None or joined[0] != "":
                    continue
                cfn_pipeline.add_property_override(
                    f"Stages.{stage_index}.Actions.{action_index}.Configuration.RoleArn",
                    {"Fn::Sub": "".join(_as_sub(part) for part in joined[1])},
                )

    # -- artifacts and notifications ---------------------------------------------------------

    def _log_artifact_access(self) -> None:
        """S3 server access logs for the artifact bucket that CDK Pipelines creates."""
        self.artifact_access_logs = _log_access(
            self, self.pipeline.pipeline.artifact_bucket, "ArtifactAccessLogs"
        )

    def _log_replication_access(self) -> None:
        """S3 server access logs for the replication bucket of each other region.

        A stage with a stack in another region than the pipeline (prod's backup copy vault) makes
        CodePipeline keep its artifacts in a replication bucket of that region, in a support stack
        that CDK Pipelines adds to the app (``<pipeline name>-support-<region>``); its access logs
        go to a bucket of that stack, in the same region.
        """
        self.replication_access_logs: dict[str, s3.Bucket] = {}
        for region, support in sorted(self.pipeline.pipeline.cross_region_support.items()):
            self.replication_access_logs[region] = _log_access(
                support.stack, support.replication_bucket, "ReplicationAccessLogs"
            )

    def _build_notifications(self) -> None:
        """Failures, approvals waiting and successes, by e-mail (``notification_email``)."""
        if self.config.notification_email is None:
            return
        key = kms.Key(
            self,
            "NotificationsKey",
            description="Patronus delivery pipeline: notification topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CodeStarNotificationsPublish",
                principals=[iam.ServicePrincipal("codestar-notifications.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"kms:ViaService": f"sns.{self.region}.amazonaws.com"}},
            )
        )
        self.topic = sns.Topic(
            self,
            "Notifications",
            display_name="Patronus delivery pipeline",
            master_key=key,
            enforce_ssl=True,
        )
        self.topic.add_subscription(subscriptions.EmailSubscription(self.config.notification_email))
        self.pipeline.pipeline.notify_on(
            "PipelineEvents",
            self.topic,
            events=[
                codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_FAILED,
                codepipeline.PipelineNotificationEvents.MANUAL_APPROVAL_NEEDED,
                codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_SUCCEEDED,
            ],
        )

    # -- cdk-nag -----------------------------------------------------------------------------

    def _acknowledge_pipeline_findings(self) -> None:
        """Acknowledge, policy by policy, the wildcards CDK Pipelines writes, each with its reason.

        The findings are derived from the policies themselves (rendered as cdk-nag renders them),
        so exactly the wildcards present are acknowledged; a wildcard that no rule below explains
        is left alone and fails the synth.
        """
        artifact_bucket = self.pipeline.pipeline.artifact_bucket.node.default_child
        assert isinstance(artifact_bucket, s3.CfnBucket)
        bucket_id = self.get_logical_id(artifact_bucket)
        replication = {
            f"Resource::arn:<AWS::Partition>:s3:::{self.resolve(support.replication_bucket.bucket_name)}/*"
            for support in self.pipeline.pipeline.cross_region_support.values()
        }
        for policy in [c for c in self.node.find_all() if isinstance(c, iam.CfnPolicy)]:
            document = self.resolve(policy.policy_document)
            for finding in sorted(wildcard_findings(document)):
                reason = _reason(finding, bucket_id) or _replication_reason(finding, replication)
                if reason is not None:
                    acknowledge(policy.node.scope or policy, f"AwsSolutions-IAM5[{finding}]", reason)
        if not self.cross_account:
            for project in [c for c in self.node.find_all() if isinstance(c, codebuild.CfnProject)]:
                if self.resolve(project.encryption_key) in (None, AWS_MANAGED_S3_KEY):
                    acknowledge(
                        project.node.scope or project,
                        "AwsSolutions-CB4",
                        "Every environment shares the pipeline's account, so artifacts and build "
                        "outputs are encrypted with the AWS-managed aws/s3 key; a customer-managed "
                        "key is created as soon as an environment lives in another account.",
                    )


def _log_access(scope: Construct, bucket: s3.IBucket, construct_id: str) -> s3.Bucket:
    """A bucket of ``scope`` that receives the S3 server access logs of ``bucket`` (prefix
    ``artifacts/``); cdk-nag's S1 on the log bucket itself is acknowledged (it would log into
    itself)."""
    access_logs = s3.Bucket(
        scope,
        construct_id,
        # S3 server access logging can only deliver to an SSE-S3 bucket.
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        removal_policy=RemovalPolicy.RETAIN,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="expire-access-logs",
                expiration=Duration.days(365),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ],
    )
    access_logs.add_to_resource_policy(
        iam.PolicyStatement(
            sid="S3ServerAccessLogsOfTheArtifactBucket",
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[access_logs.arn_for_objects("artifacts/*")],
            conditions={
                "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                "StringEquals": {"aws:SourceAccount": Stack.of(scope).account},
            },
        )
    )
    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=access_logs.bucket_name, log_file_prefix="artifacts/"
    )
    acknowledge(
        access_logs,
        "AwsSolutions-S1",
        "This is the access log bucket of a pipeline artifact bucket; logging it into itself would loop.",
    )
    return access_logs


_ARTIFACT_ACTIONS = re.compile(
    r"^Action::(s3:(GetObject|GetBucket|List|DeleteObject|Abort|PutObject)|kms:(GenerateDataKey|ReEncrypt))\*$"
)
_REGION = r"[a-z0-9-]+"
_ACCOUNT = r"(<AWS::AccountId>|\d{12})"
_PROJECT_LOGS = re.compile(
    rf"^Resource::arn:<AWS::Partition>:logs:{_REGION}:{_ACCOUNT}:log-group:/aws/codebuild/<\w+>:\*$"
)
_PROJECT_REPORTS = re.compile(
    rf"^Resource::arn:<AWS::Partition>:codebuild:{_REGION}:{_ACCOUNT}:report-group/<\w+>-\*$"
)
_ANY_PROJECT_LOGS = re.compile(
    rf"^Resource::arn:<AWS::Partition>:logs:{_REGION}:{_ACCOUNT}:log-group:/aws/codebuild/\*$"
)
_ANY_PROJECT_REPORTS = re.compile(
    rf"^Resource::arn:<AWS::Partition>:codebuild:{_REGION}:{_ACCOUNT}:report-group/\*$"
)


def _reason(finding: str, artifact_bucket_id: str) -> str | None:
    """Why a wildcard that CDK Pipelines grants is acceptable, or ``None`` when it is not known."""
    if _ARTIFACT_ACTIONS.match(finding) or finding == f"Resource::<{artifact_bucket_id}.Arn>/*":
        return (
            "CDK Pipelines grants access to the pipeline's own artifact bucket (and its key): "
            "objects are created per execution at run time, so actions and keys are wildcards "
            "inside that one bucket."
        )
    if _PROJECT_LOGS.match(finding):
        return "CodeBuild's default log group of this one project: log streams are created per build."
    if _PROJECT_REPORTS.match(finding):
        return "CodeBuild test report groups of this one project (named after it), created at run time."
    if _ANY_PROJECT_LOGS.match(finding) or _ANY_PROJECT_REPORTS.match(finding):
        return (
            "The asset publishing role serves the CodeBuild projects that CDK Pipelines creates per "
            "asset: their default log and report groups, in this account and region only."
        )
    if re.fullmatch(rf"Resource::arn:\*:iam::{_ACCOUNT}:role/\*", finding):
        return (
            "Self-mutation assumes only roles tagged aws-cdk:bootstrap-role (deploy, file and image "
            "publishing): the CDK bootstrap roles of this account, by an IAM condition."
        )
    if finding == "Resource::*":
        return (
            "Read-only or build-control actions that CDK Pipelines cannot scope: "
            "cloudformation:DescribeStacks and s3:ListBucket for `cdk deploy` of the pipeline "
            "stack; codebuild:StartBuild/BatchGetBuilds for asset projects created after this role."
        )
    return None


def _replication_reason(finding: str, replication_objects: set[str]) -> str | None:
    """Why the pipeline's role may touch every object of a replication bucket, or ``None``."""
    if finding in replication_objects:
        return (
            "CodePipeline copies each execution's artifacts into the replication bucket of the "
            "other region (created for this pipeline by CDK Pipelines): object keys are made at "
            "run time, inside that one bucket."
        )
    return None


def _as_sub(part: Any) -> str:
    """One part of an ``Fn::Join`` written for ``Fn::Sub``."""
    if isinstance(part, str):
        return part.replace("${", "${!")
    if isinstance(part, dict) and set(part) == {"Ref"}:
        return "${" + str(part["Ref"]) + "}"
    if isinstance(part, dict) and set(part) == {"Fn::GetAtt"}:
        return "${" + ".".join(str(p) for p in part["Fn::GetAtt"]) + "}"
    raise ValueError(f"cannot write {part!r} in Fn::Sub")


def _render(value: Any) -> str:
    """A resolved CloudFormation value written as cdk-nag writes it in a finding id."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(_render(part) for part in parts)
        if function == "Fn::Sub":
            template = argument[0] if isinstance(argument, list) else argument
            return re.sub(r"\$\{([^}]+)\}", r"<\1>", str(template))
    return json.dumps(value, sort_keys=True)


def wildcard_findings(document: Any) -> set[str]:
    """The ``Action::…``/``Resource::…`` parts of the AwsSolutions-IAM5 findings of a policy."""
    findings: set[str] = set()
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        for key in ("Action", "Resource"):
            values = statement.get(key, [])
            for value in values if isinstance(values, list) else [values]:
                rendered = _render(value)
                if "*" in rendered:
                    findings.add(f"{key}::{rendered}")
    return findings
