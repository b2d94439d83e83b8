"""Documents bucket: encryption, versioning, no public access, TLS, logs, lifecycle, CORS, events."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from tests.infrastructure.conftest import Synth


def documents_bucket(synth: Synth, env: str) -> dict[str, Any]:
    buckets = synth.template(env, "storage").find_resources(
        "AWS::S3::Bucket", {"Properties": {"VersioningConfiguration": {"Status": "Enabled"}}}
    )
    assert len(buckets) == 1
    return dict(next(iter(buckets.values())))


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_documents_are_encrypted_with_the_customer_key_and_a_bucket_key(synth: Synth, env: str) -> None:
    properties = documents_bucket(synth, env)["Properties"]
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert "Fn::GetAtt" in rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    synth.template(env, "storage").has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_bucket_blocks_public_access_and_enforces_ownership(synth: Synth, env: str) -> None:
    buckets = synth.template(env, "storage").find_resources("AWS::S3::Bucket")
    assert len(buckets) == 2
    for bucket in buckets.values():
        properties = bucket["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_tls_is_enforced_on_both_buckets(synth: Synth) -> None:
    policies = synth.template("prod", "storage").find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        )
    synth.template("prod", "storage").has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}}}
                        )
                    ]
                )
            }
        },
    )


def test_server_access_logs_go_to_the_log_bucket(synth: Synth) -> None:
    properties = documents_bucket(synth, "prod")["Properties"]
    assert "Ref" in properties["LoggingConfiguration"]["DestinationBucketName"]
    assert properties["LoggingConfiguration"]["LogFilePrefix"] == "documents-bucket/"


def test_lifecycle_tiers_expires_noncurrent_versions_and_aborts_uploads(synth: Synth) -> None:
    rules = {
        r["Id"]: r for r in documents_bucket(synth, "prod")["Properties"]["LifecycleConfiguration"]["Rules"]
    }
    assert rules["intelligent-tiering"]["Transitions"] == [
        {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0}
    ]
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 7
    }
    dev_rules = {
        r["Id"]: r for r in documents_bucket(synth, "dev")["Properties"]["LifecycleConfiguration"]["Rules"]
    }
    assert dev_rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}


def test_cors_rules_are_not_the_storage_stacks(synth: Synth) -> None:
    # The web stack writes them, with the application's origin (tests/infrastructure/test_web.py)
    for env in ("dev", "prod"):
        assert "CorsConfiguration" not in documents_bucket(synth, env)["Properties"]


def test_eventbridge_notifications_are_on(synth: Synth) -> None:
    synth.template("prod", "storage").has_resource_properties(
        "Custom::S3BucketNotifications",
        {"NotificationConfiguration": {"EventBridgeConfiguration": {}}},
    )


@pytest.mark.parametrize(("env", "policy"), [("prod", "Retain"), ("dev", "Delete")])
def test_removal_follows_the_environment(synth: Synth, env: str, policy: str) -> None:
    synth.template(env, "storage").has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": Match.object_like({"VersioningConfiguration": {"Status": "Enabled"}}),
            "DeletionPolicy": policy,
        },
    )


def test_the_bucket_name_is_an_output(synth: Synth) -> None:
    synth.template("prod", "storage").has_output("DocumentsBucketName", {"Value": {"Ref": Match.any_value()}})
