"""What AWS DMS change data capture (CDC) needs from a self-managed MySQL/MariaDB source.

:func:`gather` reads the facts with plain, read-only queries (``SHOW GLOBAL VARIABLES``,
``SHOW GRANTS``, ``information_schema``) that MySQL 5.6-8.0 and MariaDB 10.x all answer;
:func:`evaluate` turns them into findings, each ``ok``, ``info``, ``warning`` or ``blocker``,
with the fix spelled out. A blocker means a DMS full-load-and-CDC task would fail or lose
changes; a warning means it runs but something deserves a decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pymysql

from scripts.operator_tools.database.connection import ConnectionSpec

OK, INFO, WARNING, BLOCKER = "ok", "info", "warning", "blocker"
VARIABLES = (
    "log_bin",
    "server_id",
    "binlog_format",
    "binlog_row_image",
    "binlog_expire_logs_seconds",
    "expire_logs_days",
    "binlog_checksum",
    "binlog_row_value_options",
    "binlog_transaction_compression",
    "log_slave_updates",
    "log_replica_updates",
    "net_read_timeout",
    "net_write_timeout",
    "wait_timeout",
    "version_comment",
    "system_time_zone",
    "time_zone",
)
FLAKY_ENGINES = {"myisam", "aria", "mrg_myisam"}  # DMS reads them, without transactions


@dataclass
class TableFacts:
    name: str
    engine: str | None
    has_primary_key: bool = False
    has_unique_not_null: bool = False
    partitioned: bool = False
    generated_columns: int = 0


@dataclass
class SourceFacts:
    version: str
    current_user: str
    database: str
    database_exists: bool
    variables: dict[str, str] = field(default_factory=dict)
    grants: list[str] = field(default_factory=list)
    tables: list[TableFacts] = field(default_factory=list)
    cascading_foreign_keys: list[str] = field(default_factory=list)
    is_replica: bool | None = None


@dataclass
class Finding:
    check: str
    status: str
    message: str
    fix: str | None = None
    details: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v not in (None, [])}


def gather(spec: ConnectionSpec) -> SourceFacts:
    """Read everything the evaluation needs; the connection is read-only in effect."""
    connection = spec.connect(use_database=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION(), CURRENT_USER()")
            version, user = cursor.fetchone() or ("?", "?")
            placeholders = ", ".join(["%s"] * len(VARIABLES))
            cursor.execute(f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({placeholders})", VARIABLES)
            variables = {str(name).lower(): str(value) for name, value in cursor.fetchall()}
            cursor.execute("SHOW GRANTS")
            grants = [str(row[0]) for row in cursor.fetchall()]
            database = spec.database or ""
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (database,)
            )
            exists = bool(_first(cursor.fetchone()))
            facts = SourceFacts(
                version=str(version),
                current_user=str(user),
                database=database,
                database_exists=exists,
                variables=variables,
                grants=grants,
            )
            if exists:
                facts.tables = _tables(cursor, database)
                cursor.execute(
                    "SELECT TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE "
                    "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s "
                    "AND (UPDATE_RULE IN ('CASCADE', 'SET NULL') OR DELETE_RULE IN ('CASCADE', 'SET NULL')) "
                    "ORDER BY TABLE_NAME, CONSTRAINT_NAME",
                    (database,),
                )
                facts.cascading_foreign_keys = [
                    f"{t}.{c} (ON UPDATE {u}, ON DELETE {d})" for t, c, u, d in cursor.fetchall()
                ]
            try:
                cursor.execute("SHOW SLAVE STATUS")
                facts.is_replica = bool(cursor.fetchall())
            except pymysql.err.MySQLError:
                facts.is_replica = None  # not allowed to look: the grants finding says why
            return facts
    finally:
        connection.close()


def _tables(cursor: Any, database: str) -> list[TableFacts]:
    cursor.execute(
        "SELECT TABLE_NAME, ENGINE, CREATE_OPTIONS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        (database,),
    )
    tables = {
        name: TableFacts(name, engine, partitioned="partitioned" in (options or "").lower())
        for name, engine, options in cursor.fetchall()
    }
    cursor.execute(
        "SELECT TABLE_NAME, COLUMN_NAME, IS_NULLABLE, GENERATION_EXPRESSION FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = %s",
        (database,),
    )
    nullable: set[tuple[str, str]] = set()
    for table, column, is_nullable, generation in cursor.fetchall():
        if is_nullable == "YES":
            nullable.add((table, column))
        if generation and table in tables:
            tables[table].generated_columns += 1
    cursor.execute(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = %s",
        (database,),
    )
    unique_columns: dict[tuple[str, str], list[str]] = {}
    for table, index, non_unique, column in cursor.fetchall():
        if table not in tables:
            continue
        if index == "PRIMARY":
            tables[table].has_primary_key = True
        elif int(non_unique) == 0:
            unique_columns.setdefault((table, index), []).append(column)
    for (table, _index), columns in unique_columns.items():
        if all((table, c) not in nullable for c in columns):
            tables[table].has_unique_not_null = True
    return list(tables.values())


# --- evaluation ------------------------------------------------------------------------------

_GRANT = re.compile(r"^GRANT (?P<privileges>.+?) ON (?P<scope>\S+) TO ", re.IGNORECASE)


def _privileges(grants: list[str], database: str) -> tuple[set[str], set[str]]:
    """Global privileges, and privileges on ``database`` (upper case)."""
    global_privileges: set[str] = set()
    database_privileges: set[str] = set()
    for grant in grants:
        match = _GRANT.match(grant)
        if not match:
            continue
        names = {p.strip().upper() for p in match.group("privileges").split(",")}
        if "ALL" in names:
            names.add("ALL PRIVILEGES")
        scope = match.group("scope").replace("`", "").replace("\\_", "_").replace("\\%", "%")
        if scope == "*.*":
            global_privileges |= names
        elif scope.split(".")[0] in {database, "%"}:
            database_privileges |= names
    return global_privileges, database_privileges


def _retention_seconds(variables: dict[str, str]) -> float | None:
    seconds = variables.get("binlog_expire_logs_seconds") or ""
    days = variables.get("expire_logs_days") or ""
    if seconds not in ("", "0"):
        return float(seconds)
    if days:
        return float(days) * 86400
    return 0.0 if seconds == "0" else None


MY_CNF = "in the [mysqld] section of my.cnf, then restart the server"


@dataclass(frozen=True)
class Context:
    """What each check reads: the facts, the server variables (blanks stripped), the options."""

    facts: SourceFacts
    variables: dict[str, str]
    min_retention_hours: float = 24.0
    allow_tables_without_key: bool = False

    def get(self, name: str, default: str = "") -> str:
        return self.variables.get(name, default)


Check = Callable[[Context], list[Finding]]


def evaluate(
    facts: SourceFacts, *, min_retention_hours: float = 24.0, allow_tables_without_key: bool = False
) -> list[Finding]:
    """Every check's findings, in the order of :data:`CHECKS`."""
    variables = {k: (val or "").strip() for k, val in facts.variables.items()}
    context = Context(facts, variables, min_retention_hours, allow_tables_without_key)
    return [finding for check in CHECKS for finding in check(context)]


def check_server_version(c: Context) -> list[Finding]:
    return [Finding("server_version", INFO, f"{c.facts.version} ({c.get('version_comment', '?')})")]


def check_time_zone(c: Context) -> list[Finding]:
    zone = c.get("time_zone")
    zone = c.get("system_time_zone", "?") if zone.upper() == "SYSTEM" else zone
    if zone.upper() in {"UTC", "+00:00", "GMT", "ETC/UTC", "?"}:
        return []
    return [
        Finding(
            "time_zone",
            INFO,
            f"the server's time zone is {zone}",
            f"give DMS the same zone: source_server_timezone='{zone}' in the replication props "
            "(an IANA name such as Europe/Paris)",
        )
    ]


def check_log_bin(c: Context) -> list[Finding]:
    if c.get("log_bin").upper() in {"ON", "1"}:
        return [Finding("log_bin", OK, "binary logging is on")]
    return [
        Finding(
            "log_bin",
            BLOCKER,
            "binary logging is off: DMS cannot capture changes",
            f"set log_bin = mysql-bin (and server_id = 1 if unset) {MY_CNF}",
        )
    ]


def check_server_id(c: Context) -> list[Finding]:
    server_id = c.get("server_id", "0")
    if server_id.isdigit() and int(server_id) >= 1:
        return [Finding("server_id", OK, f"server_id = {server_id}")]
    return [Finding("server_id", BLOCKER, f"server_id = {server_id or '?'}", f"set server_id = 1 {MY_CNF}")]


def check_binlog_format(c: Context) -> list[Finding]:
    binlog_format = c.get("binlog_format").upper()
    if binlog_format == "ROW":
        return [Finding("binlog_format", OK, "binlog_format = ROW")]
    return [
        Finding(
            "binlog_format",
            BLOCKER,
            f"binlog_format = {binlog_format or '?'}: DMS needs row events",
            f"set binlog_format = ROW {MY_CNF} (SET GLOBAL only affects new sessions)",
        )
    ]


def check_binlog_row_image(c: Context) -> list[Finding]:
    row_image = c.get("binlog_row_image").upper()
    if row_image == "FULL":
        return [Finding("binlog_row_image", OK, "binlog_row_image = FULL")]
    return [
        Finding(
            "binlog_row_image",
            BLOCKER,
            f"binlog_row_image = {row_image or 'unknown (server too old?)'}: "
            "DMS needs full before and after images",
            f"set binlog_row_image = FULL {MY_CNF}",
        )
    ]


def check_binlog_retention(c: Context) -> list[Finding]:
    retention = _retention_seconds(c.variables)
    hours = c.min_retention_hours
    if retention is None:
        return [Finding("binlog_retention", WARNING, "binary log retention is unknown")]
    if retention == 0:
        return [
            Finding(
                "binlog_retention",
                WARNING,
                "binary logs are never purged automatically: fine for DMS, but watch the disk",
                f"set binlog_expire_logs_seconds (MySQL 8.0) or expire_logs_days to at least {hours:g} hours",
            )
        ]
    if retention < hours * 3600:
        return [
            Finding(
                "binlog_retention",
                BLOCKER,
                f"binary logs are kept {retention / 3600:g} hours, less than the "
                f"{hours:g} hours a CDC task may fall behind",
                f"set binlog_expire_logs_seconds = {int(hours * 3600)} (MySQL 8.0) or expire_logs_days = "
                f"{max(1, round(hours / 24 + 0.49))} (5.7, MariaDB) {MY_CNF}",
            )
        ]
    return [Finding("binlog_retention", OK, f"binary logs are kept {retention / 3600:g} hours")]


def check_binlog_options(c: Context) -> list[Finding]:
    """Compression and partial JSON (both unreadable for DMS), and the checksum (worth knowing)."""
    findings = []
    if c.get("binlog_transaction_compression").upper() in {"ON", "1"}:
        findings.append(
            Finding(
                "binlog_transaction_compression",
                BLOCKER,
                "binary log transaction compression is on: DMS cannot read compressed events",
                "SET PERSIST binlog_transaction_compression = OFF",
            )
        )
    if "PARTIAL_JSON" in c.get("binlog_row_value_options").upper():
        findings.append(
            Finding(
                "binlog_row_value_options",
                BLOCKER,
                "binlog_row_value_options = PARTIAL_JSON: DMS needs whole JSON values",
                "SET PERSIST binlog_row_value_options = ''",
            )
        )
    checksum = c.variables.get("binlog_checksum")
    if checksum:
        fix = (
            None
            if checksum.upper() == "NONE"
            else "if the DMS task log reports checksum errors, set it to NONE"
        )
        findings.append(Finding("binlog_checksum", INFO, f"binlog_checksum = {checksum}", fix))
    return findings


def check_replica_updates(c: Context) -> list[Finding]:
    if not c.facts.is_replica:
        return []
    replica_updates = c.variables.get("log_replica_updates", c.get("log_slave_updates")).upper()
    if replica_updates in {"ON", "1"}:
        return []
    return [
        Finding(
            "replica_updates",
            BLOCKER,
            "this server is a replica that does not log the changes it replays",
            f"set log_slave_updates = ON (log_replica_updates in MySQL 8.0.26+) {MY_CNF}, "
            "or point DMS at the primary",
        )
    ]


def check_grants(c: Context) -> list[Finding]:
    return _grant_findings(c.facts)


def check_tables(c: Context) -> list[Finding]:
    return _table_findings(c.facts, c.allow_tables_without_key)


def check_timeouts(c: Context) -> list[Finding]:
    v = c.variables
    names = ("net_read_timeout", "net_write_timeout", "wait_timeout")
    short = [name for name in names if v.get(name, "").isdigit() and int(v[name]) < 300]
    if not short:
        return []
    return [
        Finding(
            "timeouts",
            WARNING,
            "timeouts below the 300 s DMS recommends: " + ", ".join(f"{n} = {v[n]}" for n in short),
            "SET GLOBAL " + ", ".join(f"{n} = 300" for n in short) + " (and in my.cnf)",
        )
    ]


CHECKS: tuple[Check, ...] = (
    check_server_version,
    check_time_zone,
    check_log_bin,
    check_server_id,
    check_binlog_format,
    check_binlog_row_image,
    check_binlog_retention,
    check_binlog_options,
    check_replica_updates,
    check_grants,
    check_tables,
    check_timeouts,
)


def _grant_findings(facts: SourceFacts) -> list[Finding]:
    findings = []
    global_privileges, database_privileges = _privileges(facts.grants, facts.database)
    has_all = "ALL PRIVILEGES" in global_privileges
    missing = []
    if not (has_all or "REPLICATION SLAVE" in global_privileges):
        missing.append("REPLICATION SLAVE")
    if not (has_all or global_privileges & {"REPLICATION CLIENT", "BINLOG MONITOR", "SUPER"}):
        missing.append("REPLICATION CLIENT")
    user = facts.current_user
    if missing:
        findings.append(
            Finding(
                "replication_grants",
                BLOCKER,
                f"{user} lacks {' and '.join(missing)} ON *.*",
                f"GRANT {', '.join(missing)} ON *.* TO {_account(user)}  "
                "(MariaDB 10.5+: REPLICATION CLIENT is called BINLOG MONITOR)",
            )
        )
    else:
        findings.append(Finding("replication_grants", OK, f"{user} may read the binary log"))
    can_select = (
        has_all or "SELECT" in global_privileges or bool(database_privileges & {"SELECT", "ALL PRIVILEGES"})
    )
    if can_select:
        findings.append(Finding("select_grant", OK, f"{user} may read {facts.database}"))
    else:
        findings.append(
            Finding(
                "select_grant",
                BLOCKER,
                f"{user} cannot SELECT from {facts.database}",
                f"GRANT SELECT ON `{facts.database}`.* TO {_account(user)}",
            )
        )
    return findings


def _table_findings(facts: SourceFacts, allow_tables_without_key: bool) -> list[Finding]:
    if not facts.database_exists:
        return [
            Finding(
                "database", BLOCKER, f"database {facts.database} does not exist or is not visible to the user"
            )
        ]
    findings = [Finding("database", OK, f"{len(facts.tables)} tables in {facts.database}")]
    without_key = [t.name for t in facts.tables if not t.has_primary_key and not t.has_unique_not_null]
    if without_key:
        findings.append(
            Finding(
                "tables_without_primary_key",
                WARNING if allow_tables_without_key else BLOCKER,
                f"{len(without_key)} table(s) have no primary key nor NOT NULL unique key: DMS cannot apply "
                "their updates and deletes reliably, nor validate them",
                "add a primary key (ALTER TABLE t ADD COLUMN id BIGINT AUTO_INCREMENT PRIMARY KEY FIRST), or "
                "exclude the table from the DMS table mappings and copy it during the freeze with db_import "
                "(then run with --allow-tables-without-key)",
                without_key,
            )
        )
    odd = {t.name: (t.engine or "none") for t in facts.tables if (t.engine or "").lower() != "innodb"}
    blocking = {name: engine for name, engine in odd.items() if engine.lower() not in FLAKY_ENGINES}
    flaky = {name: engine for name, engine in odd.items() if engine.lower() in FLAKY_ENGINES}
    if blocking:
        findings.append(
            Finding(
                "storage_engines",
                BLOCKER,
                "engines DMS cannot migrate faithfully (no rows kept, or not local): "
                + ", ".join(sorted(set(blocking.values()))),
                "convert them: ALTER TABLE t ENGINE=InnoDB, or drop them from the migration",
                [f"{name} ({engine})" for name, engine in sorted(blocking.items())],
            )
        )
    if flaky:
        findings.append(
            Finding(
                "storage_engines",
                WARNING,
                "non-transactional tables: the full load of these is not a consistent snapshot",
                "convert them (ALTER TABLE t ENGINE=InnoDB) before the full load, or freeze their writers",
                [f"{name} ({engine})" for name, engine in sorted(flaky.items())],
            )
        )
    if not odd:
        findings.append(Finding("storage_engines", OK, "every table is InnoDB"))
    if facts.cascading_foreign_keys:
        findings.append(
            Finding(
                "cascading_foreign_keys",
                WARNING,
                "ON DELETE/UPDATE CASCADE or SET NULL: DMS applies changes with foreign key checks off, "
                "so the cascade must be in the binary log as row changes; verify these tables after the "
                "catch-up",
                "compare them with db_verify after the freeze",
                facts.cascading_foreign_keys,
            )
        )
    generated = [f"{t.name} ({t.generated_columns})" for t in facts.tables if t.generated_columns]
    if generated:
        findings.append(
            Finding(
                "generated_columns",
                WARNING,
                "generated columns: create the target tables first (db_import --phases schema) so DMS "
                "does not try to write them",
                None,
                generated,
            )
        )
    partitioned = [t.name for t in facts.tables if t.partitioned]
    if partitioned:
        findings.append(
            Finding(
                "partitioned_tables",
                INFO,
                "partitioned tables: the target tables are created by db_import --phases schema and DMS runs "
                "with TargetTablePrepMode DO_NOTHING, which keeps the partitions",
                None,
                partitioned,
            )
        )
    return findings


def _account(user: str) -> str:
    name, _, host = user.partition("@")
    return f"'{name}'@'{host or '%'}'"


def _first(row: tuple[Any, ...] | None) -> Any:
    return row[0] if row else None


def blockers(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.status == BLOCKER]
