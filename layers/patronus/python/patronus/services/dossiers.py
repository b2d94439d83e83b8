"""Dossiers: create (idempotently), search, read, update with optimistic locking, move, archive.

Access follows :mod:`patronus.access`: a dossier the caller may not see is "not found", exactly
as one that does not exist; one they may see but not change is "forbidden".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from patronus.access import outside_units, rights_on
from patronus.db import Database
from patronus.errors import BadRequest, Conflict, Forbidden, NotFound, PreconditionFailed
from patronus.models import AuditEventRow, DossierRow, DossierStatus, Principal, Role
from patronus.repositories import DuplicateKey, audit, dossiers, idempotency
from patronus.repositories.dossiers import SearchFilter
from patronus.services import new_public_id, require, split_page, utcnow
from patronus.settings import UnitSettings
from patronus.units import UnitNameError, check_unit_name, is_unit_name

ENTITY = "dossier"
# A dossier's reference is unique across units: a collision with a dossier the caller may not see
# answers this same message, which says nothing about that dossier.
DUPLICATE_REFERENCE = "a dossier with reference {reference!r} already exists"


@dataclass(frozen=True)
class Created:
    dossier: DossierRow
    replayed: bool


def unit_detail(issue: str) -> list[dict[str, object]]:
    return [{"field": "body.unit", "issue": issue}]


class DossierService:
    def __init__(self, db: Database, units: UnitSettings | None = None) -> None:
        self.db = db
        self.units = units or UnitSettings()

    def checked_unit(self, unit: str) -> str:
        try:
            return check_unit_name(unit, self.units.prefix)
        except UnitNameError as exc:
            raise BadRequest(str(exc), details=unit_detail(str(exc))) from exc

    def unit_for_new(self, principal: Principal, unit: str | None) -> str:
        """The unit a new dossier goes to: the one asked for, else the creator's only unit.
        Editors create in their own units; admins in any."""
        if unit is None:
            if len(principal.units) != 1:
                issue = (
                    "you belong to no unit"
                    if not principal.units
                    else "you belong to several units: choose one"
                )
                raise BadRequest("give the dossier's unit", details=unit_detail(issue))
            return next(iter(principal.units))
        unit = self.checked_unit(unit)
        if unit not in principal.units and not principal.is_admin:
            mine = ", ".join(sorted(principal.units)) or "none"
            raise Forbidden(f"you may create dossiers in your own units only ({mine})")
        return unit

    def create(
        self,
        principal: Principal,
        *,
        reference: str,
        title: str,
        description: str | None,
        unit: str | None = None,
        idempotency_key: str | None = None,
    ) -> Created:
        require(principal, Role.EDITOR)
        unit = self.unit_for_new(principal, unit)
        request_hash = hashlib.sha256(
            json.dumps([reference, title, description, unit], ensure_ascii=False).encode()
        ).hexdigest()
        try:
            with self.db.transaction() as cursor:
                now = utcnow()
                if idempotency_key:
                    idempotency.claim(
                        cursor,
                        actor=principal.subject,
                        key=idempotency_key,
                        request_hash=request_hash,
                        now=now,
                    )
                public_id = new_public_id()
                dossiers.ensure_unit(cursor, unit, now=now)
                dossier_id = dossiers.insert(
                    cursor,
                    public_id=public_id,
                    reference=reference,
                    title=title,
                    description=description,
                    unit=unit,
                    owner=principal.subject,
                    now=now,
                )
                if idempotency_key:
                    idempotency.attach(
                        cursor, actor=principal.subject, key=idempotency_key, dossier_id=dossier_id
                    )
                audit.record(
                    cursor,
                    actor=principal.subject,
                    action="dossier.created",
                    entity_type=ENTITY,
                    entity_id=public_id,
                    dossier_id=dossier_id,
                    details={"reference": reference, "title": title, "unit": unit},
                    now=now,
                )
                created = dossiers.get_by_id(cursor, dossier_id, principal=principal)
        except DuplicateKey as exc:
            if idempotency_key and exc.key == "PRIMARY":
                return Created(self._replay(principal, idempotency_key, request_hash), replayed=True)
            raise Conflict(DUPLICATE_REFERENCE.format(reference=reference)) from exc
        assert created is not None
        return Created(created, replayed=False)

    def _replay(self, principal: Principal, key: str, request_hash: str) -> DossierRow:
        with self.db.reading() as cursor:
            stored = idempotency.lookup(cursor, actor=principal.subject, key=key)
            if stored is None:  # the first request rolled back after all: let the client retry
                raise Conflict("a request with this Idempotency-Key is still in progress; retry")
            if stored[0] != request_hash:
                raise Conflict("this Idempotency-Key was already used with a different request body")
            dossier = dossiers.get_by_id(cursor, stored[1], principal=principal)
        if dossier is None:
            raise Conflict("a request with this Idempotency-Key is still in progress; retry")
        return dossier

    def known_units(self, principal: Principal) -> list[str]:
        """The units the API has met (the default unit, and every unit a dossier was created in,
        moved to or shared with), for those who may create, move or share: a unit that exists in
        Cognito but was never used is not among them."""
        require(principal, Role.EDITOR)
        with self.db.reading() as cursor:
            names = dossiers.unit_names(cursor)
        return [name for name in names if is_unit_name(name, self.units.prefix)]

    def search(
        self, principal: Principal, search: SearchFilter, *, limit: int
    ) -> tuple[list[DossierRow], int | None]:
        """A page of the dossiers the caller may see, newest first, filtered inside the query."""
        require(principal, Role.READER)
        if search.unit is not None:
            self.checked_unit(search.unit)
        with self.db.reading() as cursor:
            rows = dossiers.search(cursor, principal, search, limit=limit + 1)
        return split_page(rows, limit, lambda r: r.id)

    def get(self, principal: Principal, public_id: str) -> DossierRow:
        require(principal, Role.READER)
        with self.db.reading() as cursor:
            dossier = _found(dossiers.get_by_public_id(cursor, public_id, principal=principal))
        self.audit_admin_read(principal, dossier, "dossier")
        return dossier

    def audit_admin_read(self, principal: Principal, dossier: DossierRow, what: str) -> None:
        """Admins see every dossier; each read outside their own units leaves a trace."""
        if not outside_units(principal, dossier.unit):
            return
        with self.db.transaction() as cursor:
            audit.record(
                cursor,
                actor=principal.subject,
                action="dossier.read_by_admin",
                entity_type=ENTITY,
                entity_id=dossier.public_id,
                dossier_id=dossier.id,
                details={"read": what, "unit": dossier.unit},
                now=utcnow(),
            )

    def update(
        self,
        principal: Principal,
        public_id: str,
        *,
        expected_version: int | Collection[int] | None,
        changes: dict[str, object],
    ) -> DossierRow:
        """Apply ``changes`` if the dossier is still at ``expected_version`` (one of them, when
        several; any version when None), else 412. A change of ``unit`` moves the dossier
        (admins only)."""
        require(principal, Role.EDITOR)
        if changes.get("status") == DossierStatus.ARCHIVED or "unit" in changes:
            require(principal, Role.ADMIN)
        if "unit" in changes:
            self.checked_unit(str(changes["unit"]))
        with self.db.transaction() as cursor:
            current = _found(
                dossiers.get_by_public_id(cursor, public_id, principal=principal, for_update=True)
            )
            if not rights_on(principal, current).edit:
                raise Forbidden("you may read this dossier but not change it")
            allowed = {expected_version} if isinstance(expected_version, int) else expected_version
            if allowed is not None and current.version not in allowed:
                raise PreconditionFailed(
                    f"the dossier is at version {current.version}, not the one sent; reload and retry"
                )
            if current.status == DossierStatus.ARCHIVED:
                raise Conflict("an archived dossier cannot be changed")
            effective = {k: v for k, v in changes.items() if getattr(current, k) != v}
            if not effective:
                return current
            now = utcnow()
            if "unit" in effective:
                dossiers.ensure_unit(cursor, str(effective["unit"]), now=now)
            if not dossiers.update(
                cursor, dossier_id=current.id, expected_version=current.version, changes=effective, now=now
            ):
                raise PreconditionFailed("the dossier was changed by another request; reload and retry")
            self._record_update(cursor, principal, current, effective, now)
            return _found(dossiers.get_by_id(cursor, current.id, principal=principal))

    @staticmethod
    def _record_update(
        cursor: Any, principal: Principal, current: DossierRow, effective: dict[str, object], now: datetime
    ) -> None:
        fields = {
            k: (v.value if isinstance(v, DossierStatus) else v) for k, v in effective.items() if k != "unit"
        }
        events = [("dossier.updated", fields)] if fields else []
        if "unit" in effective:
            events.append(("dossier.moved", {"from": current.unit, "to": effective["unit"]}))
        for action, details in events:
            audit.record(
                cursor,
                actor=principal.subject,
                action=action,
                entity_type=ENTITY,
                entity_id=current.public_id,
                dossier_id=current.id,
                details=details,
                now=now,
            )

    def archive(self, principal: Principal, public_id: str) -> DossierRow:
        """Archive (admins only). Archiving an archived dossier changes nothing."""
        require(principal, Role.ADMIN)
        with self.db.transaction() as cursor:
            current = _found(
                dossiers.get_by_public_id(cursor, public_id, principal=principal, for_update=True)
            )
            if current.status == DossierStatus.ARCHIVED:
                return current
            now = utcnow()
            dossiers.update(
                cursor,
                dossier_id=current.id,
                expected_version=current.version,
                changes={"status": DossierStatus.ARCHIVED},
                now=now,
            )
            audit.record(
                cursor,
                actor=principal.subject,
                action="dossier.archived",
                entity_type=ENTITY,
                entity_id=public_id,
                dossier_id=current.id,
                details={"previous_status": current.status.value},
                now=now,
            )
            return _found(dossiers.get_by_id(cursor, current.id, principal=principal))

    def history(
        self, principal: Principal, public_id: str, *, after_id: int | None, limit: int
    ) -> tuple[list[AuditEventRow], int | None]:
        require(principal, Role.READER)
        with self.db.reading() as cursor:
            dossier = _found(dossiers.get_by_public_id(cursor, public_id, principal=principal))
            rows = audit.for_dossier(cursor, dossier.id, after_id=after_id, limit=limit + 1)
        self.audit_admin_read(principal, dossier, "history")
        return split_page(rows, limit, lambda r: r.id)


def _found(row: DossierRow | None) -> DossierRow:
    if row is None:
        raise NotFound("no such dossier")
    return row
