"""What a dump says about itself before it is loaded: which client wrote it, the source
database's defaults, and whether it is whole.

* **The client**: mysqldump and mariadb-dump start with ``-- MySQL dump`` / ``-- MariaDB dump``;
  their value format is known, so the reader may take its fast path.
* **The database defaults**: a dump made with ``--databases`` holds
  ``CREATE DATABASE ... DEFAULT CHARACTER SET cs COLLATE co``: a missing target is created with
  them, so that tables and routines without an explicit character set behave as on the source.
* **Completeness**: both clients end a dump they finished with ``-- Dump completed`` (``on
  <date>`` unless ``--skip-dump-date``). A dump without it stopped early (the client failed, the
  copy was cut); a dump with no statement at all is what ``mysqldump | gzip`` leaves when
  mysqldump fails at once. Both are refused unless the operator accepts them (``--compact``
  dumps have no trailer). A gzip file is read to its end for this (its tail is only known then);
  a damaged or truncated gzip stream is found there, before anything is loaded.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from scripts.operator_tools.database.dumpparser import CHUNK_SIZE, GZIP_MAGIC, open_dump, split_statements
from scripts.operator_tools.toolkit import ToolError, progress

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 4096
_TRAILER = re.compile(rb"^-- Dump completed\b", re.MULTILINE)
_CREATE_DATABASE = re.compile(
    rb"(?is)CREATE\s+(?:DATABASE|SCHEMA)\s+(?:/\*!\d+\s+)?(?:IF\s+NOT\s+EXISTS\s*)?(?:\*/\s*)?"
    rb"(?:`(?:[^`]|``)+`|\w+)\s*(?:/\*!\d+)?\s*(?P<options>[^;]*?)(?:\*/)?\s*;"
)
_CHARSET = re.compile(rb"(?i)(?:DEFAULT\s+)?(?:CHARACTER\s+SET|CHARSET)\s*=?\s*(\w+)")
_COLLATE = re.compile(rb"(?i)(?:DEFAULT\s+)?COLLATE\s*=?\s*(\w+)")


@dataclass(frozen=True)
class DatabaseDefaults:
    charset: str | None
    collation: str | None


@dataclass(frozen=True)
class DumpHead:
    tool: str  # mysqldump, mariadb-dump or unknown
    database: DatabaseDefaults | None  # from CREATE DATABASE, when the dump has one


def read_head(path: Path) -> DumpHead:
    """The client and the database defaults, from the first 64 KiB of the (decompressed) dump."""
    stream, raw = open_dump(path)
    try:
        head = stream.read(HEAD_BYTES)
    except (OSError, EOFError):
        head = b""
    finally:
        raw.close()
    tool = "unknown"
    if b"\r\n" not in head[:2048]:  # edited or converted on another system: no format guarantee
        if b"-- MariaDB dump" in head[:2048]:
            tool = "mariadb-dump"
        elif b"-- MySQL dump" in head[:2048]:
            tool = "mysqldump"
    return DumpHead(tool, database_defaults(head))


def database_defaults(text: bytes) -> DatabaseDefaults | None:
    """The character set and collation a ``CREATE DATABASE`` in ``text`` gives, if any."""
    found = _CREATE_DATABASE.search(text)
    if found is None:
        return None
    options = found.group("options")
    charset = _CHARSET.search(options)
    collation = _COLLATE.search(options)
    return DatabaseDefaults(
        charset.group(1).decode().lower() if charset else None,
        collation.group(1).decode().lower() if collation else None,
    )


@dataclass(frozen=True)
class Completeness:
    trailer: bool  # ends with the client's "-- Dump completed" line
    statements: int | None  # counted for small dumps only (None: large, so it holds some)
    size: int  # decompressed bytes

    @property
    def empty(self) -> bool:
        return self.statements == 0

    def problem(self) -> str | None:
        """Why the dump looks unfinished, or None."""
        if self.empty:
            return "it holds no SQL statement (what 'mysqldump | gzip' leaves when mysqldump fails)"
        if not self.trailer:
            return (
                "it does not end with the client's '-- Dump completed' line: the dump stopped early, "
                "or was made with --compact"
            )
        return None


def check_completeness(path: Path, *, progress_bar: bool | None = None) -> Completeness:
    """Read the dump's end (a gzip file to its end): trailer present? any statement at all?

    Raises :class:`ToolError` when a gzip stream is damaged or cut short.
    """
    size = path.stat().st_size
    with path.open("rb") as raw:
        if raw.read(2) == GZIP_MAGIC:
            raw.seek(0)
            return _gzip_completeness(path, raw, size, progress_bar)
        raw.seek(max(0, size - TAIL_BYTES))
        tail = raw.read()
        small = None
        if size <= HEAD_BYTES:
            raw.seek(0)
            small = raw.read()
    return _completeness(tail, small, size)


def _gzip_completeness(path: Path, raw: BinaryIO, size: int, progress_bar: bool | None) -> Completeness:
    decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    tail = b""
    small = bytearray()
    total = 0
    with progress(total=size, desc="checking the dump", enabled=progress_bar) as bar:
        try:
            while chunk := raw.read(CHUNK_SIZE):
                bar.update(len(chunk))
                data = decompressor.decompress(chunk)
                while decompressor.eof and decompressor.unused_data:  # concatenated gzip members
                    rest = decompressor.unused_data
                    decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
                    data += decompressor.decompress(rest)
                total += len(data)
                if total <= HEAD_BYTES:
                    small += data
                tail = (tail + data)[-TAIL_BYTES:]
        except zlib.error as exc:
            raise ToolError(f"{path}: the gzip stream is damaged ({exc}): make the dump again") from exc
    if not decompressor.eof:
        raise ToolError(
            f"{path}: the gzip stream is cut short after {total} bytes: the dump was not copied whole "
            "(or the dump client was stopped); make the dump again"
        )
    return _completeness(tail, bytes(small) if total <= HEAD_BYTES else None, total)


def _completeness(tail: bytes, small: bytes | None, size: int) -> Completeness:
    statements = None
    if small is not None:
        try:
            statements = len(split_statements(small))
        except ValueError:
            statements = None  # unreadable: the scan will say where
    return Completeness(bool(_TRAILER.search(tail)), statements, size)
