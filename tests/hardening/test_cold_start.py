"""What a cold start pays for: the modules a fresh API process loads to serve a dossier route.

Timings belong to ``python -m benchmarks.api``; these tests pin the causes the benchmark found,
so they cannot come back unnoticed: the X-Ray SDK (with botocore) when tracing is off, the
OpenAPI models when no one asks for the documentation, boto3 and the document/storage modules
on routes that never touch S3, a TLS context on a connection without TLS settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from patronus.db import Database
from patronus.observability import DisabledTracer, tracing_enabled
from patronus.settings import DatabaseSettings
from scripts.devstack.database import connect
from scripts.devstack.gateway import cognito_claims, rest_event

ROOT = Path(__file__).resolve().parents[2]
CODE_PATHS = [ROOT, ROOT / "layers" / "patronus" / "python", ROOT / "functions" / "api"]
NOT_ON_A_DOSSIER_COLD_START = (
    "aws_xray_sdk",
    "boto3",
    "botocore.client",
    "aws_lambda_powertools.event_handler.openapi.models",
    "patronus.storage",
    "patronus.services.documents",
)
CHILD = """
import json, sys
from patronus_api.handler import handler
from benchmarks.api.coldstart_child import _Context
response = handler(json.loads(sys.argv[1]), _Context())
print(json.dumps({"status": response["statusCode"], "modules": sorted(sys.modules)}))
"""


def _seed_dossier(database_url: str) -> str:
    public_id = uuid.uuid4().hex
    connection = connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO dossiers (public_id, reference, title, status, unit, owner, version, created_at,"
                " updated_at) VALUES (%s, 'COLD-1', 'Cold start', 'open', 'unit-general', 'test', 1, NOW(6),"
                " NOW(6))",
                (public_id,),
            )
    finally:
        connection.close()
    return public_id


def _fresh_process_serving(event: dict[str, Any], database_url: str, **extra_env: str) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(p) for p in CODE_PATHS),
        "PATRONUS_DB_URL": database_url,
        "PATRONUS_BUCKET": "patronus-cold-start",
        "POWERTOOLS_SERVICE_NAME": "patronus-api",
        "POWERTOOLS_METRICS_DISABLED": "true",
        **extra_env,
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(event)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_a_dossier_cold_start_loads_no_tracing_sdk_no_boto3_no_openapi_models(database_url: str) -> None:
    # Given a dossier and a fresh process outside Lambda (tracing off)
    dossier_id = _seed_dossier(database_url)
    event = rest_event(
        "GET",
        f"/v1/dossiers/{dossier_id}",
        claims=cognito_claims("reader", ["readers", "unit-general"]),
        headers={},
    )
    # When it imports the handler and serves GET /v1/dossiers/{id}
    result = _fresh_process_serving(event, database_url)
    # Then the request succeeded without loading what the route does not need
    assert result["status"] == 200
    loaded = [m for m in NOT_ON_A_DOSSIER_COLD_START if m in result["modules"]]
    assert loaded == []


def test_the_documentation_routes_still_load_the_openapi_models_on_demand(database_url: str) -> None:
    # Given a fresh process
    event = rest_event("GET", "/openapi.json", headers={})
    # When the OpenAPI document is asked for
    result = _fresh_process_serving(event, database_url)
    # Then it is served, the models being imported only now
    assert result["status"] == 200
    assert "aws_lambda_powertools.event_handler.openapi.models" in result["modules"]


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [
        ({}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
    ],
)
def test_tracing_is_on_only_where_the_powertools_tracer_would_trace(
    environ: dict[str, str], enabled: bool
) -> None:
    # Given an environment; When asked; Then the answer is the Powertools Tracer's own rule
    assert tracing_enabled(environ) is enabled


def test_the_stand_in_tracer_leaves_handlers_and_methods_unchanged() -> None:
    # Given the stand-in used when tracing is off
    tracer = DisabledTracer()

    def handler(event: dict[str, Any], context: object) -> str:
        return "ok"

    # When it decorates, with or without arguments
    decorated = tracer.capture_lambda_handler(handler)
    configured = tracer.capture_method(capture_response=False)(handler)
    # Then the functions are the same ones
    assert decorated is handler and configured is handler
    assert decorated({}, None) == "ok"


def test_a_connection_without_tls_settings_does_not_negotiate_tls(database_url: str) -> None:
    # Given database settings without TLS (PyMySQL would otherwise try TLS opportunistically,
    # loading the system CA store on every connect)
    db = Database(DatabaseSettings.from_url(database_url))
    try:
        # When the connection is opened
        connection = db.connection()
        # Then it is plain, and no TLS context was built for it
        assert connection.ssl is False
        assert getattr(connection, "ctx", None) is None
    finally:
        db.close()
