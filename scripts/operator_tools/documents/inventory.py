"""The engine of share_inventory: what the share holds, and what will not survive the move as-is.

One walk of the mounted share (``scandir``, links never followed, one folder in memory at a time)
gathers, for the migration review before the first DataSync run:

* counts and sizes per top folder, and the longest paths (as S3 keys, in bytes);
* names S3 or the share cannot carry (:data:`BLOCKING`): not UTF-8, ending in a space or a dot,
  with a character Windows reserves, a reserved device name (``CON``, ``NUL``, ``COM1``...),
  keys over S3's 1,024 bytes; names that collide once case is ignored (SMB clients see one
  file) or once Unicode is normalised (NFC against NFD);
* links that will become duplicate copies: symbolic links (the SMB server serves the target's
  content under the link's name) and hard links (one file under several names);
* junk files (:mod:`.junk`, any case) and whether the task's filters really exclude them;
* a preview of the DataSync filters: how many files and bytes they include and exclude, per
  pattern.

Every finding goes to the CSV as it is found (one row each); the JSON keeps the totals and the
first ``max_listed`` findings of each kind; the HTML summary is for the migration review.
"""

from __future__ import annotations

import csv
import heapq
import html
import os
import re
import stat
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.junk import is_junk, junk_pattern
from scripts.operator_tools.documents.paths import smb_fold

MAX_KEY_BYTES = 1024
BLOCKING = (
    "name_not_utf8",
    "trailing_space_or_dot",
    "reserved_character",
    "reserved_name",
    "key_too_long",
    "case_collision",
    "normalisation_collision",
    "unreadable",
)
NOTICES = ("symlink", "hardlink", "junk", "junk_not_excluded")
KINDS = (*BLOCKING, *NOTICES)
DESCRIPTIONS = {
    "name_not_utf8": "name is not valid UTF-8: no S3 key can carry it",
    "trailing_space_or_dot": "name ends in a space or a dot: Windows cannot open it",
    "reserved_character": 'name holds a character Windows reserves (< > : " \\ | ? * or a control character)',
    "reserved_name": "name is a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9)",
    "key_too_long": "the S3 key would pass 1,024 bytes: DataSync cannot copy it",
    "case_collision": "names in one folder that differ only by case: SMB clients see one of them",
    "normalisation_collision": "names in one folder equal once Unicode-normalised (NFC and NFD)",
    "unreadable": "a folder the inventory could not read: the inventory is incomplete",
    "symlink": "a symbolic link: the server serves the target's content, a duplicate copy in S3",
    "hardlink": "a file with several names (hard link): each name becomes its own copy in S3",
    "junk": "a junk file the task's filters exclude",
    "junk_not_excluded": "a junk file the task's filters (case-sensitive) would still copy",
}
_RESERVED_CHARACTERS = re.compile(r'[<>:"\\|?*\x00-\x1f]')
_RESERVED_NAMES = re.compile(r"^(?:CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(?:\..*)?$", re.IGNORECASE)
ROOT_LABEL = "(files at the top)"


def shown(path: str) -> str:
    """A path for people and reports: bytes that are not UTF-8 as ``\\xNN`` escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass
class FolderTotals:
    files: int = 0
    bytes: int = 0
    folders: int = 0
    included_files: int = 0
    included_bytes: int = 0


@dataclass
class Inventory:
    """One walk of ``root``; :meth:`run` returns the JSON report."""

    root: Path
    prefix: str = "legacy/"
    excludes: ExcludeFilter = field(default_factory=ExcludeFilter)
    includes: ExcludeFilter | None = None
    longest: int = 20
    max_listed: int = 1000
    csv_out: IO[str] | None = None
    on_file: Callable[[int], None] = lambda _count: None
    counts: Counter[str] = field(default_factory=Counter)
    findings: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    top: dict[str, FolderTotals] = field(default_factory=lambda: defaultdict(FolderTotals))
    patterns: Counter[str] = field(default_factory=Counter)
    _longest: list[tuple[int, str]] = field(default_factory=list)
    _inodes: dict[tuple[int, int], str] = field(default_factory=dict)
    _writer: Any = None
    _pattern_filters: list[tuple[str, ExcludeFilter]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._pattern_filters = [(p, ExcludeFilter((p,))) for p in self.excludes.patterns]

    def run(self) -> dict[str, Any]:
        if self.csv_out is not None:
            self._writer = csv.writer(self.csv_out)
            self._writer.writerow(["kind", "path", "size", "detail"])
        stack = [""]
        while stack:
            folder = stack.pop()
            stack.extend(reversed(self._folder(folder)))
        return self.report()

    # -- findings --------------------------------------------------------------------------
    def finding(self, kind: str, path: str, size: int | None = None, detail: str = "") -> None:
        self.counts[kind] += 1
        text = shown(path)
        if len(self.findings[kind]) < self.max_listed:
            self.findings[kind].append({"path": text, "size": size, "detail": detail})
        if self._writer is not None:
            self._writer.writerow([kind, text, "" if size is None else size, detail])

    # -- one folder ------------------------------------------------------------------------
    def _folder(self, folder: str) -> list[str]:
        """Inventory one folder's entries; return its sub-folders to walk."""
        directory = self.root / folder if folder else self.root
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            self.finding("unreadable", folder or ".", detail=str(exc.strerror or exc))
            return []
        self._collisions(folder, [entry.name for entry in entries])
        subfolders = []
        for entry in entries:
            relative = f"{folder}/{entry.name}" if folder else entry.name
            self._name(relative, entry.name)
            if entry.is_symlink():
                self._symlink(entry, relative)
            elif entry.is_dir(follow_symlinks=False):
                self.top[self._top(relative, is_folder=True)].folders += 1
                subfolders.append(relative)
            elif entry.is_file(follow_symlinks=False):
                self._file(entry, relative)
            else:
                self.counts["special_files"] += 1
        return subfolders

    def _collisions(self, folder: str, names: list[str]) -> None:
        for kind, fold in (("case_collision", smb_fold), ("normalisation_collision", _nfc)):
            groups: dict[str, list[str]] = defaultdict(list)
            for name in names:
                groups[fold(name)].append(name)
            for group in groups.values():
                if len(group) > 1:
                    path = f"{folder}/{group[0]}" if folder else group[0]
                    others = ", ".join(repr(shown(n)) for n in group[1:])
                    self.finding(kind, path, detail=f"also {others}")

    def _name(self, relative: str, name: str) -> None:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            self.finding("name_not_utf8", relative)
            return
        if name != name.rstrip(" ."):
            self.finding("trailing_space_or_dot", relative)
        if _RESERVED_CHARACTERS.search(name):
            self.finding("reserved_character", relative)
        if _RESERVED_NAMES.match(name):
            self.finding("reserved_name", relative)

    def _symlink(self, entry: os.DirEntry[str], relative: str) -> None:
        try:
            target = os.readlink(entry.path)
        except OSError:
            target = "?"
        if entry.is_dir(follow_symlinks=True):
            kind = "folder"
        else:
            kind = "file" if os.path.exists(entry.path) else "nothing"
        if kind == "nothing":
            self.counts["special_files"] += 1
            detail = f"a link to nothing ({target}): nothing is copied"
        else:
            detail = f"a link to a {kind} ({target}): copied again under this name"
        self.finding("symlink", relative, detail=detail)

    def _file(self, entry: os.DirEntry[str], relative: str) -> None:
        info = entry.stat(follow_symlinks=False)
        size = info.st_size
        self.counts["files"] += 1
        self.counts["bytes"] += size
        self.on_file(1)
        top = self.top[self._top(relative, is_folder=False)]
        top.files += 1
        top.bytes += size
        if info.st_nlink > 1 and stat.S_ISREG(info.st_mode):
            inode = (info.st_dev, info.st_ino)
            first = self._inodes.setdefault(inode, relative)
            if first != relative:
                self.finding("hardlink", relative, size, f"the same file as {shown(first)!r}")
        excluded = self._excluded(relative)
        if not excluded:
            top.included_files += 1
            top.included_bytes += size
            self.counts["included_files"] += 1
            self.counts["included_bytes"] += size
        else:
            self.counts["excluded_files"] += 1
            self.counts["excluded_bytes"] += size
        if is_junk(entry.name):
            kind = "junk" if excluded else "junk_not_excluded"
            self.finding(kind, relative, size, f"matches {junk_pattern(entry.name)} (any case)")
        key = (self.prefix + relative).encode("utf-8", "surrogateescape")
        if len(key) > MAX_KEY_BYTES:
            self.finding("key_too_long", relative, size, f"{len(key)} bytes")
        self._keep_longest(len(key), relative)

    def _excluded(self, relative: str) -> bool:
        for pattern, one in self._pattern_filters:
            if one.excludes(relative):
                self.patterns[pattern] += 1
                return True
        if self.includes is not None and not self.includes.excludes(relative):
            self.patterns["(not included)"] += 1
            return True
        return False

    def _keep_longest(self, length: int, relative: str) -> None:
        if len(self._longest) < self.longest:
            heapq.heappush(self._longest, (length, relative))
        elif length > self._longest[0][0]:
            heapq.heapreplace(self._longest, (length, relative))

    @staticmethod
    def _top(relative: str, *, is_folder: bool) -> str:
        head, sep, _ = relative.partition("/")
        return shown(head) if sep or is_folder else ROOT_LABEL

    # -- the report ------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        blocking = sum(self.counts[k] for k in BLOCKING)
        return {
            "root": str(self.root.resolve()),
            "prefix": self.prefix,
            "files": self.counts["files"],
            "bytes": self.counts["bytes"],
            "special_files": self.counts["special_files"],
            "top_folders": {
                name: vars(totals) for name, totals in sorted(self.top.items(), key=lambda kv: -kv[1].bytes)
            },
            "longest_paths": [
                {"path": shown(path), "key_bytes": length}
                for length, path in sorted(self._longest, reverse=True)
            ],
            "filters": {
                "excludes": list(self.excludes.patterns),
                "includes": list(self.includes.patterns) if self.includes is not None else [],
                "datasync_value": self.excludes.datasync_value(),
                "included_files": self.counts["included_files"],
                "included_bytes": self.counts["included_bytes"],
                "excluded_files": self.counts["excluded_files"],
                "excluded_bytes": self.counts["excluded_bytes"],
                "excluded_by_pattern": dict(self.patterns),
            },
            "problems": {kind: self.counts[kind] for kind in KINDS},
            "blocking": blocking,
            "findings": {kind: self.findings.get(kind, []) for kind in KINDS},
            "descriptions": DESCRIPTIONS,
            "ok": blocking == 0,
        }


def _nfc(name: str) -> str:
    try:
        return unicodedata.normalize("NFC", name)
    except (TypeError, ValueError):
        return name


def html_summary(report: dict[str, Any], *, human: Callable[[float], str]) -> str:
    """A short, self-contained HTML page for the migration review."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(name)}</td><td>{t['files']}</td><td>{human(t['bytes'])}</td>"
        f"<td>{t['included_files']}</td><td>{human(t['included_bytes'])}</td></tr>"
        for name, t in report["top_folders"].items()
    )
    problems = ""
    for kind, count in report["problems"].items():
        if not count:
            continue
        examples = "".join(
            f"<li><code>{e(item['path'])}</code>{' — ' + e(item['detail']) if item['detail'] else ''}</li>"
            for item in report["findings"][kind][:5]
        )
        level = "blocking" if kind in BLOCKING else "notice"
        problems += (
            f"<tr class='{level}'><td>{e(kind)}</td><td>{count}</td><td>{e(DESCRIPTIONS[kind])}"
            f"<ul>{examples}</ul></td></tr>"
        )
    longest = "".join(
        f"<li>{item['key_bytes']} bytes: <code>{e(item['path'])}</code></li>"
        for item in report["longest_paths"][:10]
    )
    filters = report["filters"]
    by_pattern = "".join(
        f"<li><code>{e(p)}</code>: {n} files</li>" for p, n in sorted(filters["excluded_by_pattern"].items())
    )
    verdict = (
        "Nothing blocks the copy."
        if report["ok"]
        else f"{report['blocking']} names or folders need a decision before the copy."
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Share inventory</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}
tr.blocking td:first-child{{color:#a00;font-weight:bold}}</style></head><body>
<h1>Share inventory</h1>
<p><code>{e(report["root"])}</code> → keys under <code>{e(report["prefix"])}</code>:
{report["files"]} files, {human(report["bytes"])}. <strong>{e(verdict)}</strong></p>
<h2>Top folders</h2>
<table><tr><th>folder</th><th>files</th><th>size</th><th>copied files</th><th>copied size</th></tr>{
        rows
    }</table>
<h2>Problems and notices</h2>
<table><tr><th>kind</th><th>count</th><th>what it means, first examples</th></tr>{
        problems or "<tr><td colspan='3'>none</td></tr>"
    }</table>
<h2>DataSync filters</h2>
<p>Exclude value: <code>{e(filters["datasync_value"])}</code>. Copied: {filters["included_files"]} files,
{human(filters["included_bytes"])}; left out: {filters["excluded_files"]} files, {
        human(filters["excluded_bytes"])
    }.</p>
<ul>{by_pattern}</ul>
<h2>Longest paths</h2><ul>{longest}</ul>
</body></html>
"""
