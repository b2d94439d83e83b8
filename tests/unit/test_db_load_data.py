"""When db_import may send rows as LOAD DATA, and the mysqldump fast path of the dump reader."""

from __future__ import annotations

import io

import pytest

from scripts.operator_tools.database.dumpparser import DumpReader, split_statements
from scripts.operator_tools.database.loaddata import to_load_data
from scripts.operator_tools.database.scanner import Batch


def batch(*statements: bytes, delimiter: bytes = b";") -> Batch:
    return Batch("t", 1, delimiter, list(statements), sum(map(len, statements)))


def test_mysqldump_rows_become_one_payload_without_their_outer_parentheses() -> None:
    converted = to_load_data(
        batch(
            b"INSERT INTO `t` VALUES (1,'a;b',NULL),(2,'it\\'s',-3.5e2)", b"INSERT INTO `t` VALUES (3,'',0)"
        )
    )
    assert converted is not None
    assert (converted.table, converted.columns, converted.terminator) == (b"`t`", b"", b"),(")
    assert converted.payload == b"1,'a;b',NULL),(2,'it\\'s',-3.5e2),(3,'',0"


def test_mariadb_dump_rows_one_per_line_and_column_lists_are_kept() -> None:
    converted = to_load_data(batch(b"INSERT INTO `t` (`a`, `b`) VALUES\n(1,'x'),\n(2,'y')"))
    assert converted is not None
    assert converted.columns == b"(`a`, `b`)"
    assert converted.terminator == b"),\n("
    assert converted.payload == b"1,'x'),\n(2,'y'"


@pytest.mark.parametrize(
    "statement",
    [
        b"INSERT INTO `t` VALUES (1,0x4142)",  # --hex-blob
        b"INSERT INTO `t` VALUES (0x41,1)",
        b"INSERT INTO `t` VALUES (1,b'101')",  # BIT
        b"INSERT INTO `t` VALUES (1,_binary 'ab')",  # introducer
        b'INSERT INTO `t` VALUES (1,"double")',
        b"INSERT INTO `t` VALUES (1,NOW())",
        b"INSERT INTO `t` VALUES (1,'100\\% sure')",  # INSERT keeps the backslash, LOAD DATA not
        b"INSERT IGNORE INTO `t` VALUES (1,'a')",  # IGNORE semantics stay with INSERT
        b"REPLACE INTO `t` VALUES (1,'a')",
    ],
)
def test_values_that_load_data_would_read_differently_keep_the_insert_path(statement: bytes) -> None:
    assert to_load_data(batch(statement)) is None


def test_binary_looking_bytes_inside_strings_do_not_matter() -> None:
    statement = b"INSERT INTO `t` VALUES (1,'a,0x41 (b\\'x\\' ,_y'),(2,'\\\\%')"
    converted = to_load_data(batch(statement))
    assert converted is not None and converted.payload.startswith(b"1,'a,0x41")


def test_trusted_tables_skip_the_value_scan_but_not_the_backslash_check() -> None:
    assert to_load_data(batch(b"INSERT INTO `t` VALUES (1,'x')"), trusted_format=True) is not None
    assert to_load_data(batch(b"INSERT INTO `t` VALUES (1,'\\_x')"), trusted_format=True) is None


def test_batches_that_mix_tables_or_formats_or_delimiters_are_not_converted() -> None:
    assert to_load_data(batch(b"INSERT INTO `t` VALUES (1)", b"INSERT INTO `u` VALUES (1)")) is None
    assert to_load_data(batch(b"INSERT INTO `t` VALUES (1),(2)", b"INSERT INTO `t` VALUES\n(3)")) is None
    assert to_load_data(batch(b"INSERT INTO `t` VALUES (1)", delimiter=b";;")) is None


DUMP = (
    b"-- MySQL dump 10.13\n"
    b"INSERT INTO `t` VALUES (1,'semi; colon'),(2,'DELIMITER ;;'),(3,'-- x /* y');\n"
    b"INSERT INTO `t` VALUES\n(4,'a'),\n(5,'b;');\n"
    b"CREATE TABLE x (`a;b` INT);\n"
    b"INSERT INTO `t` VALUES (6,'c');"
)


@pytest.mark.parametrize("chunk_size", [5, 64, 1 << 20])
def test_the_mysqldump_fast_path_splits_like_the_tokenizer(chunk_size: int) -> None:
    # Given a dump written by mysqldump (no raw newline inside its strings)
    expected = [(s.sql, s.offset, s.line) for s in split_statements(DUMP)]
    # When read with the fast path, in chunks of any size
    reader = DumpReader(io.BytesIO(DUMP), chunk_size=chunk_size, trusted_inserts=True)
    # Then the statements are the same, including the last one without a newline
    assert [(s.sql, s.offset, s.line) for s in reader] == expected
    assert len(expected) == 4
