"""Fixtures shared by every suite: a real MySQL-compatible server and a real S3 emulator.

* ``mysql_server_url``: the server at ``PATRONUS_TEST_DB_URL`` if set, otherwise a throwaway
  MariaDB started from the installed binaries for this test session (own datadir, own port).
* ``database_url``: a fresh database with the schema migrated, dropped after the test.
* ``s3_server``: a throwaway SeaweedFS (signatures, expiry and POST conditions enforced).
* ``s3_bucket``: a fresh versioned bucket on it, emptied and removed after the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.devstack.database import drop_database, ensure_database, migrate_url
from scripts.devstack.mariadb import ThrowawayMariaDB
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS


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
