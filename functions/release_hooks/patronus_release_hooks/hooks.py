"""What the release hooks do, with the AWS clients given to them (tests pass stubs).

* Before traffic: the new version is invoked directly, with the API Gateway events of ``GET
  /health`` and of a read as the smoke-test identity (the claims the Cognito authorizer would
  pass for that user, who is a reader). Each must answer 200; otherwise the hook reports
  ``Failed`` and CodeDeploy stops the release before any traffic reaches the version.
* After traffic: published versions beyond the newest few, and not named by an alias, are
  deleted. SnapStart caches a snapshot of every published version and bills for it; the kept ones
  are those the live alias may be shifted back to by hand (docs/operations.md). Pruning is
  housekeeping: a failure is logged, never a reason to roll a good release back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LOGGER = logging.getLogger("patronus.release_hooks")
SUCCEEDED, FAILED = "Succeeded", "Failed"


@dataclass(frozen=True)
class Check:
    """One request the new version must answer 200 to."""

    name: str
    path: str
    claims: Mapping[str, str] | None


def checks(smoke_path: str, smoke_username: str, smoke_group: str) -> list[Check]:
    return [
        Check("health", "/health", None),
        Check(
            "smoke-test read",
            smoke_path,
            {"sub": smoke_username, "cognito:username": smoke_username, "cognito:groups": smoke_group},
        ),
    ]


def rest_event(check: Check) -> dict[str, Any]:
    """An API Gateway REST proxy event for ``check`` (path with an optional query string)."""
    path, _, query = check.path.partition("?")
    parameters = dict(part.split("=", 1) for part in query.split("&") if "=" in part) if query else None
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"]},
        "queryStringParameters": parameters,
        "multiValueQueryStringParameters": {k: [v] for k, v in parameters.items()} if parameters else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "authorizer": {"claims": dict(check.claims)} if check.claims else None,
            "httpMethod": "GET",
            "identity": {"sourceIp": "127.0.0.1"},
            "path": path,
            "requestId": f"pre-traffic-{check.name.replace(' ', '-')}",
            "resourcePath": path,
            "stage": "pre-traffic",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def verify_version(lambda_client: Any, version_arn: str, to_check: Iterable[Check]) -> list[str]:
    """Invoke ``version_arn`` with each check; the problems found (empty: the version is good)."""
    problems = []
    for check in to_check:
        reply = lambda_client.invoke(FunctionName=version_arn, Payload=json.dumps(rest_event(check)).encode())
        payload = json.loads(reply["Payload"].read() or b"null")
        if reply.get("FunctionError"):
            problems.append(f"{check.name}: the function failed ({payload})")
        elif not isinstance(payload, dict) or payload.get("statusCode") != 200:
            status = payload.get("statusCode") if isinstance(payload, dict) else payload
            problems.append(f"{check.name}: answered {status}")
    return problems


def report(codedeploy: Any, event: Mapping[str, Any], status: str) -> None:
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )


def prune_versions(lambda_client: Any, function_name: str, keep: int) -> list[str]:
    """Delete the published versions of ``function_name`` older than the ``keep`` newest and
    named by no alias; returns the deleted version numbers."""
    versions: list[int] = []
    for page in lambda_client.get_paginator("list_versions_by_function").paginate(FunctionName=function_name):
        versions += [int(v["Version"]) for v in page["Versions"] if v["Version"] != "$LATEST"]
    aliased: set[int] = set()
    for page in lambda_client.get_paginator("list_aliases").paginate(FunctionName=function_name):
        for alias in page["Aliases"]:
            weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            named = {alias["FunctionVersion"], *weights}
            aliased.update(int(version) for version in named if version != "$LATEST")
    deleted = []
    for version in sorted(versions, reverse=True)[keep:]:
        if version in aliased:
            continue
        lambda_client.delete_function(FunctionName=function_name, Qualifier=str(version))
        deleted.append(str(version))
    return deleted
