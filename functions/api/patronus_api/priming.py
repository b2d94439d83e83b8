"""Warm the API before a SnapStart snapshot, without the database; reset it after a restore.

Before the snapshot every module a request may import is loaded, the OpenAPI document is built
(which compiles every route's validation and serialisation models), and requests that are refused
before any service runs go through the resolver: one per route whose path takes a parameter
(answered 400: the parameter is not an id), an invalid body, an invalid query and an unknown path.
That walks routing, request validation, the error mapping and the JSON writer once, so the first
request of a restored environment pays none of it. The runtime's priming guard makes any request
that would reach the database answer 500, and :func:`prime` then fails: a release whose priming
needs the database is refused when its version is published, not discovered later.

After a restore the runtime forgets its connection, IAM token and clients (see
:meth:`patronus.runtime.Runtime.after_restore`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from patronus.models import Role
from patronus.snapstart import SnapshotHooks
from patronus_api.app import _openapi_json, app
from patronus_api.runtime import runtime

_PARAMETER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_WITH_BODY = {"POST", "PUT", "PATCH"}
CLAIMS = {"sub": "snapstart-priming", "cognito:username": "snapstart-priming"}


class PrimingFailed(RuntimeError):
    """A priming request was not answered as expected (it reached the database, or a route moved)."""


@dataclass(frozen=True)
class PrimingRequest:
    method: str
    path: str
    expected_status: int
    body: str | None = None
    query: dict[str, str] | None = None


def priming_requests() -> list[PrimingRequest]:
    """The requests :func:`prime` sends: none of them may need the database."""
    from patronus_api.route_table import routes  # read from the resolver; loaded before the snapshot

    requests = [
        PrimingRequest(
            route.method,
            _PARAMETER.sub("not-an-id", route.path),
            400,
            body="{}" if route.method in _WITH_BODY else None,
        )
        for route in routes()
        if route.parameters
    ]
    return [
        *requests,
        PrimingRequest("POST", "/v1/dossiers", 400, body="{}"),
        PrimingRequest("GET", "/v1/dossiers", 400, query={"limit": "0"}),
        PrimingRequest("GET", "/v1/no-such-route", 404),
    ]


def rest_event(request: PrimingRequest) -> dict[str, Any]:
    """An API Gateway REST proxy event, as the Cognito authorizer passes it (an editor's claims)."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    return {
        "resource": request.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": request.query,
        "multiValueQueryStringParameters": (
            {name: [value] for name, value in request.query.items()} if request.query else None
        ),
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "authorizer": {"claims": {**CLAIMS, "cognito:groups": Role.EDITOR.value}},
            "httpMethod": request.method,
            "identity": {"sourceIp": "127.0.0.1"},
            "path": request.path,
            "requestId": "snapstart-priming",
            "resourcePath": request.path,
            "stage": "priming",
        },
        "body": request.body,
        "isBase64Encoded": False,
    }


def prime() -> None:
    """Load and warm everything a first request needs; raises :class:`PrimingFailed`."""
    runtime.import_services()
    with runtime.priming():
        _openapi_json()
        for request in priming_requests():
            response = app.resolve(rest_event(request), None)
            if response["statusCode"] != request.expected_status:
                raise PrimingFailed(
                    f"{request.method} {request.path} answered {response['statusCode']} "
                    f"(expected {request.expected_status}): {json.loads(response['body'])}"
                )


def register(hooks: SnapshotHooks) -> None:
    """The API function's SnapStart hooks."""
    hooks.before_snapshot(prime)
    hooks.after_restore(runtime.after_restore)
