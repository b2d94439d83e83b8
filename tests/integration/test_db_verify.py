"""db_verify against a real MariaDB: it must find every difference, and only real ones."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from scripts.db_import import main as import_main
from scripts.db_verify import main as verify_main
from scripts.devstack.database import connect, drop_database, ensure_database
from scripts.operator_tools.database.connection import parse_url
from scripts.operator_tools.database.verifier import Side, VerifyError
from scripts.operator_tools.toolkit import EXIT_FAILED, EXIT_OK, EXIT_USAGE, run

if TYPE_CHECKING:
    from tests.fixtures.legacy_db import LegacySource

pytest_plugins = ["tests.fixtures.legacy_db"]


@pytest.fixture
def copy_url(legacy_dump: Path, target_database: LegacySource, tmp_path: Path) -> str:
    """A faithful copy of the legacy stand-in, made with db_import."""
    code = run(import_main, [str(legacy_dump), "--url", target_database.url, "--no-progress"])
    assert code == EXIT_OK
    return target_database.url


def execute(url: str, *statements: str) -> None:
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


def verify(source: str, target: str, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "verify.json"
    code = run(verify_main, ["--source-url", source, "--target-url", target, "--report", str(report), *extra])
    return code, json.loads(report.read_text()) if report.exists() else {}


def details(report: dict[str, Any]) -> list[str]:
    return [f"{d['object']}: {d['detail']}" for d in report["differences"]]


def test_one_changed_row_and_one_changed_trigger_are_both_named(
    legacy_source: LegacySource, copy_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a faithful copy in which one row and one trigger were then changed
    execute(
        copy_url,
        "UPDATE customers SET notes = CONCAT(IFNULL(notes, ''), '!') WHERE id = 1234",
        "DROP TRIGGER trg_dossiers_before_update",
        "CREATE TRIGGER trg_dossiers_before_update BEFORE UPDATE ON dossiers FOR EACH ROW "
        "SET NEW.closed_at = NOW(3)",
    )
    # When db_verify compares source and copy with chunks of 500 rows
    code, report = verify(legacy_source.url, copy_url, tmp_path, "--chunk-size", "500")
    # Then it exits 1 and names exactly the trigger and the table, chunk, key range and row
    assert code == EXIT_FAILED
    assert report["equal"] is False
    assert [d["object"] for d in report["differences"]] == [
        "trigger trg_dossiers_before_update",
        "table customers",
    ]
    first = report["tables"]["customers"]["first_difference"]
    assert first["chunk"] == 3
    assert (first["from_exclusive"], first["to_inclusive"]) == ("1000", "1500")
    assert first["keys"] == ["id=1234 differs"]
    assert report["tables"]["customers"]["differing_chunks"] == 1
    out = capsys.readouterr().out
    assert "DIFFERENT: 2 difference(s)" in out and "id=1234 differs" in out


def test_the_copy_is_equal_and_definer_or_whitespace_changes_do_not_count(
    legacy_source: LegacySource, copy_url: str, tmp_path: Path
) -> None:
    # Given a copy whose trigger was re-created by another definer, with other line breaks and blanks
    execute(
        copy_url,
        "DROP TRIGGER trg_attachments_after_insert",
        "CREATE DEFINER = 'someone_else'@'%' TRIGGER trg_attachments_after_insert   "
        "AFTER INSERT ON attachments\n"
        "    FOR EACH ROW\nBEGIN\n\tINSERT INTO audit_log (happened_at, actor, action, payload)\n"
        "    VALUES (NOW(), 'trigger', 'attach',    CONCAT('file=', NEW.filename, ';'));\nEND",
    )
    # When compared in consistent snapshots, Then everything is equal
    code, report = verify(legacy_source.url, copy_url, tmp_path, "--consistent-snapshot")
    assert code == EXIT_OK, details(report)
    assert report["consistent_snapshot"] is True
    assert report["tables"]["audit_log"]["key"] == []  # no primary key: checked as a whole


def test_a_table_without_primary_key_is_checked_as_a_whole(
    legacy_source: LegacySource, copy_url: str, tmp_path: Path
) -> None:
    # Given the copy's key-less audit_log with one row changed (same row count)
    execute(copy_url, "UPDATE audit_log SET actor = 'intruder' WHERE actor = 'admin' LIMIT 1")
    # When verified, Then the content difference is found although the counts match
    code, report = verify(legacy_source.url, copy_url, tmp_path, "--checks", "rows,checksums")
    assert code == EXIT_FAILED
    assert details(report) == [
        "table audit_log: content differs (no primary or unique key: compared as a whole, order-independent)"
    ]


def test_a_removed_duplicate_row_is_found_in_a_table_without_key(
    legacy_source: LegacySource, copy_url: str, tmp_path: Path
) -> None:
    # Given one of two identical rows removed from the key-less table
    connection = connect(copy_url)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT happened_at, actor, action, payload FROM audit_log "
            "GROUP BY happened_at, actor, action, payload HAVING COUNT(*) > 1 LIMIT 1"
        )
        row = cursor.fetchone()
        cursor.execute(
            "DELETE FROM audit_log WHERE happened_at <=> %s AND actor <=> %s AND action <=> %s "
            "AND payload <=> %s LIMIT 1",
            (row["happened_at"], row["actor"], row["action"], row["payload"]),
        )
    connection.close()
    # When verified, Then both the count and the content differ
    code, report = verify(legacy_source.url, copy_url, tmp_path, "--checks", "rows,checksums")
    assert code == EXIT_FAILED
    assert [d["kind"] for d in report["differences"]] == ["row_count", "checksum"]


def test_schema_differences_are_named(legacy_source: LegacySource, copy_url: str, tmp_path: Path) -> None:
    # Given a copy with an index dropped, a column retyped, a view dropped and an extra table
    execute(
        copy_url,
        "ALTER TABLE customers DROP INDEX ix_customers_name",
        "ALTER TABLE settings MODIFY value VARCHAR(1000)",
        "DROP VIEW v_open_dossier_count",
        "CREATE TABLE stray (id INT PRIMARY KEY)",
    )
    # When only the structure and the objects are compared
    code, report = verify(legacy_source.url, copy_url, tmp_path, "--checks", "schema,objects")
    # Then each change is named
    assert code == EXIT_FAILED
    assert sorted(details(report)) == [
        "table customers: index ix_customers_name missing in the target",
        "table settings: column value: type 'varchar(2000)' != 'varchar(1000)'",
        "table stray: only in the target",
        "view v_open_dossier_count: missing in the target",
    ]


def test_a_consistent_snapshot_does_not_see_later_writes(legacy_source: LegacySource) -> None:
    # Given a verifier session opened with a consistent snapshot on the source
    spec = parse_url(legacy_source.url, role="source")
    side = Side(spec, consistent_snapshot=True)
    try:
        before = side.query("SELECT COUNT(*) FROM settings")[0][0]
        # When another session writes to the source afterwards
        execute(legacy_source.url, "INSERT INTO settings (name, value) VALUES ('zz.snapshot-probe', 'x')")
        # Then the snapshot still reads the state from its start
        assert side.query("SELECT COUNT(*) FROM settings")[0][0] == before
    finally:
        side.close()
        execute(legacy_source.url, "DELETE FROM settings WHERE name = 'zz.snapshot-probe'")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--source-url", "mysql://root@127.0.0.1:1/x", "--target-url", "mysql://root@127.0.0.1:1/y"],
            "cannot connect",
        ),
        (["--source-url", "mysql://root@127.0.0.1/x"], "name the target database"),
        (
            ["--source-url", "postgres://x@h/db", "--target-url", "mysql://root@h/y"],
            "must start with mysql://",
        ),
    ],
)
def test_usage_and_connection_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(verify_main, argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_bad_option_exits_2() -> None:
    with pytest.raises(SystemExit) as raised:
        verify_main(["--checks", "everything"])
    assert raised.value.code == 2


@pytest.fixture
def two_databases(mysql_server_url: str) -> Iterator[tuple[str, str]]:
    names = [f"verify_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    urls = [ensure_database(mysql_server_url, name) for name in names]
    try:
        yield urls[0], urls[1]
    finally:
        for name in names:
            drop_database(mysql_server_url, name)


def test_a_changed_byte_in_a_row_larger_than_max_allowed_packet_is_found(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    # Given a row of two blobs that together exceed the server's max_allowed_packet (each fits)
    source, target = two_databases
    connection = connect(source)
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@max_allowed_packet AS packet")
        size = int(cursor.fetchone()["packet"] * 0.6)
    connection.close()
    piece = bytes(range(256)) * 4096  # 1 MiB: small statements build the large values on the server
    for url in (source, target):
        execute(url, "CREATE TABLE scans (id INT PRIMARY KEY, front LONGBLOB, back LONGBLOB)")
        execute(url, "INSERT INTO scans VALUES (1, '', ''), (2, 'small', 'small')")
        connection = connect(url)
        with connection.cursor() as cursor:
            for _ in range(size // len(piece)):
                cursor.execute(
                    "UPDATE scans SET front = CONCAT(front, %s), back = CONCAT(back, %s) WHERE id = 1",
                    (piece, piece),
                )
        connection.close()
    # ... and one byte of the target's second blob changed
    execute(
        target, "UPDATE scans SET back = CONCAT(LEFT(back, 1000), 'X', SUBSTRING(back, 1002)) WHERE id = 1"
    )
    # When the databases are compared at the server's settings
    code, report = verify(source, target, tmp_path)
    # Then the row is named as different; nothing is said equal that was not compared
    assert code == EXIT_FAILED, report
    assert report["tables"]["scans"]["first_difference"]["keys"] == ["id=1 differs"]


def test_a_comparison_query_that_draws_a_warning_is_an_error_not_equal(
    two_databases: tuple[str, str],
) -> None:
    # Given a verifier session, When a comparison query draws a warning (a value converted)
    side = Side(parse_url(two_databases[0], role="source"), consistent_snapshot=False)
    try:
        with pytest.raises(VerifyError, match="drew 1 warning"):
            side.compare("SELECT CAST('12 apples' AS UNSIGNED)")
    finally:
        side.close()


def test_different_database_defaults_and_routine_collations_are_named(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    # Given the same routine created in a utf8mb4 database and in a latin1 one
    source, target = two_databases
    execute(target, "ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci")
    routine = (
        "CREATE FUNCTION shout(x VARCHAR(20)) RETURNS VARCHAR(40) DETERMINISTIC RETURN CONCAT(UPPER(x), '!')"
    )
    execute(source, routine)
    execute(target, routine)
    # When compared
    code, report = verify(source, target, tmp_path)
    # Then the database defaults and the routine's database collation are reported
    assert code == EXIT_FAILED
    found = details(report)
    assert any(d.startswith("database: default character set / collation utf8mb4") for d in found), found
    assert any(d.startswith("routine function shout: definitions differ") for d in found), found
