"""The dump scanner on its own: what it hands to its sink, in dump order, and the plan it builds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scripts.operator_tools.database.scanner import Batch, DumpScanner, SqlItem

DUMP = b"""-- MySQL dump 10.13  Distrib 5.7.44, for Linux (x86_64)
/*!40101 SET NAMES latin1 */;
/*!40103 SET TIME_ZONE='+00:00' */;
SET @@GLOBAL.GTID_PURGED='uuid:1-5';
DROP TABLE IF EXISTS `orders`;
CREATE TABLE `orders` (`id` int NOT NULL, `note` blob, PRIMARY KEY (`id`)) ENGINE=MyISAM;
LOCK TABLES `orders` WRITE;
INSERT INTO `orders` VALUES (1,'one'),(2,'two');
INSERT INTO `orders` VALUES (3,'three');
INSERT INTO `orders` VALUES (4,'four');
UNLOCK TABLES;
CREATE TABLE `v_orders` (`id` tinyint NOT NULL) ENGINE=MyISAM;
CREATE TABLE `lines` (`id` int NOT NULL) ENGINE=InnoDB;
INSERT INTO `lines` VALUES (1);
/*!50001 DROP TABLE IF EXISTS `v_orders`*/;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`app`@`%` SQL SECURITY DEFINER */
/*!50001 VIEW `v_orders` AS select `orders`.`id` AS `id` from `orders` */;
/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
"""


@dataclass
class Recorder:
    """A sink that notes every call, as the importer would receive them."""

    wants_data: bool = True
    calls: list[tuple[str, object]] = field(default_factory=list)

    def schema(self, item: SqlItem) -> None:
        self.calls.append(("schema", item.classified.kind))

    def batch(self, batch: Batch) -> None:
        self.calls.append(("batch", (batch.table, len(batch.statements), batch.line)))

    def table_complete(self, name: str) -> None:
        self.calls.append(("complete", name))


def scan(tmp_path: Path, data: bytes, batch_bytes: int) -> tuple[DumpScanner, Recorder]:
    path = tmp_path / "dump.sql"
    path.write_bytes(data)
    scanner = DumpScanner(path, batch_bytes=batch_bytes, progress=False)
    sink = Recorder()
    scanner.scan(sink)
    return scanner, sink


def test_the_sink_gets_schema_batches_and_table_ends_in_dump_order(tmp_path: Path) -> None:
    # Given batches of about two small INSERTs
    scanner, sink = scan(tmp_path, DUMP, batch_bytes=90)
    # Then each table's rows come after its CREATE, in batches, and its end before the next table
    # (the view itself is kept in the plan for after the data, not handed over)
    assert sink.calls == [
        ("schema", "set"),
        ("schema", "set"),
        ("schema", "drop_table"),
        ("schema", "create_table"),
        ("batch", ("orders", 2, 8)),
        ("batch", ("orders", 1, 10)),
        ("complete", "orders"),
        ("schema", "create_table"),
        ("complete", "v_orders"),  # an old-style view placeholder: a table without rows
        ("schema", "create_table"),
        ("batch", ("lines", 1, 14)),
        ("complete", "lines"),
        ("schema", "drop_table"),
        ("schema", "set"),
    ]
    # And the plan counts them per table, without the view's placeholder table
    plan = scanner.plan
    assert {name: (t.statements, t.batches) for name, t in plan.tables.items()} == {
        "orders": (3, 2),
        "lines": (1, 1),
    }
    assert plan.objects["view"] == ["v_orders"]


def test_the_plan_keeps_the_header_rewrites_skips_and_warnings(tmp_path: Path) -> None:
    scanner, _ = scan(tmp_path, DUMP, batch_bytes=1 << 20)
    plan = scanner.plan
    # The header is the session settings before the first table; its SET NAMES is the charset
    assert plan.charset == "latin1"
    assert len(plan.header) == 2
    # Rewrites and skipped load steering are counted by kind
    assert plan.rewrites["gtid_purged_dropped"] == 1
    assert plan.rewrites["engine_to_innodb"] == 2
    assert plan.rewrites["definer_removed"] == 1
    assert plan.skipped == {"lock_tables": 2}
    # The client that wrote it is known
    assert plan.dump_tool == "mysqldump"
    assert plan.warnings == []


def test_a_kept_engine_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "dump.sql"
    path.write_bytes(b"CREATE TABLE `t` (`id` int) ENGINE=MEMORY;\n")
    scanner = DumpScanner(path, progress=False)
    scanner.scan(Recorder(wants_data=False))
    assert scanner.plan.warnings == [
        "line 1: table t keeps ENGINE=MEMORY; Aurora MySQL and DMS expect InnoDB"
    ]
