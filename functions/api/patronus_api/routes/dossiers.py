"""/v1/dossiers: create, search, get, update (If-Match), archive, history."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.metrics import MetricUnit

from patronus.access import rights_on
from patronus.errors import PreconditionRequired
from patronus.models import DossierRow, DossierStatus, Principal, Role
from patronus.observability import metrics
from patronus.repositories.dossiers import SearchFilter
from patronus_api import cursors
from patronus_api.access import requires
from patronus_api.preconditions import IDEMPOTENCY_KEY_MAX, check_idempotency_key, parse_if_match
from patronus_api.routes import ETAG, LOCATION, caller, responses
from patronus_api.runtime import runtime
from patronus_api.schemas import (
    AuditEventOut,
    DossierCreate,
    DossierOut,
    DossierPage,
    DossierUpdate,
    HistoryPage,
)

router = APIGatewayRouter()
TAGS = ["dossiers"]

DossierId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Dossier id")]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=64, description="next_cursor of the previous page")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=IDEMPOTENCY_KEY_MAX,
        description="Any unique string (a UUID): a repeat with the same key and body returns the "
        "dossier already created instead of a second one. Compared byte for byte.",
    ),
]
IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1024,
        description='The ETag of the dossier as read (e.g. "3"), or * to change any version',
    ),
]


def etag_of(row: DossierRow) -> str:
    return f'"{row.version}"'


def out(principal: Principal, row: DossierRow) -> DossierOut:
    return DossierOut.of(row, rights_on(principal, row))


def _dossier_response(
    principal: Principal, row: DossierRow, status: int = 200, extra: dict[str, str] | None = None
) -> Response[DossierOut]:
    headers = {"ETag": etag_of(row), **(extra or {})}
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=out(principal, row),
        headers=headers,
    )


@router.post(
    "/v1/dossiers",
    tags=TAGS,
    summary="Create a dossier",
    status_code=201,
    responses=responses(
        201, "Created (or replayed for the same Idempotency-Key)", 409, 415, headers=ETAG | LOCATION
    ),
    **requires(Role.EDITOR),
)
def create_dossier(body: DossierCreate, idempotency_key: IdempotencyKey = None) -> Response[DossierOut]:
    key = None if idempotency_key is None else check_idempotency_key(idempotency_key)
    principal = caller(router)
    created = runtime.dossiers.create(
        principal,
        reference=body.reference,
        title=body.title,
        description=body.description,
        unit=body.unit,
        idempotency_key=key,
    )
    if not created.replayed:
        metrics.add_metric(name="DossierCreated", unit=MetricUnit.Count, value=1)
    extra = {"Location": f"/v1/dossiers/{created.dossier.public_id}"}
    if created.replayed:
        extra["Idempotent-Replayed"] = "true"
    return _dossier_response(principal, created.dossier, 201, extra)


@router.get(
    "/v1/dossiers",
    tags=TAGS,
    summary="Search the dossiers the caller may see (newest first)",
    responses=responses(200, "One page"),
    **requires(Role.READER),
)
def list_dossiers(
    q: Annotated[
        str | None, Query(max_length=100, description="Reference prefix or words of the title")
    ] = None,
    status: Annotated[DossierStatus | None, Query(description="Only dossiers with this status")] = None,
    unit: Annotated[str | None, Query(max_length=64, description="Only dossiers of this unit")] = None,
    mine: Annotated[bool, Query(description="Only the dossiers the caller created")] = False,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> DossierPage:
    principal = caller(router)
    search = SearchFilter(
        text=(q or "").strip() or None,
        status=status,
        unit=unit,
        owner=principal.subject if mine else None,
        after_id=cursors.decode(cursor),
    )
    rows, last = runtime.dossiers.search(principal, search, limit=limit)
    return DossierPage(items=[out(principal, r) for r in rows], next_cursor=cursors.encode(last))


@router.get(
    "/v1/dossiers/<dossier_id>",
    tags=TAGS,
    summary="Get a dossier (with its ETag)",
    responses=responses(200, "The dossier", 404, headers=ETAG),
    **requires(Role.READER),
)
def get_dossier(dossier_id: DossierId) -> Response[DossierOut]:
    principal = caller(router)
    return _dossier_response(principal, runtime.dossiers.get(principal, dossier_id))


@router.patch(
    "/v1/dossiers/<dossier_id>",
    tags=TAGS,
    summary="Update a dossier, or move it to another unit (admins); If-Match required",
    responses=responses(200, "The updated dossier", 404, 409, 412, 415, 428, headers=ETAG),
    **requires(Role.EDITOR),
)
def update_dossier(
    dossier_id: DossierId, body: DossierUpdate, if_match: IfMatchHeader = None
) -> Response[DossierOut]:
    principal = caller(router)
    if not if_match:
        raise PreconditionRequired("send If-Match with the ETag of the dossier you read")
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if "status" in changes:
        changes["status"] = DossierStatus(changes["status"])
    row = runtime.dossiers.update(
        principal, dossier_id, expected_version=parse_if_match(if_match).versions, changes=changes
    )
    return _dossier_response(principal, row)


@router.delete(
    "/v1/dossiers/<dossier_id>",
    tags=TAGS,
    summary="Archive a dossier (admins)",
    responses=responses(200, "The archived dossier", 404, headers=ETAG),
    **requires(Role.ADMIN),
)
def archive_dossier(dossier_id: DossierId) -> Response[DossierOut]:
    principal = caller(router)
    return _dossier_response(principal, runtime.dossiers.archive(principal, dossier_id))


@router.get(
    "/v1/dossiers/<dossier_id>/history",
    tags=TAGS,
    summary="Audit trail of a dossier (newest first)",
    responses=responses(200, "One page of audit events", 404),
    **requires(Role.READER),
)
def dossier_history(dossier_id: DossierId, limit: Limit = 50, cursor: Cursor = None) -> HistoryPage:
    rows, last = runtime.dossiers.history(
        caller(router), dossier_id, after_id=cursors.decode(cursor), limit=limit
    )
    return HistoryPage(items=[AuditEventOut.of(r) for r in rows], next_cursor=cursors.encode(last))
