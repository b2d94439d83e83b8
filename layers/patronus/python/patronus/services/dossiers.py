"""Dossiers: create (idempotently), search, read, update with optimistic locking, archive."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass

from patronus.db import Database
from patronus.errors import Conflict, NotFound, PreconditionFailed
from patronus.models import AuditEventRow, DossierRow, DossierStatus, Principal, Role
from patronus.repositories import DuplicateKey, audit, dossiers, idempotency
from patronus.services import new_public_id, require, split_page, utcnow

ENTITY = "dossier"


@dataclass(frozen=True)
class Created:
    dossier: DossierRow
    replayed: bool


class DossierService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        principal: Principal,
        *,
        reference: str,
        title: str,
        description: str | None,
        idempotency_key: str | None = None,
    ) -> Created:
        require(principal, Role.EDITOR)
        request_hash = hashlib.sha256(
            json.dumps([reference, title, description], ensure_ascii=False).encode()
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
                dossier_id = dossiers.insert(
                    cursor,
                    public_id=public_id,
                    reference=reference,
                    title=title,
                    description=description,
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
                    details={"reference": reference, "title": title},
                    now=now,
                )
                created = dossiers.get_by_id(cursor, dossier_id)
        except DuplicateKey as exc:
            if idempotency_key and exc.key == "PRIMARY":
                return Created(self._replay(principal, idempotency_key, request_hash), replayed=True)
            raise Conflict(f"a dossier with reference {reference!r} already exists") from exc
        assert created is not None
        return Created(created, replayed=False)

    def _replay(self, principal: Principal, key: str, request_hash: str) -> DossierRow:
        with self.db.reading() as cursor:
            stored = idempotency.lookup(cursor, actor=principal.subject, key=key)
            if stored is None:  # the first request rolled back after all: let the client retry
                raise Conflict("a request with this Idempotency-Key is still in progress; retry")
            if stored[0] != request_hash:
                raise Conflict("this Idempotency-Key was already used with a different request body")
            dossier = dossiers.get_by_id(cursor, stored[1])
        if dossier is None:
            raise Conflict("a request with this Idempotency-Key is still in progress; retry")
        return dossier

    def search(
        self,
        principal: Principal,
        *,
        text: str | None,
        status: DossierStatus | None,
        after_id: int | None,
        limit: int,
    ) -> tuple[list[DossierRow], int | None]:
        require(principal, Role.READER)
        with self.db.reading() as cursor:
            rows = dossiers.search(cursor, text=text, status=status, after_id=after_id, limit=limit + 1)
        return split_page(rows, limit, lambda r: r.id)

    def get(self, principal: Principal, public_id: str) -> DossierRow:
        require(principal, Role.READER)
        with self.db.reading() as cursor:
            return _found(dossiers.get_by_public_id(cursor, public_id))

    def update(
        self,
        principal: Principal,
        public_id: str,
        *,
        expected_version: int | Collection[int] | None,
        changes: dict[str, object],
    ) -> DossierRow:
        """Apply ``changes`` if the dossier is still at ``expected_version`` (one of them, when
        several; any version when None), else 412."""
        require(principal, Role.EDITOR)
        if changes.get("status") == DossierStatus.ARCHIVED:
            require(principal, Role.ADMIN)
        with self.db.transaction() as cursor:
            current = _found(dossiers.get_by_public_id(cursor, public_id))
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
            if not dossiers.update(
                cursor, dossier_id=current.id, expected_version=current.version, changes=effective, now=now
            ):
                raise PreconditionFailed("the dossier was changed by another request; reload and retry")
            audit.record(
                cursor,
                actor=principal.subject,
                action="dossier.updated",
                entity_type=ENTITY,
                entity_id=public_id,
                dossier_id=current.id,
                details={k: (v.value if isinstance(v, DossierStatus) else v) for k, v in effective.items()},
                now=now,
            )
            return _found(dossiers.get_by_id(cursor, current.id))

    def archive(self, principal: Principal, public_id: str) -> DossierRow:
        """Archive (admins only). Archiving an archived dossier changes nothing."""
        require(principal, Role.ADMIN)
        with self.db.transaction() as cursor:
            current = _found(dossiers.get_by_public_id(cursor, public_id, for_update=True))
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
            return _found(dossiers.get_by_id(cursor, current.id))

    def history(
        self, principal: Principal, public_id: str, *, after_id: int | None, limit: int
    ) -> tuple[list[AuditEventRow], int | None]:
        require(principal, Role.READER)
        with self.db.reading() as cursor:
            dossier = _found(dossiers.get_by_public_id(cursor, public_id))
            rows = audit.for_dossier(cursor, dossier.id, after_id=after_id, limit=limit + 1)
        return split_page(rows, limit, lambda r: r.id)


def _found(row: DossierRow | None) -> DossierRow:
    if row is None:
        raise NotFound("no such dossier")
    return row
