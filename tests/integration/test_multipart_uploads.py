"""Multipart uploads: signed part sizes, pages of part URLs, restart, abandon (real SeaweedFS)."""

from __future__ import annotations

import hashlib
import os
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import s3_client_for
from tests.integration.conftest import Caller

MIB = 1024 * 1024
PART = 5 * MIB  # the harness's part size (api_settings)


@pytest.fixture
def dossier(api: Caller) -> dict:
    reply = api("POST", "/v1/dossiers", {"reference": "MP-1", "title": "Large files"})
    assert reply.status == 201
    return reply.json


def register(api: Caller, dossier: dict, size: int, filename: str = "scan.tiff") -> dict:
    reply = api(
        "POST",
        f"/v1/dossiers/{dossier['id']}/documents",
        {"filename": filename, "content_type": "image/tiff", "size_bytes": size},
    )
    assert reply.status == 201, reply.body
    return reply.json


def put(url: str, body: bytes) -> requests.Response:
    return requests.put(url, data=body, timeout=60)


def chunk(data: bytes, number: int) -> bytes:
    return data[(number - 1) * PART : number * PART]


def signed_headers(url: str) -> list[str]:
    return parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")


def test_part_urls_sign_their_exact_size_and_the_storage_refuses_another(api: Caller, dossier: dict) -> None:
    # Given an 11 MiB file: parts of 5, 5 and 1 MiB
    data = os.urandom(11 * MIB)
    created = register(api, dossier, len(data))
    upload = created["upload"]
    first, _, last = upload["parts"]
    # Then each URL signs the content-length header
    assert all("content-length" in signed_headers(p["url"]) for p in upload["parts"])
    # When a part is sent with more or fewer bytes than its size, the storage refuses it
    assert put(first["url"], os.urandom(8 * MIB)).status_code == 403
    assert put(first["url"], chunk(data, 1)[:-1]).status_code == 403
    assert put(last["url"], chunk(data, 2)).status_code == 403  # a full part where the remainder goes
    # And exact bodies are taken, and the upload completes whole
    for part in upload["parts"]:
        assert put(part["url"], chunk(data, part["part_number"])).status_code == 200
    completed = api("POST", f"/v1/documents/{created['document']['id']}/complete")
    assert completed.status == 200 and completed.json["status"] == "available"
    assert completed.json["size_bytes"] == len(data)


def test_ten_thousand_declared_parts_answer_one_small_page_fast(api: Caller, dossier: dict) -> None:
    # Given a file that needs the most parts S3 allows, the last one 123 bytes
    size = 9_999 * PART + 123
    # When it is registered
    started = time.monotonic()
    reply = api(
        "POST",
        f"/v1/dossiers/{dossier['id']}/documents",
        {"filename": "huge.bin", "content_type": "application/octet-stream", "size_bytes": size},
    )
    elapsed = time.monotonic() - started
    # Then the answer holds the first 100 URLs and the part count, in a few kilobytes, quickly
    assert reply.status == 201, reply.body
    upload = reply.json["upload"]
    assert upload["part_count"] == 10_000
    assert [p["part_number"] for p in upload["parts"]] == list(range(1, 101))
    assert upload["next_part"] == 101
    assert len(reply.body) < 100_000
    assert elapsed < 3
    document_id = reply.json["document"]["id"]
    # And the following pages come from the parts route, the last one without a next page
    page = api("GET", f"/v1/documents/{document_id}/parts", query={"from": "101"})
    assert page.status == 200, page.body
    assert [p["part_number"] for p in page.json["parts"]] == list(range(101, 201))
    assert page.json["next_part"] == 201 and page.json["upload_id"] == upload["upload_id"]
    tail = api("GET", f"/v1/documents/{document_id}/parts", query={"from": "9951"})
    assert [p["part_number"] for p in tail.json["parts"]] == list(range(9951, 10_001))
    assert tail.json["next_part"] is None
    # And the last URL signs the remainder: 123 bytes are taken, 124 refused
    last_url = tail.json["parts"][-1]["url"]
    assert put(last_url, b"z" * 124).status_code == 403
    assert put(last_url, b"z" * 123).status_code == 200
    # And a part number past the end is refused
    assert api("GET", f"/v1/documents/{document_id}/parts", query={"from": "10001"}).status == 400


def test_part_urls_are_issued_again_for_any_part(api: Caller, dossier: dict) -> None:
    # Given a multipart upload whose first part was sent
    data = os.urandom(11 * MIB)
    created = register(api, dossier, len(data))
    document_id = created["document"]["id"]
    assert put(created["upload"]["parts"][0]["url"], chunk(data, 1)).status_code == 200
    # When the URLs of parts 2 and 3 are asked again (e.g. they expired)
    again = api("GET", f"/v1/documents/{document_id}/parts", query={"from": "2", "limit": "2"})
    assert again.status == 200
    assert [p["part_number"] for p in again.json["parts"]] == [2, 3]
    # Then the new URLs work and the upload completes whole
    for part in again.json["parts"]:
        assert put(part["url"], chunk(data, part["part_number"])).status_code == 200
    completed = api("POST", f"/v1/documents/{document_id}/complete")
    assert completed.status == 200 and completed.json["status"] == "available"
    url = api("GET", f"/v1/documents/{document_id}/download").json["url"]
    assert hashlib.sha256(requests.get(url, timeout=60).content).digest() == hashlib.sha256(data).digest()
    # And once available, there are no part URLs any more
    assert api("GET", f"/v1/documents/{document_id}/parts").status == 409


def test_part_urls_only_for_editors_of_a_pending_multipart_upload(api: Caller, dossier: dict) -> None:
    multipart = register(api, dossier, 11 * MIB)["document"]["id"]
    single = register(api, dossier, 1000, "small.pdf")["document"]["id"]
    assert api("GET", f"/v1/documents/{multipart}/parts", groups=("readers",)).status == 403
    assert api("GET", f"/v1/documents/{multipart}/parts", units=("unit-other",)).status == 404
    assert api("GET", f"/v1/documents/{single}/parts").status == 409


def test_abandoning_an_upload_aborts_it_and_expires_the_document(
    api: Caller, dossier: dict, s3_server, s3_bucket: str
) -> None:
    # Given a multipart upload with one part sent
    data = os.urandom(11 * MIB)
    created = register(api, dossier, len(data))
    document_id, upload = created["document"]["id"], created["upload"]
    assert put(upload["parts"][0]["url"], chunk(data, 1)).status_code == 200
    # When the uploader abandons it (a reader may not)
    assert api("DELETE", f"/v1/documents/{document_id}/upload", groups=("readers",)).status == 403
    reply = api("DELETE", f"/v1/documents/{document_id}/upload")
    # Then the document is expired, the storage holds no upload, and a part is refused
    assert reply.status == 204, reply.body
    assert api("GET", f"/v1/documents/{document_id}").json["status"] == "expired"
    s3 = s3_client_for(s3_server)
    uploads = s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert upload["upload_id"] not in {u["UploadId"] for u in uploads}
    assert put(upload["parts"][1]["url"], chunk(data, 2)).status_code == 404
    # And it is in the dossier's history
    history = api("GET", f"/v1/dossiers/{dossier['id']}/history").json["items"]
    expired = [e for e in history if e["action"] == "document.upload_expired"]
    assert expired and expired[0]["entity_id"] == document_id
    assert expired[0]["details"]["reason"] == "abandoned"
    # And abandoning again is harmless; the expired document cannot be restarted or completed
    assert api("DELETE", f"/v1/documents/{document_id}/upload").status == 204
    assert api("POST", f"/v1/documents/{document_id}/upload").status == 409
    assert api("GET", f"/v1/documents/{document_id}/parts").status == 409


def test_an_available_document_has_no_upload_to_abandon(api: Caller, dossier: dict) -> None:
    created = register(api, dossier, 1000, "small.pdf")
    form = created["upload"]
    assert requests.post(form["url"], data=form["fields"], files={"file": ("b", b"x" * 1000)}, timeout=30).ok
    assert api("POST", f"/v1/documents/{created['document']['id']}/complete").status == 200
    assert api("DELETE", f"/v1/documents/{created['document']['id']}/upload").status == 409


def test_a_discarded_multipart_upload_can_be_restarted(api: Caller, dossier: dict) -> None:
    # Given a multipart upload completed with a part missing (10 of the 11 MiB declared)
    data = os.urandom(11 * MIB)
    created = register(api, dossier, len(data))
    document_id, upload = created["document"]["id"], created["upload"]
    for part in upload["parts"][:2]:
        assert put(part["url"], chunk(data, part["part_number"])).status_code == 200
    discarded = api("POST", f"/v1/documents/{document_id}/complete")
    assert discarded.status == 409 and "restart the upload" in discarded.json["error"]["message"]
    # When the upload is restarted
    restarted = api("POST", f"/v1/documents/{document_id}/upload")
    # Then it is a new multipart upload, and sending every part makes the document available
    assert restarted.status == 200, restarted.body
    fresh = restarted.json
    assert fresh["method"] == "MULTIPART" and fresh["upload_id"] != upload["upload_id"]
    assert fresh["part_count"] == 3 and fresh["next_part"] is None
    for part in fresh["parts"]:
        assert put(part["url"], chunk(data, part["part_number"])).status_code == 200
    completed = api("POST", f"/v1/documents/{document_id}/complete")
    assert completed.status == 200 and completed.json["status"] == "available"
    url = api("GET", f"/v1/documents/{document_id}/download").json["url"]
    assert hashlib.sha256(requests.get(url, timeout=60).content).digest() == hashlib.sha256(data).digest()
    history = api("GET", f"/v1/dossiers/{dossier['id']}/history").json["items"]
    assert "document.upload_restarted" in {e["action"] for e in history}


def test_a_single_upload_can_be_restarted_with_a_fresh_form(api: Caller, dossier: dict) -> None:
    # Given a small document whose upload form was lost
    data = b"%PDF-1.7 " + os.urandom(2000)
    created = register(api, dossier, len(data), "lost.pdf")
    document_id = created["document"]["id"]
    # When the upload is restarted
    restarted = api("POST", f"/v1/documents/{document_id}/upload")
    # Then a fresh form uploads the bytes, and only exactly the declared size
    assert restarted.status == 200 and restarted.json["method"] == "POST"
    form = restarted.json
    too_big = requests.post(form["url"], data=form["fields"], files={"file": ("b", data + b"!")}, timeout=30)
    assert too_big.status_code == 400
    sent = requests.post(form["url"], data=form["fields"], files={"file": ("b", data)}, timeout=30)
    assert sent.status_code in (200, 204)
    completed = api("POST", f"/v1/documents/{document_id}/complete")
    assert completed.status == 200 and completed.json["status"] == "available"
    assert completed.json["size_bytes"] == len(data)
