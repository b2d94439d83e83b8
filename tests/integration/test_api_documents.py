"""Document routes: real presigned uploads to SeaweedFS, events, downloads, deletes."""

from __future__ import annotations

import hashlib
import os
from urllib.parse import unquote

import pytest
import requests

from scripts.devstack.s3events import object_created_event
from tests.conftest import s3_client_for
from tests.integration.conftest import Caller


@pytest.fixture
def dossier(api: Caller) -> dict:
    reply = api("POST", "/v1/dossiers", {"reference": "DOC-1", "title": "With documents"})
    assert reply.status == 201
    return reply.json


def request_upload(
    api: Caller, dossier: dict, filename: str, data: bytes, content_type: str = "application/pdf"
) -> dict:
    reply = api(
        "POST",
        f"/v1/dossiers/{dossier['id']}/documents",
        {"filename": filename, "content_type": content_type, "size_bytes": len(data)},
    )
    assert reply.status == 201, reply.body
    return reply.json


def post_form(upload: dict, data: bytes, content_type: str = "application/pdf") -> requests.Response:
    return requests.post(
        upload["url"], data=upload["fields"], files={"file": ("blob", data, content_type)}, timeout=30
    )


def test_presigned_post_upload_then_complete_then_download_identical(api: Caller, dossier: dict) -> None:
    # Given a registered upload
    data = os.urandom(300_000)
    created = request_upload(api, dossier, "rapport annuel.pdf", data)
    assert created["upload"]["method"] == "POST"
    assert created["document"]["status"] == "pending"
    # When the client uploads the bytes to S3 and confirms
    assert post_form(created["upload"], data).status_code in (200, 204)
    completed = api("POST", f"/v1/documents/{created['document']['id']}/complete")
    # Then the document is available and downloads identical
    assert completed.status == 200 and completed.json["status"] == "available"
    download = api("GET", f"/v1/documents/{created['document']['id']}/download", groups=("readers",))
    assert download.status == 200
    fetched = requests.get(download.json["url"], timeout=30)
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.content).digest() == hashlib.sha256(data).digest()


def test_upload_larger_than_declared_is_refused_by_s3(api: Caller, dossier: dict) -> None:
    created = request_upload(api, dossier, "small.pdf", b"x" * 1000)
    refused = post_form(created["upload"], b"x" * 1001)
    assert refused.status_code == 400
    assert b"EntityTooLarge" in refused.content or b"content-length" in refused.content.lower()
    assert api("POST", f"/v1/documents/{created['document']['id']}/complete").status == 409


def test_upload_with_another_content_type_is_refused(api: Caller, dossier: dict) -> None:
    created = request_upload(api, dossier, "a.pdf", b"%PDF-1.7")
    fields = dict(created["upload"]["fields"], **{"Content-Type": "text/html"})
    refused = requests.post(
        created["upload"]["url"], data=fields, files={"file": ("a", b"%PDF-1.7", "text/html")}, timeout=30
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "filename",
    [
        "../../etc/passwd",
        "..\\..\\windows\\system32\\cmd.exe",
        "Relevé d'identité bancaire été 2024 — ünïcödé 日本語.pdf",
        "tab\there\nnewline\x01\x7f.txt",
        "n" * 300 + ".docx",
        "....",
    ],
)
def test_unsafe_filenames_become_safe_keys_and_the_name_is_kept_for_download(
    api: Caller, dossier: dict, filename: str
) -> None:
    # Given a file with a hostile or awkward name
    data = b"content of " + filename.encode("utf-8", "replace")
    reply = api(
        "POST",
        f"/v1/dossiers/{dossier['id']}/documents",
        {"filename": filename, "content_type": "application/octet-stream", "size_bytes": len(data)},
    )
    if filename == "....":
        assert reply.status == 400
        return
    assert reply.status == 201, reply.body
    created = reply.json
    key = created["upload"]["fields"]["key"]
    # Then the S3 key stays inside the document's own prefix and is plain ASCII of bounded length
    prefix = f"documents/{dossier['id']}/{created['document']['id']}/"
    assert key.startswith(prefix)
    name = key[len(prefix) :]
    assert "/" not in name and ".." not in name and name.isascii() and len(name) <= 120
    assert all(c.isalnum() or c in "._-" for c in name)
    # And the original name is kept and given back on download
    assert created["document"]["filename"] == filename
    assert post_form(created["upload"], data, "application/octet-stream").status_code in (200, 204)
    assert api("POST", f"/v1/documents/{created['document']['id']}/complete").status == 200
    url = api("GET", f"/v1/documents/{created['document']['id']}/download").json["url"]
    fetched = requests.get(url, timeout=30)
    assert fetched.content == data
    disposition = fetched.headers["Content-Disposition"]
    assert "\n" not in disposition and "\r" not in disposition
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    printable = "".join(c for c in filename if c.isprintable() or c == " ").replace("\\", "/").split("/")[-1]
    assert unquote(encoded) == printable


def test_multipart_upload_for_large_files(api: Caller, dossier: dict) -> None:
    # Given a file above the multipart threshold (8 MiB in tests; parts of 5 MiB)
    data = os.urandom(11 * 1024 * 1024)
    created = request_upload(api, dossier, "scan.tiff", data, "image/tiff")
    upload = created["upload"]
    assert upload["method"] == "MULTIPART" and len(upload["parts"]) == 3
    # When each part is PUT to its presigned URL and the upload completed through the API
    size = upload["part_size"]
    for part in upload["parts"]:
        chunk = data[(part["part_number"] - 1) * size : part["part_number"] * size]
        assert requests.put(part["url"], data=chunk, timeout=60).status_code == 200
    completed = api("POST", f"/v1/documents/{created['document']['id']}/complete")
    # Then the object is whole and downloads identical
    assert completed.status == 200 and completed.json["status"] == "available"
    url = api("GET", f"/v1/documents/{created['document']['id']}/download").json["url"]
    assert hashlib.sha256(requests.get(url, timeout=60).content).digest() == hashlib.sha256(data).digest()


def test_object_created_event_makes_the_document_available_once(
    api: Caller, dossier: dict, api_settings, s3_server
) -> None:
    from patronus_document_events import handler as events_handler
    from patronus_document_events.runtime import runtime as events_runtime
    from scripts.devstack.gateway import LambdaContext

    events_runtime.configure(api_settings)
    data = b"event-driven"
    created = request_upload(api, dossier, "e.pdf", data)
    assert post_form(created["upload"], data).status_code in (200, 204)
    key = created["upload"]["fields"]["key"]
    head = s3_client_for(s3_server).head_object(Bucket=api_settings.storage.bucket, Key=key)
    event = object_created_event(api_settings.storage.bucket, key, len(data), head["ETag"].strip('"'))
    # When the event arrives twice
    first = events_handler.handler(event, LambdaContext(function_name="document-events"))
    second = events_handler.handler(event, LambdaContext(function_name="document-events"))
    # Then the first makes the document available, the re-delivery changes nothing
    assert first == {"outcome": "made_available"} and second == {"outcome": "already_done"}
    document = api("GET", f"/v1/documents/{created['document']['id']}").json
    assert document["status"] == "available" and document["etag"] == head["ETag"].strip('"')
    history = api("GET", f"/v1/dossiers/{dossier['id']}/history").json["items"]
    assert [e["action"] for e in history].count("document.available") == 1
    # And an unknown key is ignored
    stray = object_created_event(api_settings.storage.bucket, "documents/unknown/key.bin", 3, "abc")
    assert events_handler.handler(stray, LambdaContext())["outcome"] == "unknown_key"


def test_delete_is_for_admins_and_keeps_the_object_version(
    api: Caller, dossier: dict, api_settings, s3_server
) -> None:
    data = b"keep me"
    created = request_upload(api, dossier, "k.pdf", data)
    post_form(created["upload"], data)
    document_path = f"/v1/documents/{created['document']['id']}"
    api("POST", f"{document_path}/complete")
    assert api("DELETE", document_path, groups=("editors",)).status == 403
    assert api("DELETE", document_path, groups=("admins",)).status == 204
    assert api("GET", document_path).status == 404
    assert api("GET", f"/v1/dossiers/{dossier['id']}/documents").json["items"] == []
    versions = s3_client_for(s3_server).list_object_versions(
        Bucket=api_settings.storage.bucket, Prefix=created["upload"]["fields"]["key"]
    )
    assert len(versions.get("Versions", [])) == 1 and len(versions.get("DeleteMarkers", [])) == 1


def test_download_of_a_pending_document_is_409_and_listing_shows_it(api: Caller, dossier: dict) -> None:
    created = request_upload(api, dossier, "p.pdf", b"pending")
    assert api("GET", f"/v1/documents/{created['document']['id']}/download").status == 409
    items = api("GET", f"/v1/dossiers/{dossier['id']}/documents", groups=("readers",)).json["items"]
    assert [d["id"] for d in items] == [created["document"]["id"]]


def test_documents_cannot_be_added_to_an_archived_dossier(api: Caller, dossier: dict) -> None:
    api("DELETE", f"/v1/dossiers/{dossier['id']}", groups=("admins",))
    reply = api("POST", f"/v1/dossiers/{dossier['id']}/documents", {"filename": "a", "size_bytes": 1})
    assert reply.status == 409


def test_declared_size_above_the_limit_is_400(api: Caller, dossier: dict) -> None:
    reply = api(
        "POST",
        f"/v1/dossiers/{dossier['id']}/documents",
        {"filename": "huge.iso", "size_bytes": 6 * 1024**4},
    )
    assert reply.status == 400
    assert reply.json["error"]["details"][0]["field"] == "body.size_bytes"
