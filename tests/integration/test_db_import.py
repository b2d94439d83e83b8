"""db_import against a real MariaDB: the legacy stand-in dumped with mariadb-dump, loaded back.

Each test imports into a fresh database and proves the result with db_verify (the same tools,
the same order an operator follows in the runbook).
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from scripts.db_import import main as import_main
from scripts.db_verify import main as verify_main
from scripts.devstack.database import connect, drop_database, ensure_database, with_database
from scripts.operator_tools.database.importer import STATE_TABLE
from scripts.operator_tools.database.scanner import Batch
from scripts.operator_tools.toolkit import EXIT_LOAD_FAILED, EXIT_OK, EXIT_USAGE, run

if TYPE_CHECKING:
    from tests.fixtures.legacy_db import LegacySource

pytest_plugins = ["tests.fixtures.legacy_db"]

REPO = Path(__file__).resolve().parents[2]
MYSQL57_DUMP = REPO / "tests" / "fixtures" / "legacy_mysql57_dump.sql"


def import_dump(dump: Path, url: str, report: Path, *extra: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    code = run(
        lambda argv: import_main(argv, **kwargs), [str(dump), "--url", url, "--report", str(report), *extra]
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return code, data


def verify(source: str, target: str, report: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = run(verify_main, ["--source-url", source, "--target-url", target, "--report", str(report), *extra])
    return code, json.loads(report.read_text()) if report.exists() else {}


def scalar(url: str, sql: str) -> Any:
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
            return None if row is None else next(iter(row.values()))
    finally:
        connection.close()


def test_a_mariadb_dump_imports_and_verifies_equal(
    legacy_source: LegacySource, legacy_dump: Path, target_database: LegacySource, tmp_path: Path
) -> None:
    # Given the legacy stand-in dumped by mariadb-dump --routines --triggers --events
    # When db_import loads it into an empty database with parallel workers
    code, report = import_dump(legacy_dump, target_database.url, tmp_path / "import.json", "--workers", "3")
    # Then it completes, reports each rewrite it made, and leaves no state table behind
    assert code == EXIT_OK, report
    assert report["outcome"] == "complete"
    assert report["plan"]["rewrites"]["definer_removed"] == 7  # 2 views, 2 routines, 2 triggers, 1 event
    assert report["plan"]["rewrites"]["sandbox_marker_dropped"] == 1
    assert {t["status"] for t in report["result"]["tables"]} == {"loaded"}
    assert scalar(target_database.url, f"SHOW TABLES LIKE '{STATE_TABLE}'") is None
    # And db_verify finds source and target equal: structure, objects, counts, checksums
    code, verdict = verify(
        legacy_source.url, target_database.url, tmp_path / "verify.json", "--chunk-size", "700"
    )
    assert code == EXIT_OK, verdict["differences"]
    assert verdict["counts"] == {"tables": 7, "views": 2, "routines": 2, "triggers": 2, "events": 1}
    # And the trigger that writes into audit_log did not fire during the load
    assert scalar(target_database.url, "SELECT COUNT(*) FROM audit_log") == scalar(
        legacy_source.url, "SELECT COUNT(*) FROM audit_log"
    )


def test_a_gzip_dump_imports_the_same(
    legacy_source: LegacySource, legacy_dump: Path, target_database: LegacySource, tmp_path: Path
) -> None:
    # Given the same dump, gzip-compressed
    packed = tmp_path / "legacy.sql.gz"
    packed.write_bytes(gzip.compress(legacy_dump.read_bytes(), compresslevel=1))
    # When it is imported with INSERTs only (no LOAD DATA) and small transactions
    code, report = import_dump(
        packed,
        target_database.url,
        tmp_path / "i.json",
        "--workers",
        "2",
        "--batch-size",
        "64",
        "--load-data",
        "off",
    )
    # Then it verifies equal
    assert code == EXIT_OK, report
    assert report["plan"]["compressed"] is True
    assert set(report["result"]["batches"]) == {"insert"}
    code, verdict = verify(legacy_source.url, target_database.url, tmp_path / "v.json")
    assert code == EXIT_OK, verdict["differences"]


def test_an_interrupted_import_resumes_and_reloads_the_partial_table(
    legacy_source: LegacySource, legacy_dump: Path, target_database: LegacySource, tmp_path: Path
) -> None:
    # Given an import that fails after two tables and part of the third (small batches, one worker)
    committed: list[Batch] = []

    def fail_midway(batch: Batch) -> None:
        committed.append(batch)
        tables = list(dict.fromkeys(b.table for b in committed))
        if len(tables) == 3 and sum(1 for b in committed if b.table == tables[2]) == 2:
            raise RuntimeError("injected failure: connection to the target lost")

    code, report = import_dump(
        legacy_dump,
        target_database.url,
        tmp_path / "first.json",
        "--workers",
        "1",
        "--batch-size",
        "16",
        on_batch=fail_midway,
    )
    assert code == EXIT_LOAD_FAILED
    assert report["outcome"] == "failed" and "injected failure" in report["error"]
    statuses = {t["name"]: t["status"] for t in report["result"]["tables"]}
    finished = sorted(name for name, status in statuses.items() if status == "loaded")
    partial = list(dict.fromkeys(b.table for b in committed))[2]
    assert len(finished) == 2 and statuses[partial] == "unfinished"
    partial_rows = scalar(target_database.url, f"SELECT COUNT(*) FROM `{partial}`")
    assert 0 < partial_rows < scalar(legacy_source.url, f"SELECT COUNT(*) FROM `{partial}`")
    assert scalar(target_database.url, f"SELECT COUNT(*) FROM {STATE_TABLE} WHERE status = 'done'") == 2

    # When the same command runs again
    code, report = import_dump(legacy_dump, target_database.url, tmp_path / "second.json", "--workers", "3")
    # Then it resumes: the finished tables are skipped, the partial one is reloaded from scratch
    assert code == EXIT_OK, report
    assert report["result"]["resumed"] is True
    statuses = {t["name"]: t["status"] for t in report["result"]["tables"]}
    assert sorted(name for name, status in statuses.items() if status == "skipped") == finished
    assert statuses[partial] == "loaded"
    # And the result verifies equal, with no state table left
    code, verdict = verify(legacy_source.url, target_database.url, tmp_path / "v.json")
    assert code == EXIT_OK, verdict["differences"]
    assert scalar(target_database.url, f"SHOW TABLES LIKE '{STATE_TABLE}'") is None


def test_a_hex_blob_dump_loads_exactly(
    legacy_source: LegacySource, target_database: LegacySource, tmp_path: Path
) -> None:
    # Given a dump made with --hex-blob: BLOBs are written as 0x... literals
    from tests.fixtures.legacy_db import dump_database

    dump = dump_database(legacy_source.server_url, legacy_source.name, tmp_path / "hex.sql", ["--hex-blob"])
    # When it is imported
    code, report = import_dump(dump, target_database.url, tmp_path / "i.json")
    # Then tables with binary columns took the INSERT path, the others LOAD DATA, and all is equal
    assert code == EXIT_OK, report
    assert report["result"]["batches"]["insert"] >= 1
    assert report["result"]["batches"]["load_data"] >= 1
    code, verdict = verify(legacy_source.url, target_database.url, tmp_path / "v.json")
    assert code == EXIT_OK, verdict["differences"]


@pytest.mark.parametrize("load_data", ["auto", "off"])
def test_the_dump_header_session_settings_apply_to_every_loader(
    load_data: str, target_database: LegacySource, tmp_path: Path
) -> None:
    # Given a dump whose header asks for NO_AUTO_VALUE_ON_ZERO (mysqldump always does), with a row 0
    dump = tmp_path / "zero.sql"
    dump.write_bytes(
        b"-- MySQL dump 10.13  Distrib 5.7.44\n"
        b"/*!40101 SET NAMES utf8mb4 */;\n"
        b"/*!40103 SET TIME_ZONE='+00:00' */;\n"
        b"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n"
        b"CREATE TABLE `counters` (`id` int NOT NULL AUTO_INCREMENT, `at` timestamp NULL, "
        b"PRIMARY KEY (`id`));\n"
        b"INSERT INTO `counters` VALUES (0,'2020-01-01 00:00:00'),(7,NULL);\n"
        b"-- Dump completed on 2024-05-01 10:00:00\n"
    )
    # When it is imported by parallel loaders
    code, report = import_dump(
        dump, target_database.url, tmp_path / "i.json", "--workers", "3", "--load-data", load_data
    )
    # Then the loaders ran with the header's settings: row 0 kept its id, the time stayed UTC
    assert code == EXIT_OK, report
    connection = connect(target_database.url)
    with connection.cursor() as cursor:
        cursor.execute("SET time_zone = '+00:00'")
        cursor.execute("SELECT id, CAST(at AS CHAR) AS at FROM counters ORDER BY id")
        rows = [(r["id"], r["at"]) for r in cursor.fetchall()]
    connection.close()
    assert rows == [(0, "2020-01-01 00:00:00"), (7, None)]


def test_rows_that_draw_warnings_are_replayed_as_inserts(
    target_database: LegacySource, tmp_path: Path
) -> None:
    # Given a mysqldump file whose value is too long for its column (non-strict mode: a warning)
    dump = tmp_path / "narrow.sql"
    dump.write_bytes(
        b"-- MySQL dump 10.13  Distrib 5.7.44\n"
        b"/*!40101 SET NAMES utf8mb4 */;\n"
        b"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n"
        b"CREATE TABLE `narrow` (`id` int NOT NULL, `code` varchar(3), PRIMARY KEY (`id`));\n"
        b"INSERT INTO `narrow` VALUES (1,'abc'),(2,'abcdef');\n"
        b"-- Dump completed on 2024-05-01 10:00:00\n"
    )
    # When it is imported
    code, report = import_dump(dump, target_database.url, tmp_path / "i.json")
    # Then LOAD DATA's warning sent the batch back to INSERT, whose warning is reported,
    # and the row is what the mysql client would have stored
    assert code == EXIT_OK, report
    assert report["result"]["batches"] == {"load_data_replayed_as_insert": 1, "insert": 1}
    assert [t["warnings"] for t in report["result"]["tables"]] == [1]
    assert "narrow" in report["result"]["warnings"][0]
    assert scalar(target_database.url, "SELECT code FROM narrow WHERE id = 2") == "abc"


KILLER = """
import os, signal, sys
sys.path.insert(0, {repo!r})
from scripts.db_import import main
seen = []
def kill_midway(batch):
    seen.append(batch.table)
    if len(set(seen)) >= 2 and seen.count(seen[-1]) >= 2:
        os.kill(os.getpid(), signal.SIGKILL)
main({argv!r}, on_batch=kill_midway)
"""


def test_a_killed_import_resumes(
    legacy_source: LegacySource, legacy_dump: Path, target_database: LegacySource, tmp_path: Path
) -> None:
    # Given an import process killed with SIGKILL in the middle of its second table
    argv = [
        str(legacy_dump),
        "--url",
        target_database.url,
        "--workers",
        "1",
        "--batch-size",
        "16",
        "--no-progress",
    ]
    script = KILLER.format(repo=str(REPO), argv=argv)
    env = {k: v for k, v in os.environ.items() if k != "MYSQL_PWD"}
    killed = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, check=False
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert scalar(target_database.url, f"SELECT COUNT(*) FROM {STATE_TABLE} WHERE status = 'done'") >= 1
    # When the command is run again, as a program this time
    rerun = subprocess.run(
        [sys.executable, "scripts/db_import.py", *argv], cwd=REPO, env=env, capture_output=True, check=False
    )
    # Then it resumes and the result verifies equal
    assert rerun.returncode == EXIT_OK, rerun.stderr.decode()
    assert b"(resumed)" in rerun.stdout
    code, verdict = verify(legacy_source.url, target_database.url, tmp_path / "v.json")
    assert code == EXIT_OK, verdict["differences"]


def test_dry_run_reports_the_plan_and_changes_nothing(
    legacy_dump: Path, target_database: LegacySource, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an empty target, When db_import runs with --dry-run
    code, report = import_dump(legacy_dump, target_database.url, tmp_path / "plan.json", "--dry-run")
    # Then it reports tables, objects and rewrites, and the target stays empty
    assert code == EXIT_OK
    assert report["outcome"] == "planned"
    assert {t["name"] for t in report["plan"]["tables"]} == {
        "attachments",
        "audit_log",
        "customers",
        "dossier_lines",
        "dossiers",
        "legacy_wide",
        "settings",
    }
    assert report["plan"]["objects"]["trigger"] == [
        "trg_attachments_after_insert",
        "trg_dossiers_before_update",
    ]
    assert "definer_removed 7" in capsys.readouterr().out
    assert (
        scalar(
            target_database.url,
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
        )
        == 0
    )


def test_a_non_empty_target_is_refused_without_force(
    legacy_dump: Path, target_database: LegacySource, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a target that already holds a table
    connection = connect(target_database.url)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE precious (id INT PRIMARY KEY)")
    connection.close()
    # When db_import runs without --force, Then it refuses with a usage error and touches nothing
    code, _ = import_dump(legacy_dump, target_database.url, tmp_path / "r.json")
    assert code == EXIT_USAGE
    assert "already holds 1 tables or views (precious)" in capsys.readouterr().err
    assert (
        scalar(
            target_database.url,
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
        )
        == 1
    )


@pytest.fixture
def user_without_super(
    mysql_server_url: str, target_database: LegacySource, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    """A login with every privilege on the target database and none on the server (like Aurora's)."""
    grant = f"ALL PRIVILEGES ON `{target_database.name}`.*"
    from tests.fixtures.legacy_db import temporary_user  # registered as a plugin: no top import

    with temporary_user(mysql_server_url, "mig", grant, tmp_path) as user:
        yield user


def test_a_mysql57_dump_loads_as_a_user_without_super(
    user_without_super: tuple[str, Path], target_database: LegacySource, tmp_path: Path, mysql_server_url: str
) -> None:
    # Given a mysqldump 5.7 file of a GTID server (GTID_PURGED, SQL_LOG_BIN, definers, MyISAM)
    # and a login that, like Aurora's master user, has no SUPER privilege
    user, password_file = user_without_super
    url = mysql_server_url.replace("root@", f"{user}@").rstrip("/") + f"/{target_database.name}"
    # When it is imported with the definers kept, Then the server refuses the first foreign definer
    code, report = import_dump(
        MYSQL57_DUMP, url, tmp_path / "kept.json", "--password-file", str(password_file), "--keep-definer"
    )
    assert code == EXIT_LOAD_FAILED
    assert "SUPER" in report["error"] and "legacy_app" in report["error"]
    # When it is imported with the default rewrites (same command, resuming)
    code, report = import_dump(
        MYSQL57_DUMP, url, tmp_path / "fixed.json", "--password-file", str(password_file)
    )
    # Then it completes, every object exists and works, and the tables are InnoDB
    assert code == EXIT_OK, report
    assert report["plan"]["rewrites"]["gtid_purged_dropped"] == 1
    assert report["plan"]["rewrites"]["definer_removed"] == 5
    assert scalar(target_database.url, "SELECT client_count()") == 3
    assert scalar(target_database.url, "SELECT name FROM v_clients WHERE id = 3") == "東京"
    assert (
        scalar(target_database.url, "SELECT note FROM clients WHERE id = 2") == "DELIMITER ;;\nnot a command"
    )
    engines = scalar(
        target_database.url,
        "SELECT GROUP_CONCAT(DISTINCT ENGINE) FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
    )
    assert engines == "InnoDB"
    # And the trigger did not fire on the loaded rows (it appends ';' to notes)
    assert (
        scalar(target_database.url, "SELECT note FROM clients WHERE id = 3") == "semi;colon -- and no comment"
    )


def test_phases_run_separately_as_for_a_dms_migration(
    legacy_source: LegacySource, legacy_dump: Path, target_database: LegacySource, tmp_path: Path
) -> None:
    # Given the schema created first (before a DMS full load), then the data, then the objects
    for step, phase in enumerate(("schema", "data", "post")):
        code, report = import_dump(
            legacy_dump, target_database.url, tmp_path / f"{step}.json", "--phases", phase
        )
        assert code == EXIT_OK, report
        assert report["result"]["phases_done"] == [phase]
    # Then the result is the same as a one-step import
    code, verdict = verify(legacy_source.url, target_database.url, tmp_path / "v.json")
    assert code == EXIT_OK, verdict["differences"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.sql", "--url", "mysql://root@127.0.0.1:1/x"], "does not exist"),
        (["{dump}", "--url", "mysql://root:secret@127.0.0.1/x"], "carries a password"),
        (["{dump}", "--url", "mysql://root@127.0.0.1:1/x"], "cannot connect to the target"),
        (["{dump}", "--host", "127.0.0.1"], "name the target database"),
    ],
)
def test_operator_mistakes_get_a_clear_message_and_exit_2(
    argv: list[str], message: str, legacy_dump: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.format(dump=legacy_dump) for a in argv]
    assert run(import_main, [*args, "--no-progress"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_help_lists_the_main_options() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/db_import.py", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--workers", "--dry-run", "--report", "--database", "--password-file", "--phases"):
        assert option in result.stdout


def table_names(url: str) -> list[str]:
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                "ORDER BY TABLE_NAME"
            )
            return [row["name"] for row in cursor.fetchall()]
    finally:
        connection.close()


def test_a_load_that_fails_part_way_says_what_the_target_holds_and_restart_works_as_printed(
    legacy_source: LegacySource,
    legacy_dump: Path,
    target_database: LegacySource,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a dump broken in its last table's rows (a statement the server refuses)
    text = legacy_dump.read_bytes()
    broken = tmp_path / "broken.sql"
    broken.write_bytes(text.replace(b"INSERT INTO `settings` VALUES", b"INSERT INTO `settings` VALUES (", 1))
    # When it is imported
    code, report = import_dump(broken, target_database.url, tmp_path / "broken.json", "--workers", "2")
    # Then the failure has its own exit code, the report is written, and the message names what
    # the target holds and the commands that resume, restart or clean it
    assert code == EXIT_LOAD_FAILED
    assert report["outcome"] == "failed"
    assert "tables loaded" in report["target_state"] and STATE_TABLE in report["target_state"]
    err = capsys.readouterr().err
    assert "--restart" in err and "--clean" in err and "tables loaded" in err
    assert STATE_TABLE in table_names(target_database.url)
    # When the operator re-makes the dump and follows the advice: the same command with --restart
    code, report = import_dump(legacy_dump, target_database.url, tmp_path / "again.json", "--restart")
    # Then it imports from scratch and the result verifies equal
    assert code == EXIT_OK, report
    code, verdict = verify(legacy_source.url, target_database.url, tmp_path / "v.json")
    assert code == EXIT_OK, verdict["differences"]


def test_clean_removes_what_an_unfinished_import_created(
    legacy_dump: Path, target_database: LegacySource, tmp_path: Path
) -> None:
    # Given an import that failed part-way
    broken = tmp_path / "broken.sql"
    broken.write_bytes(
        legacy_dump.read_bytes().replace(
            b"INSERT INTO `settings` VALUES", b"INSERT INTO `settings` VALUES (", 1
        )
    )
    code, _ = import_dump(broken, target_database.url, tmp_path / "broken.json")
    assert code == EXIT_LOAD_FAILED and table_names(target_database.url)
    # When --clean runs (no dump needed), Then the target is empty again
    report = tmp_path / "clean.json"
    assert run(import_main, ["--clean", "--url", target_database.url, "--report", str(report)]) == EXIT_OK
    assert table_names(target_database.url) == []
    assert json.loads(report.read_text())["outcome"] == "cleaned"


def test_a_truncated_gzip_is_refused_before_anything_is_loaded_with_a_report(
    legacy_dump: Path, target_database: LegacySource, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a gzip dump cut in the middle (a copy that did not finish)
    packed = gzip.compress(legacy_dump.read_bytes(), compresslevel=1)
    truncated = tmp_path / "cut.sql.gz"
    truncated.write_bytes(packed[: len(packed) // 2])
    # When it is imported
    code, report = import_dump(truncated, target_database.url, tmp_path / "cut.json")
    # Then it is refused, nothing was loaded, and the report says why
    assert code == EXIT_USAGE
    assert report["outcome"] == "refused" and "cut short" in report["error"]
    assert "cut short" in capsys.readouterr().err
    assert table_names(target_database.url) == []


def test_a_dump_without_the_completion_trailer_is_refused_unless_accepted(
    legacy_source: LegacySource, legacy_dump: Path, target_database: LegacySource, tmp_path: Path
) -> None:
    # Given a dump whose client stopped before writing its last line (the trailer is missing)
    lines = legacy_dump.read_bytes().splitlines(keepends=True)
    unfinished = tmp_path / "unfinished.sql"
    unfinished.write_bytes(b"".join(line for line in lines if not line.startswith(b"-- Dump completed")))
    # When it is imported, Then it is refused and nothing is loaded
    code, report = import_dump(unfinished, target_database.url, tmp_path / "u.json")
    assert code == EXIT_USAGE
    assert "Dump completed" in report["error"]
    assert table_names(target_database.url) == []
    # When the operator accepts it, Then it loads
    code, report = import_dump(unfinished, target_database.url, tmp_path / "a.json", "--accept-partial-dump")
    assert code == EXIT_OK, report
    assert any("--accept-partial-dump" in warning for warning in report["plan"]["warnings"])


def test_an_empty_gzip_dump_is_refused(target_database: LegacySource, tmp_path: Path) -> None:
    # Given what 'mysqldump | gzip' leaves when mysqldump fails at once
    empty = tmp_path / "empty.sql.gz"
    empty.write_bytes(gzip.compress(b""))
    # When it is imported, Then it is refused
    code, report = import_dump(empty, target_database.url, tmp_path / "e.json")
    assert code == EXIT_USAGE
    assert "no SQL statement" in report["error"]


def test_a_missing_target_is_created_with_the_source_defaults(mysql_server_url: str, tmp_path: Path) -> None:
    # Given a latin1 source database, with a routine whose variables take the database default,
    # dumped with --databases (the dump then names the defaults)
    from tests.fixtures.legacy_db import dump_database

    source_name, target_name = f"l1src_{uuid.uuid4().hex[:8]}", f"l1dst_{uuid.uuid4().hex[:8]}"
    source_url = ensure_database(mysql_server_url, source_name)
    try:
        connection = connect(source_url)
        with connection.cursor() as cursor:
            cursor.execute("ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci")
            cursor.execute("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))")
            cursor.execute("INSERT INTO t VALUES (1, 'Zoë')")
            cursor.execute("CREATE FUNCTION echo(x VARCHAR(20)) RETURNS VARCHAR(20) DETERMINISTIC RETURN x")
        connection.close()
        dump = dump_database(mysql_server_url, source_name, tmp_path / "l1.sql", ["--databases"])
        target_url = with_database(mysql_server_url, target_name)
        # When it is imported into a database that does not exist yet
        code, report = import_dump(dump, target_url, tmp_path / "i.json")
        # Then the database is created with the source's defaults, and db_verify finds it equal
        assert code == EXIT_OK, report
        assert report["result"]["database_created"] == {"charset": "latin1", "collation": "latin1_swedish_ci"}
        code, verdict = verify(source_url, target_url, tmp_path / "v.json")
        assert code == EXIT_OK, verdict["differences"]
    finally:
        drop_database(mysql_server_url, source_name)
        drop_database(mysql_server_url, target_name)
