"""The reference rewrite's pure parts: configuration, the classification of a cell, rollback lines."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.operator_tools.documents.references import (
    ColumnRef,
    KeyIndex,
    RewriteConfig,
    Rewriter,
    decode_key_value,
    encode_key_value,
    load_config_file,
    parse_rollback_line,
)
from scripts.operator_tools.toolkit import ToolError

SHARE = r"\\10.0.20.1\share"
KEYS = [
    "legacy/dossiers/Contrat.pdf",
    "legacy/dossiers/plan.dwg",
    "legacy/case/A.txt",
    "legacy/case/a.txt",
    "legacy/orphan.bin",
    "legacy/dossiers/",
]


def test_flags_win_over_the_configuration_file(tmp_path: Path) -> None:
    # Given a file naming a column, a root, a drive and a prefix
    path = tmp_path / "rewrite.toml"
    path.write_text(
        "columns = ['attachments.path']\n"
        r"share_roots = ['\\10.0.20.1\share']"
        "\n"
        "prefix = 'old/'\n"
        r"drives = { S = '\\10.0.20.1\share' }"
        "\n",
        encoding="utf-8",
    )
    settings = load_config_file(path)
    # When flags name other values
    config = RewriteConfig.build(
        settings, columns=["legacy.notes.ref"], drives=[r"S=\\10.0.20.1\share\projects"], prefix="/legacy"
    )
    # Then the flags win, and what they do not name comes from the file
    assert config.columns == [ColumnRef("legacy", "notes", "ref")]
    assert config.prefix == "legacy/"
    assert config.parser.drives["S"].subpath == ("projects",)
    assert [root.unc() for root in config.parser.roots] == [SHARE]


@pytest.mark.parametrize(
    ("settings", "flags", "message"),
    [
        ({}, {}, "no columns to rewrite"),
        ({"columns": ["a.b"]}, {}, "at least one share root"),
        ({"columns": ["a.b"], "share_roots": [SHARE]}, {"drives": ["S"]}, "expected LETTER="),
        ({"columns": ["a.b.c.d"], "share_roots": [SHARE]}, {}, "expected table.column"),
        ({"columns": ["a.b;drop"], "share_roots": [SHARE]}, {}, "not a plain table or column name"),
        ({"columns": ["a.b"], "share_roots": [SHARE]}, {"prefix": "/"}, "prefix cannot be empty"),
    ],
)
def test_a_wrong_configuration_names_what_is_wrong(
    settings: dict[str, object], flags: dict[str, object], message: str
) -> None:
    with pytest.raises(ToolError, match=message):
        RewriteConfig.build(settings, **flags)  # type: ignore[arg-type]


def test_unknown_settings_in_the_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "rewrite.toml"
    path.write_text("colums = ['a.b']\n", encoding="utf-8")
    with pytest.raises(ToolError, match="unknown setting"):
        load_config_file(path)
    assert load_config_file(None) == {}


@pytest.fixture
def rewriter(tmp_path: Path) -> Iterator[Rewriter]:
    config = RewriteConfig.build(
        {"columns": ["attachments.path"], "share_roots": [SHARE], "drives": {"S": SHARE}}
    )
    index = KeyIndex(str(tmp_path), config.prefix)
    index.load(iter(KEYS))
    yield Rewriter(
        None, config, index, dry_run=True, force=False, rollback=None, batch_size=10, max_listed=10
    )
    index.close()


@pytest.mark.parametrize(
    ("value", "target", "outcome"),
    [
        (r"\\10.0.20.1\share\dossiers\Contrat.pdf", "legacy/dossiers/Contrat.pdf", None),
        ("//10.0.20.1/SHARE/DOSSIERS/PLAN.DWG", "legacy/dossiers/plan.dwg", None),
        (r"S:\dossiers\plan.dwg", "legacy/dossiers/plan.dwg", None),
        ("legacy/dossiers/plan.dwg", None, "already_rewritten"),
        ("legacy/dossiers/gone.pdf", None, "dangling"),
        (r"\\10.0.20.1\share\case\A.TXT", None, "ambiguous"),
        (r"\\10.0.20.1\share\missing.pdf", None, "dangling"),
        (r"\\10.0.20.1\share\..\secret.txt", None, "invalid"),
        (r"\\10.0.20.1\share\dossiers" + "\\", None, "invalid"),
        (r"\\other-server\share\a.pdf", None, "unmapped"),
        ("a note, not a path", None, "not_a_path"),
        ("   ", None, "empty"),
    ],
)
def test_each_cell_is_resolved_or_classified(
    rewriter: Rewriter, value: str, target: str | None, outcome: str | None
) -> None:
    # When a cell's value is looked at
    counts: Counter[str] = Counter()
    found = rewriter.target_for(ColumnRef(None, "attachments", "path"), {"id": 1}, value, counts)
    # Then it gets the object's key, or is counted / reported for what it is
    assert found == target
    if outcome is not None:
        assert counts[outcome] + rewriter.totals[outcome] >= 1, (counts, rewriter.totals)
    if outcome in {"dangling", "ambiguous", "invalid", "unmapped"}:
        assert rewriter.findings[outcome][0]["value"] == value


def test_resolved_objects_are_no_longer_orphans(rewriter: Rewriter) -> None:
    ref = ColumnRef(None, "attachments", "path")
    rewriter.target_for(ref, {"id": 1}, r"S:\dossiers\Contrat.pdf", Counter())
    assert list(rewriter.index.orphans()) == [
        "legacy/case/A.txt",
        "legacy/case/a.txt",
        "legacy/dossiers/plan.dwg",
        "legacy/orphan.bin",
    ]


def test_a_dangling_reference_is_rewritten_when_forced(rewriter: Rewriter) -> None:
    rewriter.force = True
    counts: Counter[str] = Counter()
    ref = ColumnRef(None, "attachments", "path")
    assert rewriter.target_for(ref, {"id": 1}, r"S:\new\file.pdf", counts) == "legacy/new/file.pdf"
    assert counts["forced"] == 1 and rewriter.findings["dangling"][0]["forced"] is True


def test_primary_key_values_survive_json() -> None:
    for value in (7, "k", 1.5, None, b"\x00\xff"):
        assert decode_key_value(json.loads(json.dumps(encode_key_value(value)))) == value


def test_rollback_lines_are_checked(tmp_path: Path) -> None:
    good = {"schema": None, "table": "t", "column": "c", "primary_key": {"id": 1}, "old": "a", "new": "b"}
    assert parse_rollback_line(tmp_path, 1, json.dumps(good)) == good
    incomplete = {k: v for k, v in good.items() if k != "new"}
    for bad in ("not json", json.dumps({**good, "new": None}), json.dumps(incomplete)):
        with pytest.raises(ToolError, match=r":3 is not a rollback line"):
            parse_rollback_line(tmp_path, 3, bad)
