"""The upload expiry: an hourly schedule, its function, least-privilege grants, validated config."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.config import ConfigError, load_config
from tests.infrastructure.conftest import Synth, cdk_context, with_overrides
from tests.infrastructure.test_api import actions, function, role_statements

EXPIRY_HANDLER = "patronus_upload_expiry.handler.handler"


def schedule_rule(synth: Synth, env: str) -> dict[str, Any]:
    rules = synth.template(env, "api").find_resources("AWS::Events::Rule").values()
    scheduled = [r["Properties"] for r in rules if "ScheduleExpression" in r["Properties"]]
    assert len(scheduled) == 1
    return scheduled[0]


def test_the_expiry_function_runs_every_hour_from_an_eventbridge_schedule(synth: Synth) -> None:
    rule = schedule_rule(synth, "prod")
    assert rule["ScheduleExpression"] == "rate(1 hour)"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    expiry_id = next(
        iter(
            synth.template("prod", "api")
            .find_resources("AWS::Lambda::Function", {"Properties": {"Handler": EXPIRY_HANDLER}})
            .keys()
        )
    )
    assert target["Arn"] == {"Fn::GetAtt": [expiry_id, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0
    synth.template("prod", "api").has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com",
            "FunctionName": {"Fn::GetAtt": [expiry_id, "Arn"]},
        },
    )


def test_the_expiry_function_gets_the_configured_age_and_a_bounded_concurrency(synth: Synth) -> None:
    props = function(synth, "prod", EXPIRY_HANDLER)
    variables = props["Environment"]["Variables"]
    assert variables["PATRONUS_PENDING_UPLOAD_MAX_AGE_HOURS"] == "24"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "patronus-upload-expiry"
    assert props["ReservedConcurrentExecutions"] == 1
    assert props["Architectures"] == ["arm64"] and len(props["VpcConfig"]["SubnetIds"]) == 3
    # Invoked on $LATEST by its schedule: no SnapStart, whose snapshot cache would be billed
    assert "SnapStart" not in props


def test_the_expiry_function_may_only_abort_delete_and_list_uploads(synth: Synth) -> None:
    statements = role_statements(synth, "prod", EXPIRY_HANDLER)
    s3 = {s["Sid"]: s for s in statements if any(a.startswith("s3:") for a in actions(s))}
    assert set(s3) == {"AbandonedUploads", "ListMultipartUploads", "ListUploadVersions"}
    objects = s3["AbandonedUploads"]
    assert actions(objects) == {"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectVersion"}
    assert "/documents/*" in str(objects["Resource"])
    assert actions(s3["ListMultipartUploads"]) == {"s3:ListBucketMultipartUploads"}
    assert actions(s3["ListUploadVersions"]) == {"s3:ListBucketVersions"}
    assert s3["ListUploadVersions"]["Condition"] == {"StringLike": {"s3:prefix": ["documents/*"]}}
    for bucket_level in ("ListMultipartUploads", "ListUploadVersions"):
        assert "/" not in str(s3[bucket_level]["Resource"]), "bucket-level actions on the bucket only"
    connect = [s for s in statements if actions(s) == {"rds-db:connect"}]
    assert len(connect) == 1 and "/patronus_app" in str(connect[0]["Resource"])
    assert not [s for s in statements if any(a.startswith("kms:") for a in actions(s))]
    assert not any("*" in a for s in statements for a in actions(s)), "no wildcard actions"


def test_an_age_shorter_than_the_upload_urls_is_refused_at_synth() -> None:
    overrides = {"api.pending_upload_max_age_hours": 0}
    with pytest.raises(ConfigError, match=r"api\.pending_upload_max_age_hours"):
        load_config(with_overrides(cdk_context(), "dev", overrides)["patronus"], only="dev")
    overrides = {"api.upload_url_ttl_seconds": 3600, "api.pending_upload_max_age_hours": 1}
    with pytest.raises(ConfigError, match=r"api\.pending_upload_max_age_hours \(1\) must be longer"):
        load_config(with_overrides(cdk_context(), "dev", overrides)["patronus"], only="dev")
