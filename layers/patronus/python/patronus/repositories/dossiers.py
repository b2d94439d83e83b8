"""SQL for the ``dossiers`` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from patronus.models import DossierRow, DossierStatus
from patronus.repositories import like_pattern, translated_errors

_COLUMNS = "id, public_id, reference, title, description, status, owner, version, created_at, updated_at"


def insert(
    cursor: Any,
    *,
    public_id: str,
    reference: str,
    title: str,
    description: str | None,
    owner: str,
    now: datetime,
) -> int:
    with translated_errors():
        cursor.execute(
            "INSERT INTO dossiers (public_id, reference, title, description, status, owner, version,"
            " created_at, updated_at) VALUES (%s, %s, %s, %s, 'open', %s, 1, %s, %s)",
            (public_id, reference, title, description, owner, now, now),
        )
    return int(cursor.lastrowid)


def get_by_public_id(cursor: Any, public_id: str, *, for_update: bool = False) -> DossierRow | None:
    lock = " FOR UPDATE" if for_update else ""
    with translated_errors():
        cursor.execute(f"SELECT {_COLUMNS} FROM dossiers WHERE public_id = %s{lock}", (public_id,))
        row = cursor.fetchone()
    return DossierRow.model_validate(row) if row else None


def get_by_id(cursor: Any, dossier_id: int) -> DossierRow | None:
    with translated_errors():
        cursor.execute(f"SELECT {_COLUMNS} FROM dossiers WHERE id = %s", (dossier_id,))
        row = cursor.fetchone()
    return DossierRow.model_validate(row) if row else None


def search(
    cursor: Any,
    *,
    text: str | None,
    status: DossierStatus | None,
    after_id: int | None,
    limit: int,
) -> list[DossierRow]:
    """Newest first; ``after_id`` continues from the last id of the previous page."""
    clauses: list[str] = []
    params: list[object] = []
    if text:
        pattern = like_pattern(text)
        clauses.append("(reference LIKE %s OR title LIKE %s)")
        params += [f"{pattern}%", f"%{pattern}%"]
    if status is not None:
        clauses.append("status = %s")
        params.append(status.value)
    if after_id is not None:
        clauses.append("id < %s")
        params.append(after_id)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    with translated_errors():
        cursor.execute(
            f"SELECT {_COLUMNS} FROM dossiers {where} ORDER BY id DESC LIMIT %s",
            (*params, limit),
        )
        rows = cursor.fetchall()
    return [DossierRow.model_validate(row) for row in rows]


def update(
    cursor: Any,
    *,
    dossier_id: int,
    expected_version: int,
    changes: dict[str, object],
    now: datetime,
) -> bool:
    """Apply ``changes`` only if the row still has ``expected_version`` (optimistic locking)."""
    allowed = {"title", "description", "status"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    assignments = [f"{column} = %s" for column in changes]
    values = [v.value if isinstance(v, DossierStatus) else v for v in changes.values()]
    with translated_errors():
        cursor.execute(
            f"UPDATE dossiers SET {', '.join([*assignments, 'version = version + 1', 'updated_at = %s'])}"
            " WHERE id = %s AND version = %s",
            (*values, now, dossier_id, expected_version),
        )
    return bool(cursor.rowcount == 1)


def status_for_documents(cursor: Any, dossier_id: int) -> DossierStatus | None:
    """The dossier's status, read with a shared lock held until the transaction ends: a change
    of a document decided on it cannot interleave with archiving (which locks the row for update).
    ``LOCK IN SHARE MODE`` is understood by MySQL 8.0 and MariaDB alike."""
    with translated_errors():
        cursor.execute("SELECT status FROM dossiers WHERE id = %s LOCK IN SHARE MODE", (dossier_id,))
        row = cursor.fetchone()
    return DossierStatus(row["status"]) if row else None
