"""The DMS CDC rules of dms_preflight, on facts as a source server would report them."""

from __future__ import annotations

import pytest

from scripts.operator_tools.database.preflight import (
    BLOCKER,
    CHECKS,
    OK,
    WARNING,
    Context,
    Finding,
    SourceFacts,
    TableFacts,
    blockers,
    check_binlog_options,
    check_binlog_retention,
    check_time_zone,
    evaluate,
)

READY_VARIABLES = {
    "log_bin": "ON",
    "server_id": "1",
    "binlog_format": "ROW",
    "binlog_row_image": "FULL",
    "binlog_expire_logs_seconds": "604800",
    "expire_logs_days": "0",
    "binlog_checksum": "CRC32",
    "net_read_timeout": "300",
    "net_write_timeout": "300",
    "wait_timeout": "28800",
}
DMS_GRANTS = [
    "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `dms`@`%`",
]


def facts(
    variables: dict[str, str] | None = None, grants: list[str] | None = None, **extra: object
) -> SourceFacts:
    base = SourceFacts(
        version="8.0.36",
        current_user="dms@%",
        database="legacy",
        database_exists=True,
        variables={**READY_VARIABLES, **(variables or {})},
        grants=DMS_GRANTS if grants is None else grants,
        tables=[TableFacts("clients", "InnoDB", has_primary_key=True)],
    )
    for key, value in extra.items():
        setattr(base, key, value)
    return base


def status(findings: list[Finding], check: str) -> str:
    return next(f.status for f in findings if f.check == check)


def test_a_well_configured_source_is_ready() -> None:
    findings = evaluate(facts())
    assert blockers(findings) == []
    assert status(findings, "binlog_retention") == OK


@pytest.mark.parametrize(
    ("variables", "check"),
    [
        ({"log_bin": "OFF"}, "log_bin"),
        ({"server_id": "0"}, "server_id"),
        ({"binlog_format": "MIXED"}, "binlog_format"),
        ({"binlog_row_image": "MINIMAL"}, "binlog_row_image"),
        ({"binlog_expire_logs_seconds": "3600"}, "binlog_retention"),
        ({"binlog_expire_logs_seconds": "", "expire_logs_days": "0.5"}, "binlog_retention"),
        ({"binlog_transaction_compression": "ON"}, "binlog_transaction_compression"),
        ({"binlog_row_value_options": "PARTIAL_JSON"}, "binlog_row_value_options"),
    ],
)
def test_each_binlog_setting_that_breaks_cdc_is_a_blocker_with_a_fix(
    variables: dict[str, str], check: str
) -> None:
    findings = evaluate(facts(variables))
    blocking = blockers(findings)
    assert [f.check for f in blocking] == [check]
    assert blocking[0].fix


def test_retention_uses_expire_logs_days_when_seconds_are_not_set() -> None:
    findings = evaluate(
        facts({"binlog_expire_logs_seconds": "0", "expire_logs_days": "3"}), min_retention_hours=48
    )
    assert status(findings, "binlog_retention") == OK
    findings = evaluate(
        facts({"binlog_expire_logs_seconds": "0", "expire_logs_days": "1"}), min_retention_hours=48
    )
    assert status(findings, "binlog_retention") == BLOCKER


def test_never_purged_binary_logs_are_only_a_warning() -> None:
    findings = evaluate(facts({"binlog_expire_logs_seconds": "0", "expire_logs_days": "0"}))
    assert status(findings, "binlog_retention") == WARNING


@pytest.mark.parametrize(
    "grants",
    [
        ["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"],
        [
            "GRANT RELOAD, BINLOG MONITOR, REPLICATION SLAVE ON *.* TO `dms`@`%`",
            "GRANT SELECT ON `legacy`.* TO `dms`@`%`",
        ],
        [
            "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'dms'@'%'",
            "GRANT ALL ON `legacy`.* TO 'dms'@'%'",
        ],
    ],
)
def test_grants_in_mysql_and_mariadb_spellings_are_understood(grants: list[str]) -> None:
    findings = evaluate(facts(grants=grants))
    assert status(findings, "replication_grants") == OK
    assert status(findings, "select_grant") == OK


def test_missing_grants_name_the_statement_to_run() -> None:
    findings = evaluate(
        facts(grants=["GRANT USAGE ON *.* TO `dms`@`%`", "GRANT SELECT ON `other`.* TO `dms`@`%`"])
    )
    by_check = {f.check: f for f in blockers(findings)}
    assert by_check["replication_grants"].fix is not None
    assert by_check["replication_grants"].fix.startswith(
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'dms'@'%'"
    )
    assert by_check["select_grant"].fix == "GRANT SELECT ON `legacy`.* TO 'dms'@'%'"


def test_tables_engines_and_keys() -> None:
    tables = [
        TableFacts("ok", "InnoDB", has_primary_key=True),
        TableFacts("keyed_by_unique", "InnoDB", has_unique_not_null=True),
        TableFacts("log", "InnoDB"),
        TableFacts("legacy_cache", "MEMORY", has_primary_key=True),
        TableFacts("old", "MyISAM", has_primary_key=True),
    ]
    findings = evaluate(facts(tables=tables))
    by_status = {(f.check, f.status): f for f in findings}
    assert by_status[("tables_without_primary_key", BLOCKER)].details == ["log"]
    assert by_status[("storage_engines", BLOCKER)].details == ["legacy_cache (MEMORY)"]
    assert by_status[("storage_engines", WARNING)].details == ["old (MyISAM)"]
    relaxed = evaluate(facts(tables=tables), allow_tables_without_key=True)
    assert status(relaxed, "tables_without_primary_key") == WARNING


def test_a_replica_must_log_what_it_replays() -> None:
    findings = evaluate(facts({"log_slave_updates": "OFF"}, is_replica=True))
    assert [f.check for f in blockers(findings)] == ["replica_updates"]
    assert blockers(evaluate(facts({"log_slave_updates": "ON"}, is_replica=True))) == []


def test_a_missing_database_blocks() -> None:
    findings = evaluate(facts(database_exists=False, tables=[]))
    assert status(findings, "database") == BLOCKER


def test_a_time_zone_other_than_utc_is_reported_for_the_replication_props() -> None:
    findings = evaluate(facts({"time_zone": "SYSTEM", "system_time_zone": "CET"}))
    zone = next(f for f in findings if f.check == "time_zone")
    assert zone.status == "info" and "source_server_timezone='CET'" in (zone.fix or "")
    assert not [f for f in evaluate(facts({"time_zone": "+00:00"})) if f.check == "time_zone"]


def context(variables: dict[str, str], **extra: object) -> Context:
    return Context(facts(), variables, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("variables", "hours", "expected"),
    [
        ({"binlog_expire_logs_seconds": "86400"}, 24, OK),
        ({"binlog_expire_logs_seconds": "86399"}, 24, BLOCKER),
        ({"binlog_expire_logs_seconds": "0", "expire_logs_days": "2"}, 48, OK),
        ({"expire_logs_days": "1"}, 48, BLOCKER),
        ({"binlog_expire_logs_seconds": "0"}, 24, WARNING),  # never purged
        ({}, 24, WARNING),  # unknown
    ],
)
def test_the_retention_check_on_its_own(variables: dict[str, str], hours: float, expected: str) -> None:
    (finding,) = check_binlog_retention(context(variables, min_retention_hours=hours))
    assert finding.status == expected


def test_the_time_zone_check_follows_system_to_the_host_zone() -> None:
    assert check_time_zone(context({"time_zone": "SYSTEM", "system_time_zone": "UTC"})) == []
    (finding,) = check_time_zone(context({"time_zone": "SYSTEM", "system_time_zone": "CET"}))
    assert "source_server_timezone='CET'" in (finding.fix or "")


def test_binlog_options_report_only_what_is_set() -> None:
    assert check_binlog_options(context({})) == []
    found = check_binlog_options(
        context({"binlog_transaction_compression": "ON", "binlog_row_value_options": "PARTIAL_JSON"})
    )
    assert [(f.check, f.status) for f in found] == [
        ("binlog_transaction_compression", BLOCKER),
        ("binlog_row_value_options", BLOCKER),
    ]
    (checksum,) = check_binlog_options(context({"binlog_checksum": "NONE"}))
    assert checksum.fix is None


def test_every_check_runs_in_a_stable_order() -> None:
    checks = [f.check for f in evaluate(facts({"time_zone": "Europe/Paris", "wait_timeout": "60"}))]
    assert checks == [
        "server_version",
        "time_zone",
        "log_bin",
        "server_id",
        "binlog_format",
        "binlog_row_image",
        "binlog_retention",
        "binlog_checksum",
        "replication_grants",
        "select_grant",
        "database",
        "storage_engines",
        "timeouts",
    ]
    assert len(CHECKS) == 12
