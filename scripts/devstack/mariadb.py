"""A throwaway MariaDB/MySQL server started from the installed binaries.

Used by the local stack (``make run``) and by the test fixtures when no server URL is given.
The server listens on 127.0.0.1 only, keeps its data in its own directory and runs on its own
port, so it never touches a system-wide server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from scripts.devstack.ports import ServerExited, free_port, port_is_free, stop_process, wait_for_port

SERVER_BINARIES = ("mariadbd", "mysqld")
INSTALL_BINARIES = ("mariadb-install-db", "mysql_install_db")
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


class ServerBinariesMissing(RuntimeError):
    """The MariaDB server binaries are not installed on this machine."""


def _which(names: tuple[str, ...]) -> str:
    for name in names:
        found = shutil.which(name, path=SEARCH_PATH)
        if found:
            return found
    raise ServerBinariesMissing(
        f"none of {', '.join(names)} is installed; install the MariaDB server binaries "
        "(Debian: apt-get install mariadb-server) or set a server URL"
    )


@dataclass
class ThrowawayMariaDB:
    """A private mariadbd process: ``start()`` it, read ``url``, ``stop()`` it."""

    base_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60.0, attempts: int = 3) -> ThrowawayMariaDB:
        """Start and wait for the port. If another process takes the port between our check and
        the server's bind, the server exits at once: a new free port is chosen and it retries."""
        server = _which(SERVER_BINARIES)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "mysql").is_dir():
            self._initialise()
        log = self.base_dir / "server.log"
        for attempt in range(1, attempts + 1):
            if not self.port or not port_is_free(self.port):
                self.port = free_port()
            self._spawn(server, log)
            try:
                wait_for_port(self.port, timeout, "the MariaDB server", self.process)
                return self
            except ServerExited as exc:
                self.stop()
                if attempt == attempts:
                    raise RuntimeError(f"{exc}; server log ends with:\n{_tail(log)}") from exc
                self.port = 0
            except TimeoutError as exc:
                self.stop()
                raise RuntimeError(f"{exc}; server log ends with:\n{_tail(log)}") from exc
        raise AssertionError("unreachable")

    def _spawn(self, server: str, log: Path) -> None:
        self.process = subprocess.Popen(
            [
                server,
                "--no-defaults",
                f"--datadir={self.data_dir}",
                f"--socket={self.base_dir / 'mysqld.sock'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--user=root",
                f"--pid-file={self.base_dir / 'mysqld.pid'}",
                f"--log-error={log}",
                "--innodb-buffer-pool-size=256M",
                "--innodb-flush-log-at-trx-commit=2",
                "--max-connections=500",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _initialise(self) -> None:
        install = _which(INSTALL_BINARIES)
        result = subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={self.data_dir}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed:\n{result.stdout}\n{result.stderr}")

    def stop(self, timeout: float = 30.0) -> None:
        process, self.process = self.process, None
        stop_process(process, timeout)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""
