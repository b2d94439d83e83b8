"""Turn a batch of ``INSERT`` statements into one ``LOAD DATA LOCAL INFILE`` payload, when exact.

mysqldump and mariadb-dump write rows as ``INSERT INTO t [(columns)] VALUES (r1),(r2)``, with the
rows on one line (mysqldump, ``--complete-insert``) or one per line (mariadb-dump), and also as
``INSERT IGNORE`` (``--insert-ignore``) and ``REPLACE`` (``--replace``). The payload is the rows
without their outer parentheses, separated by the separator the rows really use: fields are
``,``-separated, ``'``-enclosed, ``\\``-escaped, and an unquoted ``NULL`` is NULL, which are
exactly the INSERT literal rules for what the dump clients emit.

The rows are parsed, not guessed: string literals are set aside first, then what remains must be
a regular list of tuples of strings, numbers and ``NULL`` with one separator between every two
tuples. The number of tuples is counted, so the loader can check that the server read exactly as
many rows (:attr:`LoadData.rows`). A batch whose rows might not convert exactly (hex, bit or
introducer literals, doubled quotes, functions, escapes that ``LOAD DATA`` reads otherwise than
``INSERT``: ``\\N``, ``\\%``, ``\\_``) stays a batch of INSERTs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scripts.operator_tools.database.scanner import Batch

_HEAD = re.compile(
    rb"(?is)(?P<verb>INSERT(?:\s+IGNORE)?|REPLACE)\s+INTO\s+"
    rb"(?P<table>`(?:[^`]|``)+`|[A-Za-z0-9_$]+)\s*"
    rb"(?P<columns>\((?:[^()`]|`(?:[^`]|``)*`)*\))?\s*VALUES\s*\("
)
_STRING = re.compile(rb"'(?:[^'\\]++|\\.)*+'", re.DOTALL)
_FIELD = rb"(?:S|NULL|[-+]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][-+]?\d++)?)"
_ROW = _FIELD + rb"(?:," + _FIELD + rb")*+"
# The body once every string is replaced by ``S``: tuples separated by ``),(`` or ``),\n(``.
_MARKED = re.compile(_ROW + rb"(?:\),\n?\(" + _ROW + rb")*+")
# Escapes that LOAD DATA reads otherwise than INSERT: \N is NULL there, \% and \_ lose their
# backslash there (an INSERT keeps it). Only an odd run of backslashes starts an escape.
_SUSPECT_ESCAPE = re.compile(rb"\\[%_N]")
SEPARATORS = (b"),(", b"),\n(")
MODIFIERS = {b"INSERT": b"", b"INSERT IGNORE": b"IGNORE", b"REPLACE": b"REPLACE"}


@dataclass(frozen=True)
class LoadData:
    """One ``LOAD DATA`` for a batch: where, how, the payload and how many rows it holds."""

    table: bytes
    columns: bytes
    terminator: bytes
    payload: bytes
    rows: int
    modifier: bytes = b""  # b"", b"IGNORE" or b"REPLACE", as the INSERTs asked
    exact: bool = True  # False: counted by separators only (see count_rows)

    @property
    def replace(self) -> bool:
        return self.modifier == b"REPLACE"

    @property
    def ignore(self) -> bool:
        return self.modifier == b"IGNORE"


@dataclass(frozen=True)
class _Rows:
    body: bytes
    count: int
    separator: bytes | None  # None: a single tuple, which fits any separator


def _reads_otherwise(body: bytes) -> bool:
    """True when a string holds an escape LOAD DATA reads otherwise than INSERT (\\N, \\%, \\_)."""
    if b"\\" not in body:
        return False
    for found in _SUSPECT_ESCAPE.finditer(body):
        start = run = found.start()
        while run > 0 and body[run - 1] == 0x5C:  # backslashes before it: an even run escapes nothing
            run -= 1
        if (start - run) % 2 == 0:
            return True
    return False


_FIRST = frozenset(b"'-+.0123456789N")  # a value starts with a quote, a number or NULL
_LAST = frozenset(b"'.0123456789L")  # and ends with a quote, a digit or the L of NULL


def _count_by_separator(body: bytes) -> _Rows | None:
    """The tuples of a trusted VALUES list, counted by their separator (no raw newline in strings).

    None when the list does not even start and end like one (a damaged statement): the full
    parse decides then.
    """
    if not body or body[0] not in _FIRST or body[-1] not in _LAST:
        return _parse_rows(body)
    if b"),\n(" in body:
        return _Rows(body, body.count(b"),\n(") + 1, b"),\n(")
    count = body.count(b"),(") + 1
    return _Rows(body, count, b"),(" if count > 1 else None)


def _parse_rows(body: bytes) -> _Rows | None:
    """The tuples of a VALUES list (without its outer parentheses), or None when not exact."""
    marked = _STRING.sub(b"S", body)
    if _MARKED.fullmatch(marked) is None:
        return None
    used = [(separator, marked.count(separator)) for separator in SEPARATORS]
    used = [(separator, count) for separator, count in used if count]
    if len(used) > 1:
        return None  # two layouts in one statement: no single line terminator fits
    count = 1 + (used[0][1] if used else 0)
    return _Rows(body, count, used[0][0] if used else None)


def to_load_data(batch: Batch, *, trusted_format: bool = False) -> LoadData | None:
    """The batch's rows as a LOAD DATA payload, or None when a row might not convert exactly.

    Every statement of the batch must insert into the same table and columns the same way
    (INSERT, INSERT IGNORE or REPLACE) with the same row separator.
    """
    if batch.delimiter != b";" or not batch.statements:
        return None
    parts: list[bytes] = []
    rows = 0
    key: tuple[bytes, bytes, bytes] | None = None
    separator: bytes | None = None
    for statement in batch.statements:
        match = _HEAD.match(statement)
        if match is None or not statement.endswith(b")"):
            return None
        verb = b" ".join(match.group("verb").upper().split())
        this = (match.group("table"), match.group("columns") or b"", MODIFIERS[verb])
        if key is None:
            key = this
        elif this != key:
            return None
        body = statement[match.end() : -1]
        if _reads_otherwise(body):
            return None
        parsed = _count_by_separator(body) if trusted_format else _parse_rows(body)
        if parsed is None:
            return None
        if parsed.separator is not None:
            if separator is not None and parsed.separator != separator:
                return None
            separator = parsed.separator
        parts.append(parsed.body)
        rows += parsed.count
    assert key is not None
    terminator = separator or SEPARATORS[0]
    table, columns, modifier = key
    exact = not trusted_format or terminator == b"),\n(" or rows == len(parts)
    return LoadData(table, columns, terminator, terminator.join(parts), rows, modifier, exact)


def count_rows(batch: Batch) -> int | None:
    """The exact number of tuples of a batch, by the full parse; None when it does not parse."""
    total = 0
    for statement in batch.statements:
        match = _HEAD.match(statement)
        if match is None:
            return None
        parsed = _parse_rows(statement[match.end() : -1])
        if parsed is None:
            return None
        total += parsed.count
    return total


_RECORDS = re.compile(rb"Records:\s*(\d+)\s+Deleted:\s*(\d+)\s+Skipped:\s*(\d+)")


@dataclass(frozen=True)
class LoadCounts:
    """What the server says a ``LOAD DATA`` did (its info message)."""

    records: int
    deleted: int
    skipped: int


def parse_load_info(message: bytes | str | None) -> LoadCounts | None:
    """``Records: 3  Deleted: 0  Skipped: 0  Warnings: 0`` -> the counts; None if absent."""
    if message is None:
        return None
    raw = message.encode() if isinstance(message, str) else bytes(message)
    found = _RECORDS.search(raw)
    if found is None:
        return None
    records, deleted, skipped = (int(x) for x in found.groups())
    return LoadCounts(records, deleted, skipped)


def mismatch(data: LoadData, counts: LoadCounts | None, affected: int) -> str | None:
    """Why the server's account of a LOAD DATA differs from the rows parsed, or None if it agrees.

    The server must have read exactly the tuples parsed; a plain INSERT batch must have inserted
    every one of them (LOAD DATA LOCAL skips duplicates silently where INSERT would fail), a
    REPLACE batch inserted all of them plus the rows it deleted.
    """
    if counts is None:
        return "the server did not say how many rows it read"
    if counts.records != data.rows:
        return f"the server read {counts.records} rows where the dump holds {data.rows}"
    if data.ignore:
        return None
    if counts.skipped:
        return f"the server skipped {counts.skipped} of {data.rows} rows"
    expected = data.rows + (counts.deleted if data.replace else 0)
    if affected != expected:
        return f"the server changed {affected} rows, {expected} expected"
    return None
