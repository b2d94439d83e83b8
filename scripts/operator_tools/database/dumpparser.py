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
        self.want_text = want_text
        self.on_read = on_read
        self.chunk_size = chunk_size
        self.head_size = head_size
        self.trusted_inserts = trusted_inserts
        self.stats = ReaderStats()

    def __iter__(self) -> Iterator[Statement]:
        return _Splitter(self).statements()

    def fill(self, buf: bytearray) -> tuple[bool, int]:
        """Read until the buffer ends with a complete line (or the stream ends)."""
        while True:
            chunk = self._stream.read(self.chunk_size)
            if not chunk:
                return True, len(buf)
            self.stats.bytes_read += len(chunk)
            buf += chunk
            if self.on_read is not None:
                self.on_read(len(chunk))
            newline = buf.rfind(b"\n", len(buf) - len(chunk))
            if newline >= 0:
                return False, newline + 1


_BLANKS = b" \t\r\n\f\v"
# How mysqldump and mariadb-dump start a statement of rows (plain, --insert-ignore, --replace).
_DUMP_INSERTS = (b"INSERT INTO ", b"INSERT IGNORE INTO ", b"REPLACE INTO ")
_NO_STATEMENT = -1


class _Splitter:
    """One pass over a reader's stream: the buffer, the scan position and the current statement.

    The buffer holds the unread rest of the current statement and the chunks read after it;
    ``limit`` is the end of its last complete line (scanning never goes past it until the
    stream ends), ``start`` the start of the statement being read (-1 between statements),
    ``base`` the stream offset of ``buf[0]`` and ``line`` the line number at ``line_pos``.
    """

    def __init__(self, reader: DumpReader) -> None:
        self.reader = reader
        self.stats = reader.stats
        self.buf = bytearray()
        self.base = 0
        self.pos = 0
        self.limit = 0
        self.line = 1
        self.line_pos = 0
        self.start = _NO_STATEMENT
        self.delimiter = DEFAULT_DELIMITER
        self.body = _pattern_for(DEFAULT_DELIMITER)
        self.eof = False
        self.ended = False

    def statements(self) -> Iterator[Statement]:
        while not self.ended:
            if self.start == _NO_STATEMENT and not self._find_start():
                continue
            if not self._scan_body():
                continue
            if self.pos < self.limit and self.buf.startswith(self.delimiter, self.pos):
                yield self._complete()
            elif self.eof and self.limit == len(self.buf):
                yield from self._last()
            else:  # the statement goes on past the scanned lines: read more, keep the statement
                self._read_more(keep_from=self.start)

    # -- between statements ----------------------------------------------------------------
    def _find_start(self) -> bool:
        """Skip blanks, comments and client commands; True once a statement starts at ``pos``."""
        buf, limit = self.buf, self.limit
        self.pos = pos = _LEADING.match(buf, self.pos, limit).end()  # type: ignore[union-attr]
        if pos >= limit or _UNTERMINATED_COMMENT.match(buf, pos, limit):
            self._end_between_statements()
            return False
        marker = _SANDBOX.match(buf, pos, limit)
        if marker:
            self.stats.sandbox_markers += 1
            self.pos = marker.end()
            return False
        command = _DELIMITER_COMMAND.match(buf, pos, limit)
        if command:
            self.delimiter = bytes(command.group(1))
            self.body = _pattern_for(self.delimiter)
            self.stats.delimiter_commands += 1
            self.pos = command.end()
            return False
        self.start = pos
        return True

    def _end_between_statements(self) -> None:
        """At the end of the scanned lines with no statement open: read on, or stop."""
        if not self.eof:
            self._read_more(keep_from=self.pos)
            return
        if self.pos < len(self.buf):
            self._count_lines_to(self.pos)
            raise DumpSyntaxError("unterminated comment", self.line)
        self.ended = True

    # -- inside a statement ----------------------------------------------------------------
    def _scan_body(self) -> bool:
        """Move ``pos`` to the delimiter or as far as the text goes; False when more input had
        to be read first."""
        buf, start = self.buf, self.start
        fast = (
            self.reader.trusted_inserts
            and self.delimiter == b";"
            and buf.startswith(_DUMP_INSERTS, start)
            and self.limit - start < FAST_PATH_LIMIT
        )
        if not fast:
            self.pos = self.body.match(self.buf, self.pos, self.limit).end()  # type: ignore[union-attr]
            return True
        # mysqldump and mariadb-dump escape newlines inside strings, so in their INSERTs every raw
        # newline is outside a string: the statement ends at the first ";\n".
        found = self.buf.find(b";\n", self.pos, self.limit)
        if found >= 0:
            self.pos = found
        elif self.eof and self.limit == len(self.buf):
            self.pos = self.body.match(self.buf, start, self.limit).end()  # type: ignore[union-attr]
        else:
            self.pos = max(start, self.limit - 1)
            self._read_more(keep_from=start)
            return False
        return True

    def _complete(self) -> Statement:
        """The statement that ends at ``pos``, where its delimiter starts."""
        buf, start, pos = self.buf, self.start, self.pos
        body_end = pos
        while body_end > start and buf[body_end - 1] in _BLANKS:
            body_end -= 1
        self._count_lines_to(start)
        head = bytes(buf[start : min(body_end, start + self.reader.head_size)])
        want = self.reader.want_text is None or self.reader.want_text(head)
        self.stats.statements += 1
        statement = Statement(
            head=head,
            sql=bytes(buf[start:body_end]) if want else None,
            delimiter=self.delimiter,
            offset=self.base + start,
            body_end=self.base + body_end,
            end=self.base + pos + len(self.delimiter),
            line=self.line,
        )
        self.pos = pos + len(self.delimiter)
        self.start = _NO_STATEMENT
        return statement

    def _last(self) -> Iterator[Statement]:
        """At the end of the stream inside a statement: a last one without its delimiter (as the
        client accepts), else an unterminated string, identifier or comment."""
        buf, start, pos = self.buf, self.start, self.pos
        self._count_lines_to(start)
        self.ended = True
        if pos != len(buf):
            what = {39: "string", 34: "string", 96: "identifier"}.get(buf[pos], "comment")
            raise DumpSyntaxError(f"unterminated {what} in the statement that starts here", self.line)
        text = bytes(buf[start:pos]).rstrip()
        if text:
            self.stats.statements += 1
            yield Statement(
                head=text[: self.reader.head_size],
                sql=text,
                delimiter=self.delimiter,
                offset=self.base + start,
                body_end=self.base + start + len(text),
                end=self.base + pos,
                line=self.line,
            )

    def _count_lines_to(self, offset: int) -> None:
        self.line += self.buf.count(b"\n", self.line_pos, offset)
        self.line_pos = offset

    # -- input -----------------------------------------------------------------------------
    def _read_more(self, *, keep_from: int) -> None:
        """Drop ``buf[:keep_from]`` (positions shift with it), then read at least one more line."""
        if keep_from:
            self._count_lines_to(keep_from)
            del self.buf[:keep_from]
            self.base += keep_from
            self.line_pos = 0
            self.pos -= keep_from
            if self.start != _NO_STATEMENT:
                self.start -= keep_from
        self.eof, self.limit = self.reader.fill(self.buf)


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
