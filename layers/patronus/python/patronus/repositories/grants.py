"""SQL for the ``dossier_grants`` table: who a dossier is shared with, beyond its unit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from patronus.models import GranteeType, GrantRow, Permission
from patronus.repositories import translated_errors


def for_dossier(cursor: Any, dossier_id: int) -> list[GrantRow]:
    with translated_errors():
        cursor.execute(
            "SELECT g.grantee_type, g.grantee, g.permission, g.granted_by, g.granted_at,"
            " p.name AS grantee_name FROM dossier_grants g"
            " LEFT JOIN people p ON g.grantee_type = 'user' AND p.subject = g.grantee"
            " WHERE g.dossier_id = %s ORDER BY g.grantee_type, g.grantee",
            (dossier_id,),
        )
        rows = cursor.fetchall()
    return [GrantRow.model_validate(row) for row in rows]


def put(
    cursor: Any,
    *,
    dossier_id: int,
    grantee_type: GranteeType,
    grantee: str,
    permission: Permission,
    granted_by: str,
    now: datetime,
) -> Permission | None:
    """Give ``permission`` (replacing any earlier grant to the same grantee); returns the
    permission it replaced, None when there was none."""
    with translated_errors():
        cursor.execute(
            "SELECT permission FROM dossier_grants WHERE dossier_id = %s AND grantee_type = %s"
            " AND grantee = %s FOR UPDATE",
            (dossier_id, grantee_type.value, grantee),
        )
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                "INSERT INTO dossier_grants (dossier_id, grantee_type, grantee, permission, granted_by,"
                " granted_at) VALUES (%s, %s, %s, %s, %s, %s)",
                (dossier_id, grantee_type.value, grantee, permission.value, granted_by, now),
            )
            return None
        if row["permission"] != permission.value:
            cursor.execute(
                "UPDATE dossier_grants SET permission = %s, granted_by = %s, granted_at = %s"
                " WHERE dossier_id = %s AND grantee_type = %s AND grantee = %s",
                (permission.value, granted_by, now, dossier_id, grantee_type.value, grantee),
            )
    return Permission(row["permission"])


def delete(cursor: Any, *, dossier_id: int, grantee_type: GranteeType, grantee: str) -> bool:
    with translated_errors():
        cursor.execute(
            "DELETE FROM dossier_grants WHERE dossier_id = %s AND grantee_type = %s AND grantee = %s",
            (dossier_id, grantee_type.value, grantee),
        )
    return bool(cursor.rowcount == 1)
