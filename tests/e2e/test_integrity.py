"""Document integrity over real HTTP on the local stack: the API through the local gateway, the
bytes through presigned forms to SeaweedFS, and SeaweedFS's own "Object Created" notifications
relayed to the document_events function (nothing here hands an event to a function itself).

* An attacker who still holds a document's upload form, or S3 credentials, writes other bytes to
  its key once it is available: downloads keep serving the verified version, the intruding
  version is removed from the bucket and the history shows ``document.tamper_attempt``.
* A declared SHA-256 that the bytes do not have is refused by S3 itself.
* Bytes that arrive after their dossier was archived do not make the document available.
* A notification for bytes that are no longer stored does not make the document available.
* A delete the database cannot finish leaves the document available with its bytes current, and
  its retry deletes it whole.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from scripts.devstack.database import connect
from scripts.devstack.seaweedfs import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY
from tests.conftest import LocalStack

T = TypeVar("T")
RELAY_WAIT = 30.0  # seconds for SeaweedFS's notification to reach the function over a loaded machine


def poll(read: Callable[[], T], done: Callable[[T], bool], timeout: float = RELAY_WAIT) -> T:
    """``read()`` until ``done`` holds for its value or ``timeout`` passes; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


class Client:
    """An editor (and, for archives, an admin) of the local stack, over HTTP."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.editor = stack.auth()
        self.admin = stack.auth("root", ("admins",))

    def call(self, method: str, path: str, *, admin: bool = False, **kwargs: Any) -> requests.Response:
        headers = {**(self.admin if admin else self.editor), **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.stack.url}{path}", headers=headers, timeout=30, **kwargs)

    def dossier(self, reference: str) -> str:
        reply = self.call("POST", "/v1/dossiers", json={"reference": reference, "title": "Integrity"})
        assert reply.status_code == 201, reply.text
        return str(reply.json()["id"])

    def register(self, dossier_id: str, data: bytes, **extra: Any) -> dict[str, Any]:
        body = {"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": len(data), **extra}
        reply = self.call("POST", f"/v1/dossiers/{dossier_id}/documents", json=body)
        assert reply.status_code == 201, reply.text
        return dict(reply.json())

    def document(self, document_id: str) -> dict[str, Any]:
        reply = self.call("GET", f"/v1/documents/{document_id}")
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    def wait_status(self, document_id: str, status: str) -> dict[str, Any]:
        return poll(lambda: self.document(document_id), lambda d: d["status"] == status)

    def history(self, dossier_id: str) -> list[dict[str, Any]]:
        reply = self.call("GET", f"/v1/dossiers/{dossier_id}/history", params={"limit": 100})
        assert reply.status_code == 200, reply.text
        return list(reply.json()["items"])

    def uploaded(self, reference: str, data: bytes) -> tuple[str, dict[str, Any]]:
        """A new dossier with a document holding ``data``, available through the relay."""
        dossier_id = self.dossier(reference)
        created = self.register(dossier_id, data)
        assert post_form(created["upload"], data).status_code == 204
        document = self.wait_status(created["document"]["id"], "available")
        assert document["status"] == "available", document
        return dossier_id, created


def post_form(upload: dict[str, Any], data: bytes) -> requests.Response:
    files = {"file": ("a.pdf", data, "application/pdf")}
    return requests.post(upload["url"], data=upload["fields"], files=files, timeout=30)


def s3_of(upload: dict[str, Any]) -> tuple[Any, str]:
    """A boto3 client with the local S3 credentials for the server of ``upload``, and its bucket
    (the form's URL is path-style: <endpoint>/<bucket>)."""
    import boto3
    from botocore.config import Config

    parts = urlsplit(upload["url"])
    client = boto3.client(
        "s3",
        endpoint_url=f"{parts.scheme}://{parts.netloc}",
        aws_access_key_id=LOCAL_ACCESS_KEY,
        aws_secret_access_key=LOCAL_SECRET_KEY,
        region_name="eu-west-3",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    return client, parts.path.strip("/")


def versions_of(s3: Any, bucket: str, key: str) -> set[str]:
    listed = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    return {str(v["VersionId"]) for v in listed if v["Key"] == key}


def tamper_attempts(client: Client, dossier_id: str) -> list[dict[str, Any]]:
    return [e for e in client.history(dossier_id) if e["action"] == "document.tamper_attempt"]


# The attacker re-posts the document's upload form ("form": it is still valid, so S3 takes it,
# as it would in AWS) or PUTs with the S3 credentials ("put").
@pytest.mark.parametrize("attacker", ["form", "put"])
def test_bytes_written_over_an_available_document_are_removed_and_never_served(
    local_stack: LocalStack, attacker: str
) -> None:
    client = Client(local_stack)
    # Given an available document, its bytes verified in one version of its key
    original = os.urandom(4096)
    dossier_id, created = client.uploaded(f"TAMPER-{attacker}", original)
    document_id, upload = created["document"]["id"], created["upload"]
    key = upload["fields"]["key"]
    s3, bucket = s3_of(upload)
    verified = versions_of(s3, bucket, key)
    assert len(verified) == 1, verified

    # When an attacker writes other bytes of the same size to the same key
    swapped = os.urandom(len(original))
    if attacker == "form":
        reposted = post_form(upload, swapped)
        assert reposted.status_code == 204, reposted.text
    else:
        s3.put_object(Bucket=bucket, Key=key, Body=swapped, ContentType="application/pdf")
    written = versions_of(s3, bucket, key) - verified
    # (the relay may already have removed it: then the audit below names it)

    # Then SeaweedFS's notification reaches the function, which records a tamper attempt
    attempts = poll(lambda: tamper_attempts(client, dossier_id), bool)
    assert len(attempts) == 1, client.history(dossier_id)
    intruder = attempts[0]["details"]["version_id"]
    assert intruder not in verified and written <= {intruder}, (intruder, verified, written)
    assert attempts[0]["details"]["removed"] is True and attempts[0]["entity_id"] == document_id
    # And the intruding version is gone from the bucket: only the verified one is left
    assert versions_of(s3, bucket, key) == verified
    # And the document still is the verified bytes, downloaded from the verified version
    document = client.document(document_id)
    assert document["status"] == "available" and document["size_bytes"] == len(original)
    download = client.call("GET", f"/v1/documents/{document_id}/download")
    assert download.status_code == 200, download.text
    url = download.json()["url"]
    assert parse_qs(urlsplit(url).query).get("versionId") == sorted(verified), url
    fetched = requests.get(url, timeout=30)
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.content).digest() == hashlib.sha256(original).digest()


def test_a_wrong_declared_sha256_is_refused_by_s3_and_the_document_never_becomes_available(
    local_stack: LocalStack,
) -> None:
    client = Client(local_stack)
    # Given a document declared with the SHA-256 of other bytes
    data = b"the bytes that are sent"
    dossier_id = client.dossier("SHA-WRONG")
    created = client.register(dossier_id, data, sha256=hashlib.sha256(b"other bytes").hexdigest())
    document_id = created["document"]["id"]
    # When its form is posted with the bytes
    refused = post_form(created["upload"], data)
    # Then S3 itself refuses them
    assert refused.status_code == 400 and b"BadDigest" in refused.content, refused.content
    s3, bucket = s3_of(created["upload"])
    assert versions_of(s3, bucket, created["upload"]["fields"]["key"]) == set()
    # And the document stays pending: nothing to complete, no hash shown
    complete = client.call("POST", f"/v1/documents/{document_id}/complete")
    assert complete.status_code == 409, complete.text
    document = client.document(document_id)
    assert document["status"] == "pending" and document["sha256"] is None


def test_the_right_bytes_for_a_declared_sha256_become_available_with_the_verified_hash(
    local_stack: LocalStack,
) -> None:
    client = Client(local_stack)
    data = os.urandom(1000)
    digest = hashlib.sha256(data).hexdigest()
    dossier_id = client.dossier("SHA-RIGHT")
    created = client.register(dossier_id, data, sha256=digest)
    assert post_form(created["upload"], data).status_code == 204
    document = client.wait_status(created["document"]["id"], "available")
    assert document["status"] == "available" and document["sha256"] == digest, document


def test_bytes_arriving_after_their_dossier_was_archived_leave_the_document_pending(
    local_stack: LocalStack,
) -> None:
    client = Client(local_stack)
    # Given a registered document whose dossier is then archived
    data = b"late bytes"
    dossier_id = client.dossier("ARCHIVED-LATE")
    late = client.register(dossier_id, data)
    archived = client.call("DELETE", f"/v1/dossiers/{dossier_id}", admin=True)
    assert archived.status_code == 200, archived.text
    # When its bytes reach S3 afterwards (the form is still valid) and the relay reports them,
    # which it has done once an upload sent after them has become available
    assert post_form(late["upload"], data).status_code == 204
    client.uploaded("ARCHIVED-LATE-BARRIER", b"sent after")
    # Then the archived dossier's document did not change
    document = client.document(late["document"]["id"])
    assert document["status"] == "pending", document
    assert "document.available" not in [e["action"] for e in client.history(dossier_id)]


def test_a_notification_for_bytes_already_gone_leaves_the_document_pending(local_stack: LocalStack) -> None:
    client = Client(local_stack)
    # Given the relay held up on an earlier upload: its dossier's row locked as an archive would
    blocker_dossier = client.dossier("GONE-BLOCKER")
    blocker = client.register(blocker_dossier, b"held up")
    target = client.register(client.dossier("GONE-TARGET"), b"gone bytes")
    key = target["upload"]["fields"]["key"]
    s3, bucket = s3_of(target["upload"])
    archiver = connect(local_stack.db_url)
    try:
        archiver.autocommit(False)
        with archiver.cursor() as cursor:
            cursor.execute("SELECT id FROM dossiers WHERE public_id = %s FOR UPDATE", (blocker_dossier,))
        assert post_form(blocker["upload"], b"held up").status_code == 204
        # When the target's bytes are stored, then removed before the relay reports them
        assert post_form(target["upload"], b"gone bytes").status_code == 204
        for version in versions_of(s3, bucket, key):
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
        assert versions_of(s3, bucket, key) == set()
    finally:
        archiver.rollback()
        archiver.close()
    # Then the relay goes on (the blocker becomes available) and, once an upload sent after both
    # is available, the notification for the missing bytes has made nothing available
    assert client.wait_status(blocker["document"]["id"], "available")["status"] == "available"
    client.uploaded("GONE-BARRIER", b"sent after")
    document = client.document(target["document"]["id"])
    assert document["status"] == "pending", document
    assert client.call("POST", f"/v1/documents/{target['document']['id']}/complete").status_code == 409


def test_a_delete_the_database_cannot_finish_leaves_the_document_whole(local_stack: LocalStack) -> None:
    client = Client(local_stack)
    # Given an available document
    original = os.urandom(2048)
    dossier_id, created = client.uploaded("DELETE-HALF", original)
    document_id = created["document"]["id"]
    s3, bucket = s3_of(created["upload"])
    key = created["upload"]["fields"]["key"]
    # When an administrator deletes it while the database cannot finish the delete's transaction
    # (its dossier's row held by another session, as a long archive would)
    holder = connect(local_stack.db_url)
    try:
        holder.autocommit(False)
        with holder.cursor() as cursor:
            cursor.execute("SELECT id FROM dossiers WHERE public_id = %s FOR UPDATE", (dossier_id,))
        refused = client.call("DELETE", f"/v1/documents/{document_id}", admin=True)
    finally:
        holder.rollback()
        holder.close()
    # Then the delete failed as a retryable server answer, before touching the stored bytes
    assert refused.status_code in (503, 504), refused.text
    # (still the current object: a delete marker would leave its version to the lifecycle rule
    # that expires noncurrent versions, an available document soon without bytes)
    current = s3.head_object(Bucket=bucket, Key=key)
    assert current["ContentLength"] == len(original), current
    # And the document is still available, its download serves its bytes, nothing says deleted
    assert client.document(document_id)["status"] == "available"
    download = client.call("GET", f"/v1/documents/{document_id}/download")
    assert download.status_code == 200, download.text
    assert requests.get(download.json()["url"], timeout=30).content == original
    assert "document.deleted" not in [e["action"] for e in client.history(dossier_id)]
    # And the same delete, retried once the database can finish it, deletes it whole
    retried = client.call("DELETE", f"/v1/documents/{document_id}", admin=True)
    assert retried.status_code == 204, retried.text
    assert client.call("GET", f"/v1/documents/{document_id}").status_code == 404
    assert "document.deleted" in [e["action"] for e in client.history(dossier_id)]
