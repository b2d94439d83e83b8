"""Fixtures of the hardening suite.

* ``stack``: a private local stack (``scripts.run_local``) over real HTTP, on its own database of
  the session's MariaDB, for the fuzzing and load tests; ``stack.db_url`` lets a test count rows.
* ``api``: the real handler called in-process with API Gateway events (the integration harness),
  for the bad-input and authorization tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from patronus.settings import Settings
from scripts.devstack.database import drop_database, with_database
from scripts.devstack.gateway import LambdaContext, cognito_claims, response_parts, rest_event
from scripts.devstack.ports import free_port
from scripts.devstack.seaweedfs import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY
from scripts.devstack.tokens import issue, load_secret
from tests.e2e.conftest import _wait_healthy
from tests.integration.conftest import Caller, Reply, api, api_settings  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    url: str
    data_dir: Path
    db_url: str
    process: subprocess.Popen[bytes]

    def token(self, user: str = "alice", groups: tuple[str, ...] = ("editors",), ttl: int = 3600) -> str:
        return issue(load_secret(self.data_dir / "token-secret"), user, list(groups), ttl)

    def auth(self, user: str = "alice", groups: tuple[str, ...] = ("editors",)) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user, groups)}"}


@pytest.fixture(scope="session")
def stack(mysql_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("hardening-stack")
    database = f"hard_{uuid.uuid4().hex[:10]}"
    db_url = with_database(mysql_server_url, database)
    port = free_port()
    log_path = data_dir / "stack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.hardening.stack_runner",
                "--port",
                str(port),
                "--s3-port",
                str(free_port()),
                "--data-dir",
                str(data_dir),
                "--no-seed",
            ],
            cwd=ROOT,
            env={**os.environ, "PATRONUS_DB_URL": db_url, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log_path)
        yield Stack(url, data_dir, db_url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        drop_database(mysql_server_url, database)


def handler_caller(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Caller:
    """Configure the API runtime with ``settings`` (the S3 client made by the runtime itself,
    as in Lambda) and return a caller of the real handler, like the integration ``api``."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_SECRET_KEY)
    monkeypatch.setenv("PATRONUS_DB_URL", "mysql://unused@127.0.0.1:1/unused")
    monkeypatch.setenv("PATRONUS_BUCKET", settings.storage.bucket)
    from patronus_api import handler as api_handler
    from patronus_api.runtime import runtime

    runtime.configure(settings)

    def call(
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str | None = "alice",
        groups: tuple[str, ...] = ("editors",),
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
    ) -> Reply:
        payload = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        event = rest_event(
            method,
            path,
            query={k: [v] for k, v in (query or {}).items()},
            headers={"Content-Type": "application/json", **(headers or {})},
            body=payload,
            claims=cognito_claims(user, groups) if user else None,
        )
        status, pairs, data = response_parts(api_handler.handler(event, LambdaContext()))
        return Reply(status, {k.lower(): v for k, v in pairs}, data)

    return call
