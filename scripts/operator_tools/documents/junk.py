"""Files that are litter, not documents: what Windows, macOS and office suites leave in shares.

Matched on the name alone and **without case** (Windows writes ``Thumbs.db`` and ``THUMBS.DB``
alike), unlike DataSync's filters, which are case-sensitive. The share inventory shows which
junk the task's filters would still copy; the catalog never registers junk as a document.

=================  ==========================================================
pattern            what it is
=================  ==========================================================
``Thumbs.db``      Windows thumbnail cache
``desktop.ini``    Windows folder view settings
``~$*``            Microsoft Office owner file of an open document
``.~lock.*#``      LibreOffice lock file of an open document
``._*``            macOS resource fork (AppleDouble) on a non-Mac volume
``.DS_Store``      macOS Finder settings
``*.tmp``          temporary file
=================  ==========================================================
"""

from __future__ import annotations

import fnmatch
import re

JUNK_PATTERNS: tuple[str, ...] = ("Thumbs.db", "desktop.ini", "~$*", ".~lock.*#", "._*", ".DS_Store", "*.tmp")
_JUNK = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in JUNK_PATTERNS), re.IGNORECASE | re.DOTALL)


def is_junk(name: str) -> bool:
    """True when the file name (the last segment of a path) is litter, whatever its case."""
    return _JUNK.match(name.rsplit("/", 1)[-1]) is not None


def junk_pattern(name: str) -> str | None:
    """The pattern a junk name matches, for reports."""
    base = name.rsplit("/", 1)[-1]
    for pattern in JUNK_PATTERNS:
        if fnmatch.fnmatchcase(base.lower(), pattern.lower()):
            return pattern
    return None
