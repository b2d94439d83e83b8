"""share_inventory on a small share holding what a real office share holds."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from scripts import share_inventory
from scripts.operator_tools import toolkit

REPO = Path(__file__).resolve().parents[2]


def make_share(root: Path) -> None:
    files = {
        "Clients/Dupont/Contrat signé.pdf": b"%PDF" * 1000,
        "Clients/Dupont/contrat SIGNÉ.pdf": b"other",  # differs only by case
        "Clients/Durand/" + unicodedata.normalize("NFC", "Relevé.pdf"): b"nfc",
        "Clients/Durand/" + unicodedata.normalize("NFD", "Relevé.pdf"): b"nfd",  # same name in NFD
        "Clients/Durand/Thumbs.db": b"junk the task excludes",
        "Clients/Durand/THUMBS.DB": b"junk the case-sensitive filter copies",
        "Clients/Durand/.~lock.lettre.odt#": b"lock",
        "Projets/2024/plan.dwg": b"p" * 5000,
        "Projets/2024/rapport final.docx ": b"trailing space in the name",
        "Projets/2024/CON.txt": b"a device name",
        "Projets/2024/what?.txt": b"a reserved character",
        "/".join(["Archives", *(["n" * 200] * 5), "deep.txt"]): b"too long for a key",
        "racine.txt": b"at the top",
    }
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    os.close(os.open(os.fsencode(root / "Projets") + b"/ancien-\xe9t\xe9.txt", os.O_CREAT | os.O_WRONLY))
    os.link(root / "Projets/2024/plan.dwg", root / "Projets/plan-copie.dwg")
    os.symlink(root / "Clients/Dupont", root / "Projets/raccourci-dupont")
    os.symlink(root / "absent", root / "Projets/lien-mort")


def test_the_inventory_names_what_will_not_move_as_is(tmp_path: Path, capsys: Any) -> None:
    # Given a share with collisions, awkward names, links, junk and a path too long for S3
    share = tmp_path / "share"
    make_share(share)
    outputs = {name: tmp_path / f"inventory.{name}" for name in ("json", "csv", "html")}
    # When the inventory runs
    code = toolkit.run(
        share_inventory.main,
        [
            "--source", str(share), "--report", str(outputs["json"]), "--csv", str(outputs["csv"]),
            "--html", str(outputs["html"]), "--no-progress",
        ],
    )  # fmt: skip
    # Then it exits 1 (names need a decision) and names each finding for what it is
    report = json.loads(outputs["json"].read_text(encoding="utf-8"))
    found = {
        kind: sorted(item["path"] for item in items) for kind, items in report["findings"].items() if items
    }
    assert code == toolkit.EXIT_FAILED
    assert found["case_collision"] == ["Clients/Dupont/Contrat signé.pdf", "Clients/Durand/THUMBS.DB"]
    assert [unicodedata.normalize("NFC", p) for p in found["normalisation_collision"]] == [
        "Clients/Durand/" + unicodedata.normalize("NFC", "Relevé.pdf")
    ]
    assert found["trailing_space_or_dot"] == ["Projets/2024/rapport final.docx "]
    assert found["reserved_name"] == ["Projets/2024/CON.txt"]
    assert found["reserved_character"] == ["Projets/2024/what?.txt"]
    assert found["name_not_utf8"] == ["Projets/ancien-\\xe9t\\xe9.txt"]
    assert len(found["key_too_long"]) == 1 and found["key_too_long"][0].endswith("/deep.txt")
    assert found["hardlink"] == ["Projets/plan-copie.dwg"] or found["hardlink"] == ["Projets/2024/plan.dwg"]
    assert found["symlink"] == ["Projets/lien-mort", "Projets/raccourci-dupont"]
    assert found["junk"] == ["Clients/Durand/Thumbs.db"]
    assert found["junk_not_excluded"] == ["Clients/Durand/.~lock.lettre.odt#", "Clients/Durand/THUMBS.DB"]
    # ... with sizes per top folder, the longest keys and the filter preview
    assert set(report["top_folders"]) == {"Archives", "Clients", "Projets", "(files at the top)"}
    assert report["top_folders"]["Clients"]["files"] == 7
    assert report["longest_paths"][0]["key_bytes"] > 1024
    assert report["filters"]["excluded_files"] == 1 and report["filters"]["excluded_by_pattern"] == {
        "*/Thumbs.db": 1
    }
    # And the CSV holds one row per finding, the HTML a readable summary
    with outputs["csv"].open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == sum(report["problems"].values())
    page = outputs["html"].read_text(encoding="utf-8")
    assert "<h2>Top folders</h2>" in page and "case_collision" in page and "need a decision" in page
    out = capsys.readouterr().out
    assert "BLOCKING case_collision 2" in out and "notice   junk_not_excluded 2" in out


def test_a_clean_share_passes_and_the_help_lists_the_outputs(tmp_path: Path) -> None:
    share = tmp_path / "share"
    (share / "Docs").mkdir(parents=True)
    (share / "Docs" / "note.txt").write_text("ok")
    assert toolkit.run(share_inventory.main, ["--source", str(share), "--no-progress"]) == toolkit.EXIT_OK
    assert toolkit.run(share_inventory.main, ["--source", str(tmp_path / "nope")]) == toolkit.EXIT_USAGE
    result = subprocess.run(
        [sys.executable, "scripts/share_inventory.py", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--source", "--report", "--csv", "--html", "--exclude", "--include"):
        assert option in result.stdout


@pytest.mark.parametrize(
    "name", ["Thumbs.db", "THUMBS.DB", "~$lettre.docx", "._photo.jpg", "x.TMP", ".DS_Store"]
)
def test_junk_is_matched_without_case(name: str) -> None:
    from scripts.operator_tools.documents.junk import is_junk

    assert is_junk(f"some/folder/{name}")
