"""The database the API benchmarks read: a throwaway MariaDB (or a given server) with seed data."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scripts.devstack.paths import add_code_paths

add_code_paths()  # the Lambda code (layer and functions) importable, as in Lambda

from scripts.devstack.database import connect, drop_database, ensure_database, migrate_url  # noqa: E402
from scripts.devstack.gateway import cognito_claims, rest_event  # noqa: E402
from scripts.devstack.mariadb import ThrowawayMariaDB  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# The unit of the seeded dossiers and of the benchmark's caller (who sees them all).
UNIT = "unit-bench"
CODE_PATHS = [ROOT, ROOT / "layers" / "patronus" / "python", ROOT / "functions" / "api"]


@dataclass(frozen=True)
class BenchDatabase:
    url: str
    dossier_ids: list[str]


@contextmanager
def bench_database(server_url: str | None, dossiers: int = 200) -> Iterator[BenchDatabase]:
    """A fresh database with the schema and ``dossiers`` seeded rows, dropped afterwards."""
    with _server(server_url) as server:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        url = ensure_database(server, name)
        try:
            migrate_url(url)
            yield BenchDatabase(url, _seed(url, dossiers))
        finally:
            drop_database(server, name)


@contextmanager
def _server(server_url: str | None) -> Iterator[str]:
    if server_url:
        yield server_url.rstrip("/") + "/"
        return
    with tempfile.TemporaryDirectory(prefix="patronus-bench-") as folder:
        server = ThrowawayMariaDB(Path(folder)).start()
        try:
            yield server.url
        finally:
            server.stop()


def _seed(url: str, count: int) -> list[str]:
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
    rows = [
        (
            uuid.uuid4().hex,
            f"BENCH-{n:05d}",
            f"Benchmark dossier {n}",
            "Seeded for the API benchmarks" if n % 2 else None,
            "open" if n % 3 else "closed",
            "bench-seed",
            start + timedelta(seconds=n),
        )
        for n in range(count)
    ]
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("INSERT IGNORE INTO units (name, created_at) VALUES (%s, NOW(6))", (UNIT,))
            cursor.executemany(
                "INSERT INTO dossiers (public_id, reference, title, description, status, unit, owner,"
                " version, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 1, %s, %s)",
                [(*row[:5], UNIT, *row[5:], row[-1]) for row in rows],
            )
    finally:
        connection.close()
    return [row[0] for row in rows]


def get_event(dossier_id: str) -> dict[str, object]:
    return rest_event(
        "GET",
        f"/v1/dossiers/{dossier_id}",
        headers={"Accept": "application/json"},
        claims=cognito_claims("bench", ["readers", UNIT]),
    )


def list_event(limit: int = 20) -> dict[str, object]:
    return rest_event(
        "GET",
        "/v1/dossiers",
        query={"limit": [str(limit)]},
        headers={"Accept": "application/json"},
        claims=cognito_claims("bench", ["readers", UNIT]),
    )
