"""GET /health: the function is up and the database answers."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from patronus_api.access import public
from patronus_api.routes import responses
from patronus_api.runtime import runtime
from patronus_api.schemas import HealthOut

router = APIGatewayRouter()


@router.get(
    "/health",
    tags=["health"],
    summary="Liveness and database check",
    responses=responses(200, "Up, and the database answers", common=(413, 503)),
    **public(),
)
def health() -> HealthOut:
    runtime.db.ping()
    return HealthOut(status="ok", database="ok")
