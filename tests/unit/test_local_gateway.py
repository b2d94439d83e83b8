"""The local gateway answers as API Gateway does when the function fails."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripts.devstack.gateway import LambdaContext, invoke, response_parts, rest_event


def test_a_failing_function_gets_api_gateways_502_not_a_dropped_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a function that raises on an event
    def failing(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise UnicodeEncodeError("ascii", "é", 0, 1, "ordinal not in range")

    # When the gateway invokes it
    status, headers, body = response_parts(
        invoke(failing, rest_event("PATCH", "/v1/dossiers/x", headers={}), LambdaContext())
    )
    # Then the client gets API Gateway's answer to a function error, and the failure is logged
    assert status == 502
    assert ("Content-Type", "application/json") in headers
    assert json.loads(body) == {"message": "Internal server error"}
    assert "the function failed on PATCH /v1/dossiers/x" in caplog.text


def test_a_working_function_answers_unchanged() -> None:
    result = {"statusCode": 201, "headers": {"ETag": '"1"'}, "body": "{}"}
    assert invoke(lambda event, context: result, rest_event("GET", "/health"), LambdaContext()) == result
