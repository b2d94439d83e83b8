"""The legacy share path parser: UNC, forward slashes, drive letters, case, separators, ``..``."""

from __future__ import annotations

import unicodedata

import pytest

from scripts.operator_tools.documents.paths import (
    LegacyPathParser,
    ParsedPath,
    UncRoot,
    UnsafePathError,
    check_names,
    file_url_to_path,
    key_for,
    normalise_prefix,
    relative_for,
    smb_fold,
)


@pytest.fixture
def parser() -> LegacyPathParser:
    return LegacyPathParser.from_strings(
        [r"\\10.0.20.1\share", r"\\FILESRV\Share"],
        {"S:": r"\\10.0.20.1\share", "p": r"\\10.0.20.1\share\Projects", "T": r"\\10.0.20.1\other"},
    )


@pytest.mark.parametrize(
    ("value", "relative"),
    [
        (r"\\10.0.20.1\share\dir\file.pdf", "dir/file.pdf"),
        ("//10.0.20.1/share/dir/file.pdf", "dir/file.pdf"),
        (r"\\10.0.20.1/share\dir/file.pdf", "dir/file.pdf"),
        (r"\\10.0.20.1\SHARE\Dir\File.PDF", "Dir/File.PDF"),
        (r"\\filesrv\SHARE\dir\file.pdf", "dir/file.pdf"),
        (r"\\?\UNC\10.0.20.1\share\dir\file.pdf", "dir/file.pdf"),
        (r"S:\dir\file.pdf", "dir/file.pdf"),
        (r"s:/dir/file.pdf", "dir/file.pdf"),
        (r"P:\2024\plan.dwg", "Projects/2024/plan.dwg"),
        (r"\\10.0.20.1\share\dir\\\file.pdf", "dir/file.pdf"),
        (r"\\10.0.20.1\share\.\dir\file.pdf", "dir/file.pdf"),
        ("  \\\\10.0.20.1\\share\\dir\\file.pdf\n", "dir/file.pdf"),
        (r"\\10.0.20.1\share\Contrats signés\été 2024\reçu n°1.pdf", "Contrats signés/été 2024/reçu n°1.pdf"),
    ],
)
def test_share_paths_map_to_the_path_below_the_migrated_root(
    parser: LegacyPathParser, value: str, relative: str
) -> None:
    # Given a reference in one of the spellings the legacy data uses
    # When it is parsed
    parsed = parser.parse(value)
    # Then it is the path below the share root, separators normalised, case of the rest kept
    assert parsed == ParsedPath(relative, is_folder=False)
    assert parsed.key() == f"legacy/{relative}"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "dir/file.pdf",
        "https://10.0.20.1/share/file.pdf",
        r"\\10.0.20.2\share\file.pdf",
        r"\\10.0.20.1\archive\file.pdf",
        r"C:\Users\me\file.pdf",
        r"T:\file.pdf",
        "/mnt/share/file.pdf",
    ],
)
def test_values_outside_the_migrated_share_are_not_mapped(
    parser: LegacyPathParser, value: str | None
) -> None:
    # Given a value that is not a path into the migrated folder, When parsed, Then nothing maps
    assert parser.parse(value) is None


@pytest.mark.parametrize(
    "value",
    [
        r"\\10.0.20.1\share\dir\..\secret.pdf",
        "//10.0.20.1/share/../other/file.pdf",
        r"S:\..\file.pdf",
        r"\\10.0.20.1\share\dir\file?.pdf",
        r"\\10.0.20.1\share\dir\file.pdf:stream",
        r"\\10.0.20.1\share\dir.\file.pdf",
        r"S:file.pdf",
    ],
)
def test_unsafe_or_impossible_paths_are_refused(parser: LegacyPathParser, value: str) -> None:
    # Given a path with '..', a character Windows forbids, or a drive-relative path
    # When parsed, Then it is refused rather than guessed
    with pytest.raises(UnsafePathError):
        parser.parse(value)


@pytest.mark.parametrize(
    "value", [r"\\10.0.20.1\share\dir\\", "//10.0.20.1/share/dir/", r"\\10.0.20.1\share", "S:\\"]
)
def test_trailing_separators_mean_a_folder(parser: LegacyPathParser, value: str) -> None:
    # Given a reference ending with a separator (or the root itself)
    parsed = parser.parse(value)
    # Then it is recognised as a folder, which no object can stand for
    assert parsed is not None and parsed.is_folder


def test_a_root_with_a_subfolder_strips_it_case_insensitively() -> None:
    # Given a DataSync location on a subfolder of the share, spelled with a trailing separator
    parser = LegacyPathParser.from_strings([r"\\10.0.20.1\Share\Documents\\"])
    # When references in any case are parsed
    inside = parser.parse(r"\\10.0.20.1\share\DOCUMENTS\a\b.txt")
    outside = parser.parse(r"\\10.0.20.1\share\Other\b.txt")
    # Then only paths below the subfolder map, relative to it
    assert inside == ParsedPath("a/b.txt")
    assert outside is None


def test_bad_configuration_is_rejected_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="not a UNC path"):
        LegacyPathParser.from_strings(["S:\\share"])
    with pytest.raises(ValueError, match="no share"):
        LegacyPathParser.from_strings([r"\\10.0.20.1"])
    with pytest.raises(ValueError, match="not a drive letter"):
        LegacyPathParser.from_strings([r"\\10.0.20.1\share"], {"SS": r"\\10.0.20.1\share"})
    with pytest.raises(ValueError, match="at least one"):
        LegacyPathParser.from_strings([])


def test_unc_root_joins_relative_paths_with_backslashes() -> None:
    root = UncRoot.parse("//10.0.20.1/share/")
    assert root.unc() == r"\\10.0.20.1\share"
    assert root.join("dir/sub dir/file.pdf") == r"\\10.0.20.1\share\dir\sub dir\file.pdf"


def test_smb_folding_is_per_character() -> None:
    # SMB compares names one character at a time: ß does not become ss
    assert smb_fold("Straße/ÉTÉ") == "straße/été"
    assert smb_fold("İ") == "İ"  # lower() would make two characters of it


def test_prefix_helpers() -> None:
    assert normalise_prefix("/legacy") == "legacy/"
    assert normalise_prefix("") == ""
    assert key_for("a/b.pdf", "legacy") == "legacy/a/b.pdf"
    assert relative_for("legacy/a/b.pdf") == "a/b.pdf"
    with pytest.raises(ValueError):
        relative_for("documents/a.pdf")


@pytest.mark.parametrize(
    ("segments", "problem"),
    [
        (["dir", "a<b.txt"], "forbids"),
        (["dir", 'say "hi".txt'], "forbids"),
        (["dir", "trailing dot."], "ending in a dot or a space"),
        (["trailing space ", "file.txt"], "ending in a dot or a space"),
    ],
)
def test_names_no_share_file_can_have_are_refused(segments: list[str], problem: str) -> None:
    with pytest.raises(UnsafePathError, match=problem):
        check_names("the value", segments)
    check_names("the value", ["dir", "ordinary name.txt", ".hidden"])


def test_the_first_root_a_path_starts_with_decides(parser: LegacyPathParser) -> None:
    # A path on the second alias of the share maps below it; a longer path on another share not at all
    assert parser.parse(r"\\FILESRV\share\a.txt") == ParsedPath("a.txt")
    assert parser.parse(r"\\10.0.20.1\shared\a.txt") is None
    assert parser.parse(r"\\10.0.20.1") is None


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("file://10.0.20.1/share/a%20b/caf%C3%A9.pdf", "\\\\10.0.20.1/share/a b/café.pdf"),
        ("file://///10.0.20.1/share/x", "\\\\10.0.20.1/share/x"),
        ("file:////10.0.20.1/share/x", "\\\\10.0.20.1/share/x"),
        ("file:///S:/dir/x.pdf", "S:/dir/x.pdf"),
        ("file://localhost/S:/dir/x", "S:/dir/x"),
        ("file:///S|/dir/x", "S:/dir/x"),
        ("file:S:/x", "S:/x"),
        ("file:///home/x", "/home/x"),
    ],
)
def test_file_urls_become_the_windows_paths_they_name(url: str, path: str) -> None:
    assert file_url_to_path(url) == path


def test_a_file_url_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(UnsafePathError, match="not UTF-8"):
        file_url_to_path("file://10.0.20.1/share/caf%E9.pdf")


def test_the_share_is_found_inside_other_text() -> None:
    parser = LegacyPathParser.from_strings(["\\\\10.0.20.1\\share"])
    assert parser.mentions_share("voir \\\\10.0.20.1\\SHARE\\x.pdf")
    assert parser.mentions_share("http://intranet/?f=%2F%2F10.0.20.1%2Fshare%2Fx")
    assert not parser.mentions_share("\\\\10.0.20.1\\shareholders\\x")


def test_names_spelled_otherwise_are_paired() -> None:
    from scripts.operator_tools.documents.verifier import pair_names

    nfd, nfc = unicodedata.normalize("NFD", "Été.pdf"), unicodedata.normalize("NFC", "Été.pdf")
    assert pair_names([nfd, "a b.pdf", "seul.txt"], [nfc, "a%20b.pdf", "autre.txt"]) == [
        (nfd, nfc, "name_normalisation"),
        ("a b.pdf", "a%20b.pdf", "name_encoding"),
    ]
