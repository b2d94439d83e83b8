"""Split a mysqldump / mariadb-dump text stream into SQL statements, streaming.

The reader never holds the dump in memory: it reads fixed-size chunks, scans only complete
lines, and keeps at most one statement (plus one chunk) in its buffer. It works on bytes, since
a dump without ``--hex-blob`` holds BLOBs as raw bytes that are not valid UTF-8.

What it understands, the way the ``mysql``/``mariadb`` command-line client does:

* the ``DELIMITER`` client command (only at the start of a statement), so routine, trigger and
  event bodies written between ``DELIMITER ;;`` and ``DELIMITER ;`` come out whole;
* quoted strings ('...' and "..." with backslash escapes and doubled quotes) and backquoted
  identifiers, so a ``;`` or the word DELIMITER inside them never splits a statement;
* comments: ``-- ``, ``#`` and ``/* */`` between statements are dropped; executable comments
  (``/*!40101 ... */``, ``/*M!100100 ... */``) are statement text and are kept;
* the ``/*M!999999\\- enable the sandbox mode */`` line that recent mariadb-dump versions write
  first (a client command the MySQL client rejects): it is skipped and counted.

Each :class:`Statement` carries its byte offset in the (decompressed) stream, so a later pass can
read data statements straight from the file without parsing it again.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

DEFAULT_DELIMITER = b";"
CHUNK_SIZE = 1 << 20
FAST_PATH_LIMIT = 64 << 20  # an INSERT longer than this is split by the full tokenizer instead
GZIP_MAGIC = b"\x1f\x8b"

# Characters that may start a string, an identifier or a comment (or the minus and slash that
# may or may not): a run of anything else is plain statement text.
_SPECIAL = b"'\"`/#-"
_TOKENS = (
    rb"'(?:[^'\\]++|\\.)*+'",  # 'string' (a doubled '' is two adjacent strings: same split)
    rb'"(?:[^"\\]++|\\.)*+"',  # "string" or ANSI-quoted identifier
    rb"`[^`]*+`",  # `identifier` (a doubled `` is two adjacent identifiers: same split)
    rb"/\*.*?\*/",  # any block comment, executable ones included
    rb"--(?=[ \t\r\n\f\v])[^\n]*+",  # -- comment (MySQL needs a blank after the dashes)
    rb"\#[^\n]*+",  # # comment
    rb"/(?!\*)",  # a slash that does not open a comment
    rb"-(?!-[ \t\r\n\f\v])",  # a minus that does not open a comment
)
_LEADING = re.compile(rb"(?:\s++|--(?=\s)[^\n]*+|\#[^\n]*+|/\*(?!!|M!).*?\*/)*+", re.DOTALL)
_SANDBOX = re.compile(rb"/\*M!999999\\-[^*]*\*/")
_DELIMITER_COMMAND = re.compile(rb"(?i:delimiter)[ \t]++(\S++)[^\n]*+")
_UNTERMINATED_COMMENT = re.compile(rb"/\*(?!!|M!)")


class DumpSyntaxError(ValueError):
    """The dump cannot be split into statements (an unterminated string or comment)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of the dump; ``sql`` excludes the delimiter and surrounding blanks.

    ``sql`` is ``None`` when the caller only asked for the position (see ``want_text``).
    """

    head: bytes
    sql: bytes | None
    delimiter: bytes
    offset: int
    body_end: int
    end: int
    line: int

    @property
    def length(self) -> int:
        return self.body_end - self.offset


def _class_escape(char: int) -> bytes:
    value = bytes([char])
    return b"\\" + value if value in b"\\]^-[" else value


def body_pattern(delimiter: bytes) -> re.Pattern[bytes]:
    """The regex that consumes statement text up to (not including) ``delimiter``."""
    excluded = set(_SPECIAL) | {delimiter[0]}
    plain = b"[^" + b"".join(_class_escape(c) for c in sorted(excluded)) + b"]++"
    alternatives = [plain, *_TOKENS]
    if len(delimiter) > 1 and delimiter[:1] not in _SPECIAL:
        alternatives.append(re.escape(delimiter[:1]))
    guard = b"(?!" + re.escape(delimiter) + b")"
    return re.compile(b"(?:" + guard + b"(?:" + b"|".join(alternatives) + b"))*+", re.DOTALL)


_PATTERNS: dict[bytes, re.Pattern[bytes]] = {}


def _pattern_for(delimiter: bytes) -> re.Pattern[bytes]:
    pattern = _PATTERNS.get(delimiter)
    if pattern is None:
        pattern = _PATTERNS[delimiter] = body_pattern(delimiter)
    return pattern


@dataclass
class ReaderStats:
    sandbox_markers: int = 0
    delimiter_commands: int = 0
    statements: int = 0
    bytes_read: int = 0


class DumpReader:
    """Iterate over the statements of a binary stream.

    ``want_text(head)`` decides, from the first bytes of a statement, whether its full text is
    copied out (the planner skips the copy for data statements, read again later by offset).
    ``on_read(n)`` is called with the number of bytes read from the stream after each chunk.
    ``trusted_inserts`` is for files written by mysqldump or mariadb-dump: their ``INSERT INTO``
    statements end at the first ``;`` followed by a newline, found without tokenizing (a wrong
    guess could only cut inside a string, which the server would reject as a syntax error).
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        want_text: Callable[[bytes], bool] | None = None,
        on_read: Callable[[int], None] | None = None,
        chunk_size: int = CHUNK_SIZE,
        head_size: int = 512,
        trusted_inserts: bool = False,
    ) -> None:
        self._stream = stream
        self._want_text = want_text
        self._on_read = on_read
        self._chunk_size = chunk_size
        self._head_size = head_size
        self._trusted_inserts = trusted_inserts
        self.stats = ReaderStats()

    def __iter__(self) -> Iterator[Statement]:
        return self._statements()

    def _statements(self) -> Iterator[Statement]:
        buf = bytearray()
        base = 0  # stream offset of buf[0]
        pos = 0  # scan position in buf
        limit = 0  # scanning stops here: just after the last complete line (or at the end)
        line = 1  # line number at buf[line_pos]
        line_pos = 0
        start: int | None = None  # start of the current statement in buf
        delimiter = DEFAULT_DELIMITER
        body = _pattern_for(delimiter)
        eof = False

        while True:
            if start is None:
                pos = _LEADING.match(buf, pos, limit).end()  # type: ignore[union-attr]
                if pos >= limit or _UNTERMINATED_COMMENT.match(buf, pos, limit):
                    if eof:
                        if pos < len(buf):
                            line += buf.count(b"\n", line_pos, pos)
                            raise DumpSyntaxError("unterminated comment", line)
                        return
                    buf, base, _, line, line_pos = self._compact(buf, base, pos, line, line_pos)
                    pos = 0
                    eof, limit = self._fill(buf)
                    continue
                marker = _SANDBOX.match(buf, pos, limit)
                if marker:
                    self.stats.sandbox_markers += 1
                    pos = marker.end()
                    continue
                command = _DELIMITER_COMMAND.match(buf, pos, limit)
                if command:
                    delimiter = bytes(command.group(1))
                    body = _pattern_for(delimiter)
                    self.stats.delimiter_commands += 1
                    pos = command.end()
                    continue
                start = pos
            if (
                self._trusted_inserts
                and delimiter == b";"
                and buf.startswith(b"INSERT INTO ", start)
                and limit - start < FAST_PATH_LIMIT
            ):
                # mysqldump and mariadb-dump escape newlines inside strings, so in their INSERTs
                # every raw newline is outside a string: the statement ends at the first ";\n".
                found = buf.find(b";\n", pos, limit)
                if found >= 0:
                    pos = found
                elif not (eof and limit == len(buf)):
                    pos = max(start, limit - 1)
                    buf, base, shift, line, line_pos = self._compact(buf, base, start, line, line_pos)
                    pos -= shift
                    start -= shift
                    eof, limit = self._fill(buf)
                    continue
                else:
                    pos = body.match(buf, start, limit).end()  # type: ignore[union-attr]
            else:
                pos = body.match(buf, pos, limit).end()  # type: ignore[union-attr]
            if pos < limit and buf.startswith(delimiter, pos):
                body_end = pos
                while body_end > start and buf[body_end - 1] in b" \t\r\n\f\v":
                    body_end -= 1
                line += buf.count(b"\n", line_pos, start)
                line_pos = start
                head = bytes(buf[start : min(body_end, start + self._head_size)])
                want = self._want_text is None or self._want_text(head)
                self.stats.statements += 1
                yield Statement(
                    head=head,
                    sql=bytes(buf[start:body_end]) if want else None,
                    delimiter=delimiter,
                    offset=base + start,
                    body_end=base + body_end,
                    end=base + pos + len(delimiter),
                    line=line,
                )
                pos += len(delimiter)
                start = None
                continue
            if eof and limit == len(buf):
                line += buf.count(b"\n", line_pos, start)
                line_pos = start
                if pos == len(buf):
                    text = bytes(buf[start:pos]).rstrip()
                    if text:  # a last statement without its delimiter, as the client accepts
                        self.stats.statements += 1
                        yield Statement(
                            head=text[: self._head_size],
                            sql=text,
                            delimiter=delimiter,
                            offset=base + start,
                            body_end=base + start + len(text),
                            end=base + pos,
                            line=line,
                        )
                    return
                what = {39: "string", 34: "string", 96: "identifier"}.get(buf[pos], "comment")
                raise DumpSyntaxError(f"unterminated {what} in the statement that starts here", line)
            # The statement goes on past the scanned lines: read more, keep the statement.
            keep_from = start
            buf, base, shift, line, line_pos = self._compact(buf, base, keep_from, line, line_pos)
            pos -= shift
            start -= shift
            eof, limit = self._fill(buf)

    @staticmethod
    def _compact(
        buf: bytearray, base: int, keep_from: int, line: int, line_pos: int
    ) -> tuple[bytearray, int, int, int, int]:
        """Drop ``buf[:keep_from]``; returns the new buffer state and how far it shifted."""
        if keep_from == 0:
            return buf, base, 0, line, line_pos
        line += buf.count(b"\n", line_pos, keep_from)
        del buf[:keep_from]
        return buf, base + keep_from, keep_from, line, 0

    def _fill(self, buf: bytearray) -> tuple[bool, int]:
        """Read until the buffer ends with a complete line (or the stream ends)."""
        while True:
            chunk = self._stream.read(self._chunk_size)
            if not chunk:
                return True, len(buf)
            self.stats.bytes_read += len(chunk)
            buf += chunk
            if self._on_read is not None:
                self._on_read(len(chunk))
            newline = buf.rfind(b"\n", len(buf) - len(chunk))
            if newline >= 0:
                return False, newline + 1


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def open_dump(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """Open a plain or gzip-compressed dump: ``(decompressed stream, raw file)``.

    The raw file's ``tell()`` gives progress in on-disk bytes for both kinds.
    """
    raw = path.open("rb")
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw  # type: ignore[return-value]
    raw.seek(0)
    return raw, raw


def split_statements(text: bytes | str) -> list[Statement]:
    """Every statement of an in-memory script (for tests and small inputs)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return list(DumpReader(io.BytesIO(data)))


def fingerprint(path: Path, sample: int = 1 << 20) -> str:
    """A cheap identity of a dump file: size plus hashes of its first and last megabyte."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(sample))
        if size > sample:
            handle.seek(max(sample, size - sample))
            digest.update(handle.read(sample))
    return digest.hexdigest()
