"""SQL for ``idempotency_keys``: one stored outcome per (caller, Idempotency-Key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from patronus.repositories import translated_errors


def claim(cursor: Any, *, actor: str, key: str, request_hash: str, now: datetime) -> None:
    """Insert the key. A concurrent request with the same key waits on this row's lock and then
    gets :class:`~patronus.repositories.DuplicateKey`, so exactly one request creates."""
    with translated_errors():
        cursor.execute(
            "INSERT INTO idempotency_keys (actor, idempotency_key, request_hash, dossier_id, created_at)"
            " VALUES (%s, %s, %s, 0, %s)",
            (actor, key, request_hash, now),
        )


def attach(cursor: Any, *, actor: str, key: str, dossier_id: int) -> None:
    with translated_errors():
        cursor.execute(
            "UPDATE idempotency_keys SET dossier_id = %s WHERE actor = %s AND idempotency_key = %s",
            (dossier_id, actor, key),
        )


def lookup(cursor: Any, *, actor: str, key: str) -> tuple[str, int] | None:
    """(request hash, dossier id) stored for this key, if any."""
    with translated_errors():
        cursor.execute(
            "SELECT request_hash, dossier_id FROM idempotency_keys WHERE actor = %s AND idempotency_key = %s",
            (actor, key),
        )
        row = cursor.fetchone()
    return (row["request_hash"], int(row["dossier_id"])) if row else None
