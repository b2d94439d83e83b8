"""When db_import may send rows as LOAD DATA, and the mysqldump fast path of the dump reader."""

from __future__ import annotations

import io

import pytest

from scripts.operator_tools.database.dumpparser import DumpReader, split_statements
from scripts.operator_tools.database.loaddata import (
    LoadCounts,
    count_rows,
    mismatch,
    parse_load_info,
    to_load_data,
)
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
    assert converted.rows == 3


def test_mariadb_dump_rows_one_per_line_and_column_lists_are_kept() -> None:
    converted = to_load_data(batch(b"INSERT INTO `t` (`a`, `b`) VALUES\n(1,'x'),\n(2,'y')"))
    assert converted is not None
    assert converted.columns == b"(`a`, `b`)"
    assert converted.terminator == b"),\n("
    assert converted.payload == b"1,'x'),\n(2,'y'"
    assert converted.rows == 2


def test_complete_insert_rows_are_split_by_the_separator_they_use_not_the_blank_after_values() -> None:
    # mariadb-dump --complete-insert: "VALUES (" on the first line, then one row per line
    converted = to_load_data(
        batch(b"INSERT INTO `t` (`id`, `body`) VALUES (1,'first'),\n(2,'a),(b'),\n(3,'x')")
    )
    assert converted is not None
    assert converted.terminator == b"),\n("
    assert converted.rows == 3


def test_insert_ignore_and_replace_keep_their_meaning() -> None:
    ignore = to_load_data(batch(b"INSERT IGNORE INTO `t` VALUES (1,'a'),(2,'b')"))
    replace = to_load_data(batch(b"REPLACE INTO `t` VALUES (1,'a')"))
    assert ignore is not None and ignore.modifier == b"IGNORE" and ignore.rows == 2
    assert replace is not None and replace.modifier == b"REPLACE"
    assert to_load_data(batch(b"INSERT INTO `t` VALUES (1)", b"REPLACE INTO `t` VALUES (2)")) is None


def test_the_server_count_must_match_the_rows_parsed() -> None:
    converted = to_load_data(batch(b"INSERT INTO `t` VALUES (1,'a'),(2,'b'),(3,'c')"))
    assert converted is not None
    counts = parse_load_info(b"/Records: 1  Deleted: 0  Skipped: 0  Warnings: 0")
    assert counts == LoadCounts(1, 0, 0)
    assert mismatch(converted, counts, 1) == "the server read 1 rows where the dump holds 3"
    assert mismatch(converted, LoadCounts(3, 0, 1), 2) == "the server skipped 1 of 3 rows"
    assert mismatch(converted, LoadCounts(3, 0, 0), 3) is None
    assert mismatch(converted, None, 3) == "the server did not say how many rows it read"


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
        b"INSERT INTO `t` VALUES (1,'\\N')",  # 'N' for INSERT, NULL for LOAD DATA
        b"INSERT INTO `t` VALUES (1,'it''s')",  # doubled quote
        b"INSERT INTO `t` VALUES (1, 'a')",  # a blank LOAD DATA would keep
        b"INSERT INTO `t` VALUES (1,'a'),\n(2,'b'),(3,'c')",  # two row layouts in one statement
    ],
)
def test_values_that_load_data_would_read_differently_keep_the_insert_path(statement: bytes) -> None:
    assert to_load_data(batch(statement)) is None


def test_binary_looking_bytes_inside_strings_do_not_matter() -> None:
    statement = b"INSERT INTO `t` VALUES (1,'a,0x41 (b\\'x\\' ,_y'),(2,'\\\\%')"
    converted = to_load_data(batch(statement))
    assert converted is not None and converted.payload.startswith(b"1,'a,0x41")


def test_escaped_backslashes_before_n_or_percent_are_not_escapes() -> None:
    converted = to_load_data(batch(b"INSERT INTO `t` VALUES (1,'C:\\\\New\\\\100%')"))
    assert converted is not None and converted.rows == 1


def test_batches_that_mix_tables_or_formats_or_delimiters_are_not_converted() -> None:
    assert to_load_data(batch(b"INSERT INTO `t` VALUES (1)", b"INSERT INTO `u` VALUES (1)")) is None
    assert to_load_data(batch(b"INSERT INTO `t` VALUES (1),(2)", b"INSERT INTO `t` VALUES (3),\n(4)")) is None
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


def test_trusted_tables_count_rows_by_their_separator() -> None:
    # mariadb-dump's one row per line: the count by separator is exact
    maria = to_load_data(batch(b"INSERT INTO `t` VALUES\n(1,'a),(b'),\n(2,'c')"), trusted_format=True)
    assert maria is not None and (maria.rows, maria.exact) == (2, True)
    # mysqldump's one line: a string holding "),(" would add one, so the count is marked inexact
    mysql = to_load_data(batch(b"INSERT INTO `t` VALUES (1,'a),(b'),(2,'c')"), trusted_format=True)
    assert mysql is not None and (mysql.rows, mysql.exact) == (3, False)
    assert count_rows(batch(b"INSERT INTO `t` VALUES (1,'a),(b'),(2,'c')")) == 2
    # the escapes LOAD DATA reads otherwise are refused even there
    assert to_load_data(batch(b"INSERT INTO `t` VALUES (1,'\\_x')"), trusted_format=True) is None
    # and a statement that does not even start like a list of rows gets the full parse
    assert to_load_data(batch(b"INSERT INTO `t` VALUES ((1,'a'),(2,'b')"), trusted_format=True) is None
