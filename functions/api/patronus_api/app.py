"""The resolver: routes, one mapping from domain errors to HTTP statuses, the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

import aws_lambda_powertools.event_handler
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic_core import to_json

from patronus.deadline import API_GATEWAY_TIMEOUT_SECONDS, deadline
from patronus.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PatronusError,
    PreconditionFailed,
    PreconditionRequired,
    Unauthorized,
    Unavailable,
)
from patronus.observability import logger
from patronus_api.access import ACCESS_EXTENSION, PUBLIC, public
from patronus_api.routes import documents, dossiers, grants, health, people, units
from patronus_api.schemas import ErrorBody, ErrorDetail, ErrorInfo

MAX_BODY_BYTES = 64 * 1024


class PayloadTooLarge(PatronusError):
    code = "payload_too_large"


TITLE = "Patronus API"
VERSION = "1.0.0"

STATUS_OF: dict[type[PatronusError], HTTPStatus] = {
    BadRequest: HTTPStatus.BAD_REQUEST,
    Unauthorized: HTTPStatus.UNAUTHORIZED,
    Forbidden: HTTPStatus.FORBIDDEN,
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    PreconditionFailed: HTTPStatus.PRECONDITION_FAILED,
    PreconditionRequired: HTTPStatus.PRECONDITION_REQUIRED,
    Unavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    PayloadTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
}
JSON_MEDIA_TYPE = "application/json"
# On every response: they may hold presigned URLs (never cached), and are never to be sniffed.
RESPONSE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def read_json_body(text: str) -> dict[str, Any]:
    """The request body for validation: refused before parsing when too large, and after parsing
    when too deeply nested or not a JSON object (Powertools would take the first element of an
    array as the object). Invalid JSON raises JSONDecodeError, which Powertools reports as 400."""
    if len(text) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body exceeds {MAX_BODY_BYTES} bytes")
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise BadRequest(
            "the body is nested too deeply", details=[{"field": "body", "issue": "nested too deeply"}]
        ) from exc
    if not isinstance(value, dict):
        raise BadRequest(
            "the body must be a JSON object", details=[{"field": "body", "issue": "not a JSON object"}]
        )
    return value


def write_json(value: Any) -> str:
    """Response bodies to JSON in Rust (pydantic-core): about 2.5x faster than json.dumps on a
    page of 20 dossiers. Bodies reach it already made JSON-safe by the response validation."""
    return to_json(value).decode()


def _json_or_marked(value: str) -> str:
    """A Content-Type as the validation reads it: JSON whatever its case (media types are
    case-insensitive, RFC 9110 section 8.3.1), any other media type marked unsupported, form
    encodings included (Powertools would otherwise parse them as the body)."""
    media, semicolon, parameters = value.partition(";")
    media = media.strip().lower()
    if media in {"", JSON_MEDIA_TYPE}:
        return f"{media}{semicolon}{parameters}"
    return f"unsupported/{media}"


class Resolver(APIGatewayRestResolver):
    """Powertools' REST resolver, reading only JSON bodies and adding :data:`RESPONSE_HEADERS`."""

    def _to_proxy_event(self, event: dict[str, Any]) -> Any:
        event = dict(event)
        for field in ("headers", "multiValueHeaders"):
            values = event.get(field) or {}
            event[field] = {
                name: (
                    (
                        _json_or_marked(value)
                        if isinstance(value, str)
                        else [_json_or_marked(v) for v in value]
                    )
                    if name.lower() == "content-type"
                    else value
                )
                for name, value in values.items()
            } or None
        return super()._to_proxy_event(event)

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        result = super().resolve(event, context)
        headers = result.get("multiValueHeaders")
        if headers is None:
            headers = result.setdefault("headers", {}) or {}
            result["headers"] = headers
        present = {name.lower() for name in headers}
        for name, value in RESPONSE_HEADERS.items():
            if name.lower() not in present:
                headers[name] = [value] if "multiValueHeaders" in result else value
        return result


app = Resolver(enable_validation=True, json_body_deserializer=read_json_body, serializer=write_json)


def error_response(
    status: HTTPStatus,
    code: str,
    message: str,
    details: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body = ErrorBody(error=ErrorInfo(code=code, message=message, details=details or []))
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(),
        headers=headers,
    )


@app.exception_handler(PatronusError)
def domain_error(exc: PatronusError) -> Response[str]:
    status = next(
        (STATUS_OF[cls] for cls in type(exc).__mro__ if cls in STATUS_OF), HTTPStatus.INTERNAL_SERVER_ERROR
    )
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Unavailable) else None
    if isinstance(exc, Unavailable):
        logger.warning("dependency unavailable", extra={"reason": exc.message, "cause": repr(exc.__cause__)})
    details = [ErrorDetail(field=str(d.get("field", "")), issue=str(d.get("issue", ""))) for d in exc.details]
    return error_response(status, exc.code, exc.message, details, headers)


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response[str]:
    details = [
        ErrorDetail(field=".".join(str(part) for part in error.get("loc", ())), issue=_issue(error))
        for error in exc.errors()
    ]
    return error_response(HTTPStatus.BAD_REQUEST, "invalid_request", "the request is not valid", details)


def _issue(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "the body is not valid JSON"
    return str(error.get("msg") or error.get("type") or "invalid")


@app.exception_handler(RequestUnsupportedContentType)
def unsupported_media_type(exc: RequestUnsupportedContentType) -> Response[str]:
    details = [ErrorDetail(field="header.Content-Type", issue=JSON_MEDIA_TYPE)]
    return error_response(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as application/json",
        details,
    )


@app.exception_handler(UnicodeDecodeError)
def undecodable_body(exc: UnicodeDecodeError) -> Response[str]:
    # Raised by Powertools while decoding a base64-encoded body that is not UTF-8.
    details = [ErrorDetail(field="body", issue="not UTF-8 text")]
    return error_response(HTTPStatus.BAD_REQUEST, "invalid_request", "the body is not valid UTF-8", details)


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response[str]:
    logger.exception("unhandled error")
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "an unexpected error occurred")


@app.not_found
def no_route(exc: NotFoundError) -> Response[str]:
    return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route")


def limit_body_size(resolver: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Routes without a JSON body (read_json_body guards the others, before validation)."""
    if len(resolver.current_event.body or "") > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body exceeds {MAX_BODY_BYTES} bytes")
    return next_middleware(resolver)


def start_deadline(resolver: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Bound every dependency call of this request by the time left (patronus.deadline). A
    request resolved without a Lambda context (the priming before a snapshot) has no deadline
    but API Gateway's."""
    context = resolver.lambda_context
    deadline.start(
        context.get_remaining_time_in_millis() / 1000 if context is not None else API_GATEWAY_TIMEOUT_SECONDS
    )
    try:
        return next_middleware(resolver)
    finally:
        deadline.clear()


app.use(middlewares=[start_deadline, limit_body_size])
app.include_router(health.router)
app.include_router(dossiers.router)
app.include_router(documents.router)
app.include_router(grants.router)
app.include_router(units.router)
app.include_router(people.router)

_DESCRIPTION = (
    "Dossiers (case files) and their documents. Documents are uploaded and downloaded directly "
    "with S3 through presigned URLs. Authenticate with a Cognito ID token as a bearer token; "
    "groups: readers (read), editors (write), admins (archive, delete, move); unit groups "
    "(unit-...) say which dossiers: those of the caller's units and those shared with the caller "
    "or their units. A dossier the caller may not see answers 404, as one that does not exist; "
    "each dossier carries the caller's `rights` on it."
)


def _openapi_json() -> str:
    # The OpenAPI models are imported here, not at module level: they cost about a fifth of a
    # second of cold start and only the documentation routes need them.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    document = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=_DESCRIPTION,
            security_schemes={"bearer": HTTPBearer(bearerFormat="JWT", description="Cognito ID token")},
            security=[{"bearer": []}],
        )
    )
    return json.dumps(_as_served(document))


def _as_served(document: dict[str, Any]) -> dict[str, Any]:
    """What Powertools generates, corrected to what the API does: no 422 (invalid requests are
    answered 400, with the error body), and no security on the public routes (Powertools drops
    their empty security list, so they would inherit the document's bearer requirement)."""
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
            if operation.get(ACCESS_EXTENSION) == PUBLIC:
                operation["security"] = []
    document.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
    return document


@app.get("/openapi.json", include_in_schema=False, **public())
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=_openapi_json())


@app.get("/docs", include_in_schema=False, **public())
def swagger_ui() -> Response[str]:
    """Swagger UI with the OpenAPI document inlined (assets from the Powertools package)."""
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = Path(aws_lambda_powertools.event_handler.__file__).parent / "openapi" / "swagger_ui"
    html = generate_swagger_html(
        _openapi_json().replace("</", "<\\/"),
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
    )
    return Response(status_code=200, content_type="text/html", body=html)
