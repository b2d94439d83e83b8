"""Classification of dump statements and the rewrites that make a dump loadable on Aurora."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.operator_tools.database.rewrite import (
    Classified,
    RewriteOptions,
    classify,
    drop_statement_for,
    engine_to_innodb,
    normalized_head,
    remove_definer,
    remove_no_auto_create_user,
    rewrite_statement,
    sql_security_invoker,
)
from scripts.operator_tools.database.scanner import plan_dump

FIXTURE_DUMP = Path(__file__).resolve().parents[1] / "fixtures" / "legacy_mysql57_dump.sql"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (b"CREATE DEFINER=`root`@`localhost` PROCEDURE `p`() SELECT 1", b"CREATE PROCEDURE `p`() SELECT 1"),
        (
            b"CREATE DEFINER='app'@'%' FUNCTION f() RETURNS INT RETURN 1",
            b"CREATE FUNCTION f() RETURNS INT RETURN 1",
        ),
        (b"CREATE DEFINER = CURRENT_USER() TRIGGER t", b"CREATE TRIGGER t"),
        (b"CREATE DEFINER=CURRENT_USER EVENT e", b"CREATE EVENT e"),
        (
            b"/*!50003 CREATE*/ /*!50017 DEFINER=`legacy app`@`10.0.%`*/ /*!50003 TRIGGER t",
            b"/*!50003 CREATE*/ /*!50017 */ /*!50003 TRIGGER t",
        ),
        (
            b"/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=`u`@`h` SQL SECURITY DEFINER */ "
            b"/*!50001 VIEW",
            b"/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 SQL SECURITY DEFINER */ /*!50001 VIEW",
        ),
    ],
)
def test_definer_clauses_are_removed(sql: bytes, expected: bytes) -> None:
    rewritten, count = remove_definer(sql)
    assert (rewritten, count) == (expected, 1)


def test_definer_text_inside_strings_and_comments_is_left_alone() -> None:
    sql = b"CREATE PROCEDURE p() BEGIN SELECT 'DEFINER=`x`@`y`'; -- DEFINER=`a`@`b`\nSELECT `DEFINER=q`; END"
    assert remove_definer(sql) == (sql, 0)


def test_sql_security_definer_becomes_invoker_only_when_asked() -> None:
    sql = b"/*!50013 DEFINER=`u`@`h` SQL SECURITY DEFINER */"
    assert sql_security_invoker(sql) == (b"/*!50013 DEFINER=`u`@`h` SQL SECURITY INVOKER */", 1)
    view = Classified("post", "view", name="v", verb="create", object_type="VIEW")
    _, default_counts = rewrite_statement(sql, view, RewriteOptions())
    assert default_counts == {"definer_removed": 1}
    rewritten, counts = rewrite_statement(sql, view, RewriteOptions(sql_security_invoker=True))
    assert counts == {"definer_removed": 1, "sql_security_invoker": 1}
    assert rewritten == b"/*!50013 SQL SECURITY INVOKER */"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            b"/*!50003 SET sql_mode = 'STRICT_TRANS_TABLES,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */",
            b"/*!50003 SET sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION' */",
        ),
        (b"SET sql_mode = 'NO_AUTO_CREATE_USER,ANSI_QUOTES'", b"SET sql_mode = 'ANSI_QUOTES'"),
        (b"SET sql_mode = 'ANSI_QUOTES,NO_AUTO_CREATE_USER'", b"SET sql_mode = 'ANSI_QUOTES'"),
        (b"SET sql_mode = 'NO_AUTO_CREATE_USER'", b"SET sql_mode = ''"),
    ],
)
def test_no_auto_create_user_is_removed_from_sql_mode(sql: bytes, expected: bytes) -> None:
    assert remove_no_auto_create_user(sql) == (expected, 1)


def test_myisam_and_aria_tables_become_innodb() -> None:
    sql = (
        b"CREATE TABLE t (c VARCHAR(10) COMMENT 'ENGINE=MyISAM') ENGINE=Aria PAGE_CHECKSUM=1 TRANSACTIONAL=1"
    )
    rewritten, count = engine_to_innodb(sql)
    assert count == 1
    assert rewritten.startswith(b"CREATE TABLE t (c VARCHAR(10) COMMENT 'ENGINE=MyISAM') ENGINE=InnoDB")
    assert b"PAGE_CHECKSUM" not in rewritten and b"TRANSACTIONAL" not in rewritten


def test_normalized_head_removes_executable_comment_markers() -> None:
    head = b"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `t` BEFORE"
    assert normalized_head(head) == b"CREATE DEFINER=`root`@`localhost` TRIGGER `t` BEFORE"


@pytest.mark.parametrize(
    ("head", "action", "kind", "name"),
    [
        (b"INSERT INTO `customers` VALUES (1)", "data", "insert", "customers"),
        (b"REPLACE INTO `we``ird` VALUES (1)", "data", "insert", "we`ird"),
        (b"INSERT IGNORE INTO legacy.t1 (a) VALUES (1)", "data", "insert", "t1"),
        (b"SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'uuid:1-9'", "drop", "gtid_purged_dropped", None),
        (b"SET @@SESSION.SQL_LOG_BIN= 0", "drop", "sql_log_bin_dropped", None),
        (b"SET @MYSQLDUMP_TEMP_LOG_BIN = @@SESSION.SQL_LOG_BIN", "drop", "sql_log_bin_dropped", None),
        (b"SET GLOBAL max_allowed_packet = 1", "drop", "global_variable_dropped", None),
        (b"/*!40101 SET NAMES utf8mb4 */", "session", "set", None),
        (b"set autocommit=0", "skip", "autocommit", None),
        (b"LOCK TABLES `t` WRITE", "skip", "lock_tables", None),
        (b"/*!40000 ALTER TABLE `t` DISABLE KEYS */", "skip", "disable_enable_keys", None),
        (b"commit", "skip", "transaction_control", None),
        (b"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `legacy`", "drop", "database_dropped", "legacy"),
        (b"USE `legacy`", "drop", "database_dropped", "legacy"),
        (
            b"CHANGE MASTER TO MASTER_LOG_FILE='b.000001', MASTER_LOG_POS=4",
            "drop",
            "replication_dropped",
            None,
        ),
        (b"GRANT SELECT ON *.* TO 'x'@'%'", "drop", "account_dropped", None),
        (b"DROP TABLE IF EXISTS `t`", "schema", "drop_table", "t"),
        (b"CREATE TABLE `t` (\n  `a` int)", "schema", "create_table", "t"),
        (
            b"/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`u`@`%` SQL SECURITY DEFINER */\n"
            b"/*!50001 VIEW `v` AS select 1 */",
            "post",
            "view",
            "v",
        ),
        (b"/*!50001 DROP VIEW IF EXISTS `v`*/", "post", "view", "v"),
        (b"CREATE DEFINER=`u`@`%` FUNCTION `f`(a INT) RETURNS int", "post", "routine", "f"),
        (
            b"/*!50106 CREATE*/ /*!50117 DEFINER=`u`@`%`*/ /*!50106 EVENT `e` ON SCHEDULE",
            "post",
            "event",
            "e",
        ),
        (
            b"/*!50003 CREATE*/ /*!50017 DEFINER=`u`@`%`*/ /*!50003 TRIGGER trg BEFORE",
            "post",
            "trigger",
            "trg",
        ),
    ],
)
def test_statements_are_classified(head: bytes, action: str, kind: str, name: str | None) -> None:
    classified = classify(head)
    assert (classified.action, classified.kind) == (action, kind)
    assert (classified.table or classified.name) == name


def test_recreating_a_post_object_first_drops_it() -> None:
    trigger = classify(b"/*!50003 CREATE*/ /*!50017 DEFINER=`u`@`%`*/ /*!50003 TRIGGER `trg` BEFORE")
    procedure = classify(b"CREATE DEFINER=`u`@`%` PROCEDURE `p`()")
    assert drop_statement_for(trigger) == b"DROP TRIGGER IF EXISTS `trg`"
    assert drop_statement_for(procedure) == b"DROP PROCEDURE IF EXISTS `p`"
    assert drop_statement_for(classify(b"DROP VIEW IF EXISTS `v`")) is None


def test_a_mysql57_dump_is_planned_with_every_rewrite_counted() -> None:
    # Given a mysqldump 5.7 file of a GTID server (with MyISAM, definers, routines, events)
    # When it is planned (no server needed)
    plan = plan_dump(FIXTURE_DUMP, progress=False)
    # Then each refusal Aurora would raise is rewritten or dropped, and counted
    assert plan.rewrites["gtid_purged_dropped"] == 1
    assert plan.rewrites["sql_log_bin_dropped"] == 3
    assert plan.rewrites["definer_removed"] == 5
    assert plan.rewrites["no_auto_create_user_removed"] >= 3
    assert plan.rewrites["engine_to_innodb"] == 3  # journal, notes and the view placeholder
    assert plan.rewrites["database_dropped"] == 3
    assert plan.source_databases == ["legacy"]
    # And the data is located, not loaded: tables, their statements and the objects
    assert {t.name: t.statements for t in plan.tables.values()} == {"clients": 2, "journal": 1, "notes": 0}
    assert {k: sorted(set(v)) for k, v in plan.objects.items()} == {
        "view": ["v_clients"],
        "trigger": ["trg_clients_bi"],
        "routine": ["client_count", "touch_client"],
        "event": ["ev_cleanup"],
    }
    # And no rewritten statement still names a definer or a GTID
    texts = b"\n".join(item.sql for item in plan.schema + plan.post)
    assert b"DEFINER=`" not in texts and b"GTID_PURGED" not in texts and b"MyISAM" not in texts


def test_a_dump_of_several_databases_is_refused(tmp_path: Path) -> None:
    from scripts.operator_tools.toolkit import ToolError

    dump = tmp_path / "two.sql"
    dump.write_text("USE `a`;\nCREATE TABLE t (x INT);\nUSE `b`;\nCREATE TABLE t (x INT);\n")
    with pytest.raises(ToolError, match="several databases"):
        plan_dump(dump, progress=False)
