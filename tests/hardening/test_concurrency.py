"""Races between execution environments: each thread here is one Lambda environment with its own
database connection, all hitting the same rows at once. Exactly one wins; the others get the
documented answer; the database holds exactly what the winners were told."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from patronus.db import Database
from patronus.errors import Conflict, PatronusError, PreconditionFailed
from patronus.models import DossierStatus, Principal
from patronus.services.dossiers import DossierService
from patronus.settings import DatabaseSettings
from scripts.devstack.database import connect

ENVIRONMENTS = 12
EDITOR = Principal(subject="racer", groups=frozenset({"editors"}), units=frozenset({"unit-test"}))
ADMIN = Principal(subject="racer-admin", groups=frozenset({"admins"}), units=frozenset({"unit-test"}))


@pytest.fixture
def environments(database_url: str) -> Iterator[list[DossierService]]:
    services = [
        DossierService(Database(DatabaseSettings.from_url(database_url))) for _ in range(ENVIRONMENTS)
    ]
    yield services
    for service in services:
        service.db.close()


def race(services: list[DossierService], action: Callable[[DossierService], Any]) -> Counter[str]:
    """Run ``action`` in every environment at the same instant; count outcomes by type."""
    barrier = threading.Barrier(len(services))

    def run(service: DossierService) -> str:
        barrier.wait()
        try:
            result = action(service)
        except PatronusError as exc:
            return type(exc).__name__
        return "replayed" if getattr(result, "replayed", False) else "ok"

    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        return Counter(pool.map(run, services))


def scalar(database_url: str, sql: str, *params: object) -> int:
    connection = connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(next(iter(cursor.fetchone().values())))
    finally:
        connection.close()


def test_the_same_idempotency_key_creates_one_dossier(
    environments: list[DossierService], database_url: str
) -> None:
    # When every environment creates with the same Idempotency-Key at once
    outcomes = race(
        environments,
        lambda s: s.create(
            EDITOR, reference="RACE-IDEM", title="Once", description=None, idempotency_key="k-1"
        ),
    )
    # Then one creates, the others replay it (or are told to retry while it is in flight)
    assert outcomes["ok"] == 1, outcomes
    assert outcomes["replayed"] + outcomes["Conflict"] == ENVIRONMENTS - 1, outcomes
    assert scalar(database_url, "SELECT COUNT(*) FROM dossiers WHERE reference = 'RACE-IDEM'") == 1
    assert scalar(database_url, "SELECT COUNT(*) FROM audit_events WHERE action = 'dossier.created'") == 1


def test_the_same_reference_is_created_once(environments: list[DossierService], database_url: str) -> None:
    # When every environment creates the same reference, without idempotency keys
    outcomes = race(
        environments,
        lambda s: s.create(EDITOR, reference="RACE-REF", title="Once", description=None),
    )
    # Then one wins and the others get 409
    assert outcomes == Counter({"ok": 1, Conflict.__name__: ENVIRONMENTS - 1}), outcomes
    assert scalar(database_url, "SELECT COUNT(*) FROM dossiers WHERE reference = 'RACE-REF'") == 1


def test_concurrent_updates_of_one_version_let_exactly_one_through(
    environments: list[DossierService], database_url: str
) -> None:
    # Given a dossier at version 1
    dossier = environments[0].create(EDITOR, reference="RACE-UPD", title="v1", description=None).dossier
    # When every environment updates it from version 1 at once, each with its own title
    titles = iter(range(ENVIRONMENTS))
    lock = threading.Lock()

    def update(service: DossierService) -> Any:
        with lock:
            n = next(titles)
        return service.update(EDITOR, dossier.public_id, expected_version=1, changes={"title": f"title {n}"})

    outcomes = race(environments, update)
    # Then exactly one succeeds and the others get 412; the row is at version 2, audited once
    assert outcomes == Counter({"ok": 1, PreconditionFailed.__name__: ENVIRONMENTS - 1}), outcomes
    assert scalar(database_url, "SELECT version FROM dossiers WHERE public_id = %s", dossier.public_id) == 2
    assert scalar(database_url, "SELECT COUNT(*) FROM audit_events WHERE action = 'dossier.updated'") == 1


def test_concurrent_archives_archive_once(environments: list[DossierService], database_url: str) -> None:
    # Given an open dossier
    dossier = environments[0].create(EDITOR, reference="RACE-ARC", title="t", description=None).dossier
    # When every environment archives it at once
    outcomes = race(environments, lambda s: s.archive(ADMIN, dossier.public_id))
    # Then every call answers the archived dossier, and it was archived (and audited) once
    assert outcomes == Counter({"ok": ENVIRONMENTS}), outcomes
    assert environments[0].get(ADMIN, dossier.public_id).status == DossierStatus.ARCHIVED
    assert scalar(database_url, "SELECT COUNT(*) FROM audit_events WHERE action = 'dossier.archived'") == 1
