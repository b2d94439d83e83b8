"""Fixtures shared by every suite: a real MySQL-compatible server and a real S3 emulator.

* ``mysql_server_url``: the server at ``PATRONUS_TEST_DB_URL`` if set, otherwise a throwaway
  MariaDB started from the installed binaries for this test session (own datadir, own port).
* ``database_url``: a fresh database with the schema migrated, dropped after the test.
* ``s3_server``: a throwaway SeaweedFS (signatures, expiry and POST conditions enforced).
* ``s3_bucket``: a fresh versioned bucket on it, emptied and removed after the test.
* ``local_stack``: the local stack (``python -m scripts.run_local``) started as a user would,
  on its own database of the session's server, reached over HTTP.

The suites run fastest first (``SUITE_ORDER``), whatever order they are collected in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from scripts.devstack.database import drop_database, ensure_database, migrate_url, with_database
from scripts.devstack.mariadb import ThrowawayMariaDB
from scripts.devstack.ports import free_port
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS
from scripts.devstack.tokens import SigningKey, TokenIssuer, local_issuer

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
# Fastest first, so that a broken unit test is reported in seconds, not after the load test.
SUITE_ORDER = ("unit", "infrastructure", "integration", "e2e", "hardening")


def suite_rank(path: Path) -> int:
    """The position of the suite holding ``path`` (after every suite when it is in none)."""
    try:
        suite = path.resolve().relative_to(TESTS).parts[0]
    except (ValueError, IndexError):
        return len(SUITE_ORDER)
    return SUITE_ORDER.index(suite) if suite in SUITE_ORDER else len(SUITE_ORDER)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the suites in SUITE_ORDER; the order inside a suite is pytest's (a stable sort)."""
    items.sort(key=lambda item: suite_rank(Path(item.path)))


@pytest.fixture(autouse=True)
def _fresh_boto3_default_session() -> Iterator[None]:
    """Each test's ``boto3.client(...)`` calls see the credentials of that test's environment.

    boto3's default session resolves credentials once and keeps them, so a client made under
    moto's fake keys would make every later test sign its S3 requests with them (403 from
    SeaweedFS): the outcome of a test would depend on which tests ran before it.
    """
    yield
    if "boto3" in sys.modules:  # never imported by the tests that do not use it
        import boto3

        boto3.DEFAULT_SESSION = None


@pytest.fixture(scope="session")
def mysql_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("PATRONUS_TEST_DB_URL")
    if configured:
        yield configured.rstrip("/") + "/"
        return
    server = ThrowawayMariaDB(tmp_path_factory.mktemp("mariadb")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def empty_database_url(mysql_server_url: str) -> Iterator[str]:
    """A fresh, empty database (no schema), dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = ensure_database(mysql_server_url, name)
    try:
        yield url
    finally:
        drop_database(mysql_server_url, name)


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """A fresh database with every migration applied."""
    migrate_url(empty_database_url)
    return empty_database_url


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawaySeaweedFS]:
    server = ThrowawaySeaweedFS(Path(tmp_path_factory.mktemp("seaweedfs"))).start()
    try:
        yield server
    finally:
        server.stop()


def s3_client_for(server: ThrowawaySeaweedFS) -> Any:
    return server.client()


@pytest.fixture
def s3_bucket(s3_server: ThrowawaySeaweedFS) -> Iterator[str]:
    client = s3_client_for(s3_server)
    name = f"t-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    try:
        yield name
    finally:
        versions = client.list_object_versions(Bucket=name)
        for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            client.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
        client.delete_bucket(Bucket=name)


@dataclass
class LocalStack:
    url: str
    data_dir: Path
    db_url: str
    process: subprocess.Popen[bytes]

    @property
    def issuer(self) -> TokenIssuer:
        """Signs as the stack's sign-in provider does (its key, its issuer URL)."""
        return local_issuer(self.data_dir)

    def token(
        self,
        user: str = "alice",
        groups: tuple[str, ...] = ("editors",),
        ttl: int = 600,
        units: tuple[str, ...] = ("unit-a",),
    ) -> str:
        """A token with ``groups`` (roles) and ``units`` (by default the unit of the demo data)."""
        return self.issuer.id_token(user, [*groups, *units], ttl_seconds=ttl)

    def forged_token(self, user: str = "mallory", groups: tuple[str, ...] = ("admins",)) -> str:
        """Right issuer and claims, signed with a key that is not the stack's."""
        return TokenIssuer(SigningKey.generate(), self.issuer.issuer).id_token(user, list(groups))

    def auth(
        self,
        user: str = "alice",
        groups: tuple[str, ...] = ("editors",),
        units: tuple[str, ...] = ("unit-a",),
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user, groups, units=units)}"}


@pytest.fixture(scope="session")
def local_stack(mysql_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    data_dir = tmp_path_factory.mktemp("local-stack")
    database = f"e2e_{uuid.uuid4().hex[:10]}"
    port = free_port()
    env = {
        **os.environ,
        "PATRONUS_DB_URL": with_database(mysql_server_url, database),
        "PYTHONUNBUFFERED": "1",
        # Lowered (S3's smallest part is 5 MiB) so that the browser tests send multipart uploads
        # of a few MiB instead of hundreds.
        "PATRONUS_MULTIPART_THRESHOLD": str(8 * 1024 * 1024),
        "PATRONUS_MULTIPART_PART_SIZE": str(5 * 1024 * 1024),
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
        yield LocalStack(url, data_dir, env["PATRONUS_DB_URL"], process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
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
