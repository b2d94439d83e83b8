"""Write a synthetic legacy dump in mysqldump's own text format, fast and deterministic.

Six tables shaped like the legacy Patronus data (small order rows, composite-key lines, text
documents, BLOBs with every byte value, a key-less log, a wide table), extended INSERTs of about
1 MB as mysqldump writes them by default, string escaping exactly as ``mysql_real_escape_string``
does it, plus a view, a trigger and a procedure so the importer's post-data phase is exercised.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

STATEMENT_BYTES = 1_000_000  # mysqldump's default net_buffer_length is about 1 MB
_ESCAPES = {
    b"\0": b"\\0",
    b"'": b"\\'",
    b'"': b'\\"',
    b"\\": b"\\\\",
    b"\n": b"\\n",
    b"\r": b"\\r",
    b"\x1a": b"\\Z",
}
_NEEDS_ESCAPE = re.compile(rb"[\0'\"\\\n\r\x1a]")

HEADER = b"""-- MySQL dump 10.13  Distrib 5.7.44, for Linux (x86_64)
--
-- Host: 10.0.20.2    Database: legacy
-- ------------------------------------------------------
-- Server version\t5.7.44-log
-- (synthetic data written by benchmarks/db_import/generate.py)

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;
"""

FOOTER = b"""
/*!50001 DROP VIEW IF EXISTS `v_open_orders`*/;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`legacy_app`@`10.0.10.%` SQL SECURITY DEFINER */
/*!50001 VIEW `v_open_orders` AS select `orders`.`id` AS `id`,`orders`.`amount` AS `amount`
 from `orders` where (`orders`.`status` = 'open') */;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`legacy_app`@`10.0.10.%`*/ /*!50003 TRIGGER `trg_orders_bi`
 BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.note = CONCAT(IFNULL(NEW.note, ''), ' (new)') */;;
CREATE DEFINER=`legacy_app`@`10.0.10.%` PROCEDURE `close_order`(IN p_id INT)
BEGIN
  UPDATE orders SET status = 'closed' WHERE id = p_id;
  INSERT INTO events VALUES (NOW(), 'proc', 'close', CONCAT('order;', p_id));
END ;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;
/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2024-05-01 10:00:00
"""


def escape(value: bytes) -> bytes:
    """Quote a value the way mysqldump does (mysql_real_escape_string, backslash escapes)."""
    return b"'" + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group()], value) + b"'"


@dataclass(frozen=True)
class Table:
    name: str
    ddl: str
    share: float  # fraction of the dump's bytes
    row: Callable[[random.Random, int], bytes]


def _pools(rng: random.Random) -> dict[str, list[bytes]]:
    words = [
        "dossier",
        "client",
        "facture",
        "relance",
        "contrat",
        "avenant",
        "pièce",
        "échéance",
        "numéro",
        "Straße",
        "東京",
        "данные",
        "🎉",
        "l'accord",
        "a;b",
        'quote"d',
        "back\\slash",
        "tab\there",
        "new\nline",
    ]

    def sentence(low: int, high: int) -> bytes:
        return " ".join(rng.choice(words) for _ in range(rng.randint(low, high))).encode()

    return {
        "short": [escape(sentence(2, 8)) for _ in range(2000)],
        "long": [escape(sentence(150, 400)) for _ in range(600)],
        "blob": [escape(bytes(range(256)) + rng.randbytes(rng.randint(2000, 14000))) for _ in range(300)],
        "name": [escape(sentence(1, 3)) for _ in range(500)],
    }


def tables(rng: random.Random) -> list[Table]:
    pools = _pools(rng)
    short, long, blob, name = pools["short"], pools["long"], pools["blob"], pools["name"]
    statuses = [b"'open'", b"'closed'", b"'cancelled'"]

    def order(r: random.Random, i: int) -> bytes:
        note = b"NULL" if i % 5 == 0 else r.choice(short)
        return b"(%d,%d,%s,%d.%02d,'20%02d-%02d-%02d %02d:%02d:%02d',%s)" % (
            i,
            r.randint(1, 50000),
            r.choice(statuses),
            r.randint(0, 99999),
            r.randint(0, 99),
            r.randint(10, 23),
            r.randint(1, 12),
            r.randint(1, 28),
            r.randint(0, 23),
            r.randint(0, 59),
            r.randint(0, 59),
            note,
        )

    def line(r: random.Random, i: int) -> bytes:
        return b"(%d,%d,%s,%d,%d.%03d)" % (
            i // 8 + 1,
            i % 8 + 1,
            r.choice(short),
            r.randint(1, 99),
            r.randint(0, 999),
            r.randint(0, 999),
        )

    def document(r: random.Random, i: int) -> bytes:
        return b"(%d,%d,%s,%s,'2015-%02d-%02d')" % (
            i,
            r.randint(1, 200000),
            r.choice(name),
            r.choice(long),
            r.randint(1, 12),
            r.randint(1, 28),
        )

    def attachment(r: random.Random, i: int) -> bytes:
        return b"(%d,%s,%s)" % (i, r.choice(name), b"NULL" if i % 11 == 0 else r.choice(blob))

    def event(r: random.Random, i: int) -> bytes:
        return b"('2019-%02d-%02d %02d:00:00',%s,'update',%s)" % (
            r.randint(1, 12),
            r.randint(1, 28),
            r.randint(0, 23),
            r.choice(name),
            r.choice(short),
        )

    def wide(r: random.Random, i: int) -> bytes:
        return (
            b"(%d," % i
            + b",".join(r.choice(short) for _ in range(16))
            + b",%d,%d)" % (r.randint(0, 10**9), i % 7)
        )

    return [
        Table(
            "orders",
            "`id` int(11) NOT NULL, `customer_id` int(11) NOT NULL, `status` enum('open','closed',"
            "'cancelled') NOT NULL, `amount` decimal(12,2) NOT NULL, `created` datetime NOT NULL, `note` "
            "varchar(255) DEFAULT NULL, PRIMARY KEY (`id`), KEY `ix_customer` (`customer_id`)",
            0.20,
            order,
        ),
        Table(
            "order_lines",
            "`order_id` int(11) NOT NULL, `line_no` smallint(6) NOT NULL, `label` varchar(255) "
            "NOT NULL, `qty` int(11) NOT NULL, `price` decimal(10,3) NOT NULL, "
            "PRIMARY KEY (`order_id`,`line_no`)",
            0.15,
            line,
        ),
        Table(
            "documents",
            "`id` int(11) NOT NULL, `dossier_id` int(11) NOT NULL, `title` varchar(255) NOT NULL, "
            "`body` mediumtext, `filed_on` date NOT NULL, PRIMARY KEY (`id`), "
            "KEY `ix_dossier` (`dossier_id`)",
            0.25,
            document,
        ),
        Table(
            "attachments",
            "`id` int(11) NOT NULL, `filename` varchar(255) NOT NULL, `content` mediumblob, "
            "PRIMARY KEY (`id`)",
            0.20,
            attachment,
        ),
        Table(
            "events",
            "`at` datetime NOT NULL, `actor` varchar(255) DEFAULT NULL, `action` varchar(32) NOT NULL, "
            "`payload` text, KEY `ix_at` (`at`)",
            0.10,
            event,
        ),
        Table(
            "wide_legacy",
            "`id` int(11) NOT NULL, "
            + ", ".join(f"`c{k:02d}` varchar(255) DEFAULT NULL" for k in range(16))
            + ", `n1` bigint(20) DEFAULT NULL, `n2` int(11) DEFAULT NULL, PRIMARY KEY (`id`)",
            0.10,
            wide,
        ),
    ]


def _table_chunks(table: Table, target_bytes: int, rng: random.Random) -> Iterator[bytes]:
    prefix = b"INSERT INTO `" + table.name.encode() + b"` VALUES "
    written = 0
    i = 1
    while written < target_bytes:
        rows: list[bytes] = []
        size = len(prefix)
        while size < STATEMENT_BYTES and written + size < target_bytes:
            row = table.row(rng, i)
            rows.append(row)
            size += len(row) + 1
            i += 1
        if not rows:
            break
        statement = prefix + b",".join(rows) + b";\n"
        written += len(statement)
        yield statement


def write_dump(path: Path, size_mb: float, seed: int = 7) -> dict[str, int]:
    """Write the dump; returns the bytes written per table."""
    rng = random.Random(seed)
    target = int(size_mb * 1024 * 1024)
    sizes: dict[str, int] = {}
    with path.open("wb") as out:
        out.write(HEADER)
        for table in tables(rng):
            sizes[table.name] = _write_table(out, table, int(target * table.share), rng)
        out.write(FOOTER)
    return sizes


def _write_table(out: BinaryIO, table: Table, target_bytes: int, rng: random.Random) -> int:
    name = table.name.encode()
    out.write(
        b"\n--\n-- Table structure for table `%s`\n--\n\nDROP TABLE IF EXISTS `%s`;\n"
        b"/*!40101 SET @saved_cs_client     = @@character_set_client */;\n"
        b"/*!40101 SET character_set_client = utf8mb4 */;\n"
        b"CREATE TABLE `%s` (%s) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
        b"/*!40101 SET character_set_client = @saved_cs_client */;\n\n"
        b"LOCK TABLES `%s` WRITE;\n/*!40000 ALTER TABLE `%s` DISABLE KEYS */;\n"
        % (name, name, name, table.ddl.encode(), name, name)
    )
    written = 0
    for statement in _table_chunks(table, target_bytes, rng):
        out.write(statement)
        written += len(statement)
    out.write(b"/*!40000 ALTER TABLE `%s` ENABLE KEYS */;\nUNLOCK TABLES;\n" % name)
    return written
