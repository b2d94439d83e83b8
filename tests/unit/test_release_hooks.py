"""The CodeDeploy hooks of the api function: the checks before traffic, the pruning after."""

from __future__ import annotations

import io
import json
from typing import Any

from patronus_release_hooks import hooks


class FakeLambda:
    """Answers invocations with the given replies; lists and deletes versions."""

    def __init__(self, replies: dict[str, Any] | None = None, versions: int = 0, aliases: Any = ()) -> None:
        self.replies = replies or {}
        self.invoked: list[dict[str, Any]] = []
        self.versions = ["$LATEST", *(str(n) for n in range(1, versions + 1))]
        self.aliases = list(aliases)
        self.deleted: list[str] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        event = json.loads(Payload)
        self.invoked.append({"function": FunctionName, "event": event})
        reply = self.replies.get(event["path"], {"statusCode": 200})
        error = {"FunctionError": "Unhandled"} if "errorMessage" in reply else {}
        return {"Payload": io.BytesIO(json.dumps(reply).encode()), **error}

    def get_paginator(self, operation: str) -> Any:
        pages = {
            "list_versions_by_function": [{"Versions": [{"Version": v} for v in self.versions]}],
            "list_aliases": [{"Aliases": self.aliases}],
        }[operation]

        class Paginator:
            def paginate(self, FunctionName: str) -> list[dict[str, Any]]:
                return pages

        return Paginator()

    def delete_function(self, FunctionName: str, Qualifier: str) -> None:
        self.deleted.append(Qualifier)


CHECKS = hooks.checks("/v1/dossiers?limit=1", "smoke-test@dev.patronus.invalid", "readers")


def test_the_new_version_is_checked_with_health_and_a_read_as_the_smoke_test_user() -> None:
    client = FakeLambda()
    assert hooks.verify_version(client, "arn:aws:lambda:eu-west-3:1:function:api:7", CHECKS) == []
    health, read = client.invoked
    # Then the version itself (its qualified ARN) was invoked, never the alias
    assert {health["function"], read["function"]} == {"arn:aws:lambda:eu-west-3:1:function:api:7"}
    assert health["event"]["path"] == "/health" and health["event"]["requestContext"]["authorizer"] is None
    # And the read carries the smoke-test user's claims, as the Cognito authorizer passes them
    assert read["event"]["queryStringParameters"] == {"limit": "1"}
    claims = read["event"]["requestContext"]["authorizer"]["claims"]
    assert (
        claims["cognito:username"] == "smoke-test@dev.patronus.invalid"
        and claims["cognito:groups"] == "readers"
    )


def test_a_version_that_does_not_answer_200_or_crashes_fails_the_check() -> None:
    client = FakeLambda(
        {"/health": {"statusCode": 503}, "/v1/dossiers": {"errorMessage": "boom", "errorType": "KeyError"}}
    )
    problems = hooks.verify_version(client, "arn:version", CHECKS)
    assert problems[0] == "health: answered 503"
    assert problems[1].startswith("smoke-test read: the function failed")


def test_old_versions_are_pruned_except_the_newest_and_the_aliased() -> None:
    # Given versions 1..8, live on 8 and a canary weight still naming 2
    aliases = [{"FunctionVersion": "8", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}}}]
    client = FakeLambda(versions=8, aliases=aliases)
    # When pruning keeps three
    deleted = hooks.prune_versions(client, "api", keep=3)
    # Then 8, 7, 6 and the aliased 2 remain; $LATEST is never touched
    assert deleted == ["5", "4", "3", "1"] == client.deleted


def test_the_outcome_is_reported_to_codedeploy() -> None:
    calls: list[dict[str, str]] = []

    class FakeCodeDeploy:
        def put_lifecycle_event_hook_execution_status(self, **kwargs: str) -> None:
            calls.append(kwargs)

    hooks.report(
        FakeCodeDeploy(), {"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "h-1"}, hooks.FAILED
    )
    assert calls == [{"deploymentId": "d-1", "lifecycleEventHookExecutionId": "h-1", "status": "Failed"}]
