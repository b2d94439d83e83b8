"""The access rules: what a caller may do with a dossier, from their role, units and grants.

* A caller's global role (``readers`` < ``editors`` < ``admins``) says *what* they may do; the
  dossier's unit and its grants say *where*. Admins may do everything everywhere.
* A member of the dossier's unit has their global role on it.
* A grant (to the caller, or to one of the caller's units) gives reader or editor, capped by the
  caller's global role: an editor grant gives a reader only read access.
* Sharing (managing grants) is for the unit's editors and admins; moving a dossier to another
  unit, archiving it and deleting its documents are for admins.
* Nothing else gives access: a user in no unit and with no grant sees nothing.

The repositories apply the same rules inside SQL (``patronus.repositories.access``) so that lists
and pages only ever contain visible rows; this module decides what a visible row allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from patronus.models import DossierRow, Permission, Principal, Role


class Level(IntEnum):
    NONE = 0
    READ = 1
    EDIT = 2


class Relation(StrEnum):
    """How the caller reaches the dossier (the strongest relation first)."""

    ADMIN = "admin"
    UNIT = "unit"
    GRANT = "grant"
    NONE = "none"


GRANT_LEVEL = {Permission.READER: Level.READ, Permission.EDITOR: Level.EDIT}


def role_level(principal: Principal) -> Level:
    if principal.has(Role.EDITOR):
        return Level.EDIT
    return Level.READ if principal.has(Role.READER) else Level.NONE


@dataclass(frozen=True)
class Rights:
    read: bool
    edit: bool
    share: bool
    move: bool
    archive: bool
    delete_documents: bool
    relation: Relation


def rights(principal: Principal, unit: str, grant_level: int) -> Rights:
    """What ``principal`` may do with a dossier of ``unit`` on which their grants give
    ``grant_level`` (:class:`Level` as an int)."""
    role = role_level(principal)
    admin = principal.is_admin
    member = unit in principal.units
    level = Level.EDIT if admin else max(role if member else Level.NONE, min(Level(grant_level), role))
    if admin:
        relation = Relation.ADMIN
    elif member and role > Level.NONE:
        relation = Relation.UNIT
    else:
        relation = Relation.GRANT if level > Level.NONE else Relation.NONE
    return Rights(
        read=level >= Level.READ,
        edit=level >= Level.EDIT,
        share=admin or (member and role >= Level.EDIT),
        move=admin,
        archive=admin,
        delete_documents=admin,
        relation=relation,
    )


def rights_on(principal: Principal, dossier: DossierRow) -> Rights:
    return rights(principal, dossier.unit, dossier.grant_level)


def outside_units(principal: Principal, dossier_unit: str) -> bool:
    """An admin reading a dossier that none of their units holds: such reads are audited."""
    return principal.is_admin and dossier_unit not in principal.units
