"""SQL for the ``audit_events`` table: who did what to which entity, when."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from patronus.models import AuditEventRow
from patronus.repositories import translated_errors


def record(
    cursor: Any,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    dossier_id: int | None,
    details: dict[str, object] | None,
    now: datetime,
) -> None:
    payload = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str) if details else None
    with translated_errors():
        cursor.execute(
            "INSERT INTO audit_events (occurred_at, actor, action, entity_type, entity_id, dossier_id,"
            " details) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (now, actor, action, entity_type, entity_id, dossier_id, payload),
        )


def for_dossier(cursor: Any, dossier_id: int, *, after_id: int | None, limit: int) -> list[AuditEventRow]:
    params: list[object] = [dossier_id]
    after = ""
    if after_id is not None:
        after = " AND id < %s"
        params.append(after_id)
    with translated_errors():
        cursor.execute(
            "SELECT id, occurred_at, actor, action, entity_type, entity_id, details FROM audit_events"
            f" WHERE dossier_id = %s{after} ORDER BY id DESC LIMIT %s",
            (*params, limit),
        )
        rows = cursor.fetchall()
    return [AuditEventRow.model_validate(row) for row in rows]
