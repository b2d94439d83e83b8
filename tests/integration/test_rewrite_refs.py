"""rewrite_refs against SeaweedFS and MariaDB: legacy tables created in the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts import rewrite_refs
from scripts.devstack.database import connect
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS
from scripts.operator_tools import toolkit
from tests.conftest import s3_client_for

KEYS = [
    "legacy/Clients/Dupont/Contrat signé.pdf",
    "legacy/Clients/Dupont/annexe.PDF",
    "legacy/Projects/2024/plan.dwg",
    "legacy/divers/Note.txt",
    "legacy/divers/note.TXT",  # differs only by case from the one above: ambiguous for SMB
    "legacy/orphelin/jamais cité.pdf",
]
ATTACHMENTS = {
    1: r"\\10.0.20.1\share\Clients\Dupont\Contrat signé.pdf",
    2: r"\\10.0.20.1\SHARE\clients\DUPONT\ANNEXE.pdf",  # SMB matches names case-insensitively
    3: "//10.0.20.1/share/Projects/2024/plan.dwg",
    4: r"S:\Clients\Dupont\absent.pdf",  # dangling: no such object
    5: r"\\10.0.20.1\share\divers\NOTE.txt",  # ambiguous
    6: r"\\10.0.20.1\share\Clients\..\secret.pdf",  # refused
    7: "https://intranet/doc.pdf",  # not a path
    8: None,
    9: r"\\10.0.20.2\autre\fichier.pdf",  # a path, but not on the migrated share
}
NOTES = {  # a composite primary key
    (10, 1): r"p:\2024\plan.dwg",
    (10, 2): r"\\filesrv\share\Clients\Dupont\Contrat signé.pdf",
}


@pytest.fixture
def client(s3_server: ThrowawaySeaweedFS) -> Any:
    return s3_client_for(s3_server)


@pytest.fixture
def bucket(client: Any, s3_bucket: str) -> str:
    for key in KEYS:
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
    client.put_object(Bucket=s3_bucket, Key="legacy/Clients/", Body=b"")  # a folder marker
    return s3_bucket


@pytest.fixture
def legacy_db(database_url: str) -> str:
    """Two legacy tables referring to the share, in the test database (dropped with it)."""
    connection = connect(database_url)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE attachments (id INT PRIMARY KEY, path VARCHAR(500) NULL)")
        cursor.executemany("INSERT INTO attachments VALUES (%s, %s)", list(ATTACHMENTS.items()))
        cursor.execute(
            "CREATE TABLE notes (doc_id INT, rev INT, file_ref TEXT, PRIMARY KEY (doc_id, rev)) "
            "DEFAULT CHARSET=latin1"
        )
        cursor.executemany("INSERT INTO notes VALUES (%s, %s, %s)", [(*k, v) for k, v in NOTES.items()])
    connection.close()
    return database_url


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "rewrite.toml"
    path.write_text(
        "columns = ['attachments.path', 'notes.file_ref']\n"
        "share_roots = ['\\\\10.0.20.1\\share', '\\\\FILESRV\\share']\n"
        "[drives]\nS = '\\\\10.0.20.1\\share'\nP = '\\\\10.0.20.1\\share\\Projects'\n",
        encoding="utf-8",
    )
    return path


def query(database_url: str, sql: str) -> list[dict[str, Any]]:
    connection = connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())
    finally:
        connection.close()


def attachments(url: str) -> dict[int, str | None]:
    return {r["id"]: r["path"] for r in query(url, "SELECT id, path FROM attachments")}


def notes(url: str) -> dict[tuple[int, int], str]:
    return {(r["doc_id"], r["rev"]): r["file_ref"] for r in query(url, "SELECT * FROM notes")}


def run(client: Any, args: list[str]) -> int:
    return toolkit.run(lambda a: rewrite_refs.main(a, client=client), args)


def base(bucket: str, url: str, config: Path, tmp_path: Path) -> list[str]:
    return [
        "--bucket", bucket, "--database-url", url, "--config", str(config), "--no-progress",
        "--report", str(tmp_path / "report.json"), "--rollback-file", str(tmp_path / "rollback.jsonl"),
    ]  # fmt: skip


def report(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))


def test_dry_run_prints_the_plan_and_changes_nothing(
    tmp_path: Path, client: Any, bucket: str, legacy_db: str, config_file: Path, capsys: Any
) -> None:
    # When the rewrite is planned
    code = run(client, [*base(bucket, legacy_db, config_file, tmp_path), "--dry-run"])
    # Then the plan is printed, the findings reported, and the tables are untouched
    out = capsys.readouterr().out
    result = report(tmp_path)
    assert code == toolkit.EXIT_FAILED  # some references do not resolve
    assert "DRY RUN" in out and "'legacy/Projects/2024/plan.dwg'" in out
    assert {(p["table"], p["new"]) for p in result["plan"]} == {
        ("attachments", "legacy/Clients/Dupont/Contrat signé.pdf"),
        ("attachments", "legacy/Clients/Dupont/annexe.PDF"),
        ("attachments", "legacy/Projects/2024/plan.dwg"),
        ("notes", "legacy/Projects/2024/plan.dwg"),
        ("notes", "legacy/Clients/Dupont/Contrat signé.pdf"),
    }
    assert attachments(legacy_db) == ATTACHMENTS
    assert notes(legacy_db) == NOTES
    assert not (tmp_path / "rollback.jsonl").exists()


def test_rewrite_reports_dangling_and_orphans_is_idempotent_and_rolls_back(
    tmp_path: Path, client: Any, bucket: str, legacy_db: str, config_file: Path
) -> None:
    # When the references are rewritten
    code = run(client, base(bucket, legacy_db, config_file, tmp_path))

    # Then resolvable paths become the keys of the objects (the objects' case, as SMB resolves names)
    result = report(tmp_path)
    assert code == toolkit.EXIT_FAILED
    after = attachments(legacy_db)
    assert after == {
        **ATTACHMENTS,
        1: "legacy/Clients/Dupont/Contrat signé.pdf",
        2: "legacy/Clients/Dupont/annexe.PDF",
        3: "legacy/Projects/2024/plan.dwg",
    }
    assert notes(legacy_db) == {
        (10, 1): "legacy/Projects/2024/plan.dwg",
        (10, 2): "legacy/Clients/Dupont/Contrat signé.pdf",
    }
    # ... the dangling, ambiguous, refused and foreign references are reported and left alone
    findings = {kind: [f["primary_key"] for f in items] for kind, items in result["findings"].items()}
    assert findings == {
        "dangling": [{"id": 4}],
        "ambiguous": [{"id": 5}],
        "invalid": [{"id": 6}],
        "unmapped": [{"id": 9}],
        "too_long": [],
    }
    assert result["findings"]["dangling"][0]["expected_key"] == "legacy/Clients/Dupont/absent.pdf"
    # ... and the objects nothing refers to are reported as orphans
    assert set(result["orphans"]["keys"]) == {
        "legacy/divers/Note.txt",
        "legacy/divers/note.TXT",
        "legacy/orphelin/jamais cité.pdf",
    }
    # ... with one rollback line per change: table, primary key, column, old and new value
    lines = [
        json.loads(line) for line in (tmp_path / "rollback.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(lines) == 5
    assert {"table": "notes", "primary_key": {"doc_id": 10, "rev": 1}, "column": "file_ref"}.items() <= next(
        line for line in lines if line["table"] == "notes" and line["primary_key"]["rev"] == 1
    ).items()

    # When it runs a second time, Then nothing changes (already rewritten values are recognised)
    (tmp_path / "rollback.jsonl").rename(tmp_path / "first-rollback.jsonl")
    run(client, base(bucket, legacy_db, config_file, tmp_path))
    second = report(tmp_path)
    assert attachments(legacy_db) == after
    assert sum(c.get("rewritten", 0) for c in second["columns"].values()) == 0
    assert second["columns"]["attachments.path"]["already_rewritten"] == 3
    assert not (tmp_path / "rollback.jsonl").exists()

    # When someone edits a rewritten row, then the rollback runs
    connection = connect(legacy_db)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE attachments SET path = 'edited by hand' WHERE id = 3")
    connection.close()
    code = run(client, ["--database-url", legacy_db, "--rollback", str(tmp_path / "first-rollback.jsonl")])

    # Then every old value is back, except where the value is no longer the one written
    assert code == toolkit.EXIT_OK
    assert attachments(legacy_db) == {**ATTACHMENTS, 3: "edited by hand"}
    assert notes(legacy_db) == NOTES


def test_force_rewrites_dangling_references_and_they_stay_reported(
    tmp_path: Path, client: Any, bucket: str, legacy_db: str, config_file: Path
) -> None:
    # When forced
    run(client, [*base(bucket, legacy_db, config_file, tmp_path), "--force", "--column", "attachments.path"])
    # Then the dangling reference is rewritten to the key it would have, and still reported
    assert attachments(legacy_db)[4] == "legacy/Clients/Dupont/absent.pdf"
    assert [f["primary_key"] for f in report(tmp_path)["findings"]["dangling"]] == [{"id": 4}]
    # And a later run reports it again: it points to nothing
    run(client, [*base(bucket, legacy_db, config_file, tmp_path), "--column", "attachments.path"])
    assert [f["value"] for f in report(tmp_path)["findings"]["dangling"]] == [
        "legacy/Clients/Dupont/absent.pdf"
    ]


def test_bad_columns_are_clear_errors(
    tmp_path: Path, client: Any, bucket: str, legacy_db: str, config_file: Path, capsys: Any
) -> None:
    connection = connect(legacy_db)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE nokey (path VARCHAR(100))")
    connection.close()
    args = base(bucket, legacy_db, config_file, tmp_path)
    assert run(client, [*args, "--column", "nokey.path"]) == toolkit.EXIT_USAGE
    assert run(client, [*args, "--column", "attachments.id"]) == toolkit.EXIT_USAGE
    assert run(client, [*args, "--column", "attachments;drop"]) == toolkit.EXIT_USAGE
    errors = capsys.readouterr().err
    assert "has no primary key" in errors and "not a text column" in errors and "Traceback" not in errors


FILE_URLS = {
    1: "file://10.0.20.1/share/Clients/Dupont/Contrat%20sign%C3%A9.pdf",  # host form, percent-encoded
    2: "file:///S:/Projects/2024/plan.dwg",  # a mapped drive
    3: "file://///10.0.20.1/share/Clients/Dupont/annexe.PDF",  # UNC in a file URL (five slashes)
    4: "FILE://localhost/S:/Clients/Dupont/absent.pdf",  # dangling
    5: "file:///Z:/elsewhere/x.pdf",  # a drive nobody mapped
    6: "see \\\\10.0.20.1\\share\\Clients\\Dupont\\annexe.PDF for the scan",  # inside other text
    7: "https://intranet/doc.pdf",  # not a reference to the share
}


def test_file_urls_are_decoded_and_mapped_and_no_reference_to_the_share_is_left_unsaid(
    tmp_path: Path, client: Any, bucket: str, database_url: str, config_file: Path, capsys: Any
) -> None:
    # Given a legacy column holding file:// references to the share, in every spelling
    connection = connect(database_url)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE links (id INT PRIMARY KEY, url VARCHAR(500))")
        cursor.executemany("INSERT INTO links VALUES (%s, %s)", list(FILE_URLS.items()))
    connection.close()
    # When they are rewritten
    code = run(client, [*base(bucket, database_url, config_file, tmp_path), "--column", "links.url"])
    # Then each one that names an object becomes its key
    rows = {r["id"]: r["url"] for r in query(database_url, "SELECT id, url FROM links")}
    assert rows[1] == "legacy/Clients/Dupont/Contrat signé.pdf"
    assert rows[2] == "legacy/Projects/2024/plan.dwg"
    assert rows[3] == "legacy/Clients/Dupont/annexe.PDF"
    # And the others are reported for what they are; the run does not claim full resolution
    findings = {
        kind: [f["primary_key"]["id"] for f in items] for kind, items in report(tmp_path)["findings"].items()
    }
    assert findings["dangling"] == [4]
    assert sorted(findings["unmapped"]) == [5, 6]
    assert code == toolkit.EXIT_FAILED
    assert "some references do not resolve" in capsys.readouterr().out
