"""One module per resource. Routes translate HTTP to a service call and back: no SQL, no boto3."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from patronus.models import Principal
from patronus_api.auth import principal_from_event


def caller(router: APIGatewayRouter) -> Principal:
    return principal_from_event(router.current_event.raw_event)
