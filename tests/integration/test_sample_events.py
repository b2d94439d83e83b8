"""The sample events in events/ (used with `sam local invoke`) work with the real handlers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from patronus.settings import Settings
from scripts.devstack.gateway import LambdaContext
from tests.integration.conftest import Caller

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def test_api_sample_events(api: Caller) -> None:
    from patronus_api import handler

    # Given the database behind the configured API, When each sample event is invoked
    health = handler.handler(load("api-health.json"), LambdaContext())
    created = handler.handler(load("api-create-dossier.json"), LambdaContext())
    replayed = handler.handler(load("api-create-dossier.json"), LambdaContext())
    listed = handler.handler(load("api-list-dossiers.json"), LambdaContext())
    # Then they answer as they would behind API Gateway
    assert health["statusCode"] == 200
    assert created["statusCode"] == 201 and replayed["statusCode"] == 201
    assert json.loads(replayed["body"])["id"] == json.loads(created["body"])["id"]
    assert listed["statusCode"] == 200
    assert [d["reference"] for d in json.loads(listed["body"])["items"]] == ["DOS-2026-0042"]


def test_document_events_sample_event(api_settings: Settings, api: Caller) -> None:
    from patronus_document_events import handler
    from patronus_document_events.runtime import runtime

    runtime.configure(api_settings)
    event = load("document-events-object-created.json")
    event["detail"]["bucket"]["name"] = api_settings.storage.bucket
    # An object nobody registered is logged and ignored
    assert handler.handler(event, LambdaContext()) == {"outcome": "unknown_key"}


def test_document_events_scan_result_sample_event(api_settings: Settings, api: Caller) -> None:
    from patronus_document_events import handler
    from patronus_document_events.runtime import runtime

    runtime.configure(api_settings.model_copy(update={"malware_scanning": True}))
    event = load("document-events-scan-result.json")
    event["detail"]["s3ObjectDetails"]["bucketName"] = api_settings.storage.bucket
    # A scan result for an object nobody registered is logged and ignored
    assert handler.handler(event, LambdaContext()) == {"outcome": "unknown_key"}


def test_upload_expiry_sample_event(api_settings: Settings, api: Caller, s3_server: Any) -> None:
    from patronus_upload_expiry import handler
    from patronus_upload_expiry.runtime import runtime

    runtime.configure(api_settings, s3_client=s3_server.client())
    # With nothing pending, a scheduled run expires nothing
    assert handler.handler(load("upload-expiry-scheduled.json"), LambdaContext()) == {
        "expired": 0,
        "removed_versions": 0,
        "aborted_uploads": 0,
    }
    runtime.close()
