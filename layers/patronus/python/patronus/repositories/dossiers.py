"""SQL for the ``dossiers`` and ``units`` tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from patronus.access import Level, role_level
from patronus.models import DossierRow, DossierStatus, GranteeType, Permission, Principal
from patronus.repositories import like_pattern, translated_errors
from patronus.repositories.access import Fragment, grant_level, visible

_FIELDS = ("id", "public_id", "reference", "title", "description", "status", "unit", "owner", "version")
_COLUMNS = ", ".join(f"d.{name}" for name in (*_FIELDS, "created_at", "updated_at"))
UPDATABLE = frozenset({"title", "description", "status", "unit"})


def ensure_unit(cursor: Any, unit: str, *, now: datetime) -> None:
    """Record a unit (units exist as Cognito groups first; the table follows them)."""
    with translated_errors():
        cursor.execute("INSERT IGNORE INTO units (name, created_at) VALUES (%s, %s)", (unit, now))


def unit_names(cursor: Any) -> list[str]:
    """Every unit recorded, by name."""
    with translated_errors():
        cursor.execute("SELECT name FROM units ORDER BY name")
        return [str(row["name"]) for row in cursor.fetchall()]


def insert(
    cursor: Any,
    *,
    public_id: str,
    reference: str,
    title: str,
    description: str | None,
    unit: str,
    owner: str,
    now: datetime,
) -> int:
    with translated_errors():
        cursor.execute(
            "INSERT INTO dossiers (public_id, reference, title, description, status, unit, owner, version,"
            " created_at, updated_at) VALUES (%s, %s, %s, %s, 'open', %s, %s, 1, %s, %s)",
            (public_id, reference, title, description, unit, owner, now, now),
        )
    return int(cursor.lastrowid)


def _select(principal: Principal | None) -> Fragment:
    if principal is None:
        return f"SELECT {_COLUMNS} FROM dossiers d", []
    level, params = grant_level(principal, "d")
    return f"SELECT {_COLUMNS}, {level} FROM dossiers d", params


def get_by_public_id(
    cursor: Any, public_id: str, *, principal: Principal | None = None, for_update: bool = False
) -> DossierRow | None:
    """The dossier; with ``principal``, only if they may see it (and with their grant level)."""
    select, params = _select(principal)
    condition, condition_params = visible(principal, "d") if principal is not None else ("1 = 1", [])
    lock = " FOR UPDATE" if for_update else ""
    with translated_errors():
        cursor.execute(
            f"{select} WHERE d.public_id = %s AND {condition}{lock}",
            (*params, public_id, *condition_params),
        )
        row = cursor.fetchone()
    return DossierRow.model_validate(row) if row else None


def get_by_id(cursor: Any, dossier_id: int, *, principal: Principal | None = None) -> DossierRow | None:
    select, params = _select(principal)
    with translated_errors():
        cursor.execute(f"{select} WHERE d.id = %s", (*params, dossier_id))
        row = cursor.fetchone()
    return DossierRow.model_validate(row) if row else None


@dataclass(frozen=True)
class SearchFilter:
    """What the caller asked for (the access rules come on top)."""

    text: str | None = None
    status: DossierStatus | None = None
    unit: str | None = None
    owner: str | None = None
    after_id: int | None = None

    def where(self, id_column: str = "d.id") -> Fragment:
        """The conditions on ``dossiers d``; ``id_column`` is the id the keyset bound applies to
        (a grant's ``dossier_id`` where the grants index gives the order)."""
        clauses: list[str] = []
        params: list[object] = []
        if self.text:
            pattern = like_pattern(self.text)
            clauses.append("(d.reference LIKE %s OR d.title LIKE %s)")
            params += [f"{pattern}%", f"%{pattern}%"]
        for column, value in (
            ("status", self.status.value if self.status else None),
            ("unit", self.unit),
            ("owner", self.owner),
        ):
            if value is not None:
                clauses.append(f"d.{column} = %s")
                params.append(value)
        if self.after_id is not None:
            clauses.append(f"{id_column} < %s")
            params.append(self.after_id)
        return " AND ".join(clauses) or "1 = 1", params


def search(cursor: Any, principal: Principal | None, search: SearchFilter, *, limit: int) -> list[DossierRow]:
    """Newest first, only what ``principal`` may see (everything when None: operator tools);
    ``search.after_id`` continues from the last id of the previous page."""
    if principal is None or principal.is_admin:
        # An admin's rights do not depend on grants: no grant level to compute.
        where, params = search.where()
        sql = f"SELECT {_COLUMNS}, 0 AS grant_level FROM dossiers d WHERE {where} ORDER BY d.id DESC LIMIT %s"
    else:
        ids, params = _visible_ids(principal, search, limit)
        sql = (
            f"SELECT {_COLUMNS}, v.grant_level FROM dossiers d JOIN ({ids}) v ON v.id = d.id"
            " ORDER BY d.id DESC LIMIT %s"
        )
    with translated_errors():
        cursor.execute(sql, (*params, limit))
        rows = cursor.fetchall()
    return [DossierRow.model_validate(row) for row in rows]


def _visible_ids(principal: Principal, search: SearchFilter, limit: int) -> Fragment:
    """The ids of the first ``limit`` visible matches and the caller's grant level on each: one
    branch per unit of the caller (an ordered range of the (unit, ...) indexes) and one per
    grantee the caller answers to (their name, each of their units: an ordered range of the
    grants index). Each branch stops after ``limit`` rows, so the cost follows the page size and
    the number of the caller's units, not the number of dossiers they may see. A dossier of the
    final page is within the first ``limit`` rows of every branch that holds it, so the grant
    levels taken from the branches are complete."""
    if role_level(principal) == Level.NONE:
        return "SELECT NULL AS id, 0 AS grant_level FROM DUAL WHERE 1 = 0", []
    where, where_params = search.where()
    branches: list[str] = []
    params: list[object] = []
    units = sorted(principal.units if search.unit is None else principal.units & {search.unit})
    for unit in units:
        branches.append(
            "SELECT b.id, 0 AS level FROM (SELECT d.id FROM dossiers d WHERE d.unit = %s AND "
            f"{where} ORDER BY d.id DESC LIMIT %s) b"
        )
        params += [unit, *where_params, limit]
    granted_where, granted_params = search.where("g.dossier_id")
    grantees = [
        (GranteeType.USER, principal.subject),
        *((GranteeType.UNIT, u) for u in sorted(principal.units)),
    ]
    for kind, grantee in grantees:
        branches.append(
            "SELECT b.id, b.level FROM (SELECT g.dossier_id AS id,"
            f" CASE g.permission WHEN %s THEN {Level.EDIT:d} ELSE {Level.READ:d} END AS level"
            " FROM dossier_grants g JOIN dossiers d ON d.id = g.dossier_id"
            f" WHERE g.grantee_type = %s AND g.grantee = %s AND {granted_where}"
            " ORDER BY g.dossier_id DESC LIMIT %s) b"
        )
        params += [Permission.EDITOR.value, kind.value, grantee, *granted_params, limit]
    union = " UNION ALL ".join(branches)
    return f"SELECT u.id, MAX(u.level) AS grant_level FROM ({union}) u GROUP BY u.id", params


def update(
    cursor: Any,
    *,
    dossier_id: int,
    expected_version: int,
    changes: dict[str, object],
    now: datetime,
) -> bool:
    """Apply ``changes`` only if the row still has ``expected_version`` (optimistic locking)."""
    unknown = set(changes) - UPDATABLE
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
