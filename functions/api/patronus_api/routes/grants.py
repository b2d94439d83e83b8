"""/v1/dossiers/{id}/grants: who a dossier is shared with beyond its unit."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from patronus.models import GranteeType, Role
from patronus_api.access import requires
from patronus_api.routes import caller, responses
from patronus_api.runtime import runtime
from patronus_api.schemas import GrantIn, GrantList, GrantOut

router = APIGatewayRouter()
TAGS = ["grants"]
PATH = "/v1/dossiers/<dossier_id>/grants"

DossierId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Dossier id")]


@router.get(
    PATH,
    tags=TAGS,
    summary="Who the dossier is shared with (anyone who may see it)",
    responses=responses(200, "The grants", 404),
    **requires(Role.READER),
)
def list_grants(dossier_id: DossierId) -> GrantList:
    rows = runtime.grants.of_dossier(caller(router), dossier_id)
    return GrantList(items=[GrantOut.of(r) for r in rows])


@router.put(
    PATH,
    tags=TAGS,
    summary="Share the dossier with a user or a unit, or change what a grant gives "
    "(editors of its unit, admins)",
    responses=responses(200, "The grants after the change", 404, 409, 415),
    **requires(Role.EDITOR),
)
def put_grant(dossier_id: DossierId, body: GrantIn) -> GrantList:
    rows = runtime.grants.put(
        caller(router),
        dossier_id,
        grantee_type=body.grantee_type,
        grantee=body.grantee,
        permission=body.permission,
    )
    return GrantList(items=[GrantOut.of(r) for r in rows])


@router.delete(
    PATH,
    tags=TAGS,
    summary="Stop sharing the dossier with a user or a unit (editors of its unit, admins)",
    responses=responses(200, "The grants after the change", 404),
    **requires(Role.EDITOR),
)
def delete_grant(
    dossier_id: DossierId,
    grantee_type: Annotated[GranteeType, Query(description="user or unit")],
    grantee: Annotated[
        str, Query(min_length=1, max_length=128, description="The user's subject or the unit")
    ],
) -> GrantList:
    rows = runtime.grants.delete(caller(router), dossier_id, grantee_type=grantee_type, grantee=grantee)
    return GrantList(items=[GrantOut.of(r) for r in rows])
