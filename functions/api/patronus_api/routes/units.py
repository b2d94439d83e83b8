"""/v1/units: the units the API has met, for choosing one (create, move, share)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from patronus.models import Role
from patronus_api.access import requires
from patronus_api.routes import caller, responses
from patronus_api.runtime import runtime
from patronus_api.schemas import UnitList

router = APIGatewayRouter()
TAGS = ["units"]


@router.get(
    "/v1/units",
    tags=TAGS,
    summary="The units the API has met: the default unit and every unit a dossier was created in, "
    "moved to or shared with (editors and admins, to choose one); a Cognito group never used is "
    "not listed",
    responses=responses(200, "The units, by name"),
    **requires(Role.EDITOR),
)
def list_units() -> UnitList:
    return UnitList(items=runtime.dossiers.known_units(caller(router)))
