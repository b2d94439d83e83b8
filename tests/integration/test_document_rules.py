"""What a dossier's status allows its documents, decided under lock; deletes that are retry-safe."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from scripts.devstack.database import connect
from tests.integration.conftest import Caller


@pytest.fixture
def dossier(api: Caller) -> dict[str, Any]:
    reply = api("POST", "/v1/dossiers", {"reference": "RULES-1", "title": "State rules"})
    assert reply.status == 201
    return dict(reply.json)


def register(api: Caller, dossier: dict[str, Any], data: bytes) -> dict[str, Any]:
    reply = api(
        "POST",
        f"/v1/dossiers/{dossier['id']}/documents",
        {"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": len(data)},
    )
    assert reply.status == 201, reply.body
    return dict(reply.json)


def post_form(upload: dict[str, Any], data: bytes) -> int:
    files = {"file": ("a.pdf", data, "application/pdf")}
    return requests.post(upload["url"], data=upload["fields"], files=files, timeout=30).status_code


def test_an_archived_dossier_is_read_only_for_its_documents(api: Caller, dossier: dict[str, Any]) -> None:
    # Given an uploaded but unconfirmed document, and an available one
    pending = register(api, dossier, b"pending bytes")
    assert post_form(pending["upload"], b"pending bytes") in (200, 204)
    done = register(api, dossier, b"done bytes")
    assert post_form(done["upload"], b"done bytes") in (200, 204)
    assert api("POST", f"/v1/documents/{done['document']['id']}/complete").json["status"] == "available"
    # When the dossier is archived
    assert api("DELETE", f"/v1/dossiers/{dossier['id']}", groups=("admins",)).status == 200
    # Then nothing about its documents changes any more
    assert api("POST", f"/v1/documents/{pending['document']['id']}/complete").status == 409
    assert api("GET", f"/v1/documents/{pending['document']['id']}").json["status"] == "pending"
    assert api("DELETE", f"/v1/documents/{done['document']['id']}", groups=("admins",)).status == 409
    assert api("GET", f"/v1/documents/{done['document']['id']}").json["status"] == "available"
    refused = api("POST", f"/v1/dossiers/{dossier['id']}/documents", {"filename": "b.pdf", "size_bytes": 1})
    assert refused.status == 409


def test_a_closed_dossier_takes_no_new_document_but_lets_uploads_finish(
    api: Caller, dossier: dict[str, Any]
) -> None:
    pending = register(api, dossier, b"in flight")
    assert post_form(pending["upload"], b"in flight") in (200, 204)
    closed = api("PATCH", f"/v1/dossiers/{dossier['id']}", {"status": "closed"}, headers={"If-Match": '"1"'})
    assert closed.status == 200
    refused = api("POST", f"/v1/dossiers/{dossier['id']}/documents", {"filename": "b.pdf", "size_bytes": 1})
    assert refused.status == 409
    assert api("POST", f"/v1/documents/{pending['document']['id']}/complete").json["status"] == "available"


def test_registration_waits_for_an_archive_in_progress_and_then_is_refused(
    api: Caller, dossier: dict[str, Any], database_url: str
) -> None:
    # Given an archive in progress: the dossier's row locked for update and changed, not committed
    archiver = connect(database_url)
    archiver.autocommit(False)
    with archiver.cursor() as cursor:
        cursor.execute("SELECT id FROM dossiers WHERE public_id = %s FOR UPDATE", (dossier["id"],))
        cursor.execute("UPDATE dossiers SET status = 'archived' WHERE public_id = %s", (dossier["id"],))
    replies: list[Any] = []
    # When a registration arrives meanwhile
    worker = threading.Thread(
        target=lambda: replies.append(
            api("POST", f"/v1/dossiers/{dossier['id']}/documents", {"filename": "late.pdf", "size_bytes": 3})
        )
    )
    worker.start()
    assert _a_transaction_waits_for_a_lock(database_url), "the registration did not wait for the archive"
    assert not replies
    archiver.commit()
    archiver.close()
    worker.join(timeout=30)
    # Then it is decided on the archived status: refused, and no document exists
    assert replies and replies[0].status == 409, replies
    listed = api("GET", f"/v1/dossiers/{dossier['id']}/documents")
    assert listed.json["items"] == []


def _a_transaction_waits_for_a_lock(database_url: str, timeout: float = 10.0) -> bool:
    watcher = connect(database_url)
    try:
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            with watcher.cursor() as cursor:
                cursor.execute(
                    "SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'"
                )
                if cursor.fetchone()["n"]:
                    return True
        return False
    finally:
        watcher.close()


def test_a_failed_storage_delete_leaves_a_deleted_document_and_a_retry_finishes(
    api: Caller, dossier: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from patronus.errors import Unavailable
    from patronus_api.runtime import runtime

    document = register(api, dossier, b"to delete")
    assert post_form(document["upload"], b"to delete") in (200, 204)
    api("POST", f"/v1/documents/{document['document']['id']}/complete")
    path = f"/v1/documents/{document['document']['id']}"
    # Given a storage that fails the delete once
    real_delete = runtime.storage.delete

    def failing(key: str) -> None:
        raise Unavailable("the document storage cannot be reached")

    monkeypatch.setattr(runtime.storage, "delete", failing)
    # When the delete is asked: 503, and the document is no longer available (never without bytes)
    assert api("DELETE", path, groups=("admins",)).status == 503
    assert api("GET", path).status == 404
    history = api("GET", f"/v1/dossiers/{dossier['id']}/history").json["items"]
    assert [e["action"] for e in history].count("document.deleted") == 1
    # And the retry finishes the storage part
    monkeypatch.setattr(runtime.storage, "delete", real_delete)
    assert api("DELETE", path, groups=("admins",)).status == 204
    head = runtime.storage.head(
        runtime.storage.settings.bucket and f"documents/{dossier['id']}/{document['document']['id']}/a.pdf"
    )
    assert head is None
