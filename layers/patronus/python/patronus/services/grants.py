"""Sharing a dossier beyond its unit: grants to a named user or to another unit.

Only the editors of the dossier's unit and admins may change grants; anyone who may see the
dossier may see who it is shared with. A grant never gives more than the grantee's global role:
that cap applies when the grant is used (:mod:`patronus.access`), since the grantee's role lives
in the user directory, not here.
"""

from __future__ import annotations

from typing import Any

from patronus.access import rights_on
from patronus.db import Database
from patronus.errors import BadRequest, Conflict, Forbidden, NotFound
from patronus.models import DossierRow, DossierStatus, GranteeType, GrantRow, Permission, Principal, Role
from patronus.repositories import audit, dossiers, grants
from patronus.services import require, utcnow
from patronus.settings import UnitSettings
from patronus.units import UnitNameError, check_unit_name

ENTITY = "dossier"


class GrantService:
    def __init__(self, db: Database, units: UnitSettings | None = None) -> None:
        self.db = db
        self.units = units or UnitSettings()

    def of_dossier(self, principal: Principal, public_id: str) -> list[GrantRow]:
        require(principal, Role.READER)
        with self.db.reading() as cursor:
            dossier = _visible(cursor, principal, public_id)
            return grants.for_dossier(cursor, dossier.id)

    def put(
        self,
        principal: Principal,
        public_id: str,
        *,
        grantee_type: GranteeType,
        grantee: str,
        permission: Permission,
    ) -> list[GrantRow]:
        """Share the dossier (or change what an earlier grant gives); the same call twice
        changes nothing the second time."""
        require(principal, Role.EDITOR)
        grantee = self._checked_grantee(grantee_type, grantee)
        with self.db.transaction() as cursor:
            dossier = self._shareable(cursor, principal, public_id)
            if dossier.status == DossierStatus.ARCHIVED:
                raise Conflict("an archived dossier cannot be shared further")
            if grantee_type == GranteeType.UNIT and grantee == dossier.unit:
                raise BadRequest(
                    "the dossier already belongs to this unit",
                    details=[{"field": "body.grantee", "issue": "the dossier's own unit"}],
                )
            now = utcnow()
            if grantee_type == GranteeType.UNIT:
                dossiers.ensure_unit(cursor, grantee, now=now)  # the units the API has met
            previous = grants.put(
                cursor,
                dossier_id=dossier.id,
                grantee_type=grantee_type,
                grantee=grantee,
                permission=permission,
                granted_by=principal.subject,
                now=now,
            )
            if previous != permission:
                details: dict[str, object] = {
                    "grantee_type": grantee_type.value,
                    "grantee": grantee,
                    "permission": permission.value,
                }
                if previous is not None:
                    details["previous_permission"] = previous.value
                self._record(
                    cursor,
                    principal,
                    dossier,
                    "grant.given" if previous is None else "grant.changed",
                    details,
                )
            return grants.for_dossier(cursor, dossier.id)

    def delete(
        self, principal: Principal, public_id: str, *, grantee_type: GranteeType, grantee: str
    ) -> list[GrantRow]:
        """Stop sharing with the grantee (nothing to do when there is no such grant)."""
        require(principal, Role.EDITOR)
        grantee = self._checked_grantee(grantee_type, grantee)
        with self.db.transaction() as cursor:
            dossier = self._shareable(cursor, principal, public_id)
            if grants.delete(cursor, dossier_id=dossier.id, grantee_type=grantee_type, grantee=grantee):
                self._record(
                    cursor,
                    principal,
                    dossier,
                    "grant.revoked",
                    {"grantee_type": grantee_type.value, "grantee": grantee},
                )
            return grants.for_dossier(cursor, dossier.id)

    def _checked_grantee(self, grantee_type: GranteeType, grantee: str) -> str:
        if grantee_type == GranteeType.UNIT:
            try:
                return check_unit_name(grantee, self.units.prefix)
            except UnitNameError as exc:
                raise BadRequest(str(exc), details=[{"field": "grantee", "issue": str(exc)}]) from exc
        return grantee

    @staticmethod
    def _shareable(cursor: Any, principal: Principal, public_id: str) -> DossierRow:
        dossier = _visible(cursor, principal, public_id, for_update=True)
        if not rights_on(principal, dossier).share:
            raise Forbidden("only the editors of the dossier's unit and admins may share it")
        return dossier

    @staticmethod
    def _record(
        cursor: Any, principal: Principal, dossier: DossierRow, action: str, details: dict[str, object]
    ) -> None:
        audit.record(
            cursor,
            actor=principal.subject,
            action=action,
            entity_type=ENTITY,
            entity_id=dossier.public_id,
            dossier_id=dossier.id,
            details=details,
            now=utcnow(),
        )


def _visible(cursor: Any, principal: Principal, public_id: str, *, for_update: bool = False) -> DossierRow:
    dossier = dossiers.get_by_public_id(cursor, public_id, principal=principal, for_update=for_update)
    if dossier is None:
        raise NotFound("no such dossier")
    return dossier
