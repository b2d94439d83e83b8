"""The catalog's pure parts: its configuration file, rules, and which objects are eligible."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from scripts.operator_tools.documents.catalog import (
    MAX_STORAGE_KEY,
    Catalog,
    CatalogConfig,
    Rule,
    batched,
    collation_fold,
    parse_mtime,
)
from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.paths import UncRoot
from scripts.operator_tools.documents.s3 import ObjectInfo
from scripts.operator_tools.toolkit import ToolError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_configuration_file_gives_the_root_the_default_dossier_and_the_rules(tmp_path: Path) -> None:
    # Given a complete configuration
    path = write(
        tmp_path,
        r"unc_root = '\\10.0.20.1\share'"
        "\n"
        "[default_dossier]\nreference = 'OLD'\ntitle = 'Old files'\n"
        "[[rules]]\npattern = '^dossiers/(?P<reference>D-[0-9]+)/'\ncreate_missing = true\n",
    )
    # When it is loaded
    config = CatalogConfig.load(path)
    # Then every part is read
    assert config.unc_root == "\\\\10.0.20.1\\share"
    assert (config.default_dossier.reference, config.default_dossier.title) == ("OLD", "Old files")
    assert [(r.pattern.pattern, r.create_missing) for r in config.rules] == [
        ("^dossiers/(?P<reference>D-[0-9]+)/", True)
    ]
    assert CatalogConfig.load(None) == CatalogConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 'blue'\n", "unknown setting"),
        ("[default_dossier]\nowner_name = 'x'\n", r"\[default_dossier\] takes"),
        ("[default_dossier]\nreference = ''\n", "1 to 64 characters"),
        ("[[rules]]\ntitle = 'x'\n", "rule 1 needs a pattern"),
        ("[[rules]]\npattern = '(a)'\nmissing = true\n", "rule 1 takes pattern"),
        ("[[rules]]\npattern = '(unclosed'\n", "not a valid regular expression"),
        ("[[rules]]\npattern = 'no-group'\n", "needs a group"),
        ("not toml [", "is not valid TOML"),
    ],
)
def test_a_wrong_configuration_names_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        CatalogConfig.load(write(tmp_path, text))


def test_a_missing_configuration_file_is_an_operator_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="cannot read the config file"):
        CatalogConfig.load(tmp_path / "absent.toml")


def test_a_rule_reads_the_named_group_else_the_first() -> None:
    named = Rule(re.compile(r"^(x)/(?P<reference>D-\d+)/"))
    first = Rule(re.compile(r"^dossiers/( ?D-\d+ ?)/"))
    assert named.reference("x/D-7/a.pdf") == "D-7"
    assert first.reference("dossiers/ D-8 /a.pdf") == "D-8"
    assert first.reference("elsewhere/a.pdf") is None


def test_keys_equal_but_for_trailing_spaces_fold_together() -> None:
    assert collation_fold("legacy/a.pdf  ") == collation_fold("legacy/a.pdf")
    assert collation_fold(" legacy/a.pdf") != collation_fold("legacy/a.pdf")


def test_batches_hold_at_most_the_size() -> None:
    items = [ObjectInfo(f"k{n}", n, "") for n in range(5)]
    assert [len(b) for b in batched(items, 2)] == [2, 2, 1]
    assert list(batched([], 2)) == []


def test_only_files_that_fit_the_schema_are_eligible() -> None:
    # Given a listing with a folder marker, litter, a key too long and a normal file
    catalog = Catalog(None, CatalogConfig(), UncRoot.parse(r"\\10.0.20.1\share"), "legacy/", dry_run=True)
    listing = [
        ObjectInfo("legacy/dossiers/", 0, ""),
        ObjectInfo("legacy/dossiers/Thumbs.db", 10, ""),
        ObjectInfo("legacy/" + "x" * MAX_STORAGE_KEY, 1, ""),
        ObjectInfo("legacy/dossiers/a.pdf", 3, "etag"),
    ]
    # When filtered
    eligible = list(catalog.eligible(listing, ExcludeFilter()))
    # Then only the normal file remains, and every other one is counted or reported
    assert [info.key for info in eligible] == ["legacy/dossiers/a.pdf"]
    counts = catalog.counts
    assert (counts["listed"], counts["folder_markers"], counts["excluded"]) == (4, 1, 1)
    assert [problem["kind"] for problem in catalog.problems] == ["key_too_long"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1595002920000000000ns", datetime(2020, 7, 17, 16, 22)),
        ("1595002920", datetime(2020, 7, 17, 16, 22)),
        ("1595002920.5", datetime(2020, 7, 17, 16, 22, 0, 500000)),
        ("2020-07-17T18:22:00+02:00", datetime(2020, 7, 17, 16, 22)),
        ("yesterday", None),
    ],
)
def test_modification_times_as_object_metadata_holds_them(value: str, expected: datetime | None) -> None:
    assert parse_mtime(value) == expected
