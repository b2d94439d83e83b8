"""Documents you can trust: the declared SHA-256 is enforced by S3 itself, and a document's
bytes are fixed in the object version they were verified in (later writes are removed)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests

from patronus.settings import Settings
from scripts.devstack.gateway import LambdaContext
from scripts.devstack.s3events import object_created_event
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS
from tests.conftest import s3_client_for
from tests.integration.conftest import Caller


@pytest.fixture
def dossier(api: Caller) -> dict[str, Any]:
    reply = api("POST", "/v1/dossiers", {"reference": "TRUST-1", "title": "Trusted documents"})
    assert reply.status == 201
    return dict(reply.json)


@pytest.fixture
def deliver(api_settings: Settings) -> Any:
    """Hand an S3 event to the document_events function, as EventBridge would."""
    from patronus_document_events import handler as events_handler
    from patronus_document_events.runtime import runtime as events_runtime

    events_runtime.configure(api_settings)

    def call(event: dict[str, Any]) -> str:
        return str(events_handler.handler(event, LambdaContext(function_name="document-events"))["outcome"])

    yield call
    events_runtime.close()


def register(api: Caller, dossier: dict[str, Any], data: bytes, **extra: Any) -> dict[str, Any]:
    body = {"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": len(data), **extra}
    reply = api("POST", f"/v1/dossiers/{dossier['id']}/documents", body)
    assert reply.status == 201, reply.body
    return dict(reply.json)


def post_form(upload: dict[str, Any], data: bytes) -> requests.Response:
    files = {"file": ("a.pdf", data, "application/pdf")}
    return requests.post(upload["url"], data=upload["fields"], files=files, timeout=30)


def test_a_declared_sha256_is_enforced_by_s3_and_never_shown_unverified(
    api: Caller, dossier: dict[str, Any]
) -> None:
    # Given a document declared with a SHA-256 of 64 zeros
    created = register(api, dossier, b"hello", sha256="0" * 64)
    assert created["document"]["sha256"] is None  # declared, not verified: not shown
    # When "hello" is uploaded with its form; Then S3 refuses the bytes
    refused = post_form(created["upload"], b"hello")
    assert refused.status_code == 400 and b"BadDigest" in refused.content, refused.content
    # And the document cannot become available, nor show the zeros
    path = f"/v1/documents/{created['document']['id']}"
    assert api("POST", f"{path}/complete").status == 409
    assert api("GET", path).json["sha256"] is None


def test_the_right_bytes_for_a_declared_sha256_are_available_with_the_verified_hash(
    api: Caller, dossier: dict[str, Any]
) -> None:
    data = b"the exact bytes"
    digest = hashlib.sha256(data).hexdigest()
    created = register(api, dossier, data, sha256=digest)
    assert post_form(created["upload"], data).status_code in (200, 204)
    completed = api("POST", f"/v1/documents/{created['document']['id']}/complete").json
    assert completed["status"] == "available" and completed["sha256"] == digest


def test_bytes_posted_again_after_the_document_is_available_are_removed_and_audited(
    api: Caller, dossier: dict[str, Any], deliver: Any, api_settings: Settings, s3_server: ThrowawaySeaweedFS
) -> None:
    # Given an available document
    original = b"original bytes!"
    created = register(api, dossier, original)
    assert post_form(created["upload"], original).status_code in (200, 204)
    path = f"/v1/documents/{created['document']['id']}"
    assert api("POST", f"{path}/complete").json["status"] == "available"
    key = created["upload"]["fields"]["key"]
    s3 = s3_client_for(s3_server)
    bucket = api_settings.storage.bucket
    # When the same presigned form is posted again with other bytes of the same size
    swapped = b"swapped bytes!!"
    assert post_form(created["upload"], swapped).status_code in (200, 204)
    intruder = s3.head_object(Bucket=bucket, Key=key)
    # Then downloads are pinned to the verified version: the original bytes, even before the event
    url = api("GET", f"{path}/download").json["url"]
    assert requests.get(url, timeout=30).content == original
    event = object_created_event(
        bucket, key, len(swapped), intruder["ETag"].strip('"'), version_id=intruder["VersionId"]
    )
    # And its event removes the new version and audits a tamper attempt
    assert deliver(event) == "tamper_removed"
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    assert intruder["VersionId"] not in [v["VersionId"] for v in versions]
    history = api("GET", f"/v1/dossiers/{dossier['id']}/history").json["items"]
    assert "document.tamper_attempt" in [e["action"] for e in history]
    assert api("GET", path).json["etag"] != intruder["ETag"].strip('"')


def test_an_event_for_a_missing_object_does_not_make_the_document_available(
    api: Caller, dossier: dict[str, Any], deliver: Any, api_settings: Settings
) -> None:
    created = register(api, dossier, b"never sent")
    key = created["upload"]["fields"]["key"]
    event = object_created_event(api_settings.storage.bucket, key, len(b"never sent"), "abc")
    assert deliver(event) == "not_stored"
    assert api("GET", f"/v1/documents/{created['document']['id']}").json["status"] == "pending"


def test_active_content_is_downloaded_as_an_attachment_of_opaque_bytes(
    api: Caller, dossier: dict[str, Any]
) -> None:
    page = b"<html><script>alert(document.domain)</script></html>"
    body = {"filename": "page.html", "content_type": "text/html", "size_bytes": len(page)}
    created = api("POST", f"/v1/dossiers/{dossier['id']}/documents", body).json
    files = {"file": ("page.html", page, "text/html")}
    assert requests.post(
        created["upload"]["url"], data=created["upload"]["fields"], files=files, timeout=30
    ).ok
    path = f"/v1/documents/{created['document']['id']}"
    assert api("POST", f"{path}/complete").status == 200
    fetched = requests.get(api("GET", f"{path}/download").json["url"], timeout=30)
    assert fetched.content == page
    assert fetched.headers["Content-Type"] == "application/octet-stream"
    assert fetched.headers["Content-Disposition"].startswith("attachment;")
