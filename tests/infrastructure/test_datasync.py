"""The DataSync construct on a small test stack: template assertions, cdk-nag AwsSolutions, cfn-lint."""

from __future__ import annotations

import json
import os
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from stacks.legacy_migration.datasync import LegacyDocumentsSync, LegacyDocumentsSyncProps

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ACCOUNT = "123456789012"
REGION = "eu-west-3"
AGENT = f"arn:aws:datasync:{REGION}:{ACCOUNT}:agent/agent-0123456789abcdef0"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:patronus/datasync-smb-AbCdEf"


def build_test_stack(
    *, nag: bool, reports_bucket: bool = False, **overrides: Any
) -> tuple[cdk.App, cdk.Stack, LegacyDocumentsSync]:
    """A stack with its own KMS key and versioned bucket (access logs to a second bucket)."""
    app = cdk.App(context={"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True})
    stack = cdk.Stack(app, "DataSyncTest", env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = kms.Key(stack, "DocumentsKey", enable_key_rotation=True)
    access_logs = s3.Bucket(
        stack,
        "AccessLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    )
    documents = s3.Bucket(
        stack,
        "Documents",
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        enforce_ssl=True,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix="documents/",
    )
    reports = (
        s3.Bucket(
            stack,
            "Reports",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="reports/",
        )
        if reports_bucket
        else None
    )
    props: dict[str, Any] = {
        "agent_arns": [AGENT],
        "documents_bucket": documents,
        "smb_password_secret": SECRET,
        "smb_user": "svc-datasync",
        "smb_domain": "PATRONUS",
        "bytes_per_second": 50 * 1024 * 1024,
        "schedule_expression": "cron(0 20 ? * MON-FRI *)",
        "log_retention": logs.RetentionDays.SIX_MONTHS,
        "reports_bucket": reports,
    }
    props.update(overrides)
    sync = LegacyDocumentsSync(stack, "LegacyDocumentsSync", LegacyDocumentsSyncProps(**props))
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack, sync


@pytest.fixture(scope="module")
def synthesized() -> tuple[cdk.App, cdk.Stack, dict[str, Any]]:
    # Given the test stack with cdk-nag AwsSolutions as a validation plugin: synth fails on any
    # finding that the construct does not acknowledge with a reason
    app, stack, _ = build_test_stack(nag=True)
    assembly = app.synth()
    return app, stack, assembly.get_stack_by_name(stack.stack_name).template


@pytest.fixture(scope="module")
def template(synthesized: tuple[cdk.App, cdk.Stack, dict[str, Any]]) -> Template:
    return Template.from_json(synthesized[2])


def test_the_smb_location_reads_the_password_from_secrets_manager(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DataSync::LocationSMB",
        {
            "AgentArns": [AGENT],
            "ServerHostname": "10.0.20.1",
            "Subdirectory": "/share/",
            "User": "svc-datasync",
            "Domain": "PATRONUS",
            "Password": f"{{{{resolve:secretsmanager:{SECRET}:SecretString:password::}}}}",
            "MountOptions": {"Version": "AUTOMATIC"},
        },
    )


def test_the_s3_location_writes_under_legacy_with_a_role_scoped_to_that_prefix(
    template: Template, synthesized: tuple[cdk.App, cdk.Stack, dict[str, Any]]
) -> None:
    template.has_resource_properties(
        "AWS::DataSync::LocationS3",
        {
            "Subdirectory": "/legacy/",
            "S3BucketArn": {"Fn::GetAtt": [Match.string_like_regexp("^Documents"), "Arn"]},
            "S3Config": {
                "BucketAccessRoleArn": {"Fn::GetAtt": [Match.string_like_regexp("LocationRole"), "Arn"]}
            },
        },
    )
    # DataSync may assume the role only for this account's DataSync resources
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "Description": Match.string_like_regexp("legacy/"),
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "datasync.amazonaws.com"},
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                                "ArnLike": {"aws:SourceArn": Match.any_value()},
                            },
                        }
                    )
                ]
            },
        },
    )
    # Object actions only under legacy/, listing only of legacy/, no wildcard actions
    policies = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for name, r in synthesized[2]["Resources"].items()
        if r["Type"] == "AWS::IAM::Policy" and "LocationRole" in name
    ]
    assert len(policies) == 1
    statements = {s.get("Sid", "kms"): s for s in policies[0]}
    objects = statements["ObjectsUnderThePrefix"]
    assert objects["Resource"]["Fn::Join"][1][-1] == "/legacy/*"
    assert "s3:PutObject" in objects["Action"] and "s3:GetObject" in objects["Action"]
    assert statements["ListThePrefix"]["Condition"] == {"StringLike": {"s3:prefix": ["legacy/", "legacy/*"]}}
    assert statements["kms"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert not any("*" in action for s in policies[0] for action in _list(s["Action"]))


def test_the_task_transfers_changes_verifies_them_keeps_deletions_and_excludes_litter(
    template: Template,
) -> None:
    template.has_resource_properties(
        "AWS::DataSync::Task",
        {
            "SourceLocationArn": {"Fn::GetAtt": [Match.string_like_regexp("SmbLocation"), "LocationArn"]},
            "DestinationLocationArn": {"Fn::GetAtt": [Match.string_like_regexp("S3Location"), "LocationArn"]},
            "Options": Match.object_like(
                {
                    "TransferMode": "CHANGED",
                    "VerifyMode": "ONLY_FILES_TRANSFERRED",
                    "PreserveDeletedFiles": "PRESERVE",
                    "BytesPerSecond": 50 * 1024 * 1024,
                    "LogLevel": "BASIC",
                }
            ),
            "Excludes": [
                {"FilterType": "SIMPLE_PATTERN", "Value": "*/Thumbs.db|*/desktop.ini|*/~$*|*/.DS_Store"}
            ],
            "Schedule": {"ScheduleExpression": "cron(0 20 ? * MON-FRI *)", "Status": "ENABLED"},
            "CloudWatchLogGroupArn": {"Fn::GetAtt": [Match.string_like_regexp("Logs"), "Arn"]},
            "TaskReportConfig": {
                "Destination": {
                    "S3": {
                        "S3BucketArn": {"Fn::GetAtt": [Match.string_like_regexp("^Documents"), "Arn"]},
                        "Subdirectory": "datasync-reports/",
                        "BucketAccessRoleArn": {
                            "Fn::GetAtt": [Match.string_like_regexp("ReportRole"), "Arn"]
                        },
                    }
                },
                "OutputType": "STANDARD",
                "ReportLevel": "ERRORS_ONLY",
                "ObjectVersionIds": "INCLUDE",
            },
        },
    )


def test_reports_and_logs(template: Template) -> None:
    # The report role may only put objects under datasync-reports/
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "s3:PutObject",
                                "Resource": {"Fn::Join": ["", [Match.any_value(), "/datasync-reports/*"]]},
                            }
                        )
                    ]
                )
            },
            "Roles": [{"Ref": Match.string_like_regexp("ReportRole")}],
        },
    )
    # The log group keeps the logs as configured, and DataSync tasks of this account may write to it
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 180})
    policies = template.find_resources("AWS::Logs::ResourcePolicy")
    document = json.dumps(next(iter(policies.values()))["Properties"]["PolicyDocument"])
    assert "datasync.amazonaws.com" in document and "logs:PutLogEvents" in document
    assert ":task/*" in document and ACCOUNT in document


def test_cdk_nag_acknowledgments_carry_reasons(
    synthesized: tuple[cdk.App, cdk.Stack, dict[str, Any]],
) -> None:
    # Given the synthesized test stack (synth already passed the AwsSolutions checks)
    app = synthesized[0]
    acknowledged: list[Any] = []
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                acknowledged.append(entry.data)
    flat = [item for group in acknowledged for item in (group if isinstance(group, list) else [group])]
    # Then the only acknowledged findings are the prefix wildcards, each with a reason
    assert flat, "the construct acknowledges its prefix wildcards"
    for item in flat:
        text = json.dumps(item)
        assert "AwsSolutions-IAM5[Resource::" in text and "/*]" in text
        assert "DataSync creates the object names" in text


@pytest.mark.slow
def test_cfn_lint_finds_nothing(synthesized: tuple[cdk.App, cdk.Stack, dict[str, Any]]) -> None:
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(synthesized[2]), config=ManualArgs(regions=[REGION]))
    assert [str(m) for m in matches] == []


def test_a_separate_reports_bucket_no_schedule_and_no_bandwidth_limit() -> None:
    # Given the construct with a reports bucket of its own, no schedule and no bandwidth cap
    app, stack, _ = build_test_stack(
        nag=True, reports_bucket=True, schedule_expression=None, bytes_per_second=-1
    )
    template = Template.from_json(app.synth().get_stack_by_name(stack.stack_name).template)
    task = next(iter(template.find_resources("AWS::DataSync::Task").values()))["Properties"]
    # Then the reports go to that bucket, the task runs only when started, without a cap
    assert task["TaskReportConfig"]["Destination"]["S3"]["S3BucketArn"]["Fn::GetAtt"][0].startswith("Reports")
    assert "Schedule" not in task
    assert task["Options"]["BytesPerSecond"] == -1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"destination_prefix": "/"}, "destination_prefix"),
        ({"reports_prefix": ""}, "reports_prefix"),
        ({"excludes": ["a|b"]}, "excludes"),
    ],
)
def test_wrong_construct_options_fail_naming_the_prop(overrides: dict[str, Any], message: str) -> None:
    # The values that come from cdk.json (agents, share, secret, bandwidth, schedule) are checked
    # once, by the configuration model (test_legacy_migration_stack.py); the construct checks only
    # its own options
    with pytest.raises(ValueError, match=message):
        build_test_stack(nag=False, **overrides)


def _list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]
