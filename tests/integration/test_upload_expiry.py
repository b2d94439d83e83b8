"""The scheduled expiry of abandoned uploads: real MariaDB, real SeaweedFS, the real handler."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
import requests

from patronus.services import utcnow
from patronus.settings import Settings
from tests.conftest import s3_client_for
from tests.integration.conftest import Caller

MIB = 1024 * 1024
MAX_AGE = timedelta(hours=24)


@pytest.fixture
def expiry(api: Caller, api_settings: Settings, s3_server: Any) -> Any:
    """Run the upload_expiry handler with the harness's settings (24 h, its default age)."""
    from patronus_upload_expiry import handler as expiry_handler
    from patronus_upload_expiry.runtime import runtime as expiry_runtime
    from scripts.devstack.gateway import LambdaContext

    assert api_settings.storage.pending_upload_max_age_hours == 24
    expiry_runtime.configure(api_settings, s3_client=s3_server.client())

    def run() -> dict[str, int]:
        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        return expiry_handler.handler(event, LambdaContext(function_name="upload-expiry"))

    yield run
    expiry_runtime.close()


@pytest.fixture
def dossier(api: Caller) -> dict:
    return api("POST", "/v1/dossiers", {"reference": "EXP-1", "title": "Abandoned uploads"}).json


def register(api: Caller, dossier: dict, size: int, name: str) -> dict:
    reply = api(
        "POST",
        f"/v1/dossiers/{dossier['id']}/documents",
        {"filename": name, "content_type": "application/octet-stream", "size_bytes": size},
    )
    assert reply.status == 201, reply.body
    return reply.json


def age(document_id: str, by: timedelta) -> None:
    """Make a document's last upload activity ``by`` older."""
    from patronus_api.runtime import runtime

    with runtime.db.transaction() as cursor:
        cursor.execute(
            "UPDATE documents SET updated_at = %s WHERE public_id = %s", (utcnow() - by, document_id)
        )


def test_stale_pending_uploads_are_expired_cleaned_and_audited(
    api: Caller, dossier: dict, expiry: Any, s3_server: Any, s3_bucket: str
) -> None:
    s3 = s3_client_for(s3_server)
    # Given a stale multipart upload with one part sent, a stale single upload whose bytes were
    # stored but never confirmed, and a recent multipart upload
    big = os.urandom(11 * MIB)
    stale_multi = register(api, dossier, len(big), "stale.bin")
    part = stale_multi["upload"]["parts"][0]
    assert requests.put(part["url"], data=big[: 5 * MIB], timeout=60).status_code == 200
    small = b"never confirmed"
    stale_single = register(api, dossier, len(small), "single.bin")
    form = stale_single["upload"]
    assert requests.post(form["url"], data=form["fields"], files={"file": ("b", small)}, timeout=30).ok
    recent = register(api, dossier, len(big), "recent.bin")
    for created in (stale_multi, stale_single):
        age(created["document"]["id"], MAX_AGE + timedelta(minutes=5))
    # When the scheduled function runs
    report = expiry()
    # Then the stale ones are expired, their upload aborted and their bytes removed
    assert report["expired"] == 2 and report["removed_versions"] == 1
    status = {
        c["document"]["id"]: api("GET", f"/v1/documents/{c['document']['id']}").json["status"]
        for c in (stale_multi, stale_single, recent)
    }
    assert status == {
        stale_multi["document"]["id"]: "expired",
        stale_single["document"]["id"]: "expired",
        recent["document"]["id"]: "pending",
    }
    uploads = {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])}
    assert stale_multi["upload"]["upload_id"] not in uploads
    assert recent["upload"]["upload_id"] in uploads
    versions = s3.list_object_versions(Bucket=s3_bucket, Prefix=form["fields"]["key"])
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    # And each expiry is in the dossier's history, by the expiry function
    history = api("GET", f"/v1/dossiers/{dossier['id']}/history").json["items"]
    expired = {e["entity_id"]: e["actor"] for e in history if e["action"] == "document.upload_expired"}
    assert expired == {
        stale_multi["document"]["id"]: "upload-expiry",
        stale_single["document"]["id"]: "upload-expiry",
    }
    # And a second run changes nothing
    assert expiry() == {"expired": 0, "removed_versions": 0, "aborted_uploads": 0}


def test_old_multipart_uploads_no_pending_document_references_are_aborted(
    api: Caller, dossier: dict, expiry: Any, s3_server: Any, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = s3_client_for(s3_server)
    # Given a multipart upload under the documents prefix that no document references, and one
    # of a pending document
    orphan = s3.create_multipart_upload(Bucket=s3_bucket, Key="documents/x/y/orphan.bin")["UploadId"]
    kept = register(api, dossier, 11 * MIB, "kept.bin")
    # When the function runs while both are younger than the age
    assert expiry()["aborted_uploads"] == 0
    # Then both are kept; and when it runs a day later (the pending document's upload restarted
    # since, so it is not stale), only the orphan is aborted
    import patronus.services.expiry as expiry_module

    later = utcnow() + MAX_AGE + timedelta(hours=1)
    monkeypatch.setattr(expiry_module, "utcnow", lambda: later)
    age(kept["document"]["id"], -(MAX_AGE + timedelta(hours=1)))  # its last activity: "later"
    assert expiry() == {"expired": 0, "removed_versions": 0, "aborted_uploads": 1}
    uploads = {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])}
    assert orphan not in uploads and kept["upload"]["upload_id"] in uploads
