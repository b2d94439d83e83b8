"""Exclude patterns follow DataSync's matching rules (the scripts' side; the task's filter is
compared with them in tests/infrastructure/test_datasync_excludes.py)."""

from __future__ import annotations

import pytest

from scripts.operator_tools.documents.excludes import DEFAULT_EXCLUDES, ExcludeFilter, expand_pattern


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("Thumbs.db", True),
        ("dir/sub/Thumbs.db", True),
        ("dir/desktop.ini", True),
        ("dir/~$report.docx", True),
        ("~$lock.xlsx", True),
        (".DS_Store", True),
        ("dir/Desktop.ini", False),  # DataSync filters are case-sensitive
        ("dir/thumbs.db", False),
        ("dir/Thumbs.db.bak", False),
        ("dir/my~$file.docx", False),
        ("report.docx", False),
    ],
)
def test_default_patterns(path: str, excluded: bool) -> None:
    # Given the default filter, When a path is checked, Then it matches as DataSync would
    assert ExcludeFilter().matches(path) is excluded


def test_a_folder_pattern_excludes_everything_below_it() -> None:
    # Given a pattern anchored at the root and one for a folder name anywhere
    rules = ExcludeFilter(("/tmp", "*/.snapshot"))
    # Then the folders and their content are excluded, similar names are not
    assert rules.excludes("tmp/a/b.txt")
    assert rules.excludes("x/.snapshot/hourly/file")
    assert not rules.excludes("tmpfiles/a.txt")
    assert not rules.excludes("x/tmp/a.txt")


def test_wildcards_span_folders() -> None:
    assert ExcludeFilter(("*.tmp",)).matches("a/b/c.tmp")
    assert ExcludeFilter(("/archive/*/old",)).excludes("archive/2019/q1/old/x.pdf")


def test_patterns_from_the_command_line() -> None:
    rules = ExcludeFilter.from_cli(["*.tmp|*.bak", "/scratch"], defaults=False)
    assert rules.patterns == ("*.tmp", "*.bak", "/scratch")
    assert ExcludeFilter.from_cli(None).patterns == tuple(expand_pattern(p) for p in DEFAULT_EXCLUDES)
    with pytest.raises(ValueError):
        expand_pattern("  ")
