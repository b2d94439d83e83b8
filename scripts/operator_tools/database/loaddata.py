"""Turn a batch of ``INSERT`` statements into one ``LOAD DATA LOCAL INFILE`` payload, when exact.

mysqldump writes ``INSERT INTO t VALUES (r1),(r2)`` (MariaDB: one row per line, ``),\\n(``).
The payload is the rows without their outer parentheses, separated by that terminator: fields
are ``,``-separated, ``'``-enclosed, ``\\``-escaped, and an unquoted ``NULL`` is NULL, which
are exactly the INSERT literal rules for what mysqldump emits. A batch whose rows might not
convert exactly stays a batch of INSERTs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scripts.operator_tools.database.scanner import Batch

_VALUES = re.compile(
    rb"(?is)INSERT\s+INTO\s+(?P<table>`(?:[^`]|``)+`|[A-Za-z0-9_$]+)\s*(?P<columns>\((?:[^()`]|`(?:[^`]|``)*`)*\))?"
    rb"\s*VALUES(?P<space>\s*)\("
)
# The rows convert exactly when every value is a number, NULL or a single-quoted string without
# \% or \_ (an INSERT keeps that backslash, LOAD DATA drops it). Anything else (hex, bit or
# introducer literals, double quotes, functions) sends the batch down the INSERT path. mysqldump
# and mariadb-dump only write such values for binary and BIT columns, so rows of their other
# tables only need the cheap backslash check.
_SAFE_ROWS = re.compile(
    rb"(?:'(?:[^'\\]++|\\[^%_])*+'|NULL|[-+]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][-+]?\d++)?|[,\s]++|\),\s*+\()*+",
    re.DOTALL,
)


@dataclass(frozen=True)
class LoadData:
    table: bytes
    columns: bytes
    terminator: bytes
    payload: bytes


def to_load_data(batch: Batch, *, trusted_format: bool = False) -> LoadData | None:
    """The batch's rows as a LOAD DATA payload, or None when a row might not convert exactly.

    mysqldump writes ``INSERT INTO t VALUES (r1),(r2)`` (MariaDB: one row per line, ``),\\n(``).
    The payload is the rows without their outer parentheses, separated by that terminator:
    fields are ``,``-separated, ``'``-enclosed, ``\\``-escaped, and an unquoted ``NULL`` is NULL,
    which are exactly the INSERT literal rules for what mysqldump emits.
    """
    if batch.delimiter != b";" or not batch.statements:
        return None
    parts: list[bytes] = []
    table = columns = terminator = None
    for statement in batch.statements:
        match = _VALUES.match(statement)
        if match is None or not statement.endswith(b")"):
            return None
        this_terminator = b"),\n(" if b"\n" in match.group("space") else b"),("
        key = (match.group("table"), match.group("columns") or b"", this_terminator)
        if table is None:
            table, columns, terminator = key
        elif key != (table, columns, terminator):
            return None
        body = statement[match.end() : -1]
        if trusted_format:
            if b"\\%" in body or b"\\_" in body:
                return None
        else:
            safe = _SAFE_ROWS.match(body)
            if safe is None or safe.end() != len(body):
                return None
        parts.append(body)
    assert table is not None and columns is not None and terminator is not None
    return LoadData(table, columns, terminator, terminator.join(parts))
