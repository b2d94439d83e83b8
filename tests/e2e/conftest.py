"""The local stack (`python -m scripts.run_local`) started as a user would, reached over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from scripts.devstack.database import drop_database, with_database
from scripts.devstack.ports import free_port
from scripts.devstack.tokens import issue, load_secret

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LocalStack:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    def token(self, user: str = "alice", groups: tuple[str, ...] = ("editors",), ttl: int = 600) -> str:
        return issue(load_secret(self.data_dir / "token-secret"), user, list(groups), ttl)

    def auth(self, user: str = "alice", groups: tuple[str, ...] = ("editors",)) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user, groups)}"}


@pytest.fixture(scope="session")
def local_stack(mysql_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    data_dir = tmp_path_factory.mktemp("local-stack")
    database = f"e2e_{uuid.uuid4().hex[:10]}"
    port = free_port()
    env = {
        **os.environ,
        "PATRONUS_DB_URL": with_database(mysql_server_url, database),
        "PYTHONUNBUFFERED": "1",
    }
    log = (data_dir / "stack.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scripts.run_local",
            "--port",
            str(port),
            "--s3-port",
            str(free_port()),
            "--data-dir",
            str(data_dir),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, data_dir / "stack.log")
        yield LocalStack(url, data_dir, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        drop_database(mysql_server_url, database)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the local stack was not healthy in time:\n{log.read_text(errors='replace')[-3000:]}")
