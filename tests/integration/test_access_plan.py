"""The access-filtered list query reads dossiers through indexes, never by a full scan."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.access import caller, seed
from patronus.models import DossierStatus
from patronus.repositories import dossiers
from patronus.repositories.dossiers import SearchFilter
from scripts.devstack.database import connect


class Recording:
    """A cursor that remembers the last statement it ran."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.last: tuple[str, Any] = ("", ())

    def execute(self, sql: str, args: Any = None) -> Any:
        self.last = (sql, args)
        return self.cursor.execute(sql, args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)


@pytest.mark.parametrize(
    "search",
    [
        SearchFilter(),
        SearchFilter(status=DossierStatus.OPEN),
        SearchFilter(text="contrat"),
        SearchFilter(status=DossierStatus.CLOSED, after_id=1500),
    ],
    ids=["all", "by status", "search", "next page"],
)
def test_the_access_filtered_list_uses_indexes(database_url: str, search: SearchFilter) -> None:
    # Given enough dossiers, units and grants for the optimizer to prefer indexes when it can
    seed(database_url, dossiers_count=3000, units=20, grants=300)
    connection = connect(database_url)
    try:
        with connection.cursor() as cursor:
            recording = Recording(cursor)
            # When an editor of one unit lists the first page
            rows = dossiers.search(recording, caller(), search, limit=21)
            sql, args = recording.last
            cursor.execute(f"EXPLAIN {sql}", args)
            plan = cursor.fetchall()
    finally:
        connection.close()
    # Then no step reads the dossiers or grants tables in full, and every step on them uses a key
    assert rows, "the caller sees dossiers: the plan is of a real page"
    steps = [(p["table"], p["type"], p["key"]) for p in plan if p["table"] in {"d", "g"}]
    assert steps and all(kind != "ALL" and key for _, kind, key in steps), plan
