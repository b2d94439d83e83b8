"""db_import loads every format the dump clients write, exactly: a corpus of real dumps.

A small schema with awkward values (quotes, backslashes, newlines, NULL and the text 'NULL',
binary bytes, unicode, a blob larger than a LOAD DATA batch, ``),(`` and ``'),\\n(`` inside
strings, ``\\N`` and ``\\%`` spelled in text) is dumped with the installed ``mariadb-dump`` in each
format, imported with db_import, and compared with the source by a checksum computed here, in
Python, over the rows read in key order: not by the tools under test.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.db_import import main as import_main
from scripts.devstack.database import connect, drop_database, ensure_database, with_database
from scripts.operator_tools import toolkit
from scripts.operator_tools.database import importer as importer_module
from scripts.operator_tools.database.loaddata import LoadData, to_load_data
from scripts.operator_tools.database.scanner import Batch

SCHEMA = """
CREATE TABLE notes (
  id INT NOT NULL PRIMARY KEY,
  body TEXT,
  label VARCHAR(200) CHARACTER SET latin1,
  data LONGBLOB,
  amount DECIMAL(12,3),
  ratio DOUBLE,
  at DATETIME(3),
  flags BIT(5)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE events (
  happened DATE NOT NULL,
  actor VARCHAR(40),
  payload VARCHAR(500)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE letters (
  id INT NOT NULL PRIMARY KEY,
  body MEDIUMTEXT
) DEFAULT CHARSET=utf8mb4;
"""
TRICKY = [
    "first",
    'it\'s "quoted"',
    "back\\slash and a trailing one\\",
    "C:\\New\\notes\\%20\\_x and \\N",
    "100\\% sure, 50% less",
    "a),(b and x'),\n(2,'y",
    "line one\nline two\r\nthree\ttabbed",
    "nul \x00 byte and ctrl-z \x1a",
    "Zoë Ærøskøbing — 中文 日本語 🎉 𝄞",
    "",
    "NULL",
    ";; DELIMITER ; -- not a comment /* nor this */",
]


def rows_for(seed: int = 7) -> list[tuple[Any, ...]]:
    import random

    rng = random.Random(seed)
    rows = []
    for i in range(1, 241):
        text = TRICKY[i % len(TRICKY)]
        data: bytes | None = bytes(range(256)) * (i % 5) + rng.randbytes(i % 37)
        if i % 9 == 0:
            data = None
        if i == 100:
            data = rng.randbytes(3 << 20)  # larger than a LOAD DATA batch (--batch-size below)
        rows.append(
            (
                i,
                None if i % 11 == 0 else f"{text} #{i}",
                None
                if i % 13 == 0
                else f"lätin {i} {text[:20]}".encode("latin1", "replace").decode("latin1"),
                data,
                None if i % 7 == 0 else f"{rng.randint(-(10**8), 10**8)}.{rng.randint(0, 999):03d}",
                None if i % 6 == 0 else rng.random() * 10 ** rng.randint(-5, 12),
                f"2020-02-29 12:34:{i % 60:02d}.{i % 1000:03d}",
                i % 32,
            )
        )
    return rows


@pytest.fixture(scope="module")
def corpus_source(mysql_server_url: str) -> Iterator[str]:
    name = f"corpus_{uuid.uuid4().hex[:10]}"
    url = ensure_database(mysql_server_url, name)
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            for statement in filter(str.strip, SCHEMA.split(";")):
                cursor.execute(statement)
            cursor.executemany("INSERT INTO notes VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows_for())
            events = [("2021-01-01", "jdoe", TRICKY[i % len(TRICKY)]) for i in range(30)]
            cursor.executemany("INSERT INTO events VALUES (%s, %s, %s)", events + events[:5])  # duplicates
            plain = [t for t in TRICKY if "\\" not in t]  # no escape that keeps rows off LOAD DATA
            letters = [(i, None if i % 10 == 0 else plain[i % len(plain)] * 3) for i in range(1, 61)]
            cursor.executemany("INSERT INTO letters VALUES (%s, %s)", letters)  # text last: no warning
        yield name
    finally:
        connection.close()
        drop_database(mysql_server_url, name)


def python_checksum(url: str) -> dict[str, tuple[int, str]]:
    """Per table: row count and a SHA-256 over every row read in a fixed order, hashed here."""
    connection = connect(url)
    result = {}
    try:
        with connection.cursor() as cursor:
            for table, order in (("notes", "id"), ("events", "happened, actor, payload"), ("letters", "id")):
                cursor.execute(f"SELECT * FROM {table} ORDER BY {order}")
                digest = hashlib.sha256()
                rows = cursor.fetchall()
                for row in rows:
                    digest.update(repr(sorted(row.items())).encode("utf-8", "surrogatepass"))
                result[table] = (len(rows), digest.hexdigest())
    finally:
        connection.close()
    return result


def dumpers() -> list[str]:
    """mariadb-dump, and mysqldump when it is another program (on Debian it is MariaDB's)."""
    found = [shutil.which("mariadb-dump") or "mariadb-dump"]
    mysqldump = shutil.which("mysqldump")
    if mysqldump and os.path.realpath(mysqldump) != os.path.realpath(found[0]):
        found.append(mysqldump)
    return found


def dump(server_url: str, database: str, target: Path, *options: str, dumper: str = "") -> Path:
    from tests.fixtures.legacy_db import client_args  # a plugin module elsewhere: no top import

    args, env = client_args(server_url)
    with target.open("wb") as out:
        subprocess.run(
            [dumper or dumpers()[0], *args, "--net-buffer-length=65536", *options, database],
            stdout=out,
            env=env,
            check=True,
        )
    return target


def load(dump_file: Path, url: str, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / f"import-{uuid.uuid4().hex[:6]}.json"
    code = toolkit.run(
        import_main,
        [
            str(dump_file),
            "--url",
            url,
            "--report",
            str(report),
            "--no-progress",
            "--batch-size",
            "256",
            *extra,
        ],
    )
    return code, json.loads(report.read_text()) if report.exists() else {}


@pytest.fixture
def target_url(mysql_server_url: str) -> Iterator[str]:
    name = f"corpus_t_{uuid.uuid4().hex[:10]}"
    url = ensure_database(mysql_server_url, name)
    try:
        yield url
    finally:
        drop_database(mysql_server_url, name)


FORMATS: dict[str, tuple[list[str], list[str]]] = {
    # name: (dump client options, db_import options)
    "extended": ([], []),
    "single_row": (["--skip-extended-insert"], []),
    "complete_insert": (["--complete-insert"], []),
    "complete_single_row": (["--complete-insert", "--skip-extended-insert"], []),
    "insert_ignore": (["--insert-ignore"], []),
    "replace": (["--replace"], []),
    "hex_blob": (["--hex-blob"], []),
    "compact": (["--compact"], ["--accept-partial-dump"]),
    "no_quoted_names": (["--skip-quote-names"], []),
    "small_statements": (["--net-buffer-length=4096"], []),
}


@pytest.mark.parametrize("dumper", dumpers())
@pytest.mark.parametrize("name", list(FORMATS))
def test_every_dump_format_loads_exactly(
    name: str, dumper: str, corpus_source: str, mysql_server_url: str, target_url: str, tmp_path: Path
) -> None:
    # Given a real dump of the tricky corpus in this format
    options, import_options = FORMATS[name]
    dump_file = dump(mysql_server_url, corpus_source, tmp_path / f"{name}.sql", *options, dumper=dumper)
    # When db_import loads it (LOAD DATA allowed, small batches so the rows span many batches)
    code, report = load(dump_file, target_url, tmp_path, *import_options)
    # Then it completes and every row is what the source holds, by an independent checksum
    assert code == toolkit.EXIT_OK, report
    assert python_checksum(target_url) == python_checksum(with_database(mysql_server_url, corpus_source))
    assert report["result"]["load_data_mismatches"] == []


def test_a_complete_insert_dump_goes_through_load_data_exactly(
    corpus_source: str, mysql_server_url: str, target_url: str, tmp_path: Path
) -> None:
    # Given a --complete-insert dump: "INSERT INTO t (cols) VALUES (r1),\n(r2)"
    dump_file = dump(mysql_server_url, corpus_source, tmp_path / "complete.sql", "--complete-insert")
    assert b") VALUES (" in dump_file.read_bytes()
    # When it is imported
    code, report = load(dump_file, target_url, tmp_path)
    # Then LOAD DATA carried the text rows, the server counted exactly the rows of the dump, and
    # every row of every table arrived (the first row does not swallow the next ones)
    assert code == toolkit.EXIT_OK, report
    assert report["result"]["batches"].get("load_data", 0) >= 1
    source = python_checksum(with_database(mysql_server_url, corpus_source))
    assert python_checksum(target_url) == source
    assert report["result"]["load_data_rows"] >= source["events"][0]


def test_the_mysqldump_one_line_layout_and_a_gzip_load_the_same(
    corpus_source: str, mysql_server_url: str, target_url: str, tmp_path: Path
) -> None:
    # Given the same dump in MySQL's layout (all the rows of a statement on one line), gzipped
    dump_file = dump(mysql_server_url, corpus_source, tmp_path / "maria.sql")
    mysql_layout = (
        dump_file.read_bytes().replace(b"),\n(", b"),(").replace(b"-- MariaDB dump", b"-- MySQL dump")
    )
    packed = tmp_path / "mysql.sql.gz"
    packed.write_bytes(gzip.compress(mysql_layout.replace(b"VALUES\n(", b"VALUES (")))
    # When it is imported, Then it is exact
    code, report = load(packed, target_url, tmp_path)
    assert code == toolkit.EXIT_OK, report
    assert python_checksum(target_url) == python_checksum(with_database(mysql_server_url, corpus_source))


def test_a_data_only_dump_loads_into_the_schema_of_a_schema_only_dump(
    corpus_source: str, mysql_server_url: str, target_url: str, tmp_path: Path
) -> None:
    # Given a schema-only dump and a data-only dump (the DMS path and the keyless tables)
    schema = dump(mysql_server_url, corpus_source, tmp_path / "schema.sql", "--no-data")
    data = dump(mysql_server_url, corpus_source, tmp_path / "data.sql", "--no-create-info")
    # When the schema phase runs, then the data phase
    code, report = load(schema, target_url, tmp_path, "--phases", "schema")
    assert code == toolkit.EXIT_OK, report
    code, report = load(data, target_url, tmp_path, "--phases", "data")
    # Then the rows are exact
    assert code == toolkit.EXIT_OK, report
    assert python_checksum(target_url) == python_checksum(with_database(mysql_server_url, corpus_source))


@pytest.fixture
def three_rows(mysql_server_url: str) -> Iterator[str]:
    """The case of the report: a table of three rows whose last column is text."""
    name = f"three_{uuid.uuid4().hex[:10]}"
    url = ensure_database(mysql_server_url, name)
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE t (id INT PRIMARY KEY, body TEXT)")
            cursor.executemany("INSERT INTO t VALUES (%s, %s)", [(1, "first"), (2, "second"), (3, "third")])
        yield name
    finally:
        connection.close()
        drop_database(mysql_server_url, name)


def bodies(url: str) -> list[tuple[int, str]]:
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, body FROM t ORDER BY id")
            return [(row["id"], row["body"]) for row in cursor.fetchall()]
    finally:
        connection.close()


def test_three_complete_insert_rows_load_as_three_rows(
    three_rows: str, mysql_server_url: str, target_url: str, tmp_path: Path
) -> None:
    # Given a three-row table dumped with --complete-insert
    dump_file = dump(mysql_server_url, three_rows, tmp_path / "three.sql", "--complete-insert")
    # When it is imported, Then the three rows arrive as three rows
    code, report = load(dump_file, target_url, tmp_path)
    assert code == toolkit.EXIT_OK, report
    assert bodies(target_url) == [(1, "first"), (2, "second"), (3, "third")]


def test_the_load_data_fast_path_checks_itself_and_falls_back(
    three_rows: str,
    mysql_server_url: str,
    target_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a conversion that guesses the row separator wrong (the ") VALUES (" of --complete-insert
    # read as "rows on one line"), as the broken fast path did: the server reads one row, silently
    def wrong_separator(batch: Batch, **options: Any) -> LoadData | None:
        converted = to_load_data(batch, **options)
        if converted is None or converted.rows < 2:
            return converted
        return LoadData(
            converted.table, converted.columns, b"),(", converted.payload, converted.rows, converted.modifier
        )

    monkeypatch.setattr(importer_module, "to_load_data", wrong_separator)
    dump_file = dump(mysql_server_url, three_rows, tmp_path / "three.sql", "--complete-insert")
    # When it is imported
    code, report = load(dump_file, target_url, tmp_path)
    # Then the server's row count gave the mistake away: the batch was replayed as INSERTs,
    # the summary says so, and the rows are exact
    assert code == toolkit.EXIT_OK, report
    assert report["result"]["batches"]["load_data_count_mismatch"] == 1
    (mismatch,) = report["result"]["load_data_mismatches"]
    assert mismatch.startswith("table t (line ")
    assert mismatch.endswith("the server read 1 rows where the dump holds 3; replayed as INSERTs")
    assert bodies(target_url) == [(1, "first"), (2, "second"), (3, "third")]
