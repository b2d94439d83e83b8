"""What a dump says about itself: its client, the source database's defaults, whether it is whole."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from scripts.operator_tools.database.dumpcheck import check_completeness, database_defaults, read_head
from scripts.operator_tools.toolkit import ToolError

HEAD = b"-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n"
BODY = (
    b"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `legacy` "
    b"/*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci */;\n"
    b"USE `legacy`;\nCREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n"
)
TRAILER = b"-- Dump completed on 2026-12-03 17:36:36\n"


def write(path: Path, data: bytes, *, packed: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if packed else data)
    return path


@pytest.mark.parametrize("packed", [False, True])
def test_a_whole_dump_names_its_client_and_the_source_defaults(tmp_path: Path, packed: bool) -> None:
    dump = write(tmp_path / "d.sql", HEAD + BODY + TRAILER, packed=packed)
    head = read_head(dump)
    assert head.tool == "mariadb-dump"
    assert head.database is not None
    assert (head.database.charset, head.database.collation) == ("latin1", "latin1_swedish_ci")
    completeness = check_completeness(dump)
    assert completeness.trailer and completeness.problem() is None


def test_defaults_without_a_collation_and_dumps_without_create_database() -> None:
    found = database_defaults(b"CREATE DATABASE `x` /*!40100 DEFAULT CHARACTER SET utf8 */;")
    assert found is not None and (found.charset, found.collation) == ("utf8", None)
    assert database_defaults(b"CREATE TABLE t (id INT);") is None


@pytest.mark.parametrize("packed", [False, True])
def test_a_dump_without_trailer_or_without_statement_is_unfinished(tmp_path: Path, packed: bool) -> None:
    cut = check_completeness(write(tmp_path / "cut.sql", HEAD + BODY, packed=packed))
    assert "Dump completed" in (cut.problem() or "")
    empty = check_completeness(write(tmp_path / "empty.sql", b"", packed=packed))
    assert "no SQL statement" in (empty.problem() or "")
    comments_only = check_completeness(write(tmp_path / "c.sql", HEAD + TRAILER, packed=packed))
    assert "no SQL statement" in (comments_only.problem() or "")


def test_a_cut_or_damaged_gzip_is_refused(tmp_path: Path) -> None:
    packed = gzip.compress(HEAD + BODY * 200 + TRAILER)
    with pytest.raises(ToolError, match="cut short"):
        check_completeness(write(tmp_path / "cut.sql.gz", packed[: len(packed) // 2]))
    damaged = bytearray(packed)
    damaged[len(damaged) // 2] ^= 0xFF
    with pytest.raises(ToolError, match=r"damaged|cut short"):
        check_completeness(write(tmp_path / "bad.sql.gz", bytes(damaged)))
