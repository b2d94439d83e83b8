"""Faults: the database connection killed between and during requests, the database server
restarted, the S3 emulator down. The database and the S3 server here are private to this module
(they are killed and stopped), so no other test is disturbed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from patronus.settings import DatabaseSettings, Settings, StorageSettings
from scripts.devstack.database import connect, ensure_database, migrate_url
from tests.hardening.servers import PrivateMariaDB, PrivateSeaweedFS
from tests.integration.conftest import Caller, Reply, make_caller

INTERNALS = ("pymysql", "Lost connection", "MySQL", "MariaDB", "Traceback", "botocore", "127.0.0.1", "Errno")


def assert_clean_503(reply: Reply) -> None:
    assert reply.status == 503, reply.body
    assert int(reply.headers["retry-after"]) > 0
    assert reply.json["error"]["code"] == "unavailable"
    assert not [word for word in INTERNALS if word.lower() in reply.body.decode().lower()], reply.body


# -- the database --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateMariaDB]:
    server = PrivateMariaDB(tmp_path_factory.mktemp("private-mariadb"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_db_url(private_mariadb: PrivateMariaDB) -> str:
    if private_mariadb.process is None:  # a test that stopped it failed before restarting it
        private_mariadb.restart()
    url = ensure_database(private_mariadb.url, f"f_{uuid.uuid4().hex[:10]}")
    migrate_url(url)
    return url


@pytest.fixture
def db_api(
    private_db_url: str, s3_server: Any, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Caller]:
    settings = Settings(
        environment="test",
        database=DatabaseSettings.from_url(private_db_url),
        storage=StorageSettings(bucket=s3_bucket, endpoint_url=s3_server.endpoint),
    )
    yield make_caller(settings, monkeypatch)
    from patronus_api.runtime import runtime

    runtime.db.close()


def kill_api_session(db_url: str) -> int:
    """KILL the API's database session from another connection, as a failover or an idle
    timeout would end it; returns the killed session id."""
    from patronus_api.runtime import runtime

    connection = runtime.db._connection
    assert connection is not None and connection.open
    session_id = connection.thread_id()
    admin = connect(db_url)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"KILL {int(session_id)}")
    finally:
        admin.close()
    return int(session_id)


def count(db_url: str, sql: str, *params: object) -> int:
    connection = connect(db_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.fetchone()["n"])
    finally:
        connection.close()


def create_dossier(api: Caller, reference: str, **headers: str) -> Reply:
    return api("POST", "/v1/dossiers", {"reference": reference, "title": "Fault test"}, headers=headers)


def test_a_session_killed_between_requests_is_replaced_silently(db_api: Caller, private_db_url: str) -> None:
    # Given a warm connection that served a request
    dossier = create_dossier(db_api, "KILL-1").json
    assert db_api("GET", f"/v1/dossiers/{dossier['id']}").status == 200
    # When the server kills that session between two requests
    killed = kill_api_session(private_db_url)
    # Then the next requests succeed, on a new session
    assert db_api("GET", f"/v1/dossiers/{dossier['id']}").status == 200
    assert create_dossier(db_api, "KILL-2").status == 201
    from patronus_api.runtime import runtime

    assert runtime.db._connection is not None and runtime.db._connection.thread_id() != killed


def _kill_before(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, db_url: str) -> Callable[[], int]:
    """Make ``module.name`` kill the API's session just before it runs (once)."""
    original = getattr(module, name)
    calls: list[int] = []

    def killing(*args: Any, **kwargs: Any) -> Any:
        if not calls:
            calls.append(kill_api_session(db_url))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, killing)
    return lambda: len(calls)


def test_a_read_that_meets_a_killed_session_answers_503_then_the_next_succeeds(
    db_api: Caller, private_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a dossier, and its session killed inside the next read transaction
    dossier = create_dossier(db_api, "KILL-READ").json
    from patronus.repositories import dossiers

    killed = _kill_before(monkeypatch, dossiers, "get_by_public_id", private_db_url)
    # When it is read
    reply = db_api("GET", f"/v1/dossiers/{dossier['id']}")
    # Then a clean 503 with Retry-After, and the following request succeeds
    assert killed() == 1
    assert_clean_503(reply)
    assert db_api("GET", f"/v1/dossiers/{dossier['id']}").status == 200


@pytest.mark.parametrize("idempotency_key", [None, "retry-me-1"])
def test_a_create_killed_between_the_dossier_and_the_audit_insert_leaves_nothing(
    db_api: Caller, private_db_url: str, monkeypatch: pytest.MonkeyPatch, idempotency_key: str | None
) -> None:
    # Given the session killed after the dossier INSERT, before the audit INSERT
    from patronus.repositories import audit

    record = audit.record
    killed = _kill_before(monkeypatch, audit, "record", private_db_url)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    # When a dossier is created
    reply = create_dossier(db_api, "HALF-1", **headers)
    # Then the client gets a clean 503 and neither row (nor the idempotency key) remains
    assert killed() == 1
    assert_clean_503(reply)
    assert count(private_db_url, "SELECT COUNT(*) AS n FROM dossiers WHERE reference = %s", "HALF-1") == 0
    assert count(private_db_url, "SELECT COUNT(*) AS n FROM audit_events") == 0
    assert count(private_db_url, "SELECT COUNT(*) AS n FROM idempotency_keys") == 0
    # And the client's retry creates it exactly once, with its audit event
    monkeypatch.setattr(audit, "record", record)
    retried = create_dossier(db_api, "HALF-1", **headers)
    assert retried.status == 201, retried.body
    assert "idempotent-replayed" not in retried.headers
    assert count(private_db_url, "SELECT COUNT(*) AS n FROM dossiers WHERE reference = %s", "HALF-1") == 1
    assert count(private_db_url, "SELECT COUNT(*) AS n FROM audit_events") == 1


def test_a_database_restart_gives_503_while_down_then_service_resumes(
    db_api: Caller, private_db_url: str, private_mariadb: PrivateMariaDB
) -> None:
    # Given a warm connection
    dossier = create_dossier(db_api, "RESTART-1").json
    assert db_api("GET", f"/v1/dossiers/{dossier['id']}").status == 200
    # When the database server stops
    private_mariadb.stop()
    try:
        # Then reads, writes and the health check answer a clean 503 with Retry-After
        assert_clean_503(db_api("GET", f"/v1/dossiers/{dossier['id']}"))
        assert_clean_503(create_dossier(db_api, "RESTART-2"))
        assert_clean_503(db_api("GET", "/health", user=None))
    finally:
        # And once it is back (same port, same data), the service resumes without a restart
        private_mariadb.restart()
    assert db_api("GET", f"/v1/dossiers/{dossier['id']}").status == 200
    assert create_dossier(db_api, "RESTART-2").status == 201
    assert db_api("GET", "/health", user=None).status == 200


def test_s3_events_meeting_a_dead_database_fail_for_a_retry_then_succeed(
    db_api: Caller, private_db_url: str, private_mariadb: PrivateMariaDB
) -> None:
    from patronus.errors import Unavailable
    from patronus_api.runtime import runtime
    from patronus_document_events import handler as events_handler
    from patronus_document_events.runtime import runtime as events_runtime
    from scripts.devstack.gateway import LambdaContext
    from scripts.devstack.s3events import object_created_event

    # Given a pending document and the document_events function on the same database
    events_runtime.configure(runtime.settings)
    dossier = create_dossier(db_api, "EVENTS-1").json
    created = db_api(
        "POST",
        f"/v1/dossiers/{dossier['id']}/documents",
        {"filename": "e.pdf", "content_type": "application/pdf", "size_bytes": 5},
    ).json
    upload = created["upload"]
    # whose bytes S3 holds (the function checks the object, not only the event)
    files = {"file": ("e.pdf", b"%PDF-", "application/pdf")}
    posted = requests.post(upload["url"], data=upload["fields"], files=files, timeout=30)
    assert posted.status_code in (200, 204)
    key = upload["fields"]["key"]
    event = object_created_event(runtime.settings.storage.bucket, key, 5, "0" * 32)
    context = LambdaContext(function_name="document-events")
    try:
        # When its "Object Created" event arrives while the database is down
        private_mariadb.stop()
        try:
            # Then the function fails, so that EventBridge delivers the event again
            with pytest.raises(Unavailable):
                events_handler.handler(event, context)
        finally:
            private_mariadb.restart()
        # And the re-delivery, once the database is back, makes the document available
        assert events_handler.handler(event, context) == {"outcome": "made_available"}
        assert db_api("GET", f"/v1/documents/{created['document']['id']}").json["status"] == "available"
    finally:
        events_runtime.close()


# -- the S3 emulator -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateSeaweedFS]:
    server = PrivateSeaweedFS(Path(tmp_path_factory.mktemp("private-seaweedfs")))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_api(
    database_url: str, private_s3: PrivateSeaweedFS, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Caller]:
    if private_s3.process is None:  # a test that stopped it failed before restarting it
        private_s3.restart()
    bucket = f"f-{uuid.uuid4().hex[:12]}"
    client = private_s3.client()
    client.create_bucket(Bucket=bucket)
    # Versioned, as the documents bucket is in AWS: documents are pinned to their object version
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    settings = Settings(
        environment="test",
        database=DatabaseSettings.from_url(database_url),
        storage=StorageSettings(
            bucket=bucket,
            endpoint_url=private_s3.endpoint,
            multipart_threshold=5 * 1024 * 1024,
            multipart_part_size=5 * 1024 * 1024,
        ),
    )
    yield make_caller(settings, monkeypatch)
    from patronus_api.runtime import runtime

    runtime.db.close()


def test_with_s3_down_only_the_routes_that_call_s3_answer_503(
    s3_api: Caller, private_s3: PrivateSeaweedFS, database_url: str
) -> None:
    # Given a dossier with an available document, a pending one and a pending multipart one
    dossier = create_dossier(s3_api, "S3-DOWN").json
    documents = f"/v1/dossiers/{dossier['id']}/documents"
    data = b"%PDF-1.7 stored before the outage"
    available = s3_api(
        "POST", documents, {"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": len(data)}
    ).json
    upload = available["upload"]
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("a.pdf", data, "application/pdf")}, timeout=30
    )
    assert posted.status_code in (200, 204)
    assert (
        s3_api("POST", f"/v1/documents/{available['document']['id']}/complete").json["status"] == "available"
    )
    pending = s3_api("POST", documents, {"filename": "p.pdf", "size_bytes": 10}).json["document"]
    multipart = s3_api("POST", documents, {"filename": "big.bin", "size_bytes": 12 * 1024 * 1024}).json
    assert multipart["upload"]["method"] == "MULTIPART"
    rows_before = count(database_url, "SELECT COUNT(*) AS n FROM documents")

    # When the S3 emulator is down
    private_s3.stop()
    try:
        # Then the routes that call S3 answer a clean 503 with Retry-After ...
        assert_clean_503(s3_api("POST", documents, {"filename": "big2.bin", "size_bytes": 12 * 1024 * 1024}))
        assert_clean_503(s3_api("POST", f"/v1/documents/{multipart['document']['id']}/complete"))
        assert_clean_503(s3_api("POST", f"/v1/documents/{pending['id']}/complete"))
        assert_clean_503(s3_api("DELETE", f"/v1/documents/{pending['id']}", groups=("admins",)))
        # ... having stored nothing; the delete recorded the document deleted first (never an
        # available document without bytes) and leaves its storage part to the retry below
        assert count(database_url, "SELECT COUNT(*) AS n FROM documents") == rows_before
        assert s3_api("GET", f"/v1/documents/{pending['id']}").status == 404
        # And every route that only signs or reads the database keeps working
        reader = ("readers",)
        assert s3_api("GET", f"/v1/dossiers/{dossier['id']}", groups=reader).status == 200
        assert s3_api("GET", "/v1/dossiers", groups=reader).status == 200
        assert s3_api("GET", f"/v1/dossiers/{dossier['id']}/history", groups=reader).status == 200
        assert s3_api("GET", documents, groups=reader).json["items"]
        assert s3_api("GET", f"/v1/documents/{available['document']['id']}", groups=reader).status == 200
        download = s3_api("GET", f"/v1/documents/{available['document']['id']}/download", groups=reader)
        assert download.status == 200 and download.json["url"].startswith(private_s3.endpoint)
        small = s3_api("POST", documents, {"filename": "later.pdf", "size_bytes": 5})
        assert small.status == 201 and small.json["upload"]["method"] == "POST"
        assert create_dossier(s3_api, "S3-DOWN-2").status == 201
        assert s3_api("GET", "/health", user=None).status == 200
    finally:
        private_s3.restart()
    # And once S3 is back, the same calls succeed: the retried delete finishes
    assert s3_api("DELETE", f"/v1/documents/{pending['id']}", groups=("admins",)).status == 204


def test_error_bodies_are_json_error_objects(db_api: Caller) -> None:
    # Given any failing request; Then the body is the documented error object
    reply = db_api("GET", f"/v1/dossiers/{uuid.uuid4().hex}")
    assert reply.status == 404
    assert set(json.loads(reply.body)) == {"error"}
