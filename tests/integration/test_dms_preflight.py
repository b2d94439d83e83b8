"""dms_preflight against real MariaDB servers: the shared one (binary log off) and one with CDC on."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from scripts.devstack.database import connect
from scripts.devstack.mariadb import SEARCH_PATH
from scripts.devstack.ports import free_port, wait_for_port
from scripts.dms_preflight import main as preflight_main
from scripts.operator_tools.toolkit import EXIT_FAILED, EXIT_OK, EXIT_USAGE, run

if TYPE_CHECKING:
    from tests.fixtures.legacy_db import LegacySource

pytest_plugins = ["tests.fixtures.legacy_db"]


def preflight(url: str, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "preflight.json"
    code = run(preflight_main, ["--url", url, "--report", str(report), *extra])
    return code, json.loads(report.read_text()) if report.exists() else {}


def by_check(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{f['check']}:{f['status']}": f for f in report["findings"]}


def test_the_test_server_has_binary_logging_off_and_is_not_ready(
    legacy_source: LegacySource, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the shared MariaDB test server, started without a binary log
    # When dms_preflight checks the legacy stand-in on it
    code, report = preflight(legacy_source.url, tmp_path)
    # Then it exits 1, says binary logging is off and how to turn it on
    assert code == EXIT_FAILED
    assert report["ready"] is False
    findings = by_check(report)
    assert "binary logging is off" in findings["log_bin:blocker"]["message"]
    assert "log_bin" in findings["log_bin:blocker"]["fix"]
    # And it names the table without a primary key
    assert findings["tables_without_primary_key:blocker"]["details"] == ["audit_log"]
    out = capsys.readouterr().out
    assert "BLOCKER  log_bin: binary logging is off" in out
    assert out.strip().endswith("DMS change data capture cannot run until the blockers are fixed")


@pytest.fixture
def limited_user(
    mysql_server_url: str, legacy_source: LegacySource, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    from tests.fixtures.legacy_db import temporary_user  # registered as a plugin: no top import

    with temporary_user(mysql_server_url, "dms", f"SELECT ON `{legacy_source.name}`.*", tmp_path) as user:
        yield user


def test_a_user_without_replication_grants_is_told_what_to_grant(
    limited_user: tuple[str, Path], legacy_source: LegacySource, mysql_server_url: str, tmp_path: Path
) -> None:
    # Given the account DMS would use, allowed to SELECT but not to read the binary log
    user, password_file = limited_user
    url = mysql_server_url.replace("root@", f"{user}@").rstrip("/") + f"/{legacy_source.name}"
    # When checked
    code, report = preflight(url, tmp_path, "--password-file", str(password_file))
    # Then the missing grants are a blocker whose fix is the GRANT statement, and SELECT is fine
    assert code == EXIT_FAILED
    findings = by_check(report)
    assert findings["replication_grants:blocker"]["fix"].startswith(
        f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'@'%'"
    )
    assert "select_grant:ok" in findings


class BinlogMariaDB:
    """A private mariadbd configured the way DMS wants a source (binary log on, ROW, FULL)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/"

    def start(self) -> BinlogMariaDB:
        install = shutil.which("mariadb-install-db", path=SEARCH_PATH) or "mariadb-install-db"
        server = shutil.which("mariadbd", path=SEARCH_PATH) or "mariadbd"
        data = self.base / "data"
        subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={data}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
        self.process = subprocess.Popen(
            [
                server,
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={self.base / 'sock'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--user=root",
                f"--log-error={self.base / 'error.log'}",
                "--server-id=7",
                f"--log-bin={self.base / 'binlog'}",
                "--binlog-format=ROW",
                "--binlog-row-image=FULL",
                "--binlog-expire-logs-seconds=172800",
                "--net-read-timeout=300",
                "--net-write-timeout=300",
                "--innodb-buffer-pool-size=32M",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, 60, "the binlog MariaDB server")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def binlog_server(tmp_path: Path) -> Iterator[BinlogMariaDB]:
    server = BinlogMariaDB(tmp_path / "binlog-server").start()
    try:
        yield server
    finally:
        server.stop()


def test_a_source_configured_for_cdc_with_a_dms_account_is_ready(
    binlog_server: BinlogMariaDB, tmp_path: Path
) -> None:
    # Given a server with binary logging as DMS needs it, a database, and the account DMS will use
    admin = connect(binlog_server.url, database=False)
    password = uuid.uuid4().hex
    with admin.cursor() as cursor:
        cursor.execute("CREATE DATABASE legacy")
        cursor.execute("CREATE TABLE legacy.clients (id INT PRIMARY KEY, name VARCHAR(50)) ENGINE=InnoDB")
        cursor.execute("CREATE TABLE legacy.journal (at DATETIME NOT NULL, msg TEXT) ENGINE=InnoDB")
        cursor.execute(f"CREATE USER 'dms'@'%' IDENTIFIED BY '{password}'")
        cursor.execute("GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'dms'@'%'")
        cursor.execute("GRANT SELECT ON legacy.* TO 'dms'@'%'")
    admin.close()
    password_file = tmp_path / "dms.pw"
    password_file.write_text(password)
    url = binlog_server.url.replace("root@", "dms@") + "legacy"
    # When checked with the key-less table accepted (it is copied outside DMS)
    code, report = preflight(
        url,
        tmp_path,
        "--password-file",
        str(password_file),
        "--min-retention-hours",
        "48",
        "--allow-tables-without-key",
    )
    # Then it is ready: no blocker, the key-less table only a warning
    assert code == EXIT_OK, [f for f in report["findings"] if f["status"] == "blocker"]
    assert report["ready"] is True
    findings = by_check(report)
    for check in ("log_bin", "binlog_format", "binlog_row_image", "binlog_retention", "replication_grants"):
        assert f"{check}:ok" in findings
    assert findings["tables_without_primary_key:warning"]["details"] == ["journal"]


def test_an_unreachable_source_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = preflight("mysql://dms@127.0.0.1:1/legacy", tmp_path)
    assert code == EXIT_USAGE
    assert "cannot connect to the source" in capsys.readouterr().err
