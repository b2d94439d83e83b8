"""A bounded load run against the local stack over HTTP: 24 concurrent clients for 30 seconds,
mixing reads (get, search, history, documents) and writes (create, update with If-Match,
register a document). Zero errors are allowed, and every acknowledged write must be found in
the database afterwards. The latency percentiles are printed (timings are not asserted)."""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from scripts.devstack.database import connect
from tests.conftest import LocalStack as Stack

CLIENTS = 24
SECONDS = 30.0
REQUEST_TIMEOUT = 30.0


@dataclass
class Tally:
    """What one client did: latencies, unexpected answers and the writes the API acknowledged."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)  # reference -> id
    updates: Counter[str] = field(default_factory=Counter)  # dossier id -> acknowledged updates
    documents: Counter[str] = field(default_factory=Counter)  # dossier id -> documents registered


class Client:
    """One simulated user: a session, the dossiers it created (with their ETags), its tally."""

    def __init__(self, stack: Stack, number: int) -> None:
        self.stack = stack
        self.number = number
        self.tally = Tally()
        self.session = requests.Session()
        self.session.headers.update(stack.auth(f"load-{number}", ("editors",)))
        self.rng = random.Random(number)
        self.mine: dict[str, str] = {}  # dossier id -> ETag
        self.sequence = 0
        # (upper bound of a random roll, action): 15 % creates, 10 % updates, 5 % uploads, reads
        self.actions: tuple[tuple[float, Callable[[], None]], ...] = (
            (0.15, self.create),
            (0.25, self.update),
            (0.30, self.register_document),
            (0.60, self.get),
            (0.80, self.search),
            (0.90, self.history),
            (1.00, self.documents),
        )

    def run(self, deadline: float) -> Tally:
        while time.monotonic() < deadline:
            self.step()
        self.session.close()
        return self.tally

    def step(self) -> None:
        roll = self.rng.random() if self.mine else 0.0  # the first action creates a dossier
        next(action for bound, action in self.actions if roll < bound)()

    def send(self, method: str, path: str, expected: int, **kwargs: Any) -> requests.Response | None:
        start = time.perf_counter()
        try:
            response = self.session.request(
                method, f"{self.stack.url}{path}", timeout=REQUEST_TIMEOUT, **kwargs
            )
        except requests.RequestException as exc:
            self.tally.errors.append(f"{method} {path}: {exc!r}")
            return None
        self.tally.latencies.append((time.perf_counter() - start) * 1000)
        if response.status_code != expected:
            self.tally.errors.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
            return None
        return response

    def _some_dossier(self) -> str:
        return self.rng.choice(list(self.mine))

    def create(self) -> None:
        self.sequence += 1
        reference = f"LOAD-{self.number:02d}-{self.sequence:05d}"
        response = self.send("POST", "/v1/dossiers", 201, json={"reference": reference, "title": "Load"})
        if response is not None:
            self.tally.created[reference] = response.json()["id"]
            self.mine[response.json()["id"]] = response.headers["ETag"]

    def update(self) -> None:
        dossier_id = self._some_dossier()
        response = self.send(
            "PATCH",
            f"/v1/dossiers/{dossier_id}",
            200,
            json={"title": f"Load, revision {self.tally.updates[dossier_id] + 1}"},
            headers={"If-Match": self.mine[dossier_id]},
        )
        if response is not None:
            self.tally.updates[dossier_id] += 1
            self.mine[dossier_id] = response.headers["ETag"]

    def register_document(self) -> None:
        dossier_id = self._some_dossier()
        body = {
            "filename": f"scan {self.sequence}.pdf",
            "content_type": "application/pdf",
            "size_bytes": 1024,
        }
        if self.send("POST", f"/v1/dossiers/{dossier_id}/documents", 201, json=body) is not None:
            self.tally.documents[dossier_id] += 1

    def get(self) -> None:
        self.send("GET", f"/v1/dossiers/{self._some_dossier()}", 200)

    def search(self) -> None:
        query = {"q": f"LOAD-{self.rng.randrange(CLIENTS):02d}", "limit": "20"}
        self.send("GET", "/v1/dossiers", 200, params=query)

    def history(self) -> None:
        self.send("GET", f"/v1/dossiers/{self._some_dossier()}/history", 200)

    def documents(self) -> None:
        self.send("GET", f"/v1/dossiers/{self._some_dossier()}/documents", 200)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(pct / 100 * len(ordered)))]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_concurrent_mixed_load_has_no_errors_and_loses_no_writes(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the local stack and 24 clients
    deadline = time.monotonic() + SECONDS

    # When they read and write concurrently for 30 seconds
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        tallies = list(pool.map(lambda n: Client(stack, n).run(deadline), range(CLIENTS)))

    # Then no request failed
    errors = [error for tally in tallies for error in tally.errors]
    latencies = [latency for tally in tallies for latency in tally.latencies]
    assert not errors, f"{len(errors)} errors, first ones: {errors[:5]}"
    with capsys.disabled():  # the figures belong in every run's output
        print(
            f"\nload: {len(latencies)} requests by {CLIENTS} clients in {SECONDS:.0f} s "
            f"({len(latencies) / SECONDS:.0f}/s), p50 {statistics.median(latencies):.1f} ms, "
            f"p99 {percentile(latencies, 99):.1f} ms"
        )
    # And every acknowledged write is in the database, exactly once
    created = {ref: id_ for tally in tallies for ref, id_ in tally.created.items()}
    updates = sum((tally.updates for tally in tallies), Counter())
    documents = sum((tally.documents for tally in tallies), Counter())
    assert len(created) > CLIENTS and sum(updates.values()) > 0 and sum(documents.values()) > 0
    connection = connect(stack.db_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reference, public_id, version FROM dossiers WHERE owner LIKE 'load-%%'")
            stored = {row["reference"]: row for row in cursor.fetchall()}
            cursor.execute(
                "SELECT s.public_id, COUNT(*) AS n FROM documents d JOIN dossiers s ON s.id = d.dossier_id"
                " WHERE s.owner LIKE 'load-%%' GROUP BY s.public_id"
            )
            stored_documents = Counter({row["public_id"]: int(row["n"]) for row in cursor.fetchall()})
            cursor.execute(
                "SELECT action, COUNT(*) AS n FROM audit_events WHERE actor LIKE 'load-%%' GROUP BY action"
            )
            audited = {row["action"]: int(row["n"]) for row in cursor.fetchall()}
    finally:
        connection.close()
    assert set(stored) == set(created)
    assert all(stored[ref]["public_id"] == id_ for ref, id_ in created.items())
    assert all(stored[ref]["version"] == 1 + updates[id_] for ref, id_ in created.items())
    assert stored_documents == documents
    assert audited.get("dossier.created") == len(created)
    assert audited.get("dossier.updated") == sum(updates.values())
    assert audited.get("document.upload_requested") == sum(documents.values())
