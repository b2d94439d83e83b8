"""Pure logic of the patronus package and the API helpers."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from patronus.db import Database, split_statements
from patronus.errors import BadRequest, Unavailable
from patronus.models import Principal, Role
from patronus.settings import DatabaseSettings, Settings, SettingsError
from patronus.storage import content_disposition, document_key, safe_name
from patronus_api import cursors
from patronus_api.auth import parse_groups, principal_from_event


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\My File (1).docx", "My_File_1_.docx"),
        ("Relevé été.pdf", "Releve_ete.pdf"),
        ("日本語.txt", "txt"),
        ("\x00\x1f", "file"),
        (".htaccess", "htaccess"),
    ],
)
def test_safe_name(given: str, expected: str) -> None:
    assert safe_name(given) == expected


def test_safe_name_cuts_long_names_but_keeps_the_extension() -> None:
    name = safe_name("a" * 500 + ".pdf")
    assert len(name) == 120 and name.endswith(".pdf")


def test_document_key_is_scoped_to_dossier_and_document() -> None:
    assert document_key("d" * 32, "e" * 32, "../x.pdf") == f"documents/{'d' * 32}/{'e' * 32}/x.pdf"


def test_content_disposition_keeps_the_unicode_name_and_has_an_ascii_fallback() -> None:
    header = content_disposition('Relevé "été"\n.pdf')
    assert header.startswith('attachment; filename="Releve_ete_.pdf"')
    assert "filename*=UTF-8''Relev%C3%A9%20%22%C3%A9t%C3%A9%22.pdf" in header
    assert "\n" not in header


def test_cursor_round_trip_and_forgeries() -> None:
    assert cursors.decode(cursors.encode(42)) == 42
    assert cursors.encode(None) is None and cursors.decode(None) is None
    for forged in ("!!!", "aGVsbG8", cursors.encode(0), "azE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5"):
        with pytest.raises(BadRequest):
            cursors.decode(forged)


@pytest.mark.parametrize(
    ("claim", "groups"),
    [
        ("editors", {"editors"}),
        ("editors,readers", {"editors", "readers"}),
        ("[admins editors]", {"admins", "editors"}),
        (["readers"], {"readers"}),
        (None, set()),
    ],
)
def test_groups_claim_formats(claim: Any, groups: set[str]) -> None:
    assert parse_groups(claim) == groups


def test_roles_are_cumulative_and_unknown_groups_give_nothing() -> None:
    admin = Principal(subject="a", groups=frozenset({"admins"}), units=frozenset({"unit-test"}))
    assert admin.has(Role.READER) and admin.has(Role.EDITOR) and admin.has(Role.ADMIN)
    stranger = Principal(subject="s", groups=frozenset({"guests"}))
    assert not stranger.has(Role.READER)


def test_principal_needs_a_subject() -> None:
    from patronus.errors import Unauthorized

    with pytest.raises(Unauthorized):
        principal_from_event({"requestContext": {"authorizer": {"claims": {}}}})


def test_settings_from_environment_name_the_missing_variable() -> None:
    with pytest.raises(SettingsError, match="PATRONUS_BUCKET"):
        Settings.from_env({"PATRONUS_DB_URL": "mysql://u@h/db"})
    with pytest.raises(SettingsError, match="upload_url_ttl"):
        Settings.from_env(
            {"PATRONUS_DB_URL": "mysql://u@h/db", "PATRONUS_BUCKET": "bkt", "PATRONUS_UPLOAD_URL_TTL": "1"}
        )


def test_settings_for_aws() -> None:
    settings = Settings.from_env(
        {
            "PATRONUS_DB_HOST": "proxy.example",
            "PATRONUS_DB_USER": "patronus_app",
            "PATRONUS_DB_IAM_AUTH": "true",
            "PATRONUS_DB_TLS": "true",
            "PATRONUS_BUCKET": "documents-bucket",
            "AWS_REGION": "eu-west-3",
        }
    )
    assert settings.database.iam_auth and settings.database.tls and settings.database.name == "patronus"
    assert settings.storage.region == "eu-west-3" and settings.storage.endpoint_url is None


def test_iam_token_is_reused_then_refreshed_before_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    settings = DatabaseSettings(host="h", user="u", name="n", iam_auth=True)

    def factory(_: DatabaseSettings) -> str:
        made.append(1)
        return f"token-{len(made)}"

    clock = [1000.0]
    monkeypatch.setattr("patronus.db.time.monotonic", lambda: clock[0])
    db = Database(settings, token_factory=factory)
    assert db._password() == "token-1"
    clock[0] += 9 * 60
    assert db._password() == "token-1"
    clock[0] += 2 * 60
    assert db._password() == "token-2"


def test_real_iam_token_is_signed_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    from patronus.db import rds_iam_token

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")

    token = rds_iam_token(
        DatabaseSettings(host="proxy.example", port=3306, user="app", name="n"), "eu-west-3"
    )
    assert token.startswith("proxy.example:3306/?Action=connect") and "X-Amz-Signature=" in token


def test_split_statements_respects_quotes_and_comments() -> None:
    sql = "CREATE TABLE a (x TEXT DEFAULT ';'); -- c;\n/* ; */ INSERT INTO a VALUES ('it''s; ok');"
    assert split_statements(sql) == [
        "CREATE TABLE a (x TEXT DEFAULT ';')",
        "INSERT INTO a VALUES ('it''s; ok')",
    ]


def test_database_timeouts_and_retry_after_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "PATRONUS_DB_HOST": "cluster.example",
            "PATRONUS_DB_USER": "patronus_app",
            "PATRONUS_DB_CONNECT_TIMEOUT": "20",
            "PATRONUS_DB_RETRY_AFTER": "15",
            "PATRONUS_BUCKET": "documents-bucket",
        }
    )
    assert (settings.database.connect_timeout, settings.database.retry_after) == (20, 15)
    with pytest.raises(SettingsError, match="retry_after"):
        Settings.from_env(
            {"PATRONUS_DB_URL": "mysql://u@h/db", "PATRONUS_BUCKET": "b", "PATRONUS_DB_RETRY_AFTER": "0"}
        )


def test_a_database_that_takes_the_connection_but_does_not_answer_is_unavailable_with_retry_after() -> None:
    # Given a server that accepts TCP connections and never sends its greeting (as a database
    # still resuming from a pause may do), and a short connect timeout
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        settings = DatabaseSettings(
            host="127.0.0.1", port=port, user="u", name="n", password="p", connect_timeout=0.3, retry_after=15
        )
        started = time.monotonic()
        # When a unit of work needs a connection
        with pytest.raises(Unavailable) as raised, Database(settings).reading():
            pass
        elapsed = time.monotonic() - started
    # Then it gives up after the connect timeout, not the 30-second query timeout, and tells
    # the client when to come back (the API answers 503 with this Retry-After)
    assert elapsed < 3
    assert raised.value.retry_after == 15


@pytest.mark.parametrize(
    ("declared", "served"),
    [
        ("text/html", "application/octet-stream"),
        ("TEXT/HTML; charset=utf-8", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("text/xml", "application/octet-stream"),
        ("application/javascript", "application/octet-stream"),
        ("application/vnd.foo+xml", "application/octet-stream"),
        ("multipart/related", "application/octet-stream"),
        ("application/pdf", "application/pdf"),
        ("image/png", "image/png"),
        ("text/plain", "text/plain"),
    ],
)
def test_active_content_is_served_as_opaque_bytes(declared: str, served: str) -> None:
    from patronus.storage import served_content_type

    assert served_content_type(declared) == served
