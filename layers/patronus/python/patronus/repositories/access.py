"""The access rules of :mod:`patronus.access` as SQL, so that queries return only what the caller
may see: lists are filtered inside the query (a page is always full, a cursor never points past
an invisible row), and a dossier the caller may not see is simply not found.

Fragments take the alias of the ``dossiers`` table in the query they go into and return their
text and parameters.
"""

from __future__ import annotations

from patronus.access import Level, role_level
from patronus.models import GranteeType, Permission, Principal

Fragment = tuple[str, list[object]]


def _placeholders(values: list[str]) -> str:
    return ", ".join(["%s"] * len(values))


def grantee_match(principal: Principal, grants: str = "g") -> Fragment:
    """Grants that reach the caller: to their subject, or to one of their units."""
    text = f"({grants}.grantee_type = %s AND {grants}.grantee = %s)"
    params: list[object] = [GranteeType.USER.value, principal.subject]
    units = sorted(principal.units)
    if units:
        text += f" OR ({grants}.grantee_type = %s AND {grants}.grantee IN ({_placeholders(units)}))"
        params += [GranteeType.UNIT.value, *units]
    return f"({text})", params


def grant_level(principal: Principal, dossier: str = "d") -> Fragment:
    """A column: the best permission the caller's grants give on the row (0, 1 or 2)."""
    match, params = grantee_match(principal, "g")
    return (
        f"(SELECT COALESCE(MAX(CASE g.permission WHEN %s THEN {Level.EDIT:d} ELSE {Level.READ:d} END), 0)"
        f" FROM dossier_grants g WHERE g.dossier_id = {dossier}.id AND {match}) AS grant_level",
        [Permission.EDITOR.value, *params],
    )


def visible(principal: Principal, dossier: str = "d") -> Fragment:
    """A condition: the caller may see the row (admins see every row, callers without a role none)."""
    if principal.is_admin:
        return "1 = 1", []
    if role_level(principal) == Level.NONE:
        return "1 = 0", []
    match, params = grantee_match(principal, "g")
    granted = f"EXISTS (SELECT 1 FROM dossier_grants g WHERE g.dossier_id = {dossier}.id AND {match})"
    units = sorted(principal.units)
    if not units:
        return granted, params
    return f"({dossier}.unit IN ({_placeholders(units)}) OR {granted})", [*units, *params]
