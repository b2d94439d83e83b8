"""Paths on the legacy share, and how they map to S3 keys.

DataSync copies ``\\\\10.0.20.1\\share\\<subdirectory>\\dir\\file.pdf`` to
``s3://<bucket>/legacy/dir/file.pdf``: the path relative to the SMB location, segments joined
with ``/``, the name's characters unchanged (the key is the UTF-8 encoding of the name). This
module turns the many spellings a legacy database may hold into that relative path:

* UNC paths with backslashes, forward slashes or a mix (``\\\\host\\share\\a``, ``//host/share/a``),
  and the long form ``\\\\?\\UNC\\host\\share\\a``;
* mapped drive letters (``S:\\a``) configured to mean a UNC root (``S: = \\\\10.0.20.1\\share``);
* ``file:`` URLs as Windows and browsers write them, percent-encoded or not:
  ``file://10.0.20.1/share/a``, ``file://///10.0.20.1/share/a`` (and four slashes),
  ``file:///S:/a``, ``file://localhost/S:/a``, ``file:///S|/a``;
* any case in the host, share, drive and configured root part; the rest keeps its case, and is
  resolved against the objects case-insensitively by the caller, as SMB does.

Repeated separators and ``.`` segments are dropped; ``..`` segments are refused rather than
resolved, because a reference that climbs out of a folder is not something to guess about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote

DEFAULT_PREFIX = "legacy/"
DEFAULT_SERVER = "10.0.20.1"

# Characters Windows forbids in a file or folder name (besides the separators).
_FORBIDDEN_IN_NAME = re.compile(r'[\x00-\x1f<>:"|?*]')
_DRIVE = re.compile(r"^([A-Za-z]):(.*)$", re.DOTALL)
_FILE_URL = re.compile(r"^file:", re.IGNORECASE)
_URL_DRIVE = re.compile(r"^([A-Za-z])[:|](?=[\\/]|$)")


class UnsafePathError(ValueError):
    """A share path that must not be mapped (``..`` segments, forbidden characters, ...)."""


def smb_fold(text: str) -> str:
    """Fold case the way SMB servers compare names: one character at a time.

    NTFS and Samba compare names through a per-character upper-case table, so ``ß`` stays
    ``ß`` (``str.casefold`` would turn it into ``ss``); a character whose lower case is longer
    than one character is kept as it is.
    """
    folded = []
    for char in text:
        lower = char.lower()
        folded.append(lower if len(lower) == 1 else char)
    return "".join(folded)


def _segments(path: str) -> list[str]:
    """Split on either separator, dropping empty and ``.`` segments; refuse ``..``."""
    parts = []
    for segment in re.split(r"[\\/]", path):
        if segment in ("", "."):
            continue
        if segment == "..":
            raise UnsafePathError(f"path {path!r} has a '..' segment")
        parts.append(segment)
    return parts


@dataclass(frozen=True)
class UncRoot:
    """``\\\\host\\share[\\sub\\dir]``: a folder on an SMB server."""

    host: str
    share: str
    subpath: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> UncRoot:
        raw = text.strip()
        if raw.upper().startswith(("\\\\?\\UNC\\", "//?/UNC/")):
            raw = "\\\\" + raw[8:]
        if not re.match(r"^[\\/]{2}[^\\/]", raw):
            raise ValueError(f"{text!r} is not a UNC path like \\\\10.0.20.1\\share")
        segments = _segments(raw)
        if len(segments) < 2:
            raise ValueError(f"{text!r} names a server but no share (expected \\\\server\\share)")
        return cls(segments[0], segments[1], tuple(segments[2:]))

    @property
    def folded(self) -> tuple[str, ...]:
        return (self.host.lower(), smb_fold(self.share), *(smb_fold(s) for s in self.subpath))

    def unc(self) -> str:
        return "\\\\" + "\\".join((self.host, self.share, *self.subpath))

    def join(self, relative: str) -> str:
        """The UNC path of ``relative`` (``dir/file.pdf``) below this root."""
        return "\\".join((self.unc(), *relative.split("/"))) if relative else self.unc()


@dataclass(frozen=True)
class ParsedPath:
    """A reference that lies on the share: its path relative to the migrated root.

    ``is_folder`` is true when the reference names a folder rather than a file (it ends with a
    separator, or it is the root itself): no object can stand for it.
    """

    relative: str
    is_folder: bool = False

    def key(self, prefix: str = DEFAULT_PREFIX) -> str:
        return key_for(self.relative, prefix)


@dataclass
class LegacyPathParser:
    """Recognise references to the migrated share folder and map them to relative paths.

    ``roots`` are the UNC spellings of the folder DataSync copies (the SMB location: server,
    share and subdirectory; list every host alias the legacy data uses, e.g. the IP address and
    the NetBIOS name). ``drives`` maps a drive letter to the UNC folder it was mapped to on the
    legacy clients; that folder may be the root itself, a folder inside it, or a folder above it.
    """

    roots: list[UncRoot]
    drives: dict[str, UncRoot] = field(default_factory=dict)

    @classmethod
    def from_strings(cls, roots: Iterable[str], drives: Mapping[str, str] | None = None) -> LegacyPathParser:
        parsed_roots = [UncRoot.parse(root) for root in roots]
        if not parsed_roots:
            raise ValueError("at least one share root is needed (e.g. \\\\10.0.20.1\\share)")
        parsed_drives: dict[str, UncRoot] = {}
        for letter, target in (drives or {}).items():
            clean = letter.strip().rstrip(":").upper()
            if not re.fullmatch(r"[A-Z]", clean):
                raise ValueError(f"drive {letter!r} is not a drive letter (expected e.g. S:)")
            parsed_drives[clean] = UncRoot.parse(target)
        return cls(parsed_roots, parsed_drives)

    def parse(self, value: str | None) -> ParsedPath | None:
        """The share-relative path of ``value``, or None when it does not point into the share.

        Raises :class:`UnsafePathError` for a path into the share that must not be mapped.
        """
        if value is None:
            return None
        text = value.strip()
        if not text:
            return None
        segments = self._absolute_segments(text)
        if segments is None:
            return None
        relative = self._below_a_root(segments)
        if relative is None:
            return None
        check_names(value, relative)
        is_folder = not relative or text.endswith(("\\", "/"))
        return ParsedPath("/".join(relative), is_folder)

    def mentions_share(self, value: str) -> bool:
        """True when ``value`` names a share root anywhere inside it (``host\\share`` with either
        separator, any case, percent-encoded or not): text that still refers to the old share."""
        pattern = _mention_pattern(tuple(self.roots))
        if pattern.search(value):
            return True
        decoded = unquote(value, errors="replace")
        return decoded != value and pattern.search(decoded) is not None

    def _below_a_root(self, segments: list[str]) -> list[str] | None:
        """The segments below the first root they start with (SMB-folded), or None."""
        folded = (segments[0].lower(), *(smb_fold(s) for s in segments[1:]))
        for root in self.roots:
            wanted = root.folded
            if folded[: len(wanted)] == wanted:
                return segments[len(wanted) :]
        return None

    def _absolute_segments(self, text: str) -> list[str] | None:
        """``[host, share, ...]`` for a UNC path, a ``file:`` URL or a mapped drive path; None
        otherwise."""
        if _FILE_URL.match(text):
            text = file_url_to_path(text)
        if text.upper().startswith(("\\\\?\\UNC\\", "//?/UNC/")):
            text = "\\\\" + text[8:]
        if re.match(r"^[\\/]{2}[^\\/]", text):
            return _segments(text)
        drive = _DRIVE.match(text)
        if drive:
            letter, rest = drive.group(1).upper(), drive.group(2)
            target = self.drives.get(letter)
            if target is None:
                return None
            if not rest.startswith(("\\", "/")):
                raise UnsafePathError(f"path {text!r} is relative to the current folder of drive {letter}:")
            return [target.host, target.share, *target.subpath, *_segments(rest)]
        return None


@lru_cache(maxsize=16)
def _mention_pattern(roots: tuple[UncRoot, ...]) -> re.Pattern[str]:
    spellings = [re.escape(root.host) + r"[\\/]+" + re.escape(root.share) + r"(?![^\\/\s])" for root in roots]
    return re.compile("|".join(spellings), re.IGNORECASE)


def file_url_to_path(url: str) -> str:
    """The Windows path a ``file:`` URL names: ``\\\\host\\share\\a`` or ``S:\\a`` (or a POSIX
    path, which no share root matches). Percent-encoding is decoded as UTF-8 (RFC 8089)."""
    try:
        rest = unquote(url[5:], errors="strict")
    except UnicodeDecodeError as exc:
        raise UnsafePathError(f"path {url!r} has a percent-encoding that is not UTF-8") from exc
    slashes = len(rest) - len(rest.lstrip("/\\"))
    body = rest[slashes:]
    if slashes >= 4:  # file:////host/share/a and file://///host/share/a: a UNC path
        return "\\\\" + body
    if slashes == 2:  # file://host/share/a, or file://localhost/S:/a
        host, _, path = body.partition("/")
        if host and host.lower() != "localhost":
            return "\\\\" + body
        body = path
    drive = _URL_DRIVE.match(body)
    if drive:  # file:///S:/a, file:///S|/a (old style), file:S:/a
        return f"{drive.group(1)}:{body[2:]}"
    return "/" + body  # a local POSIX path: on no share


def check_names(value: str, segments: Iterable[str]) -> None:
    """Refuse names no file on the share can have (:class:`UnsafePathError`)."""
    for segment in segments:
        if _FORBIDDEN_IN_NAME.search(segment):
            raise UnsafePathError(f"path {value!r} has a character Windows forbids in a name")
        if segment != segment.rstrip(" ."):
            # Windows strips trailing dots and spaces; such a name cannot exist on the share.
            raise UnsafePathError(f"path {value!r} has a name ending in a dot or a space")


def key_for(relative: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The S3 key DataSync writes for a file at ``relative`` (``dir/file.pdf``)."""
    return normalise_prefix(prefix) + relative


def normalise_prefix(prefix: str) -> str:
    """``legacy`` / ``/legacy/`` / ``legacy/`` -> ``legacy/``; empty stays empty."""
    clean = prefix.strip("/")
    return f"{clean}/" if clean else ""


def relative_for(key: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Inverse of :func:`key_for`."""
    wanted = normalise_prefix(prefix)
    if not key.startswith(wanted):
        raise ValueError(f"key {key!r} is not under {wanted!r}")
    return key[len(wanted) :]
