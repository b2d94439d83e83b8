"""The exclude patterns of the DataSync task, matched the way DataSync matches them.

DataSync filter rules (``SIMPLE_PATTERN``): patterns are separated by ``|``; each is matched,
case-sensitively, against the path of a file or folder relative to the location, written with
a leading ``/`` (``/dir/Thumbs.db``); ``*`` matches any run of characters, ``/`` included; a
pattern that matches a folder excludes everything inside it.

For convenience a pattern that starts with neither ``/`` nor ``*`` is a plain name to exclude in
every folder: ``Thumbs.db`` is read as ``*/Thumbs.db``. The task is created with the expanded
form (see :func:`ExcludeFilter.datasync_value`), so what the scripts skip is what DataSync skips.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Files that Windows, macOS and Office leave in shared folders: thumbnail caches, folder view
# settings, Office owner/lock files (~$report.docx), Finder metadata.
DEFAULT_EXCLUDES: tuple[str, ...] = ("Thumbs.db", "desktop.ini", "~$*", ".DS_Store")


def expand_pattern(pattern: str) -> str:
    clean = pattern.strip()
    if not clean:
        raise ValueError("an exclude pattern cannot be empty")
    if "|" in clean:
        raise ValueError(f"exclude pattern {pattern!r} contains '|', the DataSync pattern separator")
    if clean.startswith(("/", "*")):
        return clean
    return "*/" + clean


@dataclass
class ExcludeFilter:
    patterns: tuple[str, ...] = DEFAULT_EXCLUDES
    _regexes: list[re.Pattern[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.patterns = tuple(expand_pattern(p) for p in self.patterns)
        self._regexes = [re.compile(self._to_regex(p), re.DOTALL) for p in self.patterns]

    @classmethod
    def from_cli(cls, values: Iterable[str] | None, *, defaults: bool = True) -> ExcludeFilter:
        """Patterns given on the command line (each may hold several, ``|``-separated)."""
        patterns: list[str] = list(DEFAULT_EXCLUDES) if defaults else []
        for value in values or ():
            patterns.extend(p for p in value.split("|") if p.strip())
        return cls(tuple(patterns))

    @staticmethod
    def _to_regex(pattern: str) -> str:
        body = (
            ".*".join(re.escape(part) for part in pattern.rstrip("/").split("*")) if pattern != "/" else "/"
        )
        return f"^{body}$"

    def datasync_value(self) -> str:
        """The ``Value`` of the task's exclude ``FilterRule``."""
        return "|".join(self.patterns)

    def matches(self, path: str) -> bool:
        """True when ``path`` (relative, ``/``-separated, no leading slash) itself is excluded."""
        full = "/" + path.strip("/")
        return any(regex.match(full) for regex in self._regexes)

    def excludes(self, path: str) -> bool:
        """True when ``path`` or one of the folders above it is excluded."""
        parts = path.strip("/").split("/")
        return any(self.matches("/".join(parts[: i + 1])) for i in range(len(parts)))
