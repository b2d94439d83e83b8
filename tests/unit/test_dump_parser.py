"""The streaming dump reader: statements, DELIMITER blocks, strings, comments, offsets."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from scripts.operator_tools.database.dumpparser import (
    DumpReader,
    DumpSyntaxError,
    open_dump,
    split_statements,
)

ROUTINE_DUMP = b"""/*M!999999\\- enable the sandbox mode */
-- MariaDB dump 10.19
/*!40101 SET NAMES utf8mb4 */;
DELIMITER ;;
CREATE DEFINER=`root`@`localhost` PROCEDURE `p`(IN x INT)
BEGIN
  DECLARE v VARCHAR(50);
  SET v = 'a;b';
  SELECT v; SELECT x;
END ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t BEFORE INSERT ON x
FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = ';;'; END */;;
DELIMITER ;
SELECT 1;
"""


def sqls(text: bytes | str) -> list[bytes]:
    return [s.sql or b"" for s in split_statements(text)]


def test_delimiter_blocks_keep_routine_and_trigger_bodies_whole() -> None:
    # Given a dump with a procedure and a trigger between DELIMITER ;; and DELIMITER ;
    # When it is split
    statements = split_statements(ROUTINE_DUMP)
    # Then the bodies, with their inner ';', are single statements and the delimiters are recorded
    assert [s.sql[:20] if s.sql else b"" for s in statements] == [
        b"/*!40101 SET NAMES u",
        b"CREATE DEFINER=`root",
        b"/*!50003 CREATE*/ /*",
        b"SELECT 1",
    ]
    assert [s.delimiter for s in statements] == [b";", b";;", b";;", b";"]
    assert statements[1].sql is not None and statements[1].sql.endswith(b"END")
    assert b"SET NEW.b = ';;'; END */" in (statements[2].sql or b"")


def test_conditional_comments_are_statement_text_and_plain_comments_are_dropped() -> None:
    # Given executable comments, and plain comments between statements
    text = b"""-- plain; comment
# hash; comment
/* block; comment */
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*M!100100 SET @x = 1 */;
SELECT 1 /* inline; */ + 2;
"""
    # When split, Then the executable comments are statements and the plain ones are gone
    assert sqls(text) == [
        b"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */",
        b"/*M!100100 SET @x = 1 */",
        b"SELECT 1 /* inline; */ + 2",
    ]


def test_strings_with_semicolons_and_the_word_delimiter_do_not_split() -> None:
    # Given strings holding ';', quotes escaped both ways, and a line starting with DELIMITER
    text = (
        "INSERT INTO t VALUES ('a;b','it\\'s; fine','doubled '' quote;',\"dq;\\\"x\",'ends with \\\\');\n"
        "INSERT INTO t VALUES ('line one;\nDELIMITER //\nstill the string;');\n"
        "INSERT INTO `we;ird``name` VALUES (1);\n"
    )
    # When split
    statements = sqls(text)
    # Then each INSERT stays whole
    assert len(statements) == 3
    assert statements[1] == b"INSERT INTO t VALUES ('line one;\nDELIMITER //\nstill the string;')"
    assert statements[2] == b"INSERT INTO `we;ird``name` VALUES (1)"


def test_double_dash_needs_a_blank_to_be_a_comment() -> None:
    # MySQL reads "1--1" as 1 - -1 and "-- x" as a comment
    assert sqls("SELECT 1--1;\nSELECT 2 -- trailing; comment\n;\n") == [
        b"SELECT 1--1",
        b"SELECT 2 -- trailing; comment",
    ]


def test_sandbox_marker_is_skipped_and_counted() -> None:
    reader = DumpReader(io.BytesIO(ROUTINE_DUMP))
    first = next(iter(reader))
    assert first.sql == b"/*!40101 SET NAMES utf8mb4 */"
    assert reader.stats.sandbox_markers == 1


def test_offsets_point_at_the_statement_text_in_the_stream() -> None:
    # Given a dump, When split, Then every statement can be read back from its offsets
    for statement in split_statements(ROUTINE_DUMP):
        assert ROUTINE_DUMP[statement.offset : statement.body_end] == statement.sql
        assert ROUTINE_DUMP[statement.body_end : statement.end].strip() == statement.delimiter


def test_line_numbers_name_where_each_statement_starts() -> None:
    statements = split_statements(ROUTINE_DUMP)
    assert [s.line for s in statements] == [3, 5, 11, 14]


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1 << 20])
def test_tiny_reads_give_the_same_statements(chunk_size: int) -> None:
    # Given the same dump read through chunks of any size (statements span many chunks)
    data = ROUTINE_DUMP + b"INSERT INTO t VALUES\n(1,'x;\\'y'),\n(2,'z');\n" * 3
    expected = [(s.sql, s.offset, s.line) for s in split_statements(data)]
    # When read with small chunks
    got = [(s.sql, s.offset, s.line) for s in DumpReader(io.BytesIO(data), chunk_size=chunk_size)]
    # Then nothing changes
    assert got == expected


def test_binary_bytes_in_strings_are_kept_byte_for_byte() -> None:
    blob = bytes(range(256)).replace(b"\\", b"\\\\").replace(b"'", b"\\'")
    text = b"INSERT INTO b VALUES ('" + blob + b"');\n"
    assert sqls(text) == [text[:-2]]


def test_last_statement_without_delimiter_is_returned() -> None:
    assert sqls("SELECT 1;\nSELECT 2\n") == [b"SELECT 1", b"SELECT 2"]


def test_want_text_false_skips_the_copy_but_keeps_position() -> None:
    reader = DumpReader(
        io.BytesIO(b"INSERT INTO t VALUES (1);\nSELECT 1;\n"), want_text=lambda h: h[:6] != b"INSERT"
    )
    first, second = list(reader)
    assert first.sql is None and (first.offset, first.body_end) == (0, 24)
    assert second.sql == b"SELECT 1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1;\nINSERT INTO t VALUES ('never closed);\n", "line 2: unterminated string"),
        ("SELECT 1;\n/* never closed\n", "line 2: unterminated comment"),
    ],
)
def test_unterminated_strings_and_comments_are_reported_with_their_line(text: str, message: str) -> None:
    with pytest.raises(DumpSyntaxError, match=message):
        split_statements(text)


def test_gzip_dumps_are_read_transparently(tmp_path: Path) -> None:
    # Given the same dump, plain and gzip-compressed
    plain = tmp_path / "d.sql"
    plain.write_bytes(ROUTINE_DUMP)
    packed = tmp_path / "d.sql.gz"
    packed.write_bytes(gzip.compress(ROUTINE_DUMP))
    # When both are read
    results = []
    for path in (plain, packed):
        stream, raw = open_dump(path)
        with raw:
            results.append([(s.sql, s.offset) for s in DumpReader(stream)])
    # Then they give the same statements at the same (uncompressed) offsets
    assert results[0] == results[1]
    assert len(results[0]) == 4
