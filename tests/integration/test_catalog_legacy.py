"""catalog_legacy against SeaweedFS and MariaDB with the Patronus schema."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from scripts import catalog_legacy
from scripts.devstack.database import connect
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS
from scripts.operator_tools import toolkit
from scripts.operator_tools.documents.catalog import Catalog
from tests.conftest import s3_client_for

UNC = r"\\10.0.20.1\share"
OBJECTS = {
    "legacy/dossiers/D-2024-0001/Contrat signé.pdf": b"%PDF contract",
    "legacy/dossiers/D-2024-0001/annexes/plan.dwg": b"plan",
    "legacy/dossiers/D-2024-0002/lettre.docx": b"letter",
    "legacy/dossiers/D-1999-0007/ancien.txt": b"unknown dossier, no auto-create",
    "legacy/divers/Note de service.txt": b"no rule matches",
    "legacy/divers/vide.bin": b"",
    "legacy/divers/Thumbs.db": b"excluded",
}
CONFIG = """
[default_dossier]
reference = "LEGACY-IMPORT"
title = "Documents imported from the legacy share"

[[rules]]
pattern = '^dossiers/(?P<reference>D-2024-[0-9]+)/'
create_missing = true
title = "Legacy dossier {reference}"

[[rules]]
pattern = '^dossiers/(D-[0-9]{4}-[0-9]+)/'
"""


@pytest.fixture
def client(s3_server: ThrowawaySeaweedFS) -> Any:
    return s3_client_for(s3_server)


@pytest.fixture
def migrated(client: Any, s3_bucket: str) -> str:
    """The bucket after DataSync: the files, plus folder markers, one with a SHA-256 checksum."""
    for key, data in OBJECTS.items():
        extra = {"ChecksumAlgorithm": "SHA256"} if key.endswith("lettre.docx") else {}
        client.put_object(Bucket=s3_bucket, Key=key, Body=data, **extra)
    client.put_object(Bucket=s3_bucket, Key="legacy/dossiers/", Body=b"")
    client.put_object(Bucket=s3_bucket, Key="documents/not-legacy/x.pdf", Body=b"uploaded by the app")
    return s3_bucket


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def argv(bucket: str, database_url: str, config: Path, report: Path, *extra: str) -> list[str]:
    return [
        "--bucket", bucket, "--database-url", database_url, "--unc-root", UNC, "--config", str(config),
        "--report", str(report), "--no-progress", *extra,
    ]  # fmt: skip


def rows(database_url: str, sql: str) -> list[dict[str, Any]]:
    connection = connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())
    finally:
        connection.close()


def test_registers_every_object_once_with_its_dossier_audit_and_legacy_path(
    tmp_path: Path, client: Any, migrated: str, database_url: str, config_file: Path
) -> None:
    # Given the migrated objects, a rule that creates D-2024 dossiers and one that only matches existing ones
    report = tmp_path / "report.json"

    # When the catalog runs (with the SHA-256 S3 holds fetched)
    code = toolkit.run(
        lambda a: catalog_legacy.main(a, client=client),
        argv(migrated, database_url, config_file, report, "--fetch-checksums", "--batch-size", "2"),
    )

    # Then the six files are documents (not the folder marker, not Thumbs.db, not the app's own keys)
    result = json.loads(report.read_text())
    assert code == toolkit.EXIT_OK
    assert result["counts"]["registered"] == 6
    assert result["counts"]["excluded"] == 1 and result["counts"]["folder_markers"] == 1
    documents = {
        r["storage_key"]: r
        for r in rows(
            database_url,
            "SELECT d.*, s.reference FROM documents d JOIN dossiers s ON s.id = d.dossier_id",
        )
    }
    assert set(documents) == {k for k in OBJECTS if not k.endswith("Thumbs.db")}
    contract = documents["legacy/dossiers/D-2024-0001/Contrat signé.pdf"]
    assert contract["legacy_path"] == r"\\10.0.20.1\share\dossiers\D-2024-0001\Contrat signé.pdf"
    assert contract["filename"] == "Contrat signé.pdf"
    assert contract["content_type"] == "application/pdf"
    assert contract["status"] == "available" and contract["uploaded_by"] == "legacy-import"
    assert contract["size_bytes"] == len(OBJECTS["legacy/dossiers/D-2024-0001/Contrat signé.pdf"])
    assert len(contract["public_id"]) == 32
    assert (
        documents["legacy/dossiers/D-2024-0002/lettre.docx"]["sha256"]
        == hashlib.sha256(b"letter").hexdigest()
    )
    assert contract["sha256"] is None  # S3 holds no SHA-256 for it
    # ... each in the dossier its rule names, created when the rule allows, else the default dossier
    assert {k: r["reference"] for k, r in documents.items()} == {
        "legacy/dossiers/D-2024-0001/Contrat signé.pdf": "D-2024-0001",
        "legacy/dossiers/D-2024-0001/annexes/plan.dwg": "D-2024-0001",
        "legacy/dossiers/D-2024-0002/lettre.docx": "D-2024-0002",
        "legacy/dossiers/D-1999-0007/ancien.txt": "LEGACY-IMPORT",
        "legacy/divers/Note de service.txt": "LEGACY-IMPORT",
        "legacy/divers/vide.bin": "LEGACY-IMPORT",
    }
    # ... and one document.imported audit event per document, by legacy-import
    audits = rows(database_url, "SELECT * FROM audit_events WHERE action = 'document.imported'")
    assert sorted(a["entity_id"] for a in audits) == sorted(r["public_id"] for r in documents.values())
    assert {a["actor"] for a in audits} == {"legacy-import"}
    assert json.loads(audits[0]["details"])["storage_key"] in documents

    # When it runs again, Then nothing is registered twice
    code = toolkit.run(
        lambda a: catalog_legacy.main(a, client=client), argv(migrated, database_url, config_file, report)
    )
    again = json.loads(report.read_text())
    assert code == toolkit.EXIT_OK
    assert again["counts"]["registered"] == 0 and again["counts"]["already_registered"] == 6
    assert rows(database_url, "SELECT COUNT(*) AS n FROM documents")[0]["n"] == 6
    assert rows(database_url, "SELECT COUNT(*) AS n FROM dossiers")[0]["n"] == 3


def test_dry_run_changes_nothing(
    tmp_path: Path, client: Any, migrated: str, database_url: str, config_file: Path
) -> None:
    report = tmp_path / "report.json"
    code = toolkit.run(
        lambda a: catalog_legacy.main(a, client=client),
        argv(migrated, database_url, config_file, report, "--dry-run"),
    )
    result = json.loads(report.read_text())
    assert code == toolkit.EXIT_OK
    assert result["counts"]["registered"] == 6 and result["counts"]["dossiers_created"] == 3
    assert result["per_dossier"] == {"D-2024-0001": 2, "D-2024-0002": 1, "LEGACY-IMPORT": 3}
    assert rows(database_url, "SELECT COUNT(*) AS n FROM documents")[0]["n"] == 0
    assert rows(database_url, "SELECT COUNT(*) AS n FROM dossiers")[0]["n"] == 0


def test_an_interrupted_run_resumes_without_duplicates(
    tmp_path: Path,
    client: Any,
    migrated: str,
    database_url: str,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a run that dies after its first committed batch of two
    original = Catalog.register
    calls = {"n": 0}

    def dies_on_second_batch(self: Catalog, batch: Any, fetch: Any = None) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, batch, fetch)

    monkeypatch.setattr(Catalog, "register", dies_on_second_batch)
    report = tmp_path / "report.json"
    code = toolkit.run(
        lambda a: catalog_legacy.main(a, client=client),
        argv(migrated, database_url, config_file, report, "--batch-size", "2"),
    )
    assert code == toolkit.EXIT_INTERRUPTED
    assert rows(database_url, "SELECT COUNT(*) AS n FROM documents")[0]["n"] == 2

    # When it runs again
    monkeypatch.setattr(Catalog, "register", original)
    code = toolkit.run(
        lambda a: catalog_legacy.main(a, client=client),
        argv(migrated, database_url, config_file, report, "--batch-size", "2"),
    )

    # Then it registers the rest, each object exactly once, with one audit event each
    result = json.loads(report.read_text())
    assert code == toolkit.EXIT_OK
    assert result["counts"]["already_registered"] == 2 and result["counts"]["registered"] == 4
    assert rows(database_url, "SELECT COUNT(DISTINCT storage_key) AS n, COUNT(*) AS m FROM documents")[0] == {
        "n": 6,
        "m": 6,
    }
    assert (
        rows(database_url, "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'document.imported'")[0][
            "n"
        ]
        == 6
    )


def test_keys_differing_by_case_or_accents_are_distinct_documents(
    tmp_path: Path, client: Any, s3_bucket: str, database_url: str, config_file: Path
) -> None:
    # Given files whose names differ only by accents or case (distinct objects in S3)
    for key in ("legacy/divers/cafe.txt", "legacy/divers/café.txt", "legacy/divers/Cafe.txt"):
        client.put_object(Bucket=s3_bucket, Key=key, Body=key.encode())
    report = tmp_path / "report.json"
    # When catalogued
    code = toolkit.run(
        lambda a: catalog_legacy.main(a, client=client), argv(s3_bucket, database_url, config_file, report)
    )
    # Then each is its own document: storage keys compare byte for byte
    result = json.loads(report.read_text())
    assert code == toolkit.EXIT_OK
    assert result["counts"]["registered"] == 3
    assert result["problems"] == []


def test_keys_equal_but_for_trailing_spaces_are_reported(
    tmp_path: Path, client: Any, s3_bucket: str, database_url: str, config_file: Path
) -> None:
    # Given two keys the column cannot tell apart (PAD SPACE collations ignore trailing spaces)
    client.put_object(Bucket=s3_bucket, Key="legacy/divers/note", Body=b"1")
    client.put_object(Bucket=s3_bucket, Key="legacy/divers/note ", Body=b"2")
    report = tmp_path / "report.json"
    code = toolkit.run(
        lambda a: catalog_legacy.main(a, client=client), argv(s3_bucket, database_url, config_file, report)
    )
    # Then one is registered and the other reported as a conflict, and the exit code says so
    result = json.loads(report.read_text())
    assert code == toolkit.EXIT_FAILED
    assert result["counts"]["registered"] == 1
    assert [p["kind"] for p in result["problems"]] == ["key_conflict"]


def test_bad_configuration_is_a_clear_error(
    tmp_path: Path, client: Any, s3_bucket: str, database_url: str, capsys: Any
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rules]]\npattern = '(unclosed'\n", encoding="utf-8")
    report = tmp_path / "r.json"
    code = toolkit.run(
        lambda a: catalog_legacy.main(a, client=client), argv(s3_bucket, database_url, bad, report)
    )
    assert code == toolkit.EXIT_USAGE
    assert "not a valid regular expression" in capsys.readouterr().err


KEEP_CONFIG = """
[default_dossier]
reference = "LEGACY-IMPORT"

[[rules]]
pattern = '^Confidentiel/'
reference = "LEGACY-CONFIDENTIEL"
title = "Confidential documents of the legacy share"
create_missing = true
unit = "unit-direction"

[[rules]]
pattern = '^dossiers/(?P<reference>D-2024-[0-9]+)/'
create_missing = true
unit = "unit-dossiers"
"""


def test_the_catalog_keeps_dates_skips_junk_places_restricted_folders_and_reports_links(
    tmp_path: Path, client: Any, s3_bucket: str, database_url: str
) -> None:
    # Given migrated objects: one with the file's modification time in its metadata (as DataSync
    # writes it), junk in any case, a restricted folder, a copy made by a link, an unplaced file
    mtime = "1595002920000000000ns"  # 2020-07-17 16:22:00 UTC
    client.put_object(
        Bucket=s3_bucket,
        Key="legacy/dossiers/D-2024-0001/Contrat.pdf",
        Body=b"c",
        Metadata={"file-mtime": mtime},
    )
    for key in (
        "legacy/Confidentiel/Salaires 2023.xlsx",
        "legacy/Projets/raccourci-dupont/Contrat.pdf",
        "legacy/divers/note.txt",
        "legacy/divers/THUMBS.DB",
        "legacy/divers/~$lettre.docx",
        "legacy/divers/sauvegarde.TMP",
    ):
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
    links = tmp_path / "inventory.csv"
    links.write_text("kind,path,size,detail\nsymlink,Projets/raccourci-dupont,,a link to a folder\n")
    config = tmp_path / "catalog.toml"
    config.write_text(KEEP_CONFIG, encoding="utf-8")
    report = tmp_path / "report.json"
    # When the catalog runs with the inventory's links
    code = toolkit.run(
        lambda a: catalog_legacy.main(a, client=client),
        argv(s3_bucket, database_url, config, report, "--links", str(links)),
    )
    result = json.loads(report.read_text())
    documents = {
        r["storage_key"]: r
        for r in rows(
            database_url,
            "SELECT d.*, s.reference, s.unit FROM documents d JOIN dossiers s ON s.id = d.dossier_id",
        )
    }
    assert code == toolkit.EXIT_OK, result
    # Then the document's date is the file's modification time, not the import time
    contract = documents["legacy/dossiers/D-2024-0001/Contrat.pdf"]
    assert contract["created_at"] == datetime(2020, 7, 17, 16, 22)
    assert result["counts"]["date_from_file_mtime"] == 1
    # ... junk is skipped whatever its case: ~$lettre.docx by the task's filter, THUMBS.DB and
    # sauvegarde.TMP, which the case-sensitive filter lets through, as junk
    assert (result["counts"]["excluded"], result["counts"]["junk"]) == (1, 2)
    assert not any("THUMBS" in key or "~$" in key or ".TMP" in key for key in documents)
    # ... the restricted folder has its own dossier in its unit; rule-made dossiers get their unit
    secret = documents["legacy/Confidentiel/Salaires 2023.xlsx"]
    assert (secret["reference"], secret["unit"]) == ("LEGACY-CONFIDENTIEL", "unit-direction")
    assert contract["unit"] == "unit-dossiers"
    # ... and the default dossier, which no rule gives a unit, is in the settings' default unit
    assert documents["legacy/divers/note.txt"]["unit"] == "unit-general"
    # ... the documents no rule placed are listed, and the copy made by a link is reported
    assert sorted(result["unplaced"]) == [
        "legacy/Projets/raccourci-dupont/Contrat.pdf",
        "legacy/divers/note.txt",
    ]
    assert result["link_copies"] == [
        {"key": "legacy/Projets/raccourci-dupont/Contrat.pdf", "link": "Projets/raccourci-dupont"}
    ]


def test_units_without_the_unit_column_are_refused(
    tmp_path: Path, client: Any, migrated: str, database_url: str, capsys: Any
) -> None:
    connection = connect(database_url)
    with connection.cursor() as cursor:  # the schema before units
        cursor.execute("ALTER TABLE dossiers DROP FOREIGN KEY fk_dossiers_unit")
        cursor.execute("ALTER TABLE dossiers DROP COLUMN unit")
    connection.close()
    config = tmp_path / "catalog.toml"
    config.write_text(KEEP_CONFIG, encoding="utf-8")
    code = toolkit.run(
        lambda a: catalog_legacy.main(a, client=client),
        argv(migrated, database_url, config, tmp_path / "r.json"),
    )
    assert code == toolkit.EXIT_USAGE
    assert "no unit column" in capsys.readouterr().err
