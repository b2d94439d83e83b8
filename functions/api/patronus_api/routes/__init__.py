"""One module per resource. Routes translate HTTP to a service call and back: no SQL, no boto3."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from patronus.models import Principal
from patronus_api.auth import principal_from_event
from patronus_api.schemas import ErrorBody, GatewayError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader

_ERRORS: dict[int, str] = {
    400: "The request is not valid; `error.details` names the fields",
    401: "No valid bearer token (answered by API Gateway, or by the API when claims are missing)",
    403: "The caller's groups do not allow this action",
    404: "No such resource",
    409: "The request conflicts with the current state of the resource",
    412: "The If-Match version is not the current version; reload and retry",
    413: "The request body is too large",
    415: "The body is not application/json",
    428: "If-Match is required",
    503: "The database or the document storage cannot be reached right now; retry after Retry-After seconds",
}
# Errors that API Gateway itself may answer, with its own {"message": ...} body.
_FROM_GATEWAY_TOO = {401, 413}
_RETRY_AFTER: dict[str, OpenAPIResponseHeader] = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}
# Every authenticated route: bad input, authentication, authorisation, body too large,
# dependencies down.
COMMON_ERRORS = (400, 401, 403, 413, 503)
ETAG: dict[str, OpenAPIResponseHeader] = {
    "ETag": {"description": "The dossier's version, for If-Match", "schema": {"type": "string"}}
}
LOCATION: dict[str, OpenAPIResponseHeader] = {
    "Location": {"description": "Path of the new resource", "schema": {"type": "string"}}
}


def responses(
    status: int,
    description: str,
    *errors: int,
    content: bool = True,
    headers: dict[str, OpenAPIResponseHeader] | None = None,
    common: tuple[int, ...] = COMMON_ERRORS,
) -> dict[int, OpenAPIResponse]:
    """The documented responses of a route: its success (body from the return annotation unless
    ``content`` is false), the errors every route may answer and the route's own ``errors``."""
    documented: dict[int, OpenAPIResponse] = {status: {"description": description}}
    if not content:
        documented[status]["content"] = {}
    if headers:
        documented[status]["headers"] = headers
    for code in sorted({*common, *errors}):
        model = ErrorBody | GatewayError if code in _FROM_GATEWAY_TOO else ErrorBody
        documented[code] = {"description": _ERRORS[code], "content": {"application/json": {"model": model}}}
        if code == 503:
            documented[code]["headers"] = _RETRY_AFTER
    return documented


def caller(router: APIGatewayRouter) -> Principal:
    from patronus_api.runtime import runtime

    return principal_from_event(router.current_event.raw_event, runtime.settings.units.prefix)
