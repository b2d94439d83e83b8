"""The cost of need-to-know access: the first page of a list and of a search, filtered by what
the caller may see, against the same query without the access filter, side by side.

A throwaway MariaDB holds ``dossiers`` dossiers spread over ``units`` units with ``grants``
grants (to users and to units). The caller is an editor in one unit, holding a share of the
grants. Both queries are the repository's own (``patronus.repositories.dossiers.search``): with
the caller (access filter inside the SQL) and with no caller (the operator tools' unfiltered
query). Runs alternate the two, and each figure is the median (p50) of many runs; the goal is a
ratio of at most 1.5.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scripts.devstack.paths import add_code_paths

add_code_paths()

from patronus.models import DossierStatus, Principal  # noqa: E402
from patronus.repositories import dossiers  # noqa: E402
from patronus.repositories.dossiers import SearchFilter  # noqa: E402
from scripts.devstack.database import connect, ensure_database, migrate_url  # noqa: E402
from scripts.devstack.mariadb import ThrowawayMariaDB  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results" / "access.json"
GOAL_RATIO = 1.5
PAGE = 21  # a page of 20 and the row that says whether there is a next page
WORDS = [
    "bail",
    "contrat",
    "sinistre",
    "litige",
    "succession",
    "vente",
    "achat",
    "fusion",
    "cession",
    "marque",
    "brevet",
    "licence",
    "travail",
    "prud'hommes",
    "assurance",
    "expertise",
    "bail-commercial",
    "location",
    "caution",
    "garantie",
    "recouvrement",
]
CALLER_UNIT = "unit-007"
USERS = 500
CALLER = "user-0007"


def unit_name(n: int) -> str:
    return f"unit-{n:03d}"


def seed(url: str, *, dossiers_count: int, units: int, grants: int, seed_value: int = 7) -> dict[str, int]:
    """Dossiers in random units (newest last), titles of two words, and grants: half to users
    (one of ``USERS``, the benchmark's caller among them), half to units."""
    rng = random.Random(seed_value)
    start = datetime(2026, 1, 1)
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT IGNORE INTO units (name, created_at) VALUES (%s, NOW(6))",
                [(unit_name(n),) for n in range(units)],
            )
            batch: list[tuple[object, ...]] = []
            for n in range(dossiers_count):
                created = start + timedelta(minutes=n)
                title = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {n}"
                status = "open" if rng.random() < 0.7 else "closed"
                batch.append(
                    (uuid.uuid4().hex, f"B-{n:06d}", title, status, unit_name(rng.randrange(units)), created)
                )
                if len(batch) == 5000 or n == dossiers_count - 1:
                    cursor.executemany(
                        "INSERT INTO dossiers (public_id, reference, title, status, unit, owner, version,"
                        " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, 'seed', 1, %s, %s)",
                        [(*row, row[-1]) for row in batch],
                    )
                    batch = []
            cursor.execute("SELECT MIN(id) AS lo, MAX(id) AS hi FROM dossiers")
            bounds = cursor.fetchone()
            chosen: set[tuple[int, str, str]] = set()
            while len(chosen) < grants:
                dossier = rng.randint(bounds["lo"], bounds["hi"])
                if rng.random() < 0.5:  # to one of USERS users, the benchmark's caller among them
                    chosen.add((dossier, "user", f"user-{rng.randrange(USERS):04d}"))
                else:
                    chosen.add((dossier, "unit", unit_name(rng.randrange(units))))
            cursor.executemany(
                "INSERT INTO dossier_grants (dossier_id, grantee_type, grantee, permission, granted_by,"
                " granted_at) VALUES (%s, %s, %s, %s, 'seed', NOW(6))",
                [(d, kind, grantee, rng.choice(("reader", "editor"))) for d, kind, grantee in chosen],
            )
            cursor.execute("ANALYZE TABLE dossiers, dossier_grants")
            cursor.fetchall()
    finally:
        connection.close()
    return {"dossiers": dossiers_count, "units": units, "grants": grants}


def caller() -> Principal:
    return Principal(subject=CALLER, groups=frozenset({"editors"}), units=frozenset({CALLER_UNIT}))


QUERIES: dict[str, SearchFilter] = {
    "filtered_list": SearchFilter(status=DossierStatus.OPEN),
    "search": SearchFilter(text="contrat"),
}


def _time(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def measure(url: str, rounds: int) -> dict[str, Any]:
    """p50 of each query with and without the access filter, alternating which runs first."""
    connection = connect(url)
    principal = caller()
    figures: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            for name, search in QUERIES.items():
                runs: dict[str, list[float]] = {"with_access_s": [], "without_access_s": []}
                pages = {
                    "with_access_s": lambda s=search: dossiers.search(cursor, principal, s, limit=PAGE),
                    "without_access_s": lambda s=search: dossiers.search(cursor, None, s, limit=PAGE),
                }
                for warm in pages.values():  # warm the buffer pool and the statement path
                    for _ in range(5):
                        warm()
                rows = len(pages["with_access_s"]())
                for round_no in range(rounds):
                    order = list(pages) if round_no % 2 == 0 else list(reversed(pages))
                    for key in order:
                        runs[key].append(_time(pages[key]))
                with_p50 = statistics.median(runs["with_access_s"])
                without_p50 = statistics.median(runs["without_access_s"])
                figures[name] = {
                    "rows_on_first_page_with_access": rows,
                    "p50_with_access_ms": round(with_p50 * 1000, 3),
                    "p50_without_access_ms": round(without_p50 * 1000, 3),
                    "ratio": round(with_p50 / without_p50, 3),
                    "goal_ratio_at_most_1_5": with_p50 / without_p50 <= GOAL_RATIO,
                }
    finally:
        connection.close()
    return figures


def run(
    *, dossiers_count: int, units: int, grants: int, rounds: int, server_url: str | None, results: Path | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="patronus-bench-access-") as folder:
        server = None if server_url else ThrowawayMariaDB(Path(folder)).start()
        try:
            base = server_url or (server.url if server else "")
            url = ensure_database(base, f"bench_access_{uuid.uuid4().hex[:8]}")
            migrate_url(url)
            started = time.perf_counter()
            sizes = seed(url, dossiers_count=dossiers_count, units=units, grants=grants)
            seeded_s = time.perf_counter() - started
            load_before = os.getloadavg()[0]
            figures = measure(url, rounds)
            result = {
                "benchmark": "access",
                "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_1min_before": round(load_before, 2),
                    "load_1min_after": round(os.getloadavg()[0], 2),
                },
                "server": "private MariaDB (scripts.devstack.mariadb)" if server else "given by --server-url",
                "data": {**sizes, "seeded_s": round(seeded_s, 1), "caller": f"editor of {CALLER_UNIT}"},
                "rounds": rounds,
                **figures,
            }
        finally:
            if server is not None:
                server.stop()
    if results is not None:
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps(result, indent=2) + "\n")
    return result
