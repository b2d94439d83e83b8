"""API Gateway REST emulation: HTTP request -> the proxy event the Lambda receives -> response.

The event has the shape API Gateway sends to a Lambda proxy integration (payload 1.0), with the
Cognito authorizer's claims in ``requestContext.authorizer.claims``; the response dict the
handler returns is turned back into an HTTP response.

Which requests need a token comes from the API's route table (``patronus_api.route_table``), as
in AWS where the api stack builds API Gateway's authorizers from it: the public routes pass
without one, everything else needs a valid token. What is not the API's (the web application,
the local sign-in) the gateway answers itself, as CloudFront and Cognito do in AWS (run_local).
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from patronus_api.route_table import ApiRoute


@dataclass
class LambdaContext:
    """Enough of the Lambda context object for Powertools."""

    function_name: str = "patronus-api-local"
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 30
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-3:000000000000:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


def rest_event(
    method: str,
    path: str,
    *,
    query: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    claims: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    stage: str = "local",
) -> dict[str, Any]:
    headers = dict(headers or {})
    query = {k: list(v) for k, v in (query or {}).items()}
    is_base64 = False
    text: str | None
    if body is None or body == b"":
        text = None
    elif isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode("ascii"), True
    else:
        text = body
    request_id = str(uuid.uuid4())
    return {
        "resource": path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "authorizer": {"claims": dict(claims)} if claims else None,
            "domainName": "127.0.0.1",
            "httpMethod": method.upper(),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "resourcePath": path,
            "stage": stage,
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


def cognito_claims(
    subject: str, groups: list[str] | tuple[str, ...], email: str | None = None
) -> dict[str, str]:
    """Claims as the API Gateway Cognito authorizer passes them: flat strings."""
    claims = {"sub": subject, "cognito:username": subject, "token_use": "id"}
    if groups:
        claims["cognito:groups"] = ",".join(groups)
    if email:
        claims["email"] = email
    return claims


# What API Gateway answers when the Lambda function fails (an unhandled exception, a crash).
FUNCTION_ERROR: dict[str, Any] = {
    "statusCode": 502,
    "headers": {"Content-Type": "application/json"},
    "body": json.dumps({"message": "Internal server error"}),
}


def invoke(
    handler: Callable[[dict[str, Any], Any], Mapping[str, Any]], event: dict[str, Any], context: Any
) -> dict[str, Any]:
    """The handler's proxy-integration result, or API Gateway's 502 when the function fails (the
    HTTP server would otherwise drop the connection, which no client sees from AWS)."""
    try:
        return dict(handler(event, context))
    except Exception:  # the function failed: logged, answered as API Gateway does
        logging.getLogger("patronus.local").exception(
            "the function failed on %s %s", event.get("httpMethod"), event.get("path")
        )
        return dict(FUNCTION_ERROR)


def response_parts(result: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, header pairs and body bytes of a proxy-integration result."""
    status = int(result.get("statusCode", 502))
    pairs: list[tuple[str, str]] = []
    for name, values in (result.get("multiValueHeaders") or {}).items():
        pairs += [(name, str(v)) for v in values]
    seen = {name.lower() for name, _ in pairs}
    pairs += [(k, str(v)) for k, v in (result.get("headers") or {}).items() if k.lower() not in seen]
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return status, pairs, data


def needs_token(routes: Sequence[ApiRoute], method: str, path: str) -> bool:
    """True unless the request is for one of the API's public routes (API Gateway's rule)."""
    return not any(route.public and route.matches(method, path) for route in routes)


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    """A browser's CORS preflight: OPTIONS with an Origin and the method it wants to send."""
    lowered = {name.lower() for name in headers}
    return method.upper() == "OPTIONS" and {"origin", "access-control-request-method"} <= lowered


def preflight_headers(origin: str, origins: Sequence[str], methods: Sequence[str]) -> list[tuple[str, str]]:
    """API Gateway's answer to a preflight (the mock integration CDK builds for CorsOptions): no
    token asked for, the request's origin echoed when it is allowed, else the first allowed one
    (which the browser then refuses)."""
    from patronus_api.route_table import CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, CORS_MAX_AGE_SECONDS

    allowed = origin if origin in origins else (origins[0] if origins else "")
    return [
        ("Access-Control-Allow-Origin", allowed),
        ("Vary", "Origin"),
        ("Access-Control-Allow-Methods", ",".join(methods)),
        ("Access-Control-Allow-Headers", ",".join(CORS_ALLOW_HEADERS)),
        ("Access-Control-Expose-Headers", ",".join(CORS_EXPOSE_HEADERS)),
        ("Access-Control-Max-Age", str(CORS_MAX_AGE_SECONDS)),
    ]
