"""The delivery pipeline (``-c pipeline=true``): stages, approval, smoke tests, artifacts, cdk-nag.

One module-scoped synth of the whole app in pipeline mode, with cdk-nag on, serves the template
assertions; a second one puts the environments in other accounts than the pipeline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cfnlint.api import ManualArgs
from cfnlint.api import lint_file as lint

from app import PIPELINE_STACK_ID, build_app
from stacks.config import ConfigError
from stacks.pipeline import cdk_cli_version, needs_cross_account_keys, wildcard_findings
from tests.infrastructure.conftest import REPO_ROOT, Synth, cdk_context, synthesize
from tests.infrastructure.test_nag import violations

PIPELINE = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["patronus"]["pipeline"]


class Pipeline:
    """The synthesized pipeline stack: its template, its CodePipeline and its CodeBuild projects."""

    def __init__(self, synth: Synth, outdir: Path) -> None:
        self.synth = synth
        self.outdir = outdir
        stack = synth.app.node.find_child(PIPELINE_STACK_ID)
        assert isinstance(stack, cdk.Stack)
        self.stack = stack
        self.template_file = outdir / stack.template_file
        self.resources: dict[str, Any] = json.loads(self.template_file.read_text())["Resources"]
        (pipeline,) = self.of_type("AWS::CodePipeline::Pipeline").values()
        self.properties: dict[str, Any] = pipeline["Properties"]

    def of_type(self, kind: str) -> dict[str, Any]:
        return {i: r for i, r in self.resources.items() if r["Type"] == kind}

    def artifact_store(self, region: str) -> dict[str, Any]:
        """The artifact store of ``region`` (one per region once a stage deploys to another)."""
        if "ArtifactStore" in self.properties:
            assert region == self.stack.region
            return dict(self.properties["ArtifactStore"])
        (store,) = [s["ArtifactStore"] for s in self.properties["ArtifactStores"] if s["Region"] == region]
        return dict(store)

    def support_templates(self) -> dict[str, dict[str, Any]]:
        """The templates of the cross-region support stacks, by region."""
        found = {}
        for path in self.outdir.glob("cross-region-stack-*.template.json"):
            region = path.name.removesuffix(".template.json").rsplit("_", 1)[1]
            found[region] = json.loads(path.read_text())
        return found

    @property
    def stages(self) -> list[dict[str, Any]]:
        return list(self.properties["Stages"])

    def stage(self, name: str) -> dict[str, Any]:
        (found,) = [s for s in self.stages if s["Name"] == name]
        return found

    def action(self, stage: str, name: str) -> dict[str, Any]:
        (found,) = [a for a in self.stage(stage)["Actions"] if a["Name"] == name]
        return found

    def project_of(self, action: dict[str, Any]) -> dict[str, Any]:
        return dict(self.resources[action["Configuration"]["ProjectName"]["Ref"]]["Properties"])

    def buildspec_of(self, action: dict[str, Any]) -> dict[str, Any]:
        spec: dict[str, Any] = json.loads(self.project_of(action)["Source"]["BuildSpec"])
        return spec

    def statements_of_role(self, role_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"]["Roles"]:
                found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        return found


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    outdir = Path(tmp_path_factory.mktemp("pipeline"))
    # Given the app of cdk.json with -c pipeline=true and cdk-nag, When it is synthesized
    return Pipeline(synthesize(outdir, nag=True, context=cdk_context(pipeline=True)), outdir)


@pytest.fixture(scope="module")
def cross_account(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    outdir = Path(tmp_path_factory.mktemp("pipeline-cross-account"))
    context = cdk_context(pipeline="true")
    patronus = context["patronus"] = json.loads(json.dumps(context["patronus"]))
    patronus["pipeline"]["account"] = "333333333333"
    patronus["environments"]["dev"]["account"] = "111111111111"
    patronus["environments"]["prod"]["account"] = "222222222222"
    # Given a pipeline in a tooling account deploying to a dev and a prod account
    return Pipeline(synthesize(outdir, nag=True, context=context), outdir)


# -- stages, source, build ---------------------------------------------------------------------


def test_stages_run_source_build_dev_approval_prod_in_that_order(pipeline: Pipeline) -> None:
    names = [stage["Name"] for stage in pipeline.stages]
    # Then the pipeline tests and builds, updates itself, publishes assets, then deploys in order
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", "dev", "Approve-prod", "prod"]
    assert pipeline.properties["PipelineType"] == "V2"
    assert pipeline.properties["ExecutionMode"] == "SUPERSEDED"
    assert pipeline.properties["Name"] == PIPELINE["name"]


def test_the_source_is_the_configured_connection_repository_and_branch(pipeline: Pipeline) -> None:
    (action,) = pipeline.stage("Source")["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert action["Configuration"] == {
        "ConnectionArn": PIPELINE["connection_arn"],
        "FullRepositoryId": PIPELINE["repository"],
        "BranchName": PIPELINE["branch"],
        "DetectChanges": True,
    }


def test_the_build_runs_the_ci_test_command_then_synthesizes_the_pipeline_app(pipeline: Pipeline) -> None:
    (action,) = pipeline.stage("Build")["Actions"]
    spec = pipeline.buildspec_of(action)
    commands: list[str] = spec["phases"]["build"]["commands"]
    synth = [c for c in commands if "npx cdk synth" in c]
    # Then the tests run first, as CI runs them, then the synth of the pipeline mode
    assert commands[0] == "bash .ci/run"
    assert len(synth) == 1 and "-c pipeline=true" in synth[0]
    assert commands.index("bash .ci/run") < commands.index(synth[0])
    # And the web application is built from this revision before the synth stages it
    assert commands.index("npm run build --workspace web --silent") < commands.index(synth[0])
    assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.11", "nodejs": "20"}
    project = pipeline.project_of(action)
    assert project["Environment"]["Image"] == "aws/codebuild/standard:7.0"
    assert project["Environment"]["ComputeType"] == "BUILD_GENERAL1_MEDIUM"
    assert project["Environment"]["PrivilegedMode"] is False
    assert project["TimeoutInMinutes"] == PIPELINE["build"]["timeout_minutes"]


def test_the_pipeline_updates_itself_with_the_pinned_cdk_cli(pipeline: Pipeline) -> None:
    (action,) = pipeline.stage("UpdatePipeline")["Actions"]
    spec = pipeline.buildspec_of(action)
    assert f"npm install -g aws-cdk@{cdk_cli_version()}" in spec["phases"]["install"]["commands"]
    (deploy,) = spec["phases"]["build"]["commands"]
    assert deploy.startswith(f"cdk -a . deploy {PIPELINE_STACK_ID} ")
    package = json.loads((REPO_ROOT / "package.json").read_text())
    assert cdk_cli_version() == package["devDependencies"]["aws-cdk"]


# -- environments, approval, smoke tests ------------------------------------------------------


def test_prod_waits_for_a_manual_approval_and_dev_does_not(pipeline: Pipeline) -> None:
    (approval,) = pipeline.stage("Approve-prod")["Actions"]
    assert approval["ActionTypeId"] == {
        "Category": "Approval",
        "Owner": "AWS",
        "Provider": "Manual",
        "Version": "1",
    }
    for name in ("dev", "prod"):
        providers = {a["ActionTypeId"]["Provider"] for a in pipeline.stage(name)["Actions"]}
        assert providers == {"CloudFormation", "CodeBuild"}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_environment_deploys_database_before_api_then_runs_its_smoke_test(
    pipeline: Pipeline, env: str
) -> None:
    actions = pipeline.stage(env)["Actions"]
    order = {a["Name"]: a["RunOrder"] for a in actions}
    # Then the database stack is up before the api stack (which migrates the schema) is prepared
    assert order[f"patronus-{env}-database.Deploy"] < order[f"patronus-{env}-api.Prepare"]
    # And the smoke test runs after every stack of the environment
    smoke = order.pop(f"SmokeTest-{env}")
    assert smoke > max(order.values())


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_smoke_test_calls_the_deployed_api_as_the_smoke_test_user(pipeline: Pipeline, env: str) -> None:
    action = pipeline.action(env, f"SmokeTest-{env}")
    variables = {v["name"]: v["value"] for v in json.loads(action["Configuration"]["EnvironmentVariables"])}
    # Then the step reads the api stack's outputs of this environment
    assert {name: value.split(".")[-1] for name, value in variables.items()} == {
        "API_URL": "ApiUrl}",
        "USER_POOL_ID": "UserPoolId}",
        "SMOKE_TEST_CLIENT_ID": "SmokeTestClientId}",
        "SMOKE_TEST_SECRET_ARN": "SmokeTestSecretArn}",
        "SMOKE_TEST_ROLE_ARN": "SmokeTestRoleArn}",
        "WEB_URL": "AppUrl}",
    }
    # And runs the script from the same source revision, on the configured route
    (source,) = pipeline.stage("Source")["Actions"]
    assert action["InputArtifacts"] == source["OutputArtifacts"]
    (command,) = pipeline.buildspec_of(action)["phases"]["build"]["commands"]
    assert command.startswith("python scripts/smoke_test.py ")
    for flag in (
        "--api-url",
        "--user-pool-id",
        "--client-id",
        "--secret-id",
        "--role-arn",
        "--web-url",
        "--report",
    ):
        assert flag in command
    assert f"--path '{PIPELINE['smoke_test_path']}'" in command
    assert (REPO_ROOT / "scripts" / "smoke_test.py").is_file()
    # And its role may assume this environment's smoke-test role, and no other
    role_id = pipeline.project_of(action)["ServiceRole"]["Fn::GetAtt"][0]
    assumes = [s for s in pipeline.statements_of_role(role_id) if s["Action"] == "sts:AssumeRole"]
    (statement,) = assumes
    resource = statement["Resource"]
    joined = "".join(p if isinstance(p, str) else "?" for p in resource["Fn::Join"][1])
    assert joined.endswith(f":role/patronus-{env}-smoke-test")


def test_the_api_stack_gives_the_smoke_test_a_user_secret_client_and_role(pipeline: Pipeline) -> None:
    api = pipeline.synth.template("prod", "api")
    resources = api.to_json()["Resources"]
    # A client that signs in only through the IAM-authorized admin flow
    clients = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Cognito::UserPoolClient"]
    (smoke_client,) = [c for c in clients if "ALLOW_ADMIN_USER_PASSWORD_AUTH" in c["ExplicitAuthFlows"]]
    assert set(smoke_client["ExplicitAuthFlows"]) == {
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    # A generated password under a fixed username
    (secret_id, secret) = next(
        (i, r) for i, r in resources.items() if r["Type"] == "AWS::SecretsManager::Secret"
    )
    generated = secret["Properties"]["GenerateSecretString"]
    assert json.loads(generated["SecretStringTemplate"]) == {"username": "smoke-test@prod.patronus.invalid"}
    assert generated["GenerateStringKey"] == "password" and generated["PasswordLength"] >= 14
    # A role named for the pipeline, trusted by the pipeline's account, limited to the pool and secret
    (role_id, role) = next(
        (i, r)
        for i, r in resources.items()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == "patronus-prod-smoke-test"
    )
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert "AWS" in trust["Principal"]
    statements = [
        s
        for p in resources.values()
        if p["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    # Then the role may sign in and read the secret, and manages no user: no other Admin* action
    cognito = [a for s in statements for a in _actions(s) if a.startswith("cognito-idp:")]
    assert sorted(cognito) == ["cognito-idp:AdminInitiateAuth", "cognito-idp:AdminRespondToAuthChallenge"]
    secret_actions = {a for s in statements if s["Resource"] == {"Ref": secret_id} for a in _actions(s)}
    assert "secretsmanager:GetSecretValue" in secret_actions
    assert not [a for a in secret_actions if a.startswith(("secretsmanager:Put", "secretsmanager:Update"))]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_the_deployment_creates_and_repairs_the_smoke_test_user(pipeline: Pipeline) -> None:
    api = pipeline.synth.template("prod", "api")
    resources = api.to_json()["Resources"]
    # Given the custom resource that keeps the smoke-test user in step with its secret
    ((resource_id, resource),) = [
        (i, r) for i, r in resources.items() if r["Type"] == "Custom::PatronusSmokeTestUser"
    ]
    properties = resource["Properties"]
    (secret_id,) = [i for i, r in resources.items() if r["Type"] == "AWS::SecretsManager::Secret"]
    # Then it names the pool, the smoke test's client, the secret (by reference: no password in
    # the template) and the readers group, and reruns when its function's code changes
    assert properties["SecretArn"] == {"Ref": secret_id}
    assert properties["Group"] == "readers"
    assert len(properties["CodeFingerprint"]) == 64
    assert "password" not in json.dumps(properties).lower()
    # And it waits for the readers group, which it names without referring to it
    (readers_id,) = [
        i
        for i, r in resources.items()
        if r["Type"] == "AWS::Cognito::UserPoolGroup" and r["Properties"]["GroupName"] == "readers"
    ]
    assert readers_id in resource["DependsOn"]
    # And its function manages the user in the pool, and may read and write that secret
    (function_id,) = [
        i
        for i, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("Handler") == "patronus_smoke_user.handler.on_event"
    ]
    function = resources[function_id]["Properties"]
    assert set(function["Environment"]["Variables"]) == {"USER_POOL_ID", "CLIENT_ID", "SECRET_ARN", "GROUP"}
    role_id = function["Role"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in resources.values()
        if p["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    cognito = {a for s in statements for a in _actions(s) if a.startswith("cognito-idp:")}
    assert {
        "cognito-idp:AdminCreateUser",
        "cognito-idp:AdminSetUserPassword",
        "cognito-idp:AdminAddUserToGroup",
        "cognito-idp:AdminRemoveUserFromGroup",
        "cognito-idp:AdminDeleteUser",
    } <= cognito
    pool_statements = [s for s in statements if "cognito-idp:AdminCreateUser" in _actions(s)]
    assert all("Users" in json.dumps(s["Resource"]) and s["Resource"] != "*" for s in pool_statements)
    secret_actions = {a for s in statements if s["Resource"] == {"Ref": secret_id} for a in _actions(s)}
    assert {"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"} <= secret_actions
    assert resource_id


# -- artifacts, logs, notifications -----------------------------------------------------------


def test_the_artifact_bucket_is_encrypted_private_and_writes_access_logs(pipeline: Pipeline) -> None:
    store = pipeline.artifact_store(PIPELINE["region"])
    bucket = pipeline.resources[store["Location"]["Ref"]]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert rule["SSEAlgorithm"] == "aws:kms"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    logs_bucket = bucket["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    assert pipeline.resources[logs_bucket]["Type"] == "AWS::S3::Bucket"
    # And S3's logging service may write into the log bucket for this bucket only
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in pipeline.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logs_bucket}
    ]
    (statements,) = policies
    (logging,) = [s for s in statements if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}]
    assert logging["Condition"]["ArnLike"]["aws:SourceArn"] == {
        "Fn::GetAtt": [store["Location"]["Ref"], "Arn"]
    }


PROD = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["patronus"]["environments"]["prod"]
COPY_REGION = PROD["backup"]["copy_to_region"]


def test_prod_deploys_its_backup_copy_vault_in_the_second_region(pipeline: Pipeline) -> None:
    # Given prod copies its backups to a second region (cdk.json backup.copy_to_region)
    assert COPY_REGION
    assert PIPELINE["region"] != COPY_REGION
    # Then the prod stage deploys the copy vault's stack in that region, before the backup plan
    actions = pipeline.stage("prod")["Actions"]
    by_stack = {a["Configuration"]["StackName"]: a for a in actions if "StackName" in a["Configuration"]}
    copy = by_stack["patronus-prod-backup-copy"]
    assert copy["Region"] == COPY_REGION
    assert copy["RunOrder"] < by_stack["patronus-prod-backup"]["RunOrder"]
    assert by_stack["patronus-prod-backup"].get("Region", PIPELINE["region"]) == PIPELINE["region"]
    # And the pipeline keeps an artifact store in that region: the support stack's bucket
    store = pipeline.artifact_store(COPY_REGION)
    (support,) = pipeline.support_templates().values()
    buckets = {i: r["Properties"] for i, r in support["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}
    assert [b for b in buckets.values() if b.get("BucketName") == store["Location"]]
    assert store["Type"] == "S3"


def test_the_replication_bucket_is_encrypted_private_and_writes_access_logs(pipeline: Pipeline) -> None:
    # Given the support stack of the second region
    ((region, support),) = pipeline.support_templates().items()
    assert region == COPY_REGION
    resources = support["Resources"]
    buckets = {i: r["Properties"] for i, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    (replication_id,) = [i for i, b in buckets.items() if "BucketName" in b]
    replication = buckets[replication_id]
    # Then it is encrypted with KMS, blocks public access, refuses plain HTTP and logs its access
    rule = replication["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(replication["PublicAccessBlockConfiguration"].values())
    logs_bucket = replication["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    assert logs_bucket in buckets and logs_bucket != replication_id
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources.values()
        if p["Type"] == "AWS::S3::BucketPolicy"
    }
    assert any(
        s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in policies[replication_id]
    )
    (logging,) = [
        s for s in policies[logs_bucket] if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}
    ]
    assert logging["Condition"]["ArnLike"]["aws:SourceArn"] == {"Fn::GetAtt": [replication_id, "Arn"]}


def test_pipeline_mode_with_a_copy_region_needs_the_pipeline_account(tmp_path: Path) -> None:
    # Given a pipeline without an account while prod copies its backups to another region
    context = cdk_context(pipeline=True)
    del context["patronus"]["pipeline"]["account"]
    # When the app is synthesized in pipeline mode, Then the message names the key
    with pytest.raises(ConfigError, match=r"patronus\.pipeline\.account"):
        build_app(cdk.App(context=context, outdir=str(tmp_path)), nag=False)


def test_every_build_logs_to_one_group_with_retention(pipeline: Pipeline) -> None:
    projects = pipeline.of_type("AWS::CodeBuild::Project").values()
    groups = {p["Properties"]["LogsConfig"]["CloudWatchLogs"]["GroupName"]["Ref"] for p in projects}
    (group,) = groups
    assert pipeline.resources[group]["Properties"]["RetentionInDays"] == PIPELINE["log_retention_days"]
    assert len(list(projects)) == 5  # synth, self-mutation, assets, two smoke tests


def test_failures_and_approvals_are_mailed_through_an_encrypted_topic(pipeline: Pipeline) -> None:
    (rule,) = pipeline.of_type("AWS::CodeStarNotifications::NotificationRule").values()
    assert set(rule["Properties"]["EventTypeIds"]) >= {
        "codepipeline-pipeline-pipeline-execution-failed",
        "codepipeline-pipeline-manual-approval-needed",
    }
    ((topic_id, topic),) = pipeline.of_type("AWS::SNS::Topic").items()
    assert rule["Properties"]["Targets"] == [{"TargetAddress": {"Ref": topic_id}, "TargetType": "SNS"}]
    assert "KmsMasterKeyId" in topic["Properties"]
    (subscription,) = pipeline.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == PIPELINE["notification_email"]


def test_same_account_environments_need_no_cross_account_key(pipeline: Pipeline) -> None:
    # Then artifacts use the AWS-managed key, and the only customer key is the topic's
    assert "EncryptionKey" not in pipeline.artifact_store(PIPELINE["region"])
    (topic,) = pipeline.of_type("AWS::SNS::Topic").values()
    keys = [{"Fn::GetAtt": [key_id, "Arn"]} for key_id in pipeline.of_type("AWS::KMS::Key")]
    assert keys == [topic["Properties"]["KmsMasterKeyId"]]


def test_environments_in_other_accounts_get_a_rotated_artifact_key(cross_account: Pipeline) -> None:
    store = cross_account.artifact_store(PIPELINE["region"])
    key_id = store["EncryptionKey"]["Id"]["Fn::GetAtt"][0]
    assert cross_account.resources[key_id]["Properties"]["EnableKeyRotation"] is True
    # And so is the replication bucket's key in the second region
    (support,) = cross_account.support_templates().values()
    (replication_key,) = [r for r in support["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    assert replication_key["Properties"]["EnableKeyRotation"] is True
    # And the deployment roles live in the environments' accounts, the smoke test assumes theirs
    deploy_roles = {
        json.dumps(a["RoleArn"])
        for stage in ("dev", "prod")
        for a in cross_account.stage(stage)["Actions"]
        if a["ActionTypeId"]["Provider"] == "CloudFormation"
    }
    assert any("111111111111" in r for r in deploy_roles) and any("222222222222" in r for r in deploy_roles)
    action = cross_account.action("prod", "SmokeTest-prod")
    role_id = cross_account.project_of(action)["ServiceRole"]["Fn::GetAtt"][0]
    (assume,) = [s for s in cross_account.statements_of_role(role_id) if s["Action"] == "sts:AssumeRole"]
    assert "iam::222222222222:role/patronus-prod-smoke-test" in json.dumps(assume["Resource"])
    # And the prod smoke-test role trusts the pipeline's account
    api = cross_account.synth.template("prod", "api").to_json()["Resources"]
    (role,) = [
        r
        for r in api.values()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == "patronus-prod-smoke-test"
    ]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert "333333333333" in json.dumps(trust["Principal"])


@pytest.mark.parametrize(
    ("pipeline_account", "accounts", "expected"),
    [
        (None, [None, None], False),
        ("111111111111", [None, "111111111111"], False),
        ("111111111111", ["111111111111", "222222222222"], True),
        (None, [None, "222222222222"], True),
    ],
)
def test_cross_account_keys_follow_the_accounts(
    pipeline_account: str | None, accounts: list[str | None], expected: bool
) -> None:
    assert needs_cross_account_keys(pipeline_account, accounts) is expected


# -- cdk-nag and cfn-lint ---------------------------------------------------------------------


def test_cdk_nag_is_clean_over_the_pipeline_and_its_environments(
    pipeline: Pipeline, cross_account: Pipeline
) -> None:
    # Then nothing is left unacknowledged, in both account layouts
    assert set(pipeline.synth.stages) == {"dev", "prod"}
    assert violations(pipeline.outdir) == []
    assert violations(cross_account.outdir) == []


@pytest.mark.slow
def test_cfn_lint_finds_no_error_in_the_pipeline_template(
    pipeline: Pipeline, cross_account: Pipeline
) -> None:
    supports = [
        *pipeline.outdir.glob("cross-region-stack-*.template.json"),
        *cross_account.outdir.glob("cross-region-stack-*.template.json"),
    ]
    assert len(supports) == 2
    for template in (pipeline.template_file, cross_account.template_file, *supports):
        region = COPY_REGION if template in supports else PIPELINE["region"]
        matches = lint(template, config=ManualArgs(regions=[region]))
        errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
        assert errors == [], template


def test_wildcards_are_read_from_policies_as_cdk_nag_writes_them() -> None:
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject*", "s3:PutObject"],
                "Resource": [
                    {"Fn::GetAtt": ["Bucket", "Arn"]},
                    {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]},
                ],
            },
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "logs:PutLogEvents",
                "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:*"]]},
            },
        ]
    }
    assert wildcard_findings(document) == {
        "Action::s3:GetObject*",
        "Resource::<Bucket.Arn>/*",
        "Resource::arn:<AWS::Partition>:logs:*",
    }


# -- modes and configuration ------------------------------------------------------------------


def test_the_default_synth_builds_no_pipeline(synth: Synth) -> None:
    # make synth and the other template tests: environments only, no pipeline stack
    assert synth.app.node.try_find_child(PIPELINE_STACK_ID) is None


def _build(tmp_path: Path, context: dict[str, Any]) -> None:
    app = cdk.App(context={**context, "aws:cdk:bundling-stacks": []}, outdir=str(tmp_path))
    build_app(app, nag=False)


def test_pipeline_mode_without_a_pipeline_section_names_the_key(tmp_path: Path) -> None:
    context = cdk_context(pipeline="true")
    del context["patronus"]["pipeline"]
    with pytest.raises(ConfigError, match=r"^patronus\.pipeline: missing"):
        _build(tmp_path, context)


def test_pipeline_mode_refuses_a_single_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^env: not with -c pipeline=true"):
        _build(tmp_path, cdk_context(pipeline="true", env="dev"))


def test_a_pipeline_flag_that_is_not_a_boolean_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^pipeline: expected true or false"):
        _build(tmp_path, cdk_context(pipeline="sometimes"))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("connection_arn", "arn:aws:s3:::not-a-connection", r"patronus\.pipeline\.connection_arn"),
        ("repository", "no-owner", r"patronus\.pipeline\.repository"),
        (
            "environments",
            ["dev", "qa", "prod"],
            r"patronus\.pipeline\.environments\.1: unknown environment 'qa'",
        ),
        ("approval_before", ["staging"], r"patronus\.pipeline: .*approval_before: 'staging'"),
        ("build", {"python_version": "3.9"}, r"patronus\.pipeline\.build\.python_version"),
        ("typo_key", True, r"patronus\.pipeline\.typo_key"),
    ],
)
def test_a_wrong_pipeline_key_fails_every_synth_naming_the_key(
    tmp_path: Path, key: str, value: Any, message: str
) -> None:
    # Given a wrong value in patronus.pipeline (even when the pipeline is not being built)
    context = cdk_context()
    context["patronus"] = json.loads(json.dumps(context["patronus"]))
    context["patronus"]["pipeline"][key] = value
    # When the app is built, Then it fails naming the key
    with pytest.raises(ConfigError, match=message):
        _build(tmp_path, context)


@pytest.mark.parametrize("key", ["connection_arn", "repository", "environments"])
def test_a_missing_pipeline_key_fails_every_synth_naming_the_key(tmp_path: Path, key: str) -> None:
    context = cdk_context()
    context["patronus"] = json.loads(json.dumps(context["patronus"]))
    del context["patronus"]["pipeline"][key]
    with pytest.raises(ConfigError, match=rf"patronus\.pipeline\.{key}: Field required"):
        _build(tmp_path, context)


def test_aurora_minor_versions_upgrade_automatically_in_the_maintenance_window(synth: Synth) -> None:
    for env in ("dev", "prod"):
        window = synth.stages[env].config.database.maintenance_window
        database = synth.template(env, "database").to_json()["Resources"]
        instances = [r["Properties"] for r in database.values() if r["Type"] == "AWS::RDS::DBInstance"]
        (cluster,) = [r["Properties"] for r in database.values() if r["Type"] == "AWS::RDS::DBCluster"]
        assert len(instances) == (2 if synth.stages[env].config.database.reader else 1)
        assert all(i["AutoMinorVersionUpgrade"] is True for i in instances)
        assert all(i["PreferredMaintenanceWindow"] == window for i in instances)
        assert cluster["PreferredMaintenanceWindow"] == window
